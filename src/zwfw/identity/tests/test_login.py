"""Sign-in: password, SMS code, TOTP; lockout per account and per address; sessions; resets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyotp
import pytest
from django.utils import timezone

from zwfw.core import context
from zwfw.core.errors import Conflict, NotAuthenticated, NotFound, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.identity import otp, services
from zwfw.identity.models import Throttle, TotpDevice, User, UserSession
from zwfw.identity.tests.conftest import (
    ELDER,
    LI_NA,
    PASSWORD,
    WANG,
    last_code,
    make_request,
    person,
)
from zwfw.identity.throttle import TooManyRequests

pytestmark = pytest.mark.usefixtures("ip_context")


@pytest.fixture
def li_na(db: None) -> User:
    user = person(LI_NA)
    from zwfw.identity.models import AgreementAcceptance, AgreementVersion

    AgreementAcceptance.objects.create(
        user=user, version=AgreementVersion.objects.get(version=1), accepted_at=timezone.now()
    )
    return user


def _login(identifier: str, password: str = PASSWORD, ip: str = "10.0.0.1") -> Any:
    request = make_request(ip=ip)
    with context.bind(ip=ip):
        return request, services.login_with_password(request, identifier, password)


def _actions() -> list[str]:
    return list(AuditRecord.objects.order_by("id").values_list("action", flat=True))


@pytest.mark.parametrize("identifier", ["id_number", "phone", "username"])
def test_password_login_by_id_number_phone_or_handle(li_na: User, identifier: str) -> None:
    value = {"id_number": LI_NA.id_number, "phone": LI_NA.phone, "username": li_na.username}
    request, result = _login(value[identifier])
    assert (result.status, result.user, result.agreement_required) == ("ok", li_na, False)
    assert request.session["_auth_user_id"] == str(li_na.pk)
    tracked = UserSession.objects.get(pk=request.session[services.SESSION_TRACKED])
    assert (tracked.user, tracked.method, tracked.ip) == (li_na, "password", "10.0.0.1")
    assert tracked.session_key_hash
    assert request.session.session_key not in tracked.session_key_hash
    success = AuditRecord.objects.get(action="identity:login_success")
    assert (success.actor, success.after) == (f"user:{li_na.pk}", {"method": "password"})


def test_lowercase_x_in_the_id_number_signs_in_too(db: None) -> None:
    from zwfw.core.validators import resident_id_check_char

    body = "11010519491231002"
    assert resident_id_check_char(body) == "X"
    number = body + resident_id_check_char(body)
    user = User(username="px", kind="person", id_type="111", id_number=number)
    user.set_password(PASSWORD)
    user.save()
    assert services.find_login_user(number.lower())[0] == user


def test_wrong_password_is_audited_without_the_password(li_na: User) -> None:
    with pytest.raises(NotAuthenticated) as raised:
        _login(LI_NA.phone, "Wrong-password-1")
    assert raised.value.code == "identity.login_failed"
    failure = AuditRecord.objects.get(action="identity:login_failure")
    assert failure.after == {"method": "password", "identifier_kind": "phone", "known": True}
    assert failure.actor == "anonymous"
    assert "Wrong-password-1" not in str(failure.after)
    assert LI_NA.phone not in str(failure.after)


def test_unknown_account_fails_the_same_way(db: None) -> None:
    with pytest.raises(NotAuthenticated) as raised:
        _login("nobody-here", "Whatever-pass-1")
    assert raised.value.code == "identity.login_failed"
    assert AuditRecord.objects.get(action="identity:login_failure").after["known"] is False


def test_five_failures_lock_the_account_for_fifteen_minutes(li_na: User) -> None:
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            _login(LI_NA.id_number, "Wrong-password-1")
    assert _actions().count("identity:lockout") == 1
    with pytest.raises(TooManyRequests) as raised:
        _login(LI_NA.id_number)  # even the right password is refused while locked
    assert raised.value.code == "identity.account_locked"
    assert 14 * 60 < raised.value.details["retry_after"] <= 15 * 60
    assert not AuditRecord.objects.filter(action="identity:login_success").exists()
    # the lock holds for every identifier of the account, from any address
    with pytest.raises(TooManyRequests):
        _login(LI_NA.phone, ip="10.0.0.2")
    Throttle.objects.filter(scope="login:account").update(
        locked_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert _login(LI_NA.id_number)[1].status == "ok"


def test_unknown_identifiers_lock_like_accounts(db: None) -> None:
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            _login("someone-else", "Wrong-password-1")
    with pytest.raises(TooManyRequests):
        _login("someone-else", "Wrong-password-1")


def test_thirty_failures_lock_the_address(li_na: User) -> None:
    for n in range(30):
        with pytest.raises(NotAuthenticated):
            _login(f"guess-{n}", "Wrong-password-1", ip="10.6.6.6")
    with pytest.raises(TooManyRequests) as raised:
        _login(LI_NA.id_number, ip="10.6.6.6")
    assert raised.value.code == "identity.ip_locked"
    assert _login(LI_NA.id_number, ip="10.7.7.7")[1].status == "ok"


def test_success_clears_earlier_failures(li_na: User) -> None:
    for _ in range(4):
        with pytest.raises(NotAuthenticated):
            _login(LI_NA.id_number, "Wrong-password-1")
    _login(LI_NA.id_number)
    for _ in range(4):
        with pytest.raises(NotAuthenticated):
            _login(LI_NA.id_number, "Wrong-password-1")
    assert _login(LI_NA.id_number)[1].status == "ok"


def test_sms_login_and_its_failures(li_na: User) -> None:
    services.send_login_code(LI_NA.phone)
    code = last_code(LI_NA.phone)
    request = make_request()
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(NotAuthenticated):
        services.login_with_sms(request, LI_NA.phone, wrong)
    result = services.login_with_sms(request, LI_NA.phone, code)
    assert (result.status, result.user) == ("ok", li_na)
    with pytest.raises(NotAuthenticated):  # replay
        services.login_with_sms(make_request(), LI_NA.phone, code)
    assert _actions().count("identity:login_failure") == 2


def test_sms_login_code_for_an_unknown_phone_is_answered_alike_and_not_sent(db: None) -> None:
    from zwfw.notifications.services import messages_for_recipient

    sent = services.send_login_code(WANG.phone)
    assert sent.phone_masked == "139****5678"
    assert not messages_for_recipient(WANG.phone).exists()
    with pytest.raises(NotAuthenticated):
        services.login_with_sms(make_request(), WANG.phone, "123456")


def _enrolled(user: User) -> pyotp.TOTP:
    enrolment = services.enrol_totp(user)
    totp = pyotp.TOTP(enrolment.secret)
    assert enrolment.uri.startswith("otpauth://totp/")
    services.confirm_totp(user, totp.now())
    return totp


def test_totp_second_factor(li_na: User) -> None:
    totp = _enrolled(li_na)
    TotpDevice.objects.filter(user=li_na).update(last_used_step=0)
    request, result = _login(LI_NA.id_number)
    assert result.status == "second_factor"
    assert "_auth_user_id" not in request.session
    with pytest.raises(NotAuthenticated):
        services.login_second_factor(request, "000000" if totp.now() != "000000" else "111111")
    done = services.login_second_factor(request, totp.now())
    assert done.status == "ok"
    assert request.session["_auth_user_id"] == str(li_na.pk)
    assert UserSession.objects.get(user=li_na).method == "password+totp"
    # the same code cannot be used twice
    request2, _ = _login(LI_NA.id_number)
    with pytest.raises(NotAuthenticated):
        services.login_second_factor(request2, totp.now())
    enrol = [r.after["stage"] for r in AuditRecord.objects.filter(action="identity:totp_enrol")]
    assert enrol == ["started", "confirmed"]


def test_totp_step_without_pending_login(li_na: User) -> None:
    with pytest.raises(NotAuthenticated) as raised:
        services.login_second_factor(make_request(), "123456")
    assert raised.value.code == "identity.no_pending_login"


def test_totp_secret_is_encrypted_and_enrolment_is_single(li_na: User) -> None:
    from django.db import connection

    _enrolled(li_na)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM identity_totpdevice")
        stored = cursor.fetchone()[0]
    assert stored.startswith("v1:")
    assert TotpDevice.objects.get().secret not in stored
    with pytest.raises(Conflict) as raised:
        services.enrol_totp(li_na)
    assert raised.value.code == "identity.totp_exists"
    with pytest.raises(NotAuthenticated):
        services.remove_totp(li_na, "wrong-password-1")
    services.remove_totp(li_na, PASSWORD)
    assert not TotpDevice.objects.exists()


def test_sessions_are_listed_and_ended_remotely(li_na: User) -> None:
    from django.test import Client

    phone_client, laptop_client = Client(), Client()
    phone_client.force_login(li_na)
    laptop_client.force_login(li_na)
    sessions = list(UserSession.objects.filter(user=li_na).order_by("id"))
    assert len(sessions) == 2
    services.end_session(li_na, sessions[0].pk)
    revoke = AuditRecord.objects.get(action="identity:session_revoke")
    assert revoke.actor == f"user:{li_na.pk}"
    # the ended session is signed out at its next request; the other one goes on
    assert phone_client.get("/api/v1/identity/me").status_code == 401
    assert laptop_client.get("/api/v1/identity/me").status_code == 200
    with pytest.raises(NotFound):
        services.end_session(li_na, sessions[0].pk)
    other = person(WANG, username="wang")
    with pytest.raises(NotFound):
        services.end_session(other, sessions[1].pk)  # not theirs: changes nothing
    assert UserSession.objects.get(pk=sessions[1].pk).ended_at is None


def test_password_change_ends_other_sessions(li_na: User) -> None:
    request, _ = _login(LI_NA.id_number)
    request.user = li_na
    other, _ = _login(LI_NA.phone)
    services.change_password(request, PASSWORD, "Jialing-river-88")
    li_na.refresh_from_db()
    assert li_na.check_password("Jialing-river-88")
    ended = UserSession.objects.get(pk=other.session[services.SESSION_TRACKED])
    assert ended.end_reason == "password"
    assert UserSession.objects.get(pk=request.session[services.SESSION_TRACKED]).ended_at is None
    with pytest.raises(ValidationError) as raised:
        services.change_password(request, "Jialing-river-88", "Jialing-river-88")
    assert raised.value.code == "identity.password_same"
    with pytest.raises(NotAuthenticated):
        services.change_password(request, "not-my-password-1", "Another-good-one-7")


def test_password_reset_by_sms(li_na: User) -> None:
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            _login(LI_NA.id_number, "Wrong-password-1")
    services.send_reset_code(LI_NA.phone)
    code = last_code(LI_NA.phone)
    with pytest.raises(ValidationError):
        services.reset_password(LI_NA.phone, code, "short")
    services.reset_password(LI_NA.phone, code, "Huaying-hills-51")
    assert _login(LI_NA.id_number, "Huaying-hills-51")[1].status == "ok"  # lock lifted
    record = AuditRecord.objects.get(action="identity:password_reset")
    assert record.after["phone"] == "138****8000"
    with pytest.raises(ValidationError) as raised:
        services.reset_password(LI_NA.phone, code, "Huaying-hills-52")
    assert raised.value.code == "identity.code_used"


def test_first_password_must_be_changed_before_anything_else(db: None) -> None:
    from django.test import Client

    user = person(ELDER, must_change_password=True)
    user.phone = ""
    user.save()
    client = Client()
    response = client.post(
        "/api/v1/identity/login",
        {"identifier": ELDER.id_number, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.json()["must_change_password"] is True
    blocked = client.get("/api/v1/identity/sessions")
    assert (blocked.status_code, blocked.json()["code"]) == (
        403,
        "identity.password_change_required",
    )
    page = client.get("/accounts/profile/")
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/password/change/")
    changed = client.post(
        "/api/v1/identity/password/change",
        {"old_password": PASSWORD, "new_password": "Qushui-bridge-64"},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.json()
    # he never accepted the agreement online: that is asked next
    agreement = client.get("/api/v1/identity/sessions")
    assert agreement.json()["code"] == "identity.agreement_required"
    accepted = client.post(
        "/api/v1/identity/agreement/accept", {"version": 1}, content_type="application/json"
    )
    assert accepted.status_code == 204
    assert client.get("/api/v1/identity/sessions").status_code == 200


def test_a_new_agreement_version_asks_again_at_next_login(li_na: User) -> None:
    assert _login(LI_NA.id_number)[1].agreement_required is False
    services.publish_agreement(title="实名注册协议", text="第二版正文")
    request, result = _login(LI_NA.id_number)
    assert result.agreement_required is True
    assert request.session[services.SESSION_AGREEMENT] is True
    with pytest.raises(ValidationError):
        services.accept_agreement(li_na, 1)
    services.accept_agreement(li_na, 2)
    services.accept_agreement(li_na, 2)  # idempotent
    assert _actions().count("identity:agreement_accept") == 1
    assert services.needs_agreement(li_na) is False
    assert dt.timedelta(minutes=5) == otp.CODE_LIFETIME
