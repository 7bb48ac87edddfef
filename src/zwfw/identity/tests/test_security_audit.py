"""Every security event leaves an audit record, and none holds a secret or a full identifier."""

from __future__ import annotations

import json
from typing import Any

import pyotp
import pytest
from django.test import Client
from django.utils import timezone

from zwfw.core import audit
from zwfw.core.models import AuditRecord
from zwfw.identity.models import Throttle, TotpDevice
from zwfw.identity.tests.conftest import COMPANY, LI_NA, PASSWORD, REP, WANG, last_code, person

pytestmark = pytest.mark.usefixtures("registry_data")


def _post(client: Client, path: str, body: Any = None) -> Any:
    return client.post(
        f"/api/v1/identity/{path}", json.dumps(body or {}), content_type="application/json"
    )


def test_a_whole_account_life_is_audited_without_secrets(db: None) -> None:
    secrets: list[str] = [PASSWORD, LI_NA.id_number, LI_NA.phone, WANG.id_number, WANG.phone]
    client = Client()
    _post(client, "sms-codes", {"phone": LI_NA.phone, "purpose": "register"})
    code = last_code(LI_NA.phone)
    secrets.append(code)
    registered = _post(
        client,
        "register/person",
        {
            "id_number": LI_NA.id_number,
            "name": LI_NA.name,
            "phone": LI_NA.phone,
            "code": code,
            "factors": {"bank_card": LI_NA.bank_card},
            "password": PASSWORD,
            "agreement_version": 1,
        },
    )
    assert registered.status_code == 201, registered.json()
    assert _post(client, "logout").status_code == 204
    for _ in range(5):
        _post(client, "login", {"identifier": LI_NA.id_number, "password": "Wrong-guess-11"})
    Throttle.objects.filter(scope="login:account").delete()  # fifteen minutes later
    _post(client, "login", {"identifier": LI_NA.id_number, "password": PASSWORD})
    enrolled = _post(client, "totp").json()
    totp = pyotp.TOTP(enrolled["secret"])
    secrets.append(enrolled["secret"])
    assert _post(client, "totp/confirm", {"code": totp.now()}).status_code == 204
    TotpDevice.objects.update(last_used_step=0)
    second = Client()
    assert (
        _post(second, "login", {"identifier": LI_NA.phone, "password": PASSWORD}).json()["status"]
        == "second_factor"
    )
    assert _post(second, "login/totp", {"code": totp.now()}).json()["status"] == "ok"
    sessions = client.get("/api/v1/identity/sessions").json()["items"]
    other = next(s["id"] for s in sessions if not s["current"])
    assert client.delete(f"/api/v1/identity/sessions/{other}").status_code == 204
    new_password = "Jialing-river-88"
    secrets.append(new_password)
    changed = _post(
        client, "password/change", {"old_password": PASSWORD, "new_password": new_password}
    )
    assert changed.status_code == 200
    Throttle.objects.filter(scope__startswith="sms:").delete()  # a minute later
    _post(client, "password/reset/code", {"phone": LI_NA.phone})
    reset_code = last_code(LI_NA.phone)
    secrets.append(reset_code)
    assert (
        _post(
            client,
            "password/reset",
            {"phone": LI_NA.phone, "code": reset_code, "new_password": "Huaying-hills-51"},
        ).status_code
        == 204
    )
    # a company, an agent, acting for it, revoking
    rep = person(REP, username="rep")
    wang = person(WANG, username="wang")
    rep_client, wang_client = Client(), Client()
    rep_client.force_login(rep)
    wang_client.force_login(wang)
    assert (
        _post(rep_client, "companies", {"uscc": COMPANY.uscc, "name": COMPANY.name}).status_code
        == 201
    )
    today = timezone.localdate()
    authorised = _post(
        rep_client,
        f"companies/{COMPANY.uscc}/agents",
        {
            "agent_id_number": WANG.id_number,
            "agent_name": WANG.name,
            "all_items": True,
            "valid_from": today.isoformat(),
            "valid_until": today.replace(year=today.year + 1).isoformat(),
        },
    )
    assert authorised.status_code == 201, authorised.json()
    assert _post(wang_client, "acting", {"uscc": COMPANY.uscc}).status_code == 200
    revoked = _post(rep_client, f"agents/{authorised.json()['id']}/revoke")
    assert revoked.json()["revoked_at"] is not None

    actions = set(AuditRecord.objects.values_list("action", flat=True))
    expected = {
        "identity:sms_code:send",
        "identity:register",
        "identity:agreement_accept",
        "identity:login_success",
        "identity:login_failure",
        "identity:lockout",
        "identity:logout",
        "identity:totp_enrol",
        "identity:session_revoke",
        "identity:password_change",
        "identity:password_reset",
        "identity:company_register",
        "identity:agent_authorise",
        "identity:switch_identity",
        "identity:agent_revoke",
    }
    assert expected <= actions, expected - actions
    for record in AuditRecord.objects.filter(action__startswith="identity:"):
        text = json.dumps([record.before, record.after, record.object_id], ensure_ascii=False)
        for secret in secrets:
            assert secret not in text, (record.action, secret)
    assert audit.verify_chain().ok
