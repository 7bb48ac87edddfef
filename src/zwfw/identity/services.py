"""Accounts: registration (online, at the window, linked), companies and agents, the real-name
agreement, trust levels, sign-in with lockout, sessions, TOTP, staff accounts.

Every write is a function here: validated first, then atomic, audited in the same transaction
(``identity:…`` actions), side effects (SMS) queued on commit. Audit records never hold a
password, a code, a full ID number or a full phone number. Failures that must be remembered
(wrong passwords, wrong codes, failed registry checks) are written in their own short
transaction before the error is raised, so call the sign-in and registration functions
outside any transaction of your own.

"Account name defaults to the ID number" (SPEC §6, window registration) means: a person signs
in with the ID number (looked up through its blind index). ``User.username`` stays an opaque
handle, so the ID number is nowhere in clear (decision 0012).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.contrib.auth import update_session_auth_hash
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from zwfw.core import audit, codes, context
from zwfw.core.crypto import sm3_hex
from zwfw.core.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationError
from zwfw.core.masking import mask_id_number, mask_name, mask_phone
from zwfw.core.validators import ResidentId, validate_mobile, validate_resident_id, validate_uscc
from zwfw.identity import factors, otp, throttle
from zwfw.identity.models import (
    AgentAuthorisation,
    AgreementAcceptance,
    AgreementVersion,
    Company,
    TotpDevice,
    TrustLevel,
    User,
    UserSession,
    new_handle,
    trust_at_least,
)
from zwfw.identity.passwords import check_password_rules
from zwfw.organisations.models import Department, Role

BACKEND = "zwfw.identity.backends.AccountBackend"
SESSION_ACTING = "zwfw_acting_for"  # read by zwfw.sso for the agent-context claim
SESSION_TRACKED = "zwfw_session"
SESSION_PENDING = "zwfw_pending_login"
SESSION_MUST_CHANGE = "zwfw_must_change_password"
SESSION_AGREEMENT = "zwfw_agreement_pending"
PENDING_LIFETIME = dt.timedelta(minutes=5)
LOCK_MINUTES = 15  # = throttle.LOGIN_ACCOUNT.lock_for
MAX_AGENT_YEARS = 5
MAX_SCOPE_ITEMS = 200
NAME_MAX = 64
_NAME = re.compile(r"^[\u3400-\u9fffA-Za-z·•.\- ]{1,64}$")
_ITEM_CODE = re.compile(r"^[0-9A-Za-z._\-]{1,64}$")
_STAFF_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{2,31}$")
ID_TYPE_RESIDENT = codes.IdentityDocumentType("111")


# --- small helpers -------------------------------------------------------------------------


def _ip() -> str:
    return context.current().ip


def actor_ref(user: Any) -> str:
    return f"user:{user.pk}"


def masked_person(user: User) -> dict[str, Any]:
    """What the audit log may say about a person: masked identifiers only."""
    return {
        "kind": user.kind,
        "real_name": mask_name(user.real_name),
        "id_number": mask_id_number(user.id_number),
        "phone": mask_phone(user.phone),
        "trust_level": user.trust_level,
    }


def _audit_apart(
    action: str, object_id: Any = "", *, actor: str | None = None, **after: Any
) -> None:
    """Audit a refused attempt in its own transaction, so it survives the error raised next."""
    with transaction.atomic():
        audit.record(action, "identity.user", object_id or "", after=after or None, actor=actor)


def clean_name(value: str, field: str = "name") -> str:
    """A person's name: 1–64 Chinese characters or letters (· for minority names)."""
    name = " ".join(value.split()) if isinstance(value, str) else ""
    if not name:
        raise ValidationError(
            "identity.name_empty", "请填写姓名。", "Name is required.", field=field
        )
    if not _NAME.match(name):
        raise ValidationError(
            "identity.name_format",
            "姓名只能包含汉字、字母和间隔号“·”，不超过64个字符。",
            "A name has Chinese characters or letters (and ·), at most 64.",
            field=field,
        )
    return name


def _id_index(id_number: str) -> str:
    return User._meta.get_field("id_number_index").index_of(id_number)


def user_by_id_number(id_number: str) -> User | None:
    return User.objects.filter(
        id_type=ID_TYPE_RESIDENT, id_number_index=_id_index(id_number)
    ).first()


def user_by_phone(phone: str) -> User | None:
    return User.objects.filter(phone_index=otp.phone_index(phone)).first()


def _ensure_unused(id_number: str, phone: str) -> None:
    if user_by_id_number(id_number) is not None:
        raise Conflict(
            "identity.already_registered",
            "该证件号码已注册账户，请直接登录；忘记密码可通过手机验证码找回。",
            "An account with this ID number exists; sign in instead.",
            field="id_number",
        )
    if phone and user_by_phone(phone) is not None:
        raise Conflict(
            "identity.phone_taken",
            "该手机号码已绑定其他账户，请更换手机号码。",
            "This phone number belongs to another account.",
            field="phone",
        )


def _check_factor_values(given: Mapping[str, str] | None) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in (given or {}).items():
        if name not in factors.PERSON_FACTORS or name == "phone":
            raise ValidationError(
                "identity.factor_unknown",
                f"不支持的核验要素：{str(name)[:40]}。",
                "Unknown verification factor.",
                field="factors",
                details={"allowed": [f for f in factors.PERSON_FACTORS if f != "phone"]},
            )
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            continue
        if len(text) > 64:
            raise ValidationError(
                "identity.factor_format",
                f"{factors.PERSON_FACTORS[name]}过长。",
                "A factor value is too long.",
                field=f"factors.{name}",
            )
        checked[name] = text
    return checked


def current_agreement() -> AgreementVersion:
    """The newest published agreement version. Raises ``NotFound("identity.no_agreement")``."""
    version = (
        AgreementVersion.objects.filter(published_at__lte=timezone.now())
        .order_by("-version")
        .first()
    )
    if version is None:
        raise NotFound(
            "identity.no_agreement", "实名注册协议尚未发布。", "No agreement is published."
        )
    return version


def _check_agreement_version(version: int | None) -> AgreementVersion:
    current = current_agreement()
    if version != current.version:
        raise ValidationError(
            "identity.agreement_required",
            f"请阅读并同意最新的《{current.title}》（第{current.version}版）。",
            "Accept the current version of the real-name agreement.",
            field="agreement_version",
            details={"current_version": current.version},
        )
    return current


def _record_acceptance(
    user: User, version: AgreementVersion, *, channel: str, recorded_by: User | None = None
) -> AgreementAcceptance:
    acceptance, created = AgreementAcceptance.objects.get_or_create(
        user=user,
        version=version,
        defaults={
            "accepted_at": timezone.now(),
            "ip": _ip(),
            "channel": channel,
            "recorded_by": recorded_by,
        },
    )
    if created:
        audit.record(
            "identity:agreement_accept",
            "identity.user",
            user.pk,
            after={"version": version.version, "channel": channel},
            actor=actor_ref(recorded_by or user),
        )
    return acceptance


def _random_password() -> str:
    """A first password a clerk hands over: 12 characters, letters and digits, rules met."""
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(12))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


def _register_throttle() -> None:
    key = throttle.key_of(_ip() or "-")
    throttle.refuse(
        throttle.REGISTER_IP,
        key,
        "注册尝试过于频繁，请{minutes}分钟后再试。",
        "Too many registration attempts; try again later.",
        "identity.register_rate_limited",
    )
    throttle.hit(throttle.REGISTER_IP, key)


def _new_person(
    resident: ResidentId, name: str, phone: str, *, level: str, source: str, **extra: Any
) -> User:
    now = timezone.now()
    return User(
        username=new_handle(),
        kind=User.Kind.PERSON,
        real_name=name,
        id_type=ID_TYPE_RESIDENT,
        id_number=resident.number,
        phone=phone,
        sex=resident.sex,
        birth_date=resident.birth_date,
        trust_level=level,
        trust_source=source,
        trust_updated_at=now,
        **extra,
    )


def _save_new(user: User) -> None:
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Lost a race with another registration of the same ID number or phone.
        raise Conflict(
            "identity.already_registered",
            "该证件号码或手机号码已注册。",
            "This ID number or phone number is already registered.",
        ) from None


# --- natural persons -----------------------------------------------------------------------


def register_person_online(
    *,
    id_number: str,
    name: str,
    phone: str,
    code: str,
    factors_given: Mapping[str, str] | None,
    password: str,
    agreement_version: int | None,
) -> User:
    """Register a natural person online (trust level L3).

    The ID number is checked (GB 11643 check digit, birth date, division), the phone proves
    itself with an SMS code (purpose ``register``) and counts as one factor; at least one more
    factor (社保卡号, 银行卡号, 公积金账号, 驾驶证档案编号) is given; all are checked against the
    population registry (核验). Records acceptance of the current agreement.

    Raises ``ValidationError`` (``id_number.*``, ``identity.name_*``, ``mobile.*``,
    ``identity.factors_too_few``, ``identity.factor_*``, ``identity.password_*``,
    ``identity.agreement_required``, ``identity.code_*``, ``identity.factor_mismatch``),
    ``Conflict`` (``identity.already_registered``, ``identity.phone_taken``) and
    ``TooManyRequests`` (``identity.register_rate_limited``). Nothing is created when it raises;
    the SMS code is used up once checked.
    """
    resident = validate_resident_id(id_number, "id_number")
    name = clean_name(name)
    number = validate_mobile(phone, "phone")
    extra = _check_factor_values(factors_given)
    if len(extra) + 1 < factors.MIN_FACTORS:
        raise ValidationError(
            "identity.factors_too_few",
            "除手机号码外，请至少再填写一项核验要素（社会保障卡号、银行卡号、住房公积金账号或驾驶证档案编号）。",
            "Give at least one more factor besides the phone number.",
            field="factors",
        )
    version = _check_agreement_version(agreement_version)
    check_password_rules(password, User(id_number=resident.number, phone=number))
    _register_throttle()
    otp.consume_code("register", number, code)
    _ensure_unused(resident.number, number)
    result = factors.check_person(resident.number, name, {"phone": number, **extra})
    if not result.confirmed:
        _audit_apart(
            "identity:register_failure",
            reason="factor_mismatch",
            via="online",
            id_number=mask_id_number(resident.number),
        )
        raise ValidationError(
            "identity.factor_mismatch",
            "身份信息核验未通过：证件号码、姓名与所填要素不一致，或基础库中没有可核验的记录。",
            "The registry could not confirm these details.",
        )
    user = _new_person(resident, name, number, level=TrustLevel.REGISTRY_MATCHED, source="online")
    user.set_password(password)
    user.password_changed_at = timezone.now()
    with transaction.atomic():
        _save_new(user)
        _record_acceptance(user, version, channel="online")
        audit.record(
            "identity:register",
            "identity.user",
            user.pk,
            after={**masked_person(user), "via": "online", "factors": sorted(result.matched)},
            actor=actor_ref(user),
        )
    return user


def is_clerk(user: Any) -> bool:
    from zwfw.organisations.selectors import has_role

    return has_role(user, Role.CLERK)


def _require_clerk(clerk: Any) -> None:
    if not is_clerk(clerk):
        raise PermissionDenied(
            "identity.clerk_required",
            "只有窗口人员可以办理窗口注册和现场核验。",
            "Only window clerks may do this.",
        )


@dataclass(frozen=True)
class WindowRegistration:
    user: User
    initial_password: str  # shown once to the clerk, never stored in clear


def register_person_at_window(
    clerk: Any,
    *,
    id_number: str,
    name: str,
    phone: str,
    code: str,
    ethnicity: str = "",
    agreement_version: int | None,
) -> WindowRegistration:
    """Register a person at a service-hall window (trust level L4: in person, real card).

    The clerk reads the ID card (number, name) and the person confirms the SMS code sent to
    the phone (purpose ``window``); someone without a mobile phone (J7) is registered without
    one, and can then reset a password only at a window. Name and number are checked against
    the population registry. The person signs in with the ID number and a random first
    password that must be changed at first sign-in. The agreement acceptance is recorded as
    given at the window.

    Raises ``PermissionDenied`` (``identity.clerk_required``), ``ValidationError`` (as
    :func:`register_person_online`, ``identity.identity_mismatch``) and ``Conflict``.
    """
    _require_clerk(clerk)
    resident = validate_resident_id(id_number, "id_number")
    name = clean_name(name)
    number = validate_mobile(phone, "phone") if phone else ""
    if ethnicity and ethnicity not in codes.Ethnicity.values:
        raise ValidationError(
            "identity.ethnicity", "民族代码无效。", "Unknown ethnicity code.", field="ethnicity"
        )
    version = _check_agreement_version(agreement_version)
    if number:
        otp.consume_code("window", number, code)
    _ensure_unused(resident.number, number)
    if not factors.check_identity(resident.number, name):
        _audit_apart(
            "identity:register_failure",
            reason="identity_mismatch",
            via="window",
            id_number=mask_id_number(resident.number),
        )
        raise ValidationError(
            "identity.identity_mismatch",
            "证件号码与姓名在人口库中核验不一致，请核对身份证件。",
            "The population registry does not confirm this name and ID number.",
        )
    password = _random_password()
    user = _new_person(
        resident,
        name,
        number,
        level=TrustLevel.IN_PERSON,
        source="window",
        ethnicity=ethnicity,
        must_change_password=True,
    )
    user.set_password(password)
    with transaction.atomic():
        _save_new(user)
        _record_acceptance(user, version, channel="window", recorded_by=clerk)
        audit.record(
            "identity:register",
            "identity.user",
            user.pk,
            after={**masked_person(user), "via": "window"},
            actor=actor_ref(clerk),
        )
    return WindowRegistration(user, password)


def verify_person_at_window(clerk: Any, *, id_number: str, name: str) -> User:
    """A clerk checks an existing account holder's ID card in person: trust becomes L4.

    Raises ``PermissionDenied`` (``identity.clerk_required``), ``ValidationError``
    (``id_number.*``, ``identity.identity_mismatch``) and ``NotFound``
    (``identity.user_unknown``).
    """
    _require_clerk(clerk)
    resident = validate_resident_id(id_number, "id_number")
    name = clean_name(name)
    user = user_by_id_number(resident.number)
    if user is None:
        raise NotFound(
            "identity.user_unknown", "该证件号码尚未注册账户。", "No account has this ID number."
        )
    if user.real_name != name or not factors.check_identity(resident.number, name):
        raise ValidationError(
            "identity.identity_mismatch",
            "证件号码与姓名核验不一致，请核对身份证件。",
            "Name and ID number do not match.",
        )
    return raise_trust_level(user, TrustLevel.IN_PERSON, source="window", actor=clerk)


# --- linked registration (OIDC federation) ----------------------------------------------------


@dataclass(frozen=True)
class LinkedClaims:
    """What a trusted external provider said about the person (read from ``zwfw.sso``)."""

    provider_name: str
    issuer: str
    subject: str
    name: str
    id_number: str  # "" when the provider does not state it: the person types it
    phone: str
    trust_level: str  # what this node accepts from that provider (capped there)

    def masked(self) -> dict[str, str]:
        return {
            "provider_name": self.provider_name,
            "issuer": self.issuer,
            "name": mask_name(self.name),
            "id_number": mask_id_number(self.id_number),
            "phone": mask_phone(self.phone),
            "trust_level": self.trust_level,
        }


def _pending_claims(request: HttpRequest) -> dict[str, Any] | None:
    try:
        from zwfw.sso.services import pending_federated_claims
    except ImportError:  # federation not installed on this node
        return None
    return pending_federated_claims(request)


def has_pending_link(request: HttpRequest) -> bool:
    """Whether this session holds a trusted platform's sign-in waiting for an account."""
    return bool(_pending_claims(request))


def start_linked_registration(request: HttpRequest) -> LinkedClaims:
    """The pending claims of a federated sign-in that has no local account yet.

    Raises ``NotFound`` (``identity.no_pending_link``) when there is none, and
    ``ValidationError`` (``identity.link_claims``) when the provider did not state a name.
    """
    pending = _pending_claims(request)
    if not pending:
        raise NotFound(
            "identity.no_pending_link",
            "没有待关联的外部账户，请先通过可信平台登录。",
            "No pending federated sign-in.",
        )
    raw_claims = pending.get("claims")
    claims: dict[str, Any] = raw_claims if isinstance(raw_claims, dict) else {}
    try:
        name = clean_name(str(claims.get("name") or ""))
    except ValidationError:
        raise ValidationError(
            "identity.link_claims",
            "外部平台未提供有效的姓名，无法关联注册。",
            "The provider did not state a valid name.",
        ) from None
    id_number = str(claims.get("zwfw_id_number") or claims.get("id_number") or "")
    phone = str(claims.get("phone_number") or "")
    try:
        phone = validate_mobile(phone, "phone") if phone else ""
    except ValidationError:
        phone = ""
    level = str(pending.get("trust_level") or TrustLevel.SELF_DECLARED)
    if level not in TrustLevel.values or not trust_at_least(level, TrustLevel.SELF_DECLARED):
        level = TrustLevel.SELF_DECLARED
    return LinkedClaims(
        provider_name=str(pending.get("provider_name") or ""),
        issuer=str(pending.get("issuer") or ""),
        subject=str(pending.get("subject") or ""),
        name=name,
        id_number=id_number,
        phone=phone,
        trust_level=level,
    )


def complete_linked_registration(
    request: HttpRequest,
    *,
    id_number: str,
    phone: str,
    code: str,
    password: str,
    agreement_version: int | None,
) -> User:
    """Create the local account of a person who signed in at a trusted provider, and bind it.

    The name comes from the provider; the ID number too when it states one (else the person
    types it); name and number are checked against the population registry; the person
    confirms a phone with an SMS code (purpose ``link``) and sets a password. The trust level
    is what this node accepts from that provider (at least L2). Binding is done by
    ``zwfw.sso.services.link_federated_identity``. Raises as
    :func:`start_linked_registration`, ``ValidationError`` (``id_number.*``, ``mobile.*``,
    ``identity.code_*``, ``identity.password_*``, ``identity.agreement_required``,
    ``identity.identity_mismatch``) and ``Conflict`` (``identity.already_registered``: sign
    in to that account and bind it from there instead).
    """
    claims = start_linked_registration(request)
    resident = validate_resident_id(claims.id_number or id_number, "id_number")
    number = validate_mobile(phone, "phone")
    version = _check_agreement_version(agreement_version)
    check_password_rules(password, User(id_number=resident.number, phone=number))
    _register_throttle()
    otp.consume_code("link", number, code)
    _ensure_unused(resident.number, number)
    if not factors.check_identity(resident.number, claims.name):
        _audit_apart(
            "identity:register_failure",
            reason="identity_mismatch",
            via="linked",
            id_number=mask_id_number(resident.number),
        )
        raise ValidationError(
            "identity.identity_mismatch",
            "证件号码与外部平台提供的姓名在人口库中核验不一致。",
            "The registry does not confirm this ID number with the provider's name.",
            field="id_number",
        )
    from zwfw.sso.services import link_federated_identity

    user = _new_person(resident, claims.name, number, level=claims.trust_level, source="linked")
    user.set_password(password)
    user.password_changed_at = timezone.now()
    with transaction.atomic():
        _save_new(user)
        _record_acceptance(user, version, channel="online")
        link_federated_identity(user, request)
        audit.record(
            "identity:register",
            "identity.user",
            user.pk,
            after={**masked_person(user), "via": "linked", "issuer": claims.issuer},
            actor=actor_ref(user),
        )
    return user


# --- trust levels ------------------------------------------------------------------------------


def raise_trust_level(user: User, level: str, *, source: str, actor: Any = None) -> User:
    """Raise a user's trust level (never lowers it); audited ``identity:trust_raise``.

    ``actor`` None means the platform itself (e.g. a certificate sign-in for L5); a person
    actor must be a window clerk. Raises ``PermissionDenied`` (``identity.clerk_required``)
    and ``ValidationError`` (``identity.trust_level``).
    """
    if level not in TrustLevel.values or level == TrustLevel.NONE:
        raise ValidationError(
            "identity.trust_level", "信任等级应为 L2–L5。", "Level must be L2–L5.", field="level"
        )
    if actor is not None:
        _require_clerk(actor)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if trust_at_least(locked.trust_level, level):
            return locked
        before = {"trust_level": locked.trust_level, "trust_source": locked.trust_source}
        locked.trust_level, locked.trust_source = level, source[:32]
        locked.trust_updated_at = timezone.now()
        locked.save(update_fields=["trust_level", "trust_source", "trust_updated_at"])
        audit.record(
            "identity:trust_raise",
            "identity.user",
            locked.pk,
            before=before,
            after={"trust_level": level, "trust_source": locked.trust_source},
            actor=actor_ref(actor) if actor is not None else None,
        )
    return locked


def require_trust(user: Any, minimum: str) -> None:
    """Raise ``PermissionDenied("identity.trust_level")`` unless ``user`` reaches ``minimum``."""
    level = getattr(user, "trust_level", TrustLevel.NONE) if user is not None else TrustLevel.NONE
    if not getattr(user, "is_authenticated", False) or not trust_at_least(level, minimum):
        raise PermissionDenied(
            "identity.trust_level",
            f"办理该事项需要实名信任等级{minimum}及以上，您当前为{level}。"
            "可到政务服务大厅窗口现场核验提升等级。",
            f"This needs trust level {minimum} or higher (yours: {level}).",
            details={"required": minimum, "current": level},
        )


def require_trust_for_item(user: Any, item: Any) -> None:
    """Apply an item's ``min_trust_level`` (its current published version) to ``user``."""
    version = getattr(item, "current_version", None)
    content = getattr(version, "content", None) or {}
    require_trust(user, str(content.get("min_trust_level") or TrustLevel.SELF_DECLARED))


# --- the agreement -------------------------------------------------------------------------------


def needs_agreement(user: Any) -> bool:
    """Whether a person must (re-)accept the current agreement before going on."""
    if getattr(user, "kind", None) != User.Kind.PERSON:
        return False
    version = AgreementVersion.objects.order_by("-version").only("pk").first()
    if version is None:
        return False
    return not AgreementAcceptance.objects.filter(user=user, version=version).exists()


def accept_agreement(user: User, version: int | None) -> AgreementAcceptance:
    """Record that ``user`` accepted the current agreement version (idempotent).

    Raises ``ValidationError`` (``identity.agreement_required``) for any other version.
    """
    current = _check_agreement_version(version)
    with transaction.atomic():
        return _record_acceptance(user, current, channel="online")


def publish_agreement(*, title: str, text: str, actor: Any = None) -> AgreementVersion:
    """Publish the next agreement version; every person is asked again at next sign-in."""
    if not title.strip() or not text.strip():
        raise ValidationError(
            "identity.agreement_text", "协议标题和正文不能为空。", "Title and text are required."
        )
    with transaction.atomic():
        last = AgreementVersion.objects.select_for_update().order_by("-version").first()
        version = AgreementVersion.objects.create(
            version=(last.version + 1) if last else 1,
            title=title.strip()[:200],
            text=text,
            published_at=timezone.now(),
        )
        audit.record(
            "identity:agreement:publish",
            "identity.agreement_version",
            version.pk,
            after={"version": version.version, "title": version.title},
        )
    return version


# --- sign-in -------------------------------------------------------------------------------------


def find_login_user(identifier: str) -> tuple[User | None, str]:
    """The account an identifier names (ID number, phone or login handle) and which kind."""
    text = identifier.strip() if isinstance(identifier, str) else ""
    if not text or len(text) > 150:
        return None, "invalid"
    if len(text) == 18 and text[:17].isdigit():
        return user_by_id_number(text.upper()), "id_number"
    if len(text) == 11 and text.isdigit():
        return user_by_phone(text), "phone"
    return User.objects.filter(username=text).first(), "username"


def _account_key(user: User | None, fallback: str) -> str:
    # Unknown identifiers are locked exactly like accounts, so locking reveals nothing.
    return throttle.key_of(f"user:{user.pk}" if user is not None else f"name:{fallback}")


def _refuse_locked(account_key: str) -> None:
    throttle.refuse(
        throttle.LOGIN_IP,
        throttle.key_of(_ip() or "-"),
        "登录失败次数过多，请{minutes}分钟后再试。",
        "Too many failed sign-ins from this address; try again later.",
        "identity.ip_locked",
    )
    throttle.refuse(
        throttle.LOGIN_ACCOUNT,
        account_key,
        "账户因连续登录失败已临时锁定，请{minutes}分钟后再试，或通过手机验证码找回密码。",
        "The account is locked after repeated failures; try again later.",
        "identity.account_locked",
    )


def _login_failed(user: User | None, account_key: str, method: str, kind: str) -> NotAuthenticated:
    locked = throttle.hit(throttle.LOGIN_ACCOUNT, account_key)
    throttle.hit(throttle.LOGIN_IP, throttle.key_of(_ip() or "-"))
    with transaction.atomic():
        audit.record(
            "identity:login_failure",
            "identity.user",
            user.pk if user else "",
            after={"method": method, "identifier_kind": kind, "known": user is not None},
            actor="anonymous",
        )
        if locked:
            audit.record(
                "identity:lockout",
                "identity.user",
                user.pk if user else "",
                after={"minutes": LOCK_MINUTES, "known": user is not None},
                actor="anonymous",
            )
    messages = {
        "password": ("账户或密码错误。", "Wrong account or password."),
        "sms": ("手机号码或验证码错误。", "Wrong phone number or code."),
        "totp": ("动态口令错误。", "Wrong one-time password."),
    }
    zh, en = messages[method]
    return NotAuthenticated("identity.login_failed", zh, en)


@dataclass(frozen=True)
class LoginResult:
    """``status`` is ``ok`` (signed in) or ``second_factor`` (a TOTP code is needed next)."""

    status: str
    user: User
    must_change_password: bool = False
    agreement_required: bool = False


def _has_totp(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def _start(request: HttpRequest, user: User, method: str) -> LoginResult:
    if _has_totp(user):
        request.session[SESSION_PENDING] = {
            "user": user.pk,
            "method": method,
            "until": (timezone.now() + PENDING_LIFETIME).timestamp(),
        }
        return LoginResult("second_factor", user)
    return _finish(request, user, method)


def _finish(request: HttpRequest, user: User, method: str) -> LoginResult:
    request.session.pop(SESSION_PENDING, None)
    request._zwfw_login_method = method  # type: ignore[attr-defined]  # read by track_session
    django_login(request, user, backend=BACKEND)
    must_change = bool(user.must_change_password)
    agreement = needs_agreement(user)
    if must_change:
        request.session[SESSION_MUST_CHANGE] = True
    if agreement:
        request.session[SESSION_AGREEMENT] = True
    with transaction.atomic():
        audit.record(
            "identity:login_success",
            "identity.user",
            user.pk,
            after={"method": method},
            actor=actor_ref(user),
        )
    return LoginResult("ok", user, must_change, agreement)


def login_registered(request: HttpRequest, user: User, method: str) -> LoginResult:
    """Sign a person in right after registering (no second factor exists yet)."""
    return _finish(request, user, method)


def login_with_password(request: HttpRequest, identifier: str, password: str) -> LoginResult:
    """Sign in with ID number, phone or login handle and password.

    After 5 failures in 15 minutes the account (or the unknown identifier) is locked for 15
    minutes; 30 failures from one address lock that address. With a confirmed TOTP device the
    result is ``second_factor`` and :func:`login_second_factor` completes it. Raises
    ``NotAuthenticated`` (``identity.login_failed``: never says whether the account exists)
    and ``TooManyRequests`` (``identity.account_locked``, ``identity.ip_locked``).
    """
    user, kind = find_login_user(identifier)
    account_key = _account_key(user, sm3_hex(str(identifier).strip().upper().encode()))
    _refuse_locked(account_key)
    password = password if isinstance(password, str) else ""
    if user is None:
        User().set_password(password)  # same work as a real check: no timing difference
        valid = False
    else:
        valid = user.is_active and user.check_password(password)
    if not valid:
        raise _login_failed(user, account_key, "password", kind)
    assert user is not None
    throttle.clear(throttle.LOGIN_ACCOUNT, account_key)
    return _start(request, user, "password")


def send_login_code(phone: str) -> otp.SentCode:
    """Send a sign-in code; a phone without an account is answered the same (nothing sent)."""
    number = validate_mobile(phone, "phone")
    user = user_by_phone(number)
    return otp.send_code("login", number, _ip(), deliver=bool(user and user.is_active))


def login_with_sms(request: HttpRequest, phone: str, code: str) -> LoginResult:
    """Sign in with a phone number and the SMS code sent to it (purpose ``login``).

    Raises ``ValidationError`` (``mobile.*``), ``NotAuthenticated`` (``identity.login_failed``)
    and ``TooManyRequests`` as :func:`login_with_password`.
    """
    number = validate_mobile(phone, "phone")
    user = user_by_phone(number)
    account_key = _account_key(user, number)
    _refuse_locked(account_key)
    try:
        otp.consume_code("login", number, code)
    except ValidationError:
        raise _login_failed(user, account_key, "sms", "phone") from None
    if user is None or not user.is_active:
        raise _login_failed(user, account_key, "sms", "phone")
    throttle.clear(throttle.LOGIN_ACCOUNT, account_key)
    return _start(request, user, "sms")


def login_second_factor(request: HttpRequest, code: str) -> LoginResult:
    """Complete a sign-in with the TOTP code of the pending user.

    Raises ``NotAuthenticated`` (``identity.no_pending_login``, ``identity.login_failed``)
    and ``TooManyRequests`` (failures count towards the account's lockout).
    """
    pending = request.session.get(SESSION_PENDING)
    if not isinstance(pending, dict) or pending.get("until", 0) < timezone.now().timestamp():
        request.session.pop(SESSION_PENDING, None)
        raise NotAuthenticated(
            "identity.no_pending_login",
            "登录已超时，请重新输入账户和密码。",
            "No sign-in is waiting for a second factor; start again.",
        )
    user_id = pending.get("user")
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if user is None or device is None:
        request.session.pop(SESSION_PENDING, None)
        raise NotAuthenticated(
            "identity.no_pending_login", "登录已失效，请重新登录。", "Start the sign-in again."
        )
    account_key = _account_key(user, "")
    _refuse_locked(account_key)
    if not otp.totp_check(device, code if isinstance(code, str) else ""):
        raise _login_failed(user, account_key, "totp", "pending")
    throttle.clear(throttle.LOGIN_ACCOUNT, account_key)
    return _finish(request, user, f"{pending.get('method', 'password')}+totp")


def logout(request: HttpRequest) -> None:
    """End the current session (and its tracking row); audited ``identity:logout``."""
    user = getattr(request, "user", None)
    session_id = request.session.get(SESSION_TRACKED)
    if user is not None and user.is_authenticated:
        with transaction.atomic():
            if session_id:
                UserSession.objects.filter(pk=session_id, ended_at__isnull=True).update(
                    ended_at=timezone.now(), end_reason="logout"
                )
            audit.record("identity:logout", "identity.user", user.pk, actor=actor_ref(user))
    django_logout(request)


# --- sessions ------------------------------------------------------------------------------------


def track_session(request: HttpRequest, user: Any) -> UserSession:
    """Start tracking the session a sign-in just created (called on ``user_logged_in``)."""
    now = timezone.now()
    key = request.session.session_key or ""
    row = UserSession.objects.create(
        user=user,
        session_key_hash=sm3_hex(key.encode()) if key else "",
        method=str(getattr(request, "_zwfw_login_method", "") or "django")[:16],
        ip=request.META.get("REMOTE_ADDR", "")[:45],
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
        created_at=now,
        last_seen_at=now,
    )
    request.session[SESSION_TRACKED] = row.pk
    return row


def end_session(user: User, session_id: int) -> UserSession:
    """Sign one of ``user``'s own sessions out remotely (it is refused at its next request).

    Raises ``NotFound`` (``identity.session_unknown``) for a session that is not the user's
    or has already ended.
    """
    with transaction.atomic():
        row = (
            UserSession.objects.select_for_update()
            .filter(pk=session_id, user=user, ended_at__isnull=True)
            .first()
        )
        if row is None:
            raise NotFound(
                "identity.session_unknown", "该登录会话不存在或已结束。", "No such active session."
            )
        row.ended_at, row.end_reason = timezone.now(), "remote"
        row.save(update_fields=["ended_at", "end_reason"])
        audit.record(
            "identity:session_revoke",
            "identity.user_session",
            row.pk,
            after={"user": user.pk, "ip": row.ip},
            actor=actor_ref(user),
        )
    return row


def _end_sessions(user: User, *, keep: int | None, reason: str) -> int:
    sessions = UserSession.objects.filter(user=user, ended_at__isnull=True)
    if keep is not None:
        sessions = sessions.exclude(pk=keep)
    return sessions.update(ended_at=timezone.now(), end_reason=reason)


# --- passwords -----------------------------------------------------------------------------------


def change_password(request: HttpRequest, old_password: str, new_password: str) -> User:
    """Change the signed-in user's password; other sessions are signed out.

    A wrong old password counts towards the lockout. Raises ``NotAuthenticated``
    (``identity.login_failed``), ``TooManyRequests`` and ``ValidationError``
    (``identity.password_*``, ``identity.password_same``).
    """
    user = request.user
    assert isinstance(user, User)
    account_key = _account_key(user, "")
    _refuse_locked(account_key)
    if not user.check_password(old_password if isinstance(old_password, str) else ""):
        raise _login_failed(user, account_key, "password", "password_change")
    check_password_rules(new_password, user, field="new_password")
    if old_password == new_password:
        raise ValidationError(
            "identity.password_same",
            "新密码不能与原密码相同。",
            "The new password must differ from the old one.",
            field="new_password",
        )
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.password_changed_at = timezone.now()
        user.save(update_fields=["password", "must_change_password", "password_changed_at"])
        ended = _end_sessions(user, keep=request.session.get(SESSION_TRACKED), reason="password")
        audit.record(
            "identity:password_change",
            "identity.user",
            user.pk,
            after={"other_sessions_ended": ended},
            actor=actor_ref(user),
        )
    update_session_auth_hash(request, user)
    request.session.pop(SESSION_MUST_CHANGE, None)
    return user


def send_reset_code(phone: str) -> otp.SentCode:
    """Send a password-reset code; unknown phones get the same answer (nothing is sent)."""
    number = validate_mobile(phone, "phone")
    user = user_by_phone(number)
    return otp.send_code("reset", number, _ip(), deliver=bool(user and user.is_active))


def reset_password(phone: str, code: str, new_password: str) -> User:
    """Set a new password with the SMS code sent to the account's verified phone.

    Ends every session and lifts a lockout. Raises ``ValidationError`` (``mobile.*``,
    ``identity.code_*``, ``identity.password_*``).
    """
    number = validate_mobile(phone, "phone")
    user = user_by_phone(number)
    check_password_rules(new_password, user, field="new_password")
    otp.consume_code("reset", number, code)
    if user is None or not user.is_active:  # cannot happen: no code is stored for them
        raise ValidationError(
            "identity.code_invalid", "验证码不正确。", "Wrong code.", field="code"
        )
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.password_changed_at = timezone.now()
        user.save(update_fields=["password", "must_change_password", "password_changed_at"])
        ended = _end_sessions(user, keep=None, reason="password")
        audit.record(
            "identity:password_reset",
            "identity.user",
            user.pk,
            after={"sessions_ended": ended, "phone": mask_phone(number)},
            actor=actor_ref(user),
        )
    throttle.clear(throttle.LOGIN_ACCOUNT, _account_key(user, ""))
    return user


# --- TOTP ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    uri: str


def enrol_totp(user: User) -> TotpEnrolment:
    """Start TOTP enrolment: a new secret (shown once, as text and otpauth:// URI).

    Raises ``Conflict`` (``identity.totp_exists``) when a confirmed device exists.
    """
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is not None and device.confirmed:
            raise Conflict(
                "identity.totp_exists",
                "已绑定动态口令设备；如需更换，请先解除绑定。",
                "A TOTP device is already confirmed.",
            )
        secret = otp.new_totp_secret()
        if device is None:
            device = TotpDevice(user=user)
        device.secret, device.last_used_step = secret, 0
        device.save()
        audit.record(
            "identity:totp_enrol",
            "identity.user",
            user.pk,
            after={"stage": "started"},
            actor=actor_ref(user),
        )
    return TotpEnrolment(secret, otp.provisioning_uri(secret, user.username))


def confirm_totp(user: User, code: str) -> TotpDevice:
    """Confirm enrolment with a first code from the app; from now on sign-in asks for one.

    Raises ``NotFound`` (``identity.totp_missing``) and ``ValidationError``
    (``identity.totp_invalid``).
    """
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    if device is None:
        raise NotFound(
            "identity.totp_missing", "请先开始绑定动态口令。", "Start TOTP enrolment first."
        )
    if not otp.totp_check(device, code if isinstance(code, str) else ""):
        raise ValidationError(
            "identity.totp_invalid", "动态口令不正确。", "Wrong TOTP code.", field="code"
        )
    with transaction.atomic():
        device.confirmed_at = timezone.now()
        device.save(update_fields=["confirmed_at"])
        audit.record(
            "identity:totp_enrol",
            "identity.user",
            user.pk,
            after={"stage": "confirmed"},
            actor=actor_ref(user),
        )
    return device


def remove_totp(user: User, password: str) -> None:
    """Remove the TOTP device after re-entering the password.

    Raises ``NotAuthenticated`` (``identity.login_failed``, counted) and ``NotFound``.
    """
    account_key = _account_key(user, "")
    _refuse_locked(account_key)
    if not user.check_password(password if isinstance(password, str) else ""):
        raise _login_failed(user, account_key, "password", "totp_remove")
    with transaction.atomic():
        deleted, _ = TotpDevice.objects.filter(user=user).delete()
        if not deleted:
            raise NotFound("identity.totp_missing", "未绑定动态口令。", "No TOTP device.")
        audit.record("identity:totp_remove", "identity.user", user.pk, actor=actor_ref(user))


# --- companies and agents --------------------------------------------------------------------


def _company_check(uscc: str, name: str, representative: User) -> None:
    result = factors.check_company(uscc, name, representative.real_name, representative.id_number)
    if result.confirmed:
        return
    _audit_apart(
        "identity:company_register_failure",
        representative.pk,
        uscc=uscc,
        found=result.found,
        active=result.active,
    )
    if not result.found:
        raise ValidationError(
            "identity.company_unknown",
            "法人库中没有该统一社会信用代码的登记记录。",
            "The legal-entity registry has no such USCC.",
            field="uscc",
        )
    if not result.active:
        raise ValidationError(
            "identity.company_inactive",
            "该单位在法人库中不是存续状态（已注销、吊销或迁出）。",
            "The company is not active in the registry.",
            field="uscc",
        )
    raise ValidationError(
        "identity.company_mismatch",
        "单位名称或法定代表人身份与法人库登记信息不一致。",
        "Company name or legal representative does not match the registry.",
    )


def register_company(representative: User, *, uscc: str, name: str, clerk: Any = None) -> Company:
    """Register a legal person: its USCC, name and legal representative (this person) are
    compared with the legal-entity registry (比对).

    Online (``clerk`` None) the representative signs in with trust level L3 or higher and
    the company gets L3; at a window the clerk has checked the representative in person and
    the company gets L4. Raises ``PermissionDenied`` (``identity.trust_level``,
    ``identity.clerk_required``), ``ValidationError`` (``uscc.*``, ``identity.company_*``)
    and ``Conflict`` (``identity.company_registered``).
    """
    if clerk is not None:
        _require_clerk(clerk)
    if representative.kind != User.Kind.PERSON:
        raise PermissionDenied(
            "identity.person_required",
            "只有自然人账户可以作为法定代表人注册法人。",
            "Only a person account can register a company.",
        )
    require_trust(representative, TrustLevel.REGISTRY_MATCHED)
    code = validate_uscc(uscc, "uscc").code
    company_name = " ".join(name.split()) if isinstance(name, str) else ""
    if not company_name or len(company_name) > 200:
        raise ValidationError(
            "identity.company_name",
            "请填写单位名称（不超过200字）。",
            "Company name required.",
            field="name",
        )
    if Company.objects.filter(uscc=code).exists():
        raise Conflict(
            "identity.company_registered",
            "该统一社会信用代码已注册法人账户。",
            "This company is already registered.",
            field="uscc",
        )
    _company_check(code, company_name, representative)
    at_window = clerk is not None
    with transaction.atomic():
        try:
            with transaction.atomic():
                company = Company.objects.create(
                    uscc=code,
                    name=company_name,
                    legal_representative=representative,
                    trust_level=TrustLevel.IN_PERSON if at_window else TrustLevel.REGISTRY_MATCHED,
                    verified_via=Company.Source.WINDOW if at_window else Company.Source.ONLINE,
                    verified_at=timezone.now(),
                    created_by=clerk if at_window else representative,
                )
        except IntegrityError:
            raise Conflict(
                "identity.company_registered",
                "该统一社会信用代码已注册法人账户。",
                "This company is already registered.",
                field="uscc",
            ) from None
        audit.record(
            "identity:company_register",
            "identity.company",
            company.pk,
            after={
                "uscc": code,
                "name": company_name,
                "legal_representative": representative.pk,
                "via": company.verified_via,
            },
            actor=actor_ref(clerk if at_window else representative),
        )
    return company


def register_company_at_window(
    clerk: Any, *, uscc: str, name: str, representative_id_number: str, representative_name: str
) -> Company:
    """A clerk registers a company whose legal representative is present with the ID card
    (the representative's person account must exist: register it at the window first).

    Raises as :func:`register_company` and ``NotFound`` (``identity.user_unknown``).
    """
    _require_clerk(clerk)
    resident = validate_resident_id(representative_id_number, "representative_id_number")
    representative = user_by_id_number(resident.number)
    if representative is None or representative.real_name != clean_name(representative_name):
        raise NotFound(
            "identity.user_unknown",
            "法定代表人尚未注册个人账户，请先为其办理窗口注册。",
            "The legal representative has no account yet.",
            field="representative_id_number",
        )
    return register_company(representative, uscc=uscc, name=name, clerk=clerk)


def _clean_scope(all_items: bool, item_codes: Iterable[str] | None) -> list[str]:
    from zwfw.catalog.models import Item

    codes_given = sorted({str(c).strip() for c in (item_codes or []) if str(c).strip()})
    if all_items:
        if codes_given:
            raise ValidationError(
                "identity.agent_scope",
                "授权范围为“全部事项”时不能再列出具体事项。",
                "Choose either all items or a list.",
                field="item_codes",
            )
        return []
    if not codes_given:
        raise ValidationError(
            "identity.agent_scope",
            "请选择授权办理的事项，或选择“全部事项”。",
            "List the items, or choose all items.",
            field="item_codes",
        )
    if len(codes_given) > MAX_SCOPE_ITEMS:
        raise ValidationError(
            "identity.agent_scope",
            f"一次最多授权{MAX_SCOPE_ITEMS}个事项。",
            f"At most {MAX_SCOPE_ITEMS} items.",
            field="item_codes",
        )
    malformed = [c[:64] for c in codes_given if not _ITEM_CODE.match(c)]
    known = set(
        Item.objects.filter(implementation_code__in=codes_given).values_list(
            "implementation_code", flat=True
        )
    ) | set(Item.objects.filter(basic_code__in=codes_given).values_list("basic_code", flat=True))
    unknown = [c for c in codes_given if c not in known and c[:64] not in malformed]
    if malformed or unknown:
        raise ValidationError(
            "identity.item_unknown",
            "以下事项编码不存在：" + "、".join((malformed + unknown)[:20]),
            "Unknown item codes.",
            field="item_codes",
            details={"unknown": (malformed + unknown)[:50]},
        )
    return codes_given


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _require_representative(actor: Any, company: Company) -> None:
    if getattr(actor, "pk", None) != company.legal_representative_id:
        raise PermissionDenied(
            "identity.not_legal_representative",
            "只有该单位的法定代表人可以管理经办人授权。",
            "Only the legal representative manages agents.",
        )


def authorise_agent(
    actor: Any,
    company: Company,
    *,
    agent_id_number: str,
    agent_name: str,
    all_items: bool,
    item_codes: Iterable[str] | None,
    valid_from: dt.date,
    valid_until: dt.date,
) -> AgentAuthorisation:
    """The legal representative authorises a person (found by ID number and name) as agent.

    The agent needs trust level L3 or higher; the scope is all items or a list of basic or
    implementation codes of the catalogue; validity from today at the earliest, at most five
    years. Raises ``PermissionDenied`` (``identity.not_legal_representative``), ``NotFound``
    (``identity.agent_unknown``) and ``ValidationError`` (``identity.agent_*``,
    ``identity.item_unknown``).
    """
    _require_representative(actor, company)
    resident = validate_resident_id(agent_id_number, "agent_id_number")
    name = clean_name(agent_name, "agent_name")
    scope = _clean_scope(all_items, item_codes)
    today = timezone.localdate()
    if valid_from < today or valid_until < valid_from:
        raise ValidationError(
            "identity.agent_validity",
            "授权有效期无效：开始日期不能早于今天，结束日期不能早于开始日期。",
            "Validity must start today or later and end after it starts.",
            field="valid_until",
        )
    if valid_until > _add_years(valid_from, MAX_AGENT_YEARS):
        raise ValidationError(
            "identity.agent_validity",
            f"授权有效期最长{MAX_AGENT_YEARS}年。",
            f"At most {MAX_AGENT_YEARS} years.",
            field="valid_until",
        )
    agent = user_by_id_number(resident.number)
    if agent is None or agent.real_name != name or agent.kind != User.Kind.PERSON:
        raise NotFound(
            "identity.agent_unknown",
            "未找到该证件号码和姓名对应的实名用户，请让经办人先注册。",
            "No registered person with this ID number and name.",
            field="agent_id_number",
        )
    if agent.pk == company.legal_representative_id:
        raise ValidationError(
            "identity.agent_self",
            "法定代表人本人无需授权即可办理。",
            "The legal representative needs no authorisation.",
            field="agent_id_number",
        )
    if not trust_at_least(agent.trust_level, TrustLevel.REGISTRY_MATCHED):
        raise ValidationError(
            "identity.agent_trust",
            "经办人的实名信任等级需达到L3及以上。",
            "The agent needs trust level L3 or higher.",
            field="agent_id_number",
        )
    with transaction.atomic():
        authorisation = AgentAuthorisation.objects.create(
            company=company,
            agent=agent,
            all_items=all_items,
            item_codes=scope,
            valid_from=valid_from,
            valid_until=valid_until,
            created_by=actor,
        )
        audit.record(
            "identity:agent_authorise",
            "identity.agent_authorisation",
            authorisation.pk,
            after={
                "company": company.uscc,
                "agent": agent.pk,
                "all_items": all_items,
                "item_codes": scope,
                "valid_from": valid_from,
                "valid_until": valid_until,
            },
            actor=actor_ref(actor),
        )
    return authorisation


def revoke_agent(actor: Any, authorisation: AgentAuthorisation) -> AgentAuthorisation:
    """Revoke an authorisation (by the legal representative, or the agent stepping down).

    Sessions acting under it lose the company at their next request. Raises
    ``PermissionDenied`` (``identity.not_legal_representative``) and ``Conflict``
    (``identity.agent_revoked``).
    """
    with transaction.atomic():
        locked = (
            AgentAuthorisation.objects.select_for_update()
            .select_related("company")
            .get(pk=authorisation.pk)
        )
        if getattr(actor, "pk", None) != locked.agent_id:
            _require_representative(actor, locked.company)
        if locked.revoked_at is not None:
            raise Conflict("identity.agent_revoked", "该授权已撤销。", "Already revoked.")
        locked.revoked_at, locked.revoked_by = timezone.now(), actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(
            "identity:agent_revoke",
            "identity.agent_authorisation",
            locked.pk,
            before={"revoked_at": None},
            after={"revoked_at": locked.revoked_at, "company": locked.company.uscc},
            actor=actor_ref(actor),
        )
    return locked


def active_authorisations(agent: Any, company: Company) -> list[AgentAuthorisation]:
    today = timezone.localdate()
    return list(
        AgentAuthorisation.objects.filter(
            agent_id=getattr(agent, "pk", None),
            company=company,
            revoked_at__isnull=True,
            valid_from__lte=today,
            valid_until__gte=today,
        ).order_by("id")
    )


def agent_may_act(agent: Any, company: Company, item_code: str, basic_code: str = "") -> bool:
    """Whether ``agent`` may act for ``company`` on an item (legal representative: always).

    ``item_code`` is an implementation or basic code; pass the item's ``basic_code`` too so
    that an authorisation listing basic codes covers its implementations.
    """
    if getattr(agent, "pk", None) is None:
        return False
    if agent.pk == company.legal_representative_id:
        return True
    if not basic_code:
        from zwfw.catalog.models import Item

        basic_code = (
            Item.objects.filter(implementation_code=item_code)
            .values_list("basic_code", flat=True)
            .first()
            or ""
        )
    return any(a.covers(item_code, basic_code) for a in active_authorisations(agent, company))


def acting_context(company: Company, authorisation: AgentAuthorisation | None) -> dict[str, Any]:
    return {
        "uscc": company.uscc,
        "name": company.name,
        "authorisation_id": authorisation.pk if authorisation else None,
    }


def switch_identity(request: HttpRequest, company: Company | None) -> dict[str, Any] | None:
    """Act for ``company`` (or for oneself again with None) in this session.

    Needs an active authorisation (or being the legal representative). Sets
    ``session["zwfw_acting_for"]`` = ``{uscc, name, authorisation_id}``; from the next request
    every audit record carries ``on_behalf_of="company:<uscc>"``. Raises ``PermissionDenied``
    (``identity.not_authorised``).
    """
    user = request.user
    assert isinstance(user, User)
    previous = request.session.get(SESSION_ACTING)
    if company is None:
        request.session.pop(SESSION_ACTING, None)
        with transaction.atomic():
            audit.record(
                "identity:switch_identity",
                "identity.user",
                user.pk,
                before={"acting_for": (previous or {}).get("uscc")},
                after={"acting_for": None},
                actor=actor_ref(user),
                on_behalf_of="",
            )
        return None
    authorisation: AgentAuthorisation | None = None
    if user.pk != company.legal_representative_id:
        found = active_authorisations(user, company)
        if not found:
            raise PermissionDenied(
                "identity.not_authorised",
                "您没有该单位有效的经办人授权。",
                "You hold no active authorisation for this company.",
            )
        authorisation = found[0]
    acting = acting_context(company, authorisation)
    request.session[SESSION_ACTING] = acting
    with transaction.atomic():
        audit.record(
            "identity:switch_identity",
            "identity.user",
            user.pk,
            before={"acting_for": (previous or {}).get("uscc")},
            after={"acting_for": company.uscc, "authorisation": acting["authorisation_id"]},
            actor=actor_ref(user),
            on_behalf_of=f"company:{company.uscc}",
        )
    return acting


def acting_still_valid(user: Any, acting: Mapping[str, Any]) -> bool:
    """Whether a session's acting context still holds (authorisation active, or the
    representative unchanged). One query."""
    uscc = acting.get("uscc")
    authorisation_id = acting.get("authorisation_id")
    if authorisation_id is None:
        return Company.objects.filter(uscc=uscc, legal_representative_id=user.pk).exists()
    today = timezone.localdate()
    return AgentAuthorisation.objects.filter(
        pk=authorisation_id,
        agent_id=user.pk,
        company__uscc=uscc,
        revoked_at__isnull=True,
        valid_from__lte=today,
        valid_until__gte=today,
    ).exists()


# --- profile -------------------------------------------------------------------------------------


def update_profile(user: User, *, email: str | None = None, work_unit: str | None = None) -> User:
    """Change the contact details a person keeps themselves (e-mail, work unit)."""
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.core.validators import validate_email

    changes: dict[str, str] = {}
    if email is not None:
        email = email.strip()
        if email:
            try:
                validate_email(email)
            except DjangoValidationError:
                raise ValidationError(
                    "identity.email", "电子邮箱格式不正确。", "Invalid e-mail.", field="email"
                ) from None
        changes["email"] = email[:254]
    if work_unit is not None:
        changes["work_unit"] = " ".join(work_unit.split())[:200]
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = {k: getattr(locked, k) for k in changes}
        changed = {k: v for k, v in changes.items() if before[k] != v}
        if changed:
            for k, v in changed.items():
                setattr(locked, k, v)
            locked.save(update_fields=list(changed))
            audit.record(
                "identity:profile_update",
                "identity.user",
                locked.pk,
                before={k: before[k] for k in changed},
                after=changed,
                actor=actor_ref(user),
            )
    return locked


# --- staff ---------------------------------------------------------------------------------------


def may_manage_staff(actor: Any, department: Department) -> bool:
    from zwfw.organisations.selectors import has_role

    return has_role(actor, Role.NODE_ADMIN) or has_role(actor, Role.DEPARTMENT_ADMIN, department)


@dataclass(frozen=True)
class StaffAccount:
    user: User
    initial_password: str


def create_staff(
    actor: Any,
    *,
    username: str,
    real_name: str,
    department: Department,
    roles: Iterable[str],
    phone: str = "",
) -> StaffAccount:
    """Create a staff account in a department with roles; its first password is random and
    must be changed at first sign-in.

    ``actor`` None is the platform itself (``zwfw create_staff``); otherwise a node
    administrator, or a department administrator for their own department (who cannot grant
    the node administrator role). Raises ``PermissionDenied`` (``identity.staff_admin``),
    ``ValidationError`` (``identity.staff_username``, ``identity.staff_roles``, ``mobile.*``)
    and ``Conflict`` (``identity.staff_exists``).
    """
    from zwfw.organisations.selectors import has_role
    from zwfw.organisations.services import grant_role

    if actor is not None and not may_manage_staff(actor, department):
        raise PermissionDenied(
            "identity.staff_admin",
            "只有平台管理员或本部门管理员可以创建工作人员账户。",
            "Only administrators create staff accounts.",
        )
    handle = username.strip() if isinstance(username, str) else ""
    if not _STAFF_USERNAME.match(handle):
        raise ValidationError(
            "identity.staff_username",
            "登录名应为3–32位小写字母、数字或 _ . -，以字母开头。",
            "Username: 3–32 lower-case letters, digits, _ . -, starting with a letter.",
            field="username",
        )
    name = clean_name(real_name, "real_name")
    wanted = sorted(set(roles))
    if not wanted or any(r not in Role.values for r in wanted):
        raise ValidationError(
            "identity.staff_roles",
            "请选择有效的角色。",
            "Choose valid roles.",
            field="roles",
            details={"allowed": list(Role.values)},
        )
    if Role.NODE_ADMIN in wanted and actor is not None and not has_role(actor, Role.NODE_ADMIN):
        raise PermissionDenied(
            "identity.staff_admin",
            "只有平台管理员可以授予平台管理员角色。",
            "Only node administrators grant that role.",
        )
    number = validate_mobile(phone, "phone") if phone else ""
    if User.objects.filter(username=handle).exists() or (number and user_by_phone(number)):
        raise Conflict(
            "identity.staff_exists",
            "登录名或手机号码已被使用。",
            "Username or phone already in use.",
        )
    password = _random_password()
    with transaction.atomic():
        user = User(
            username=handle,
            kind=User.Kind.STAFF,
            real_name=name,
            phone=number,
            is_staff=True,
            must_change_password=True,
        )
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise Conflict(
                "identity.staff_exists", "登录名或手机号码已被使用。", "Already in use."
            ) from None
        for role in wanted:
            grant_role(user=user, department=department, role=role)
        audit.record(
            "identity:staff_create",
            "identity.user",
            user.pk,
            after={
                "username": handle,
                "real_name": mask_name(name),
                "department": department.pk,
                "roles": wanted,
            },
            actor=actor_ref(actor) if actor is not None else None,
        )
    return StaffAccount(user, password)
