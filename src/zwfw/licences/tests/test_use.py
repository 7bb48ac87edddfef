"""Using licences: 用证授权, the departments' library, 核验, shown fields, A-level copies."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from zwfw.cases import services as cases
from zwfw.cases.models import CaseMaterial
from zwfw.cases.tests.conftest import ITEM_PROMISED
from zwfw.core.errors import Conflict, PermissionDenied, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.licences import services, use
from zwfw.licences.models import Licence, LicenceGrant
from zwfw.licences.tests.test_issue import closed_case_licence

pytestmark = pytest.mark.django_db

JSON = "application/json"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_naming_a_licence_in_an_application_lets_that_department_read_it(
    world: dict[str, Any],
) -> None:
    licence = closed_case_licence(world)
    draft = cases.create_draft(world["person"], ITEM_PROMISED)
    material = cases.reference_licence(
        world["person"], draft, checklist_index=1, licence_identifier=licence.identifier
    )
    assert material.source == "licence"
    grant = LicenceGrant.objects.get(licence=licence)
    assert (grant.department_id, grant.case_id, grant.fields) == (world["market"].pk, draft.pk, [])

    data = use.read_licence(world["reviewer"], licence.identifier)
    assert data["holder_id_number"] == "511602199201200023"  # unmasked for the authorised reader
    assert data["face"]["holder_name"] == "李娜"
    assert data["signature_ok"] is True
    grant.refresh_from_db()
    assert grant.reads == 1
    assert AuditRecord.objects.filter(
        action="licences:licence:read", object_id=str(licence.pk)
    ).exists()

    # a department the holder did not authorise reads nothing, and nothing is counted
    with pytest.raises(PermissionDenied) as denied:
        use.read_licence(world["planning_reviewer"], licence.identifier)
    assert denied.value.code == "licences.no_grant"
    grant.refresh_from_db()
    assert grant.reads == 1
    # citizens are not staff
    with pytest.raises(PermissionDenied):
        use.read_licence(world["stranger"], licence.identifier)


def test_someone_elses_licence_cannot_be_named(world: dict[str, Any]) -> None:
    licence = closed_case_licence(world)
    draft = cases.create_draft(world["stranger"], ITEM_PROMISED)
    with pytest.raises(ValidationError) as refused:
        cases.reference_licence(
            world["stranger"], draft, checklist_index=1, licence_identifier=licence.identifier
        )
    assert refused.value.code == "licences.not_holder"
    assert not CaseMaterial.objects.filter(case=draft).exists()
    assert not LicenceGrant.objects.exists()


def test_holder_grants_lists_and_revokes_over_the_api(world: dict[str, Any]) -> None:
    licence = closed_case_licence(world)
    holder = client_for(world["person"])
    body = {
        "identifier": licence.identifier,
        "department_id": world["planning"].pk,
        "purpose": "办理建设工程规划许可",
        "fields": ["holder_name", "item_name"],
        "days": 10,
    }
    created = holder.post("/api/v1/licences/grants", body, content_type=JSON)
    assert created.status_code == 201, created.content
    grant = created.json()
    assert grant["active"] is True
    assert grant["fields"] == ["holder_name", "item_name"]

    reader = client_for(world["planning_reviewer"])
    read = reader.get(f"/api/v1/licences/library/{licence.identifier}")
    assert read.status_code == 200, read.content
    assert set(read.json()["face"]) == {"holder_name", "item_name"}  # only the granted fields

    listed = holder.get("/api/v1/licences/grants", {"identifier": licence.identifier}).json()
    assert [(entry["id"], entry["reads"]) for entry in listed] == [(grant["id"], 1)]

    # another person can neither grant nor revoke the holder's licence
    stranger = client_for(world["stranger"])
    assert stranger.post("/api/v1/licences/grants", body, content_type=JSON).status_code == 404
    revoke_url = f"/api/v1/licences/grants/{grant['id']}/revoke?identifier={licence.identifier}"
    assert stranger.post(revoke_url).status_code == 404
    assert LicenceGrant.objects.get(pk=grant["id"]).revoked_at is None

    revoked = holder.post(revoke_url)
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    assert reader.get(f"/api/v1/licences/library/{licence.identifier}").status_code == 403


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"fields": ["no_such_field"]}, "licences.unknown_fields"),
        ({"days": 0}, "licences.grant_days"),
        ({"days": 400}, "licences.grant_days"),
        ({"purpose": "  "}, "licences.grant_purpose"),
        ({"department_id": 999999}, "licences.department"),
        ({"case_number": "511600202611270000001"}, "licences.case"),
    ],
)
def test_bad_grants_are_refused_and_change_nothing(
    world: dict[str, Any], change: dict[str, Any], code: str
) -> None:
    licence = closed_case_licence(world)
    body = {
        "identifier": licence.identifier,
        "department_id": world["planning"].pk,
        "purpose": "核对",
        **change,
    }
    response = client_for(world["person"]).post("/api/v1/licences/grants", body, content_type=JSON)
    assert response.status_code in (400, 404), response.content
    assert response.json()["code"] == code
    assert not LicenceGrant.objects.exists()


def test_revoked_licence_cannot_be_shared(world: dict[str, Any]) -> None:
    licence = closed_case_licence(world)
    services.revoke(licence, reason="吊销", actor=world["decider"])
    with pytest.raises(Conflict):
        use.create_grant(
            world["person"],
            licence.identifier,
            department_id=world["planning"].pk,
            purpose="核对",
        )


def test_library_query_by_holder_lists_only_authorised_licences(world: dict[str, Any]) -> None:
    licence = closed_case_licence(world)
    reader = client_for(world["planning_reviewer"])
    url = "/api/v1/licences/library"
    query = {"holder_id_number": "511602199201200023"}
    assert reader.get(url, query).json() == []
    use.create_grant(
        world["person"], licence.identifier, department_id=world["planning"].pk, purpose="核对"
    )
    found = reader.get(url, query).json()
    assert [entry["identifier"] for entry in found] == [licence.identifier]
    assert client_for(world["person"]).get(url, query).status_code == 403
    assert AuditRecord.objects.filter(action="licences:holder:read").count() == 2


def test_check_answers_yes_or_no_without_face_data(world: dict[str, Any]) -> None:
    licence = closed_case_licence(world)
    staff = client_for(world["planning_reviewer"])
    right = staff.post(
        "/api/v1/licences/check",
        {
            "identifier": licence.identifier,
            "holder_name": "李娜",
            "holder_id_number": "511602199201200023",
        },
        content_type=JSON,
    ).json()
    assert right["status"] == "valid"
    assert right["matches"] == {"holder_name": True, "holder_id_number": True}
    assert "face" not in right
    wrong = staff.post(
        "/api/v1/licences/check",
        {"identifier": licence.identifier, "holder_id_number": "110101199003077777"},
        content_type=JSON,
    ).json()
    assert wrong["matches"] == {"holder_id_number": False}
    unknown = staff.post(
        "/api/v1/licences/check", {"identifier": "1.2.3"}, content_type=JSON
    ).json()
    assert unknown["status"] == "unknown"
    citizen = client_for(world["stranger"]).post(
        "/api/v1/licences/check", {"identifier": licence.identifier}, content_type=JSON
    )
    assert citizen.status_code == 403


def test_holder_chooses_what_verification_shows(world: dict[str, Any]) -> None:
    licence = closed_case_licence(world)
    before = services.verify_licence_identifier(licence.identifier)
    assert set(before.face) == {"holder_name", "holder_id", "item_name", "case_number"}
    assert before.holder_name == "李娜"

    holder = client_for(world["person"])
    url = f"/api/v1/licences/shown-fields/{licence.identifier}"
    chosen = holder.put(url, {"fields": ["item_name"]}, content_type=JSON)
    assert chosen.status_code == 200, chosen.content
    after = Client().get(f"/api/v1/licences/verify/{licence.identifier}").json()
    assert after["face"] == {"item_name": licence.face["item_name"]}
    assert after["holder_name"] == "李*"
    assert after["status"] == "valid"

    bad = holder.put(url, {"fields": ["address"]}, content_type=JSON)
    assert bad.status_code == 400
    assert bad.json()["code"] == "licences.unknown_fields"
    assert Licence.objects.get(pk=licence.pk).shown_fields == ["item_name"]
    other = client_for(world["stranger"]).put(url, {"fields": []}, content_type=JSON)
    assert other.status_code == 404
    assert holder.put(url, {"fields": None}, content_type=JSON).status_code == 200
    assert set(services.verify_licence_identifier(licence.identifier).face) == set(before.face)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_a_level_copy_is_watermarked_sealed_and_time_limited(
    world: dict[str, Any], tmp_path: Path
) -> None:
    licence = closed_case_licence(world)
    holder = client_for(world["person"])
    response = holder.post(
        "/api/v1/licences/copies",
        {"identifier": licence.identifier, "purpose": "银行开户", "days": 15},
        content_type=JSON,
    )
    assert response.status_code == 200, response.content
    path = tmp_path / "copy.pdf"
    path.write_bytes(response.content)
    signature = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    assert "Signature is Valid" in signature.stdout, signature.stdout
    text = (
        subprocess.run(
            # -raw keeps the drawing order, so the diagonal watermark reads as one run of text
            ["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.replace(" ", "")
        .replace("\n", "")
    )
    assert f"此件由{world['market'].name}提供，仅供办理政务服务事项时使用，有效期至" in text
    assert "银行开户" in text
    assert AuditRecord.objects.filter(action="licences:licence:copy").count() == 1
    too_long = holder.post(
        "/api/v1/licences/copies",
        {"identifier": licence.identifier, "purpose": "x", "days": 365},
        content_type=JSON,
    )
    assert too_long.json()["code"] == "licences.copy_days"


def test_watermark_texts_follow_the_trust_levels() -> None:
    import datetime as dt

    assert use.watermark_text("A", provider="某局", until=dt.date(2026, 12, 31)) == (
        "此件由某局提供，仅供办理政务服务事项时使用，有效期至2026年12月31日"
    )
    assert "核对原件" in use.watermark_text("B", provider="某局")
    assert "原件待核验" in use.watermark_text("C", provider="")
    assert "承诺" in use.watermark_text("D", provider="")
    with pytest.raises(ValidationError):
        use.watermark_text("E", provider="")


def test_demo_node_has_li_nas_household_register_and_a_revoked_licence() -> None:
    from zwfw.core.demo import load_demo
    from zwfw.licences.demo import load_demo as load_demo_licences
    from zwfw.registries.demo import JOURNEY_COMPANY, JOURNEY_PEOPLE

    counts = load_demo()
    assert counts["demo_licences"] == 2
    index = Licence._meta.get_field("holder_id_index").index_of
    household = Licence.objects.get(holder_id_index=index(JOURNEY_PEOPLE["li_na"].id_number))
    assert household.licence_type.name == "居民户口簿"
    assert services.verify_licence_identifier(household.identifier).valid
    revoked = Licence.objects.get(holder_id_index=index(JOURNEY_COMPANY.uscc))
    verdict = services.verify_licence_identifier(revoked.identifier)
    assert (verdict.status, verdict.reason) == ("revoked", "revoked")
    assert verdict.revoked_at is not None
    assert load_demo_licences() == {"demo_licences": 0}


def test_a_signed_record_copied_under_another_identifier_fails(world: dict[str, Any]) -> None:
    first = closed_case_licence(world)
    second = closed_case_licence(world)
    Licence.objects.filter(pk=second.pk).update(
        canonical=first.canonical, signature=first.signature
    )
    verdict = services.verify_licence_identifier(second.identifier)
    assert not verdict.valid
    assert verdict.signature_problem == "identifier_mismatch"
    assert services.verify_licence_identifier(first.identifier).valid


def test_holder_page_sets_shown_fields_grants_revokes_and_copies(world: dict[str, Any]) -> None:
    licence = closed_case_licence(world)
    url = f"/licences/mine/{licence.identifier}/"
    assert Client().get(url).status_code == 302  # to the login page
    assert client_for(world["stranger"]).get(url).status_code == 404
    holder = client_for(world["person"])
    page = holder.get(url)
    assert page.status_code == 200
    assert licence.identifier in page.content.decode()

    shown = holder.post(url, {"action": "shown_fields", "fields": ["item_name", "holder_name"]})
    assert shown.status_code == 302
    assert Licence.objects.get(pk=licence.pk).shown_fields == ["item_name", "holder_name"]

    bad = holder.post(
        url, {"action": "grant", "department_id": world["planning"].pk, "purpose": ""}
    )
    assert bad.status_code == 400
    assert "请填写用证事由" in bad.content.decode()
    assert not LicenceGrant.objects.exists()
    made = holder.post(
        url,
        {
            "action": "grant",
            "department_id": world["planning"].pk,
            "purpose": "规划许可",
            "grant_fields": ["holder_name"],
            "days": "7",
        },
    )
    assert made.status_code == 302
    grant = LicenceGrant.objects.get()
    assert grant.fields == ["holder_name"]
    holder.post(url, {"action": "revoke_grant", "grant_id": grant.pk})
    grant.refresh_from_db()
    assert grant.revoked_at is not None

    copy = holder.post(url, {"action": "copy", "purpose": "银行开户", "days": "10"})
    assert copy.status_code == 200
    assert copy["Content-Type"] == "application/pdf"
    assert copy.content.startswith(b"%PDF")


def test_listing_grants_takes_the_same_queries_for_one_or_many(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    licence = closed_case_licence(world)
    holder = client_for(world["person"])
    for department in ("planning", "housing", "ecology"):
        use.create_grant(
            world["person"], licence.identifier, department_id=world[department].pk, purpose="核对"
        )
    holder.get("/api/v1/licences/grants", {"identifier": licence.identifier})  # warm the session
    with django_assert_max_num_queries(6):
        listed = holder.get("/api/v1/licences/grants", {"identifier": licence.identifier})
    assert len(listed.json()) == 3
