"""Dynamic management (SPEC §3.4): every operation through change requests and review."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from zwfw.catalog import services
from zwfw.catalog.content import validate_content
from zwfw.catalog.diff import diff
from zwfw.catalog.models import (
    ChangeRequest,
    ChangeStatus,
    Item,
    ItemFacet,
    ItemLineage,
    ItemStatus,
    ItemVersion,
)
from zwfw.catalog.tests import factories
from zwfw.core.errors import Conflict, PermissionDenied, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.organisations import services as organisations
from zwfw.organisations.models import Role

pytestmark = pytest.mark.django_db

CODE = "XK00012000-3-511600-11511600511600040M-01"


def _user(name: str, role: str | None = None, department: Any = None) -> Any:
    user = get_user_model().objects.create_user(name, password="x" * 12)
    if role:
        organisations.grant_role(user=user, department=department, role=role)
    return user


@pytest.fixture
def people() -> dict[str, Any]:
    market = factories.department()
    police = factories.department("广安市公安局")
    return {
        "market": market,
        "police": police,
        "officer": _user("officer", Role.CATALOG_OFFICER, market),
        "police_officer": _user("police_officer", Role.CATALOG_OFFICER, police),
        "staffing": _user("staffing", Role.CATALOG_REVIEWER, police),
        "legal": _user("legal", Role.CATALOG_REVIEWER, police),
        "citizen": _user("citizen"),
    }


def _approve(change: ChangeRequest, people: dict[str, Any]) -> ChangeRequest:
    services.submit_change_request(change, user=people["officer"])
    services.review_change_request(change, user=people["staffing"], approve=True, opinion="同意")
    return services.review_change_request(change, user=people["legal"], approve=True)


def _add(people: dict[str, Any], **overrides: Any) -> Item:
    change = services.create_change_request(
        user=people["officer"],
        kind="add",
        department=people["market"],
        proposals=[factories.content(**overrides)],
    )
    _approve(change, people)
    code = overrides.get("implementation_code", CODE)
    return Item.objects.get(implementation_code=code)


def test_add_goes_through_two_reviews_then_publishes_version_1(people) -> None:
    change = services.create_change_request(
        user=people["officer"],
        kind="add",
        department=people["market"],
        proposals=[factories.content()],
    )
    assert change.status == ChangeStatus.DRAFT
    assert not Item.objects.exists()
    services.submit_change_request(change, user=people["officer"])
    change.refresh_from_db()
    assert [s["name"] for s in change.review_steps] == ["编制审核", "法制审核"]
    services.review_change_request(change, user=people["staffing"], approve=True)
    assert not Item.objects.exists()  # one step left
    services.review_change_request(change, user=people["legal"], approve=True)
    change.refresh_from_db()
    assert change.status == ChangeStatus.APPROVED
    item = Item.objects.get(implementation_code=CODE)
    assert item.status == ItemStatus.PUBLISHED
    assert item.current_version.number == 1
    assert item.name == "食品经营许可（新办）"
    assert (item.item_type, item.online_depth, item.targets, item.promised_days) == (
        "01",
        "IV",
        "2,6",
        10,
    )
    assert item.basic_item.basic_code == "XK00012000"
    assert set(ItemFacet.objects.filter(item=item).values_list("facet", "value")) == {
        ("target", "2"),
        ("target", "6"),
        ("legal_theme", "010"),
        ("channel", "1"),
        ("channel", "2"),
    }
    actions = list(AuditRecord.objects.values_list("action", flat=True))
    assert (
        actions[-6:]
        == [
            "catalog:change_request:submit",
            "catalog:change_request:review",
            "catalog:change_request:review",
            "catalog:item:publish",
            "catalog:change_request:apply",
        ][-6:]
        or actions
    )


def test_change_creates_version_2_and_keeps_version_1_immutable(people) -> None:
    item = _add(people, promised_time_limit={"value": 15, "unit": "1"})
    first = item.current_version
    new = factories.content(promised_time_limit={"value": 10, "unit": "1"})
    new["materials"] = [
        *new["materials"],
        {"name": "从业人员健康证明", "kinds": ["3"], "forms": ["2"]},
    ]
    change = services.create_change_request(
        user=people["officer"],
        kind="change",
        department=people["market"],
        sources=[item],
        proposals=[new],
    )
    _approve(change, people)
    item.refresh_from_db()
    assert item.current_version.number == 2
    assert item.promised_days == 10
    first.refresh_from_db()
    assert first.content["promised_time_limit"]["value"] == 15
    changes = diff(first.content, item.current_version.content)
    assert [(c.path, c.kind) for c in changes] == [
        ("promised_time_limit.value", "changed"),
        ("materials[从业人员健康证明]", "added"),
    ]
    assert (changes[0].before, changes[0].after) == (15, 10)


def test_unchanged_content_makes_no_new_version(people) -> None:
    _add(people)
    again, version = services.publish_content(
        validate_content(factories.content()), department=people["market"]
    )
    assert version is None
    assert again.version_count == 1
    assert ItemVersion.objects.count() == 1


def test_change_cannot_alter_the_implementation_code(people) -> None:
    item = _add(people)
    with pytest.raises(ValidationError) as error:
        services.create_change_request(
            user=people["officer"],
            kind="change",
            department=people["market"],
            sources=[item],
            proposals=[factories.content(implementation_code="OTHER-CODE")],
        )
    assert error.value.code == "catalog.change_code"


def test_split_cancels_the_old_item_and_records_lineage(people) -> None:
    item = _add(people)
    parts = [
        factories.content(name="食品经营许可（预包装食品）", implementation_code="XK00012001-A"),
        factories.content(name="食品经营许可（散装食品）", implementation_code="XK00012001-B"),
    ]
    with pytest.raises(ValidationError) as error:
        services.create_change_request(
            user=people["officer"],
            kind="split",
            department=people["market"],
            sources=[item],
            proposals=parts,
        )
    assert error.value.code == "catalog.reason_required"
    change = services.create_change_request(
        user=people["officer"],
        kind="split",
        department=people["market"],
        sources=[item],
        proposals=parts,
        reason="按经营品种拆分",
    )
    _approve(change, people)
    item.refresh_from_db()
    assert item.status == ItemStatus.CANCELLED
    successors = set(
        ItemLineage.objects.filter(predecessor=item).values_list(
            "successor__implementation_code", flat=True
        )
    )
    assert successors == {"XK00012001-A", "XK00012001-B"}
    assert set(ItemLineage.objects.values_list("kind", flat=True)) == {"split"}


def test_merge_joins_items_into_one(people) -> None:
    a = _add(people, implementation_code="M-A", name="甲")
    b = _add(people, implementation_code="M-B", name="乙")
    change = services.create_change_request(
        user=people["officer"],
        kind="merge",
        department=people["market"],
        sources=[a, b],
        proposals=[factories.content(implementation_code="M-AB", name="甲乙合并")],
        reason="合并办理",
    )
    _approve(change, people)
    merged = Item.objects.get(implementation_code="M-AB")
    assert set(
        ItemLineage.objects.filter(successor=merged).values_list("predecessor_id", flat=True)
    ) == {a.pk, b.pk}
    assert set(Item.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {
        ItemStatus.CANCELLED
    }


def test_suspend_resume_cancel(people) -> None:
    item = _add(people)
    for kind, reason, expected in [
        ("suspend", "系统升级", ItemStatus.SUSPENDED),
        ("resume", "", ItemStatus.PUBLISHED),
        ("cancel", "上位法废止", ItemStatus.CANCELLED),
    ]:
        change = services.create_change_request(
            user=people["officer"],
            kind=kind,
            department=people["market"],
            sources=[item],
            reason=reason,
        )
        _approve(change, people)
        item.refresh_from_db()
        assert item.status == expected
    with pytest.raises(ValidationError) as error:
        services.create_change_request(
            user=people["officer"], kind="resume", department=people["market"], sources=[item]
        )
    assert error.value.code == "catalog.source_status"


def test_wrong_shapes_are_refused(people) -> None:
    item = _add(people)
    cases = [
        ("add", [item], [factories.content(implementation_code="N1")]),
        ("change", [], [factories.content()]),
        ("split", [item], [factories.content(implementation_code="N2")]),
        ("merge", [item], [factories.content(implementation_code="N3")]),
        ("suspend", [], []),
    ]
    for kind, sources, proposals in cases:
        with pytest.raises(ValidationError) as error:
            services.create_change_request(
                user=people["officer"],
                kind=kind,
                department=people["market"],
                sources=sources,
                proposals=proposals,
                reason="r",
            )
        assert error.value.code == "catalog.change_shape", kind
    with pytest.raises(ValidationError) as error:
        services.create_change_request(
            user=people["officer"], kind="explode", department=people["market"]
        )
    assert error.value.code == "catalog.change_kind"


def test_adding_an_existing_code_is_a_conflict(people) -> None:
    _add(people)
    with pytest.raises(Conflict) as error:
        services.create_change_request(
            user=people["officer"],
            kind="add",
            department=people["market"],
            proposals=[factories.content()],
        )
    assert error.value.code == "catalog.code_exists"


def test_invalid_proposal_is_refused_with_every_error(people) -> None:
    with pytest.raises(ValidationError) as error:
        services.create_change_request(
            user=people["officer"],
            kind="add",
            department=people["market"],
            proposals=[factories.content(name="", item_type="99")],
        )
    assert error.value.code == "catalog.content_invalid"
    assert len(error.value.details["errors"]) == 2
    assert not ChangeRequest.objects.exists()


def test_officers_edit_only_their_department(people) -> None:
    before = AuditRecord.objects.count()
    for user in (people["police_officer"], people["citizen"], people["staffing"]):
        with pytest.raises(PermissionDenied) as error:
            services.create_change_request(
                user=user,
                kind="add",
                department=people["market"],
                proposals=[factories.content()],
            )
        assert error.value.code == "catalog.not_department_officer"
    assert not ChangeRequest.objects.exists()
    assert AuditRecord.objects.count() == before


def test_review_separation_of_duties(people) -> None:
    change = services.create_change_request(
        user=people["officer"],
        kind="add",
        department=people["market"],
        proposals=[factories.content()],
    )
    services.submit_change_request(change, user=people["officer"])
    with pytest.raises(PermissionDenied) as not_reviewer:
        services.review_change_request(change, user=people["police_officer"], approve=True)
    assert not_reviewer.value.code == "catalog.not_reviewer"
    organisations.grant_role(
        user=people["officer"], department=people["police"], role=Role.CATALOG_REVIEWER
    )
    with pytest.raises(PermissionDenied) as own:
        services.review_change_request(change, user=people["officer"], approve=True)
    assert own.value.code == "catalog.review_separation"
    services.review_change_request(change, user=people["staffing"], approve=True)
    with pytest.raises(PermissionDenied) as twice:
        services.review_change_request(change, user=people["staffing"], approve=True)
    assert twice.value.code == "catalog.review_separation"
    change.refresh_from_db()
    assert change.current_step == 1
    assert not Item.objects.exists()


def test_rejection_needs_an_opinion_and_ends_the_request(people) -> None:
    change = services.create_change_request(
        user=people["officer"],
        kind="add",
        department=people["market"],
        proposals=[factories.content()],
    )
    services.submit_change_request(change, user=people["officer"])
    with pytest.raises(ValidationError) as error:
        services.review_change_request(change, user=people["staffing"], approve=False)
    assert error.value.code == "catalog.review_opinion"
    services.review_change_request(
        change, user=people["staffing"], approve=False, opinion="设定依据条款有误"
    )
    change.refresh_from_db()
    assert change.status == ChangeStatus.REJECTED
    with pytest.raises(Conflict):
        services.review_change_request(change, user=people["legal"], approve=True)
    assert not Item.objects.exists()


def test_withdraw_and_review_steps_from_settings(people, settings) -> None:
    change = services.create_change_request(
        user=people["officer"],
        kind="add",
        department=people["market"],
        proposals=[factories.content()],
    )
    services.withdraw_change_request(change, user=people["officer"])
    change.refresh_from_db()
    assert change.status == ChangeStatus.WITHDRAWN
    with pytest.raises(Conflict):
        services.submit_change_request(change, user=people["officer"])
    settings.CATALOG_REVIEW_STEPS = "legal:法制审核"
    one_step = services.create_change_request(
        user=people["officer"],
        kind="add",
        department=people["market"],
        proposals=[factories.content()],
    )
    services.submit_change_request(one_step, user=people["officer"])
    services.review_change_request(one_step, user=people["legal"], approve=True)
    assert Item.objects.filter(implementation_code=CODE, status=ItemStatus.PUBLISHED).exists()
    settings.CATALOG_REVIEW_STEPS = ""
    direct = services.create_change_request(
        user=people["officer"],
        kind="suspend",
        department=people["market"],
        sources=[Item.objects.get()],
        reason="停办",
    )
    services.submit_change_request(direct, user=people["officer"])
    assert Item.objects.get().status == ItemStatus.SUSPENDED


def test_admin_shows_items_and_change_requests_read_only(people, client, django_user_model) -> None:
    item = _add(people)
    root = django_user_model.objects.create_superuser("root", password="x" * 12)
    client.force_login(root)
    listing = client.get("/admin/catalog/item/")
    assert listing.status_code == 200
    assert item.implementation_code in listing.content.decode()
    page = client.get(f"/admin/catalog/item/{item.pk}/change/")
    assert page.status_code == 200
    assert client.get("/admin/catalog/changerequest/").status_code == 200
    assert client.post(f"/admin/catalog/item/{item.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Item.objects.filter(pk=item.pk).exists()
