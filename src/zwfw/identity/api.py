"""Accounts API at ``/api/v1/identity``: registration, sign-in, profile, agreement, sessions,
TOTP, companies, agents, acting for a company, window services and staff accounts.

Sign-in state is the Django session (cookie); every state-changing call checks the CSRF
token (``X-CSRFToken`` header), also the anonymous ones that start a session (login CSRF).
Throttles answer 429 with ``details.retry_after``. Thin: the rules live in ``services``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import django_auth
from ninja.utils import check_csrf

from zwfw.api.requesting import current_user as _me
from zwfw.core import idempotency
from zwfw.core.errors import PermissionDenied
from zwfw.core.masking import mask_name
from zwfw.identity import otp, selectors, services
from zwfw.identity.models import Company, User
from zwfw.organisations.selectors import get_department

router = Router(tags=["identity"])

Short = Field(..., max_length=64)
Text = Field(..., max_length=200)


def _csrf(request: HttpRequest) -> None:
    if check_csrf(request) is not None:
        raise HttpError(403, "CSRF check failed")


# --- schemas -------------------------------------------------------------------------------


class CodeRequestIn(Schema):
    phone: str = Field(..., max_length=32)
    purpose: str = Field(..., max_length=16, description="register / login / reset / link")


class CodeSentOut(Schema):
    sent: bool = True
    phone: str = Field(description="masked")
    expires_at: dt.datetime
    resend_after: int


class PersonIn(Schema):
    id_number: str = Field(..., max_length=32)
    name: str = Short
    phone: str = Field(..., max_length=32)
    code: str = Field(..., max_length=16)
    factors: dict[str, str] = Field(
        default_factory=dict,
        description="social_security_card / bank_card / housing_fund_account / "
        "driving_licence_file (at least one besides the phone)",
    )
    password: str = Field(..., max_length=256)
    agreement_version: int | None = None


class WindowPersonIn(Schema):
    id_number: str = Field(..., max_length=32)
    name: str = Short
    phone: str = Field("", max_length=32)
    code: str = Field("", max_length=16)
    ethnicity: str = Field("", max_length=2)
    agreement_version: int | None = None


class WindowVerifyIn(Schema):
    id_number: str = Field(..., max_length=32)
    name: str = Short


class LinkedIn(Schema):
    id_number: str = Field("", max_length=32)
    phone: str = Field(..., max_length=32)
    code: str = Field(..., max_length=16)
    password: str = Field(..., max_length=256)
    agreement_version: int | None = None


class ProfileOut(Schema):
    id: int
    username: str
    kind: str
    real_name: str
    id_type: str
    id_number: str
    phone: str
    email: str
    sex: str
    birth_date: dt.date | None
    work_unit: str
    trust_level: str
    trust_source: str
    trust_updated_at: dt.datetime | None
    must_change_password: bool
    date_joined: dt.datetime
    acting_for: dict[str, Any] | None = None


class ProfileIn(Schema):
    email: str | None = Field(None, max_length=254)
    work_unit: str | None = Field(None, max_length=200)


class WindowRegistrationOut(Schema):
    user: ProfileOut
    initial_password: str = Field(description="shown once; the person must change it")


class LoginIn(Schema):
    identifier: str = Field(..., max_length=150, description="ID number, phone or login name")
    password: str = Field(..., max_length=256)


class SmsLoginIn(Schema):
    phone: str = Field(..., max_length=32)
    code: str = Field(..., max_length=16)


class TotpIn(Schema):
    code: str = Field(..., max_length=16)


class LoginOut(Schema):
    status: str = Field(description="ok / second_factor")
    must_change_password: bool = False
    agreement_required: bool = False


class AgreementOut(Schema):
    version: int
    title: str
    text: str
    published_at: dt.datetime
    accepted: bool | None = None


class AcceptIn(Schema):
    version: int


class PasswordChangeIn(Schema):
    old_password: str = Field(..., max_length=256)
    new_password: str = Field(..., max_length=256)


class ResetCodeIn(Schema):
    phone: str = Field(..., max_length=32)


class ResetIn(Schema):
    phone: str = Field(..., max_length=32)
    code: str = Field(..., max_length=16)
    new_password: str = Field(..., max_length=256)


class SessionOut(Schema):
    id: int
    method: str
    ip: str
    user_agent: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    ended_at: dt.datetime | None
    current: bool


class SessionPage(Schema):
    items: list[SessionOut]
    next_cursor: str | None


class PageFilter(Schema):
    cursor: str | None = Field(None, max_length=200)
    limit: int = 50


class TotpEnrolOut(Schema):
    secret: str
    uri: str


class CompanyIn(Schema):
    uscc: str = Field(..., max_length=32)
    name: str = Text


class WindowCompanyIn(CompanyIn):
    representative_id_number: str = Field(..., max_length=32)
    representative_name: str = Short


class CompanyOut(Schema):
    uscc: str
    name: str
    legal_representative: str = Field(description="masked name")
    trust_level: str
    verified_via: str
    verified_at: dt.datetime
    is_legal_representative: bool


class AgentIn(Schema):
    agent_id_number: str = Field(..., max_length=32)
    agent_name: str = Short
    all_items: bool = False
    item_codes: list[str] = Field(default_factory=list, max_length=200)
    valid_from: dt.date
    valid_until: dt.date


class AuthorisationOut(Schema):
    id: int
    company_uscc: str
    company_name: str
    agent_id: int
    agent_name: str
    agent_id_number: str
    agent_phone: str
    all_items: bool
    item_codes: list[str]
    valid_from: dt.date
    valid_until: dt.date
    revoked_at: dt.datetime | None
    active: bool


class AuthorisationPage(Schema):
    items: list[AuthorisationOut]
    next_cursor: str | None


class ActingIn(Schema):
    uscc: str | None = Field(None, max_length=32, description="null: act for yourself again")


class ActingOut(Schema):
    acting_for: dict[str, Any] | None


class LinkedClaimsOut(Schema):
    provider_name: str
    issuer: str
    name: str
    id_number: str
    phone: str
    trust_level: str
    id_number_required: bool


class StaffIn(Schema):
    username: str = Field(..., max_length=32)
    real_name: str = Short
    department_id: int
    roles: list[str] = Field(..., max_length=10)
    phone: str = Field("", max_length=32)


class StaffCreatedOut(Schema):
    id: int
    username: str
    initial_password: str


class StaffRoleOut(Schema):
    user_id: int
    username: str
    real_name: str
    department_id: int
    department_name: str
    role: str
    valid_until: dt.date | None


class StaffPage(Schema):
    items: list[StaffRoleOut]
    next_cursor: str | None


class StaffFilter(PageFilter):
    department: int | None = None


# --- helpers -------------------------------------------------------------------------------


def _profile(request: HttpRequest, user: User) -> dict[str, Any]:
    body = selectors.profile(request.user, user)
    if request.user == user:
        body["acting_for"] = request.session.get(services.SESSION_ACTING)
    return body


def _sent(sent: otp.SentCode) -> dict[str, Any]:
    return {
        "sent": True,
        "phone": sent.phone_masked,
        "expires_at": sent.expires_at,
        "resend_after": sent.resend_after,
    }


def _login_out(result: services.LoginResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "must_change_password": result.must_change_password,
        "agreement_required": result.agreement_required,
    }


def _company_out(company: Company, viewer: Any) -> dict[str, Any]:
    return {
        "uscc": company.uscc,
        "name": company.name,
        "legal_representative": mask_name(company.legal_representative.real_name),
        "trust_level": company.trust_level,
        "verified_via": company.verified_via,
        "verified_at": company.verified_at,
        "is_legal_representative": company.legal_representative_id == viewer.pk,
    }


# --- codes, registration -----------------------------------------------------------------------


@router.post("/sms-codes", response={202: CodeSentOut}, summary="Send an SMS verification code")
def send_code(request: HttpRequest, body: CodeRequestIn) -> Status:
    _csrf(request)
    if body.purpose == "login":
        sent = services.send_login_code(body.phone)
    elif body.purpose == "reset":
        sent = services.send_reset_code(body.phone)
    elif body.purpose in ("register", "link"):
        sent = otp.send_code(body.purpose, body.phone, request.META.get("REMOTE_ADDR", ""))
    elif body.purpose == "window":
        if not services.is_clerk(request.user):
            raise PermissionDenied(
                "identity.clerk_required", "只有窗口人员可以发送窗口注册验证码。", "Clerks only."
            )
        sent = otp.send_code("window", body.phone, request.META.get("REMOTE_ADDR", ""))
    else:
        otp.send_code(body.purpose, body.phone, "")  # raises identity.code_purpose
        raise AssertionError("unreachable")  # pragma: no cover
    return Status(202, _sent(sent))


@router.post(
    "/register/person", response={201: ProfileOut}, summary="Register a natural person online"
)
def register_person(request: HttpRequest, body: PersonIn) -> Status:
    _csrf(request)
    user = services.register_person_online(
        id_number=body.id_number,
        name=body.name,
        phone=body.phone,
        code=body.code,
        factors_given=body.factors,
        password=body.password,
        agreement_version=body.agreement_version,
    )
    services.login_registered(request, user, "register")
    return Status(201, _profile(request, user))


@router.post(
    "/register/window",
    response={201: WindowRegistrationOut},
    auth=django_auth,
    summary="Register a person at a window (clerks; accepts Idempotency-Key)",
)
def register_at_window(request: HttpRequest, body: WindowPersonIn) -> Status:
    def create() -> tuple[int, Any]:
        result = services.register_person_at_window(
            request.user,
            id_number=body.id_number,
            name=body.name,
            phone=body.phone,
            code=body.code,
            ethnicity=body.ethnicity,
            agreement_version=body.agreement_version,
        )
        return 201, {
            "user": selectors.profile(request.user, result.user),
            "initial_password": result.initial_password,
        }

    status, answer = idempotency.run(request, body.model_dump(mode="json"), create)
    return Status(status, answer)


@router.post(
    "/window/verify",
    response=ProfileOut,
    auth=django_auth,
    summary="Verify an account holder in person at a window (trust level L4)",
)
def verify_at_window(request: HttpRequest, body: WindowVerifyIn) -> dict[str, Any]:
    user = services.verify_person_at_window(request.user, id_number=body.id_number, name=body.name)
    return selectors.profile(request.user, user)


@router.get(
    "/register/linked", response=LinkedClaimsOut, summary="Pending federated sign-in to link"
)
def linked_claims(request: HttpRequest) -> dict[str, Any]:
    claims = services.start_linked_registration(request)
    return {**claims.masked(), "id_number_required": not claims.id_number}


@router.post(
    "/register/linked",
    response={201: ProfileOut},
    summary="Finish registering from a trusted platform's account",
)
def register_linked(request: HttpRequest, body: LinkedIn) -> Status:
    _csrf(request)
    user = services.complete_linked_registration(
        request,
        id_number=body.id_number,
        phone=body.phone,
        code=body.code,
        password=body.password,
        agreement_version=body.agreement_version,
    )
    services.login_registered(request, user, "linked")
    return Status(201, _profile(request, user))


# --- sign-in -------------------------------------------------------------------------------


@router.post("/login", response=LoginOut, summary="Sign in with a password")
def login(request: HttpRequest, body: LoginIn) -> dict[str, Any]:
    _csrf(request)
    return _login_out(services.login_with_password(request, body.identifier, body.password))


@router.post("/login/sms", response=LoginOut, summary="Sign in with an SMS code")
def login_sms(request: HttpRequest, body: SmsLoginIn) -> dict[str, Any]:
    _csrf(request)
    return _login_out(services.login_with_sms(request, body.phone, body.code))


@router.post("/login/totp", response=LoginOut, summary="Second step: the TOTP code")
def login_totp(request: HttpRequest, body: TotpIn) -> dict[str, Any]:
    _csrf(request)
    return _login_out(services.login_second_factor(request, body.code))


@router.post("/logout", response={204: None}, auth=django_auth, summary="Sign out")
def logout(request: HttpRequest) -> Status:
    services.logout(request)
    return Status(204, None)


# --- profile, agreement, password -------------------------------------------------------------


@router.get("/me", response=ProfileOut, auth=django_auth, summary="My profile (in full)")
def me(request: HttpRequest) -> dict[str, Any]:
    return _profile(request, _me(request))


@router.patch("/me", response=ProfileOut, auth=django_auth, summary="Change my contact details")
def update_me(request: HttpRequest, body: ProfileIn) -> dict[str, Any]:
    user = services.update_profile(_me(request), email=body.email, work_unit=body.work_unit)
    return _profile(request, user)


@router.get("/agreement", response=AgreementOut, summary="The current real-name agreement")
def agreement(request: HttpRequest) -> dict[str, Any]:
    current = services.current_agreement()
    accepted = None
    if isinstance(request.user, User):
        accepted = not services.needs_agreement(request.user)
    return {
        "version": current.version,
        "title": current.title,
        "text": current.text,
        "published_at": current.published_at,
        "accepted": accepted,
    }


@router.post(
    "/agreement/accept", response={204: None}, auth=django_auth, summary="Accept the agreement"
)
def accept(request: HttpRequest, body: AcceptIn) -> Status:
    services.accept_agreement(_me(request), body.version)
    request.session.pop(services.SESSION_AGREEMENT, None)
    return Status(204, None)


@router.post(
    "/password/change", response={200: ProfileOut}, auth=django_auth, summary="Change password"
)
def password_change(request: HttpRequest, body: PasswordChangeIn) -> dict[str, Any]:
    user = services.change_password(request, body.old_password, body.new_password)
    return _profile(request, user)


@router.post(
    "/password/reset/code", response={202: CodeSentOut}, summary="Send a password-reset code"
)
def password_reset_code(request: HttpRequest, body: ResetCodeIn) -> Status:
    _csrf(request)
    return Status(202, _sent(services.send_reset_code(body.phone)))


@router.post("/password/reset", response={204: None}, summary="Reset the password by SMS code")
def password_reset(request: HttpRequest, body: ResetIn) -> Status:
    _csrf(request)
    services.reset_password(body.phone, body.code, body.new_password)
    return Status(204, None)


# --- sessions and TOTP -------------------------------------------------------------------------


@router.get("/sessions", response=SessionPage, auth=django_auth, summary="My sign-in sessions")
def sessions(request: HttpRequest, filters: Query[PageFilter]) -> dict[str, Any]:
    page = selectors.sessions_of(_me(request), cursor=filters.cursor, limit=filters.limit)
    current = request.session.get(services.SESSION_TRACKED)
    return {
        "items": [
            {
                "id": s.pk,
                "method": s.method,
                "ip": s.ip,
                "user_agent": s.user_agent,
                "created_at": s.created_at,
                "last_seen_at": s.last_seen_at,
                "ended_at": s.ended_at,
                "current": s.pk == current,
            }
            for s in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.delete(
    "/sessions/{session_id}", response={204: None}, auth=django_auth, summary="Sign a session out"
)
def end_session(request: HttpRequest, session_id: int) -> Status:
    services.end_session(_me(request), session_id)
    return Status(204, None)


@router.post("/totp", response={201: TotpEnrolOut}, auth=django_auth, summary="Start TOTP")
def totp_enrol(request: HttpRequest) -> Status:
    enrolment = services.enrol_totp(_me(request))
    return Status(201, {"secret": enrolment.secret, "uri": enrolment.uri})


@router.post(
    "/totp/confirm", response={204: None}, auth=django_auth, summary="Confirm TOTP enrolment"
)
def totp_confirm(request: HttpRequest, body: TotpIn) -> Status:
    services.confirm_totp(_me(request), body.code)
    return Status(204, None)


class PasswordIn(Schema):
    password: str = Field(..., max_length=256)


@router.post("/totp/remove", response={204: None}, auth=django_auth, summary="Remove TOTP")
def totp_remove(request: HttpRequest, body: PasswordIn) -> Status:
    services.remove_totp(_me(request), body.password)
    return Status(204, None)


# --- companies and agents ----------------------------------------------------------------------


@router.get(
    "/companies", response=list[CompanyOut], auth=django_auth, summary="Companies I act for"
)
def companies(request: HttpRequest) -> list[dict[str, Any]]:
    user = _me(request)
    return [_company_out(c, user) for c in selectors.companies_of(user)[:200]]


@router.post(
    "/companies",
    response={201: CompanyOut},
    auth=django_auth,
    summary="Register my company (I am its legal representative)",
)
def register_company(request: HttpRequest, body: CompanyIn) -> Status:
    user = _me(request)
    company = services.register_company(user, uscc=body.uscc, name=body.name)
    return Status(201, _company_out(company, user))


@router.post(
    "/companies/window",
    response={201: CompanyOut},
    auth=django_auth,
    summary="Register a company at a window (clerks)",
)
def register_company_at_window(request: HttpRequest, body: WindowCompanyIn) -> Status:
    company = services.register_company_at_window(
        request.user,
        uscc=body.uscc,
        name=body.name,
        representative_id_number=body.representative_id_number,
        representative_name=body.representative_name,
    )
    return Status(201, _company_out(company, request.user))


@router.get(
    "/companies/{uscc}/agents",
    response=AuthorisationPage,
    auth=django_auth,
    summary="Agents of a company",
)
def company_agents(request: HttpRequest, uscc: str, filters: Query[PageFilter]) -> dict[str, Any]:
    user = _me(request)
    company = selectors.get_company(user, uscc)
    page = selectors.authorisations_of_company(
        user, company, cursor=filters.cursor, limit=filters.limit
    )
    today = timezone.localdate()
    return {
        "items": [selectors.authorisation_row(a, today) for a in page.items],
        "next_cursor": page.next_cursor,
    }


@router.post(
    "/companies/{uscc}/agents",
    response={201: AuthorisationOut},
    auth=django_auth,
    summary="Authorise an agent (legal representative)",
)
def authorise_agent(request: HttpRequest, uscc: str, body: AgentIn) -> Status:
    user = _me(request)
    company = selectors.get_company(user, uscc)
    authorisation = services.authorise_agent(
        user,
        company,
        agent_id_number=body.agent_id_number,
        agent_name=body.agent_name,
        all_items=body.all_items,
        item_codes=body.item_codes,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )
    return Status(201, selectors.authorisation_row(authorisation))


@router.post(
    "/agents/{authorisation_id}/revoke",
    response=AuthorisationOut,
    auth=django_auth,
    summary="Revoke an authorisation (representative, or the agent)",
)
def revoke_agent(request: HttpRequest, authorisation_id: int) -> dict[str, Any]:
    user = _me(request)
    authorisation = selectors.get_authorisation(user, authorisation_id)
    revoked = services.revoke_agent(user, authorisation)
    return selectors.authorisation_row(selectors.get_authorisation(user, revoked.pk))


@router.get(
    "/agents/mine",
    response=AuthorisationPage,
    auth=django_auth,
    summary="Authorisations naming me as agent",
)
def my_authorisations(request: HttpRequest, filters: Query[PageFilter]) -> dict[str, Any]:
    page = selectors.my_authorisations(_me(request), cursor=filters.cursor, limit=filters.limit)
    rows = []
    today = timezone.localdate()
    user = _me(request)
    for a in page.items:
        a.agent = user  # the viewer: no query per row
        rows.append(selectors.authorisation_row(a, today))
    return {"items": rows, "next_cursor": page.next_cursor}


@router.get("/acting", response=ActingOut, auth=django_auth, summary="Whom I act for now")
def acting(request: HttpRequest) -> dict[str, Any]:
    return {"acting_for": request.session.get(services.SESSION_ACTING)}


@router.post("/acting", response=ActingOut, auth=django_auth, summary="Act for a company")
def switch(request: HttpRequest, body: ActingIn) -> dict[str, Any]:
    user = _me(request)
    company = selectors.get_company(user, body.uscc) if body.uscc else None
    return {"acting_for": services.switch_identity(request, company)}


# --- staff ---------------------------------------------------------------------------------------


@router.get("/staff", response=StaffPage, auth=django_auth, summary="Staff roles I administer")
def staff(request: HttpRequest, filters: Query[StaffFilter]) -> dict[str, Any]:
    page = selectors.staff_visible_to(
        request.user, department=filters.department, cursor=filters.cursor, limit=filters.limit
    )
    return {
        "items": [
            {
                "user_id": m.user_id,
                "username": m.user.username,
                "real_name": m.user.real_name,
                "department_id": m.department_id,
                "department_name": m.department.name,
                "role": m.role,
                "valid_until": m.valid_until,
            }
            for m in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.post(
    "/staff",
    response={201: StaffCreatedOut},
    auth=django_auth,
    summary="Create a staff account (administrators)",
)
def create_staff(request: HttpRequest, body: StaffIn) -> Status:
    department = get_department(body.department_id)
    created = services.create_staff(
        request.user,
        username=body.username,
        real_name=body.real_name,
        department=department,
        roles=body.roles,
        phone=body.phone,
    )
    return Status(
        201,
        {
            "id": created.user.pk,
            "username": created.user.username,
            "initial_password": created.initial_password,
        },
    )
