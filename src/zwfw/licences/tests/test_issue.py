"""A case that ends with 出证办结 issues a licence that verifies everywhere."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from zwfw.cases import services as cases
from zwfw.cases.models import CaseStatus, TaskKind
from zwfw.cases.tests.test_lifecycle import open_task, submitted
from zwfw.licences import services
from zwfw.licences.models import Licence
from zwfw.licences.tests.conftest import MARKET_USCC
from zwfw.signing import ofd, pades
from zwfw.signing import services as signing

pytestmark = pytest.mark.django_db

#: (seconds to close the case including issuance, stages) — read by hand with ``-s``.
TIMINGS: list[tuple[float, dict[str, float]]] = []


def closed_case_licence(world: dict[str, Any], **kwargs: Any) -> Licence:
    market = world["market"]
    market.uscc = MARKET_USCC
    market.save(update_fields=["uscc"])
    case = submitted(world, **kwargs)
    case = cases.accept(world["clerk"], case, opinion="材料齐全")
    cases.act(world["reviewer"], open_task(case, TaskKind.REVIEW), "pass", opinion="符合")
    started = time.perf_counter()
    case = cases.act(world["decider"], open_task(case, TaskKind.DECIDE), "approve", opinion="准予")
    TIMINGS.append((time.perf_counter() - started, dict(services.LAST_TIMING.stages)))
    assert case.status == CaseStatus.CLOSED
    licence = Licence.objects.get(case=case)
    return licence


def test_case_issues_a_licence_that_verifies(world: dict[str, Any], tmp_path: Path) -> None:
    licence = closed_case_licence(world)
    assert licence.licence_type.name == "食品经营许可证"
    assert licence.holder_name == "李娜"
    assert licence.identifier.startswith(f"1.2.156.3005.2.{MARKET_USCC}001.{MARKET_USCC}.")
    pdf = services.file_bytes(licence, "pdf")
    check = pades.verify_pdf(pdf, trust_roots_pem=signing.pdf_trust_roots())
    assert check.valid, check.problems
    ofd_data = services.file_bytes(licence, "ofd")
    assert ofd.check_ofd(ofd_data) == []
    assert licence.identifier in ofd.read_ofd_text(ofd_data)
    verdict = services.verify_licence_identifier(licence.identifier)
    assert verdict.valid
    assert verdict.face["holder_id"] == "511***********0023"
    assert "*" in verdict.face["holder_id"]

    if shutil.which("pdfsig"):
        path = tmp_path / "licence.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
        assert "Signature is Valid" in out.stdout, out.stdout
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(tmp_path / "licence.pdf"), "-"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        assert "食品经营许可证" in text
        assert licence.identifier in text.replace(" ", "")

    response = Client().get(f"/api/v1/licences/verify/{licence.identifier}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "valid"
    assert body["signature_ok"] is True
    assert body["issuer"] == world["market"].name
    page = Client().get("/licences/verify/", {"id": licence.identifier})
    assert page.status_code == 200
    assert "有效" in page.content.decode()

    for name, data in (
        ("l.pdf", pdf),
        ("l.ofd", ofd_data),
        ("l.json", json.dumps(services.signed_package(licence)).encode()),
    ):
        (tmp_path / name).write_bytes(data)
        call_command("verify_licence", str(tmp_path / name))


def test_company_case_licence_is_held_by_the_company(world: dict[str, Any]) -> None:
    licence = closed_case_licence(world, user=world["agent"], acting_uscc=world["company"].uscc)
    assert licence.holder_kind == "company"
    assert licence.holder_name == world["company"].name
    assert licence.holder_id_number == world["company"].uscc


def _fails(path: Path) -> str:
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_licence", str(path))
    assert exit_info.value.code == 1
    return str(exit_info.value)


def test_tampering_revocation_and_expiry_are_reported(
    world: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    licence = closed_case_licence(world)
    pdf = services.file_bytes(licence, "pdf")
    # J5: a copy with one digit changed — the serial's last digit, in the PDF's /Subject.
    position = pdf.index(licence.identifier.encode()) + len(licence.identifier) - 7
    tampered = bytearray(pdf)
    tampered[position] = ord("7") if tampered[position] != ord("7") else ord("8")
    (tmp_path / "t.pdf").write_bytes(bytes(tampered))
    _fails(tmp_path / "t.pdf")
    assert "篡改" in capsys.readouterr().out
    check = pades.verify_pdf(bytes(tampered), trust_roots_pem=signing.pdf_trust_roots())
    assert not check.valid
    assert not check.intact
    if shutil.which("pdfsig"):
        out = subprocess.run(
            ["pdfsig", str(tmp_path / "t.pdf")], capture_output=True, text=True, check=False
        ).stdout
        assert "Signature is Valid" not in out
        assert "Digest Mismatch" in out or "Invalid" in out, out

    package = services.signed_package(licence)
    serial = package["licence"]["serial"]
    package["licence"]["serial"] = serial[:-1] + ("1" if serial[-1] != "1" else "2")
    (tmp_path / "t.json").write_text(json.dumps(package, ensure_ascii=False))
    _fails(tmp_path / "t.json")
    assert "data_hash" in capsys.readouterr().out

    bad_sig = dict(services.signed_package(licence))
    raw = bytearray(base64.b64decode(bad_sig["signature"]))
    raw[-5] ^= 0x01
    bad_sig["signature"] = base64.b64encode(bytes(raw)).decode()
    (tmp_path / "s.json").write_text(json.dumps(bad_sig))
    _fails(tmp_path / "s.json")
    capsys.readouterr()

    services.revoke(licence, reason="以欺骗手段取得许可", actor="test")
    verdict = services.verify_licence_identifier(licence.identifier)
    assert verdict.status == "revoked"
    assert verdict.revoked_at is not None
    assert not verdict.valid
    body = Client().get(f"/api/v1/licences/verify/{licence.identifier}").json()
    assert body["status"] == "revoked"
    assert body["revocation_reason"] == "以欺骗手段取得许可"
    (tmp_path / "r.pdf").write_bytes(pdf)
    _fails(tmp_path / "r.pdf")
    assert "已注销" in capsys.readouterr().out

    other = closed_case_licence(world)
    other.licence_type.validity_years = 1
    other.licence_type.save()
    Licence.objects.filter(pk=other.pk).update(valid_until="2020-01-01")
    assert services.verify_licence_identifier(other.identifier).status == "expired"
    assert services.expire_due() == 1
    other.refresh_from_db()
    assert other.status == "expired"
    assert Client().get(f"/api/v1/licences/verify/{other.identifier}").json()["status"] == (
        "expired"
    )


def test_unknown_identifier(world: dict[str, Any]) -> None:
    assert services.verify_licence_identifier("nonsense").status == "unknown"
    body = Client().get("/api/v1/licences/verify/1.2.156.3005.2.X").json()
    assert body["status"] == "unknown"


def test_renewal_makes_a_new_version(world: dict[str, Any]) -> None:
    licence = closed_case_licence(world)
    new = services.renew(licence, actor="test")
    assert new.version == 2
    assert new.identifier.split(".")[-2] == "002"
    licence.refresh_from_db()
    assert licence.status == "superseded"
    assert services.verify_licence_identifier(new.identifier).valid
    assert services.verify_licence_identifier(licence.identifier).status == "superseded"


def test_demo_licence_writes_three_verifiable_files(world: dict[str, Any], tmp_path: Path) -> None:
    call_command("demo_licence", "--out", str(tmp_path))
    for name in ("licence.pdf", "licence.ofd", "licence.json"):
        assert (tmp_path / name).stat().st_size > 0
        call_command("verify_licence", str(tmp_path / name))


def test_holder_lists_and_downloads_own_licences(world: dict[str, Any]) -> None:
    licence = closed_case_licence(world)
    company_licence = closed_case_licence(
        world, user=world["agent"], acting_uscc=world["company"].uscc
    )
    client = Client()
    assert client.get("/api/v1/licences/mine").status_code == 401
    client.force_login(world["person"])
    mine = client.get("/api/v1/licences/mine").json()
    assert [entry["identifier"] for entry in mine] == [licence.identifier]
    assert mine[0]["formats"] == ["json", "pdf", "ofd"]
    for fmt in ("pdf", "ofd", "json"):
        response = client.get(f"/api/v1/licences/mine/{licence.identifier}/{fmt}")
        assert response.status_code == 200
    assert client.get(f"/api/v1/licences/mine/{company_licence.identifier}/pdf").status_code == 404
    rep = Client()
    rep.force_login(world["rep"])  # the company's legal representative
    listed = [entry["identifier"] for entry in rep.get("/api/v1/licences/mine").json()]
    assert listed == [company_licence.identifier]


def test_issuer_deciders_revoke_and_renew_over_the_api(world: dict[str, Any]) -> None:
    licence = closed_case_licence(world)
    clerk = Client()
    clerk.force_login(world["clerk"])
    url = f"/api/v1/licences/{licence.identifier}"
    denied = clerk.post(f"{url}/revoke", {"reason": "x"}, content_type="application/json")
    assert denied.status_code == 403
    decider = Client()
    decider.force_login(world["decider"])
    renewed = decider.post(f"{url}/renew").json()
    assert renewed["version"] == 2
    assert renewed["status"] == "valid"
    new_url = f"/api/v1/licences/{renewed['identifier']}"
    assert decider.post(f"{new_url}/revoke", {}, content_type="application/json").status_code == 422
    revoked = decider.post(
        f"{new_url}/revoke", {"reason": "申请人申请注销"}, content_type="application/json"
    )
    assert revoked.json()["status"] == "revoked"
    again = decider.post(f"{new_url}/revoke", {"reason": "x"}, content_type="application/json")
    assert again.status_code == 409
    public = Client().get(f"/api/v1/licences/verify/{renewed['identifier']}").json()
    assert public["status"] == "revoked"
    assert public["revocation_reason"] == "申请人申请注销"


def test_admin_pages_show_licences_and_seals(world: dict[str, Any], admin_client: Client) -> None:
    licence = closed_case_licence(world)
    assert admin_client.get("/admin/licences/licence/").status_code == 200
    page = admin_client.get(f"/admin/licences/licence/{licence.pk}/change/")
    assert page.status_code == 200
    assert licence.identifier in page.content.decode()
    seals = admin_client.get("/admin/signing/seal/").content.decode()
    assert licence.seal.es_id in seals
    assert (
        "PRIVATE KEY"
        not in admin_client.get(f"/admin/signing/seal/{licence.seal.pk}/change/").content.decode()
    )
