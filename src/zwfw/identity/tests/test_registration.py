"""Registration of natural persons: online (L3), at the window (L4); good and bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from zwfw.core.errors import Conflict, PermissionDenied, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.core.validators import resident_id_check_char
from zwfw.identity import otp, services
from zwfw.identity.models import AgreementAcceptance, OneTimeCode, Throttle, User
from zwfw.identity.tests.conftest import ELDER, LI_NA, PASSWORD, WANG, last_code, person
from zwfw.identity.throttle import TooManyRequests
from zwfw.organisations.models import Role

pytestmark = pytest.mark.usefixtures("registry_data", "ip_context")


def _online(**overrides: Any) -> User:
    values: dict[str, Any] = {
        "id_number": LI_NA.id_number,
        "name": LI_NA.name,
        "phone": LI_NA.phone,
        "code": None,
        "factors_given": {"social_security_card": LI_NA.social_security_card},
        "password": PASSWORD,
        "agreement_version": 1,
    }
    values.update(overrides)
    if values["code"] is None:
        Throttle.objects.filter(scope__startswith="sms:").delete()  # a minute has passed
        otp.send_code("register", values["phone"], "10.0.0.1")
        values["code"] = last_code(values["phone"])
    return services.register_person_online(**values)


def _fails(error_code: str, **overrides: Any) -> Any:
    users, audits = User.objects.count(), AuditRecord.objects.filter(action="identity:register")
    before, accepted = audits.count(), AgreementAcceptance.objects.count()
    with pytest.raises((ValidationError, Conflict)) as raised:
        _online(**overrides)
    assert raised.value.code == error_code
    assert User.objects.count() == users
    assert audits.count() == before
    assert AgreementAcceptance.objects.count() == accepted
    return raised.value


def test_j1_online_registration_gives_l3_and_records_the_agreement() -> None:
    user = _online()
    assert (user.trust_level, user.trust_source) == ("L3", "online")
    assert user.real_name == "李娜"
    assert user.sex == "2"
    assert user.birth_date == dt.date(1992, 1, 20)
    assert user.id_number == LI_NA.id_number
    assert LI_NA.id_number not in user.username
    assert user.check_password(PASSWORD)
    acceptance = AgreementAcceptance.objects.get(user=user)
    assert (acceptance.version.version, acceptance.ip, acceptance.channel) == (
        1,
        "10.0.0.1",
        "online",
    )
    record = AuditRecord.objects.get(action="identity:register")
    assert record.after["id_number"] == "511***********0023"
    assert record.after["phone"] == "138****8000"
    assert record.after["factors"] == ["phone", "social_security_card"]
    assert LI_NA.id_number not in str(record.after)
    assert LI_NA.phone not in str(record.after)
    assert AuditRecord.objects.filter(action="identity:agreement_accept").count() == 1


def test_wrong_check_digit_is_refused_before_any_code_is_used() -> None:
    bad = LI_NA.id_number[:17] + ("0" if LI_NA.id_number[17] != "0" else "1")
    otp.send_code("register", LI_NA.phone, "10.0.0.1")
    error = _fails("id_number.check_digit", id_number=bad, code=last_code(LI_NA.phone))
    assert error.field == "id_number"
    assert OneTimeCode.objects.get().consumed_at is None


def test_future_birth_date_is_refused() -> None:
    body = "511602" + (timezone.localdate() + dt.timedelta(days=400)).strftime("%Y%m%d") + "002"
    _fails("id_number.birth_date_future", id_number=body + resident_id_check_char(body))


def test_factor_mismatch_creates_nothing_but_is_audited_and_uses_the_code() -> None:
    _fails("identity.factor_mismatch", factors_given={"social_security_card": "J99999999"})
    failure = AuditRecord.objects.get(action="identity:register_failure")
    assert failure.after == {
        "reason": "factor_mismatch",
        "via": "online",
        "id_number": "511***********0023",
    }
    assert OneTimeCode.objects.get().consumed_at is not None


def test_name_mismatch_and_someone_elses_phone_fail_the_registry_check() -> None:
    _fails("identity.factor_mismatch", name="李想")
    Throttle.objects.all().delete()
    _fails(
        "identity.factor_mismatch",
        phone=WANG.phone,
        factors_given={"social_security_card": LI_NA.social_security_card},
    )


def test_a_phone_and_nothing_else_is_too_few_factors() -> None:
    _fails("identity.factors_too_few", factors_given={})
    _fails("identity.factor_unknown", factors_given={"passport": "E123"})


def test_reused_phone_is_a_conflict() -> None:
    person(WANG, username="wang")  # holds WANG's phone
    _fails("identity.phone_taken", phone=WANG.phone)


def test_an_id_number_registers_once() -> None:
    _online()
    Throttle.objects.all().delete()
    _fails("identity.already_registered")


def test_expired_code() -> None:
    otp.send_code("register", LI_NA.phone, "10.0.0.1")
    code = last_code(LI_NA.phone)
    OneTimeCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    _fails("identity.code_expired", code=code)


def test_replayed_code_and_wrong_codes() -> None:
    otp.send_code("register", LI_NA.phone, "10.0.0.1")
    code = last_code(LI_NA.phone)
    wrong = "000000" if code != "000000" else "111111"
    _fails("identity.code_invalid", code=wrong)
    _online(code=code)
    User.objects.all().delete()
    _fails("identity.code_used", code=code)


def test_five_wrong_codes_use_the_code_up() -> None:
    otp.send_code("register", LI_NA.phone, "10.0.0.1")
    code = last_code(LI_NA.phone)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(otp.CODE_MAX_ATTEMPTS):
        _fails("identity.code_invalid", code=wrong)
    _fails("identity.code_attempts", code=code)


def test_a_new_code_supersedes_the_old_one_and_resends_are_throttled() -> None:
    otp.send_code("register", LI_NA.phone, "10.0.0.1")
    first = last_code(LI_NA.phone)
    with pytest.raises(TooManyRequests) as raised:
        otp.send_code("register", LI_NA.phone, "10.0.0.1")
    assert raised.value.code == "identity.sms_too_soon"
    assert 0 < raised.value.details["retry_after"] <= 60
    Throttle.objects.filter(scope="sms:phone:60s").delete()
    otp.send_code("register", LI_NA.phone, "10.0.0.1")
    second = last_code(LI_NA.phone)
    if first != second:
        _fails("identity.code_invalid", code=first)
    assert _online(code=second).trust_level == "L3"


def test_ten_codes_an_hour_per_address() -> None:
    phones = [f"1390000{n:04d}" for n in range(11)]
    for phone in phones[:10]:
        otp.send_code("login", phone, "10.9.9.9")
    with pytest.raises(TooManyRequests) as raised:
        otp.send_code("login", phones[10], "10.9.9.9")
    assert raised.value.code == "identity.sms_rate_limited"


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short1A", "identity.password_too_short"),
        ("12345678901", "identity.password_all_digits"),
        ("onlyletterslong", "identity.password_kinds"),
        ("password123", "identity.password_common"),
        (f"x{LI_NA.id_number}", "identity.password_personal"),
        (f"Ab-{LI_NA.phone}", "identity.password_personal"),
        ("Ab-19920120-x", "identity.password_personal"),
    ],
)
def test_weak_passwords_are_refused(password: str, code: str) -> None:
    error = _fails(code, password=password, code="123456")
    assert error.field == "password"
    assert "密码" in error.message


def test_the_current_agreement_must_be_accepted() -> None:
    _fails("identity.agreement_required", agreement_version=None, code="123456")
    services.publish_agreement(title="实名注册协议", text="第二版")
    error = _fails("identity.agreement_required", code="123456")
    assert error.details["current_version"] == 2


def test_registrations_per_address_are_rate_limited() -> None:
    for _ in range(10):
        _fails("identity.code_missing", code="123456")
    with pytest.raises(TooManyRequests) as raised:
        _online(code="123456")
    assert raised.value.code == "identity.register_rate_limited"


# --- at the window -----------------------------------------------------------------------------


def _window(clerk: User, journey: Any = ELDER, phone: str = "", **overrides: Any) -> Any:
    code = ""
    if phone:
        otp.send_code("window", phone, "10.0.0.1")
        code = last_code(phone)
    values = {
        "id_number": journey.id_number,
        "name": journey.name,
        "phone": phone,
        "code": code,
        "agreement_version": 1,
    }
    values.update(overrides)
    return services.register_person_at_window(clerk, **values)


def test_j7_window_registration_gives_l4_and_a_first_password_to_change(clerk: User) -> None:
    result = _window(clerk)
    user = result.user
    assert (user.trust_level, user.trust_source, user.must_change_password) == (
        "L4",
        "window",
        True,
    )
    assert user.phone == ""
    assert user.check_password(result.initial_password)
    assert len(result.initial_password) == 12
    acceptance = AgreementAcceptance.objects.get(user=user)
    assert (acceptance.channel, acceptance.recorded_by) == ("window", clerk)
    record = AuditRecord.objects.get(action="identity:register")
    assert record.actor == f"user:{clerk.pk}"
    assert record.after["via"] == "window"
    assert result.initial_password not in str(record.after)
    # "the account name defaults to the ID number": he signs in with it
    found, kind = services.find_login_user(ELDER.id_number)
    assert (found, kind) == (user, "id_number")


def test_window_registration_with_a_phone_needs_its_sms_code(clerk: User) -> None:
    result = _window(clerk, WANG, phone=WANG.phone)
    assert result.user.phone == WANG.phone
    with pytest.raises(ValidationError) as raised:
        _window(clerk, LI_NA, phone=LI_NA.phone, code="")
    assert raised.value.code == "identity.code_invalid"


@pytest.mark.parametrize("role", [None, Role.REVIEWER])
def test_only_clerks_register_at_the_window_and_denial_changes_nothing(role: Any) -> None:
    from zwfw.identity.tests.conftest import staff_user

    actor = staff_user("someone", role) if role else person(WANG, username="wang")
    users, audits = User.objects.count(), AuditRecord.objects.count()
    with pytest.raises(PermissionDenied) as raised:
        _window(actor)
    assert raised.value.code == "identity.clerk_required"
    assert (User.objects.count(), AuditRecord.objects.count()) == (users, audits)


def test_window_checks_name_against_the_registry(clerk: User) -> None:
    with pytest.raises(ValidationError) as raised:
        _window(clerk, name="刘德")
    assert raised.value.code == "identity.identity_mismatch"
    assert not User.objects.filter(kind="person").exists()


def test_window_verification_raises_an_online_account_to_l4(clerk: User) -> None:
    user = _online()
    raised = services.verify_person_at_window(clerk, id_number=LI_NA.id_number, name=LI_NA.name)
    assert (raised.pk, raised.trust_level, raised.trust_source) == (user.pk, "L4", "window")
    record = AuditRecord.objects.get(action="identity:trust_raise")
    assert (record.before["trust_level"], record.after["trust_level"]) == ("L3", "L4")
