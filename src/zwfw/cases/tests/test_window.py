"""J7: a window clerk applies for someone without a smartphone."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from zwfw.cases import notices, services
from zwfw.cases.models import Case, CaseStatus, Notice, SubmitChannel
from zwfw.cases.tests.conftest import ITEM_PROMISED, PDF
from zwfw.core.errors import PermissionDenied
from zwfw.core.models import AuditRecord
from zwfw.identity.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def elder(world: dict[str, Any]) -> User:
    return User.objects.create_user(
        "liudefu",
        password=None,
        kind="person",
        real_name="刘德福",
        id_type="111",
        id_number="511602194603150011",
        trust_level="L4",
    )


def test_clerk_applies_scans_and_prints_the_acceptance_notice(
    world: dict[str, Any], elder: User, settings: Any
) -> None:
    settings.PUBLIC_URL = "https://zwfw.example.gov.cn"
    clerk = world["clerk"]
    case = services.create_draft(elder, ITEM_PROMISED, clerk=clerk, channel=SubmitChannel.WINDOW)
    assert case.applicant_user == elder
    assert case.agent == clerk
    for index in range(3):
        material = services.add_material_upload(
            clerk,
            case,
            checklist_index=index,
            name=f"scan-{index}.pdf",
            data=PDF + bytes([index]),
            copy_level="B",
        )
        assert material.file is not None
        assert material.file.copy_level == "B"
    case = services.submit(clerk, case).case
    assert case.status == CaseStatus.SUBMITTED
    case = services.accept(clerk, case, opinion="现场受理")
    notice = case.notices.get(kind=Notice.Kind.ACCEPTANCE)
    # J7: the QR code rates the visit (一次一评) on any phone, without logging in, once
    qr_url = notice.data["qr_url"]
    assert qr_url.startswith("https://zwfw.example.gov.cn/ratings/r/")
    assert Client().get(qr_url.removeprefix("https://zwfw.example.gov.cn")).status_code == 200
    pdf = notices.notice_pdf_bytes(notice)  # rendered now: the worker has not run in tests
    assert pdf.startswith(b"%PDF")
    notice.refresh_from_db()
    assert notice.file is not None
    actors = set(
        AuditRecord.objects.filter(
            object_type="cases.case", object_id=str(case.pk), action__startswith="cases:case:"
        ).values_list("actor", flat=True)
    )
    assert actors == {f"user:{clerk.pk}"}
    assert services.is_applicant_side(elder, case)


def test_only_a_clerk_of_the_items_department_applies_for_others(
    world: dict[str, Any], elder: User
) -> None:
    with pytest.raises(PermissionDenied):
        services.create_draft(
            elder, ITEM_PROMISED, clerk=world["planning_reviewer"], channel=SubmitChannel.WINDOW
        )
    with pytest.raises(PermissionDenied):
        services.create_draft(
            elder, ITEM_PROMISED, clerk=world["reviewer"], channel=SubmitChannel.WINDOW
        )
    assert not Case.objects.exists()


def test_a_stranger_cannot_submit_a_window_case(world: dict[str, Any], elder: User) -> None:
    case = services.create_draft(
        elder, ITEM_PROMISED, clerk=world["clerk"], channel=SubmitChannel.WINDOW
    )
    with pytest.raises(PermissionDenied):
        services.submit(world["stranger"], case)
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT
