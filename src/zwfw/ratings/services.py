"""好差评 services: the only code that writes ratings, tokens and rectifications (SPEC §8).

Every function runs in one transaction, checks who acts, writes an audit record
(``ratings:rating:*``, ``ratings:token:*``, ``ratings:rectification:*``) and raises
:class:`~zwfw.core.errors.ValidationError` (bad input), :class:`PermissionDenied` (wrong actor),
:class:`Conflict` (wrong state, second rating, used token) or :class:`NotFound`; nothing is
changed when they raise.

Rectification lifecycle (decision 0020)::

    bad rating → verifying ─verify→ fixed | ledger | explained ─close (supervisor)→ closed
                     │                          (return call first when the rater left a contact)
                     └─appeal→ appealed ─review: uphold→ appeal_upheld (rating kept, not counted)
                                                └ reject→ appeal_rejected ─verify→ …
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from zwfw.cases.models import Case, CaseStatus
from zwfw.cases.services import actor_ref, is_applicant_side, staff_departments
from zwfw.catalog.models import Item
from zwfw.core import audit
from zwfw.core import calendar as cal
from zwfw.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from zwfw.core.masking import mask_name
from zwfw.core.validators import validate_mobile
from zwfw.organisations.models import Department, Role, StaffMembership
from zwfw.ratings.models import (
    AWAITING_DEPARTMENT,
    BAD_LEVELS,
    DIMENSION_LABELS,
    DIMENSIONS,
    OUTCOMES,
    Channel,
    Level,
    Rating,
    RatingKind,
    RatingToken,
    Rectification,
    RectificationStatus,
    RectificationStep,
)

MAX_RATING_TEXT = 500
MAX_TEXT = 2000
TOKEN_SALT = "zwfw.ratings.token"  # noqa: S105 (a signing salt, not a secret)
ONLINE_CHANNELS = (Channel.PC, Channel.MOBILE)
TOKEN_CHANNELS = (Channel.QR_CODE, Channel.HALL_TABLET, Channel.HALL_TERMINAL)
#: Case statuses after which the case as a whole can be rated (一事一评).
RATEABLE_FINAL = (CaseStatus.CLOSED, CaseStatus.REFUSED)
#: Roles that answer for a department's bad ratings (verify, appeal, return call).
DEPARTMENT_MANAGERS = (Role.DEPARTMENT_ADMIN, Role.DECIDER)
log = logging.getLogger(__name__)
VISIT_REFERENCE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_./-]{0,63}$")


# --- small helpers ------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return timezone.now()


def _display(user: Any) -> str:
    return (getattr(user, "real_name", "") or getattr(user, "username", "") or "系统")[:64]


def _text(value: str | None, field: str, label: str, *, required: bool, limit: int) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(
            "ratings.text_required", f"请填写{label}。", f"{field} is required.", field=field
        )
    if len(text) > limit:
        raise ValidationError(
            "ratings.text_too_long",
            f"{label}不能超过{limit}个字。",
            f"{field} is longer than {limit} characters.",
            field=field,
            details={"max": limit},
        )
    return text


def is_supervisor(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or bool(
        staff_departments(user, Role.SUPERVISOR)
    )


def manages(user: Any, department_id: int) -> bool:
    """Whether ``user`` answers for ``department_id``'s ratings (部门管理员 or 决定人员)."""
    if getattr(user, "is_superuser", False):
        return True
    return any(department_id in staff_departments(user, role) for role in DEPARTMENT_MANAGERS)


@dataclass(frozen=True)
class RatingInput:
    level: int
    text: str
    scores: dict[str, int | None]
    named: bool
    contact_name: str
    contact_phone: str


def clean_rating_input(
    level: Any,
    text: str | None = "",
    scores: Mapping[str, Any] | None = None,
    *,
    named: bool = False,
    contact_name: str = "",
    contact_phone: str = "",
) -> RatingInput:
    """Check what a rater entered; raises ``ValidationError`` naming the first bad field."""
    if isinstance(level, bool) or not isinstance(level, int) or level not in Level.values:
        raise ValidationError(
            "ratings.level",
            "请选择评价等级（1 非常满意 … 5 非常不满意）。",
            "level must be 1 (very satisfied) … 5 (very dissatisfied).",
            field="level",
            details={"allowed": Level.values},
        )
    cleaned_scores: dict[str, int | None] = dict.fromkeys(DIMENSIONS)
    for key, value in (scores or {}).items():
        if key not in DIMENSIONS:
            raise ValidationError(
                "ratings.dimension_unknown",
                f"评价维度“{str(key)[:20]}”无效。",
                f"Unknown dimension {str(key)[:20]!r}.",
                field="scores",
                details={"allowed": list(DIMENSIONS)},
            )
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise ValidationError(
                "ratings.score",
                f"{DIMENSION_LABELS[key]}的评分应为1到5。",
                f"{key} must be 1 … 5.",
                field=f"scores.{key}",
            )
        cleaned_scores[key] = value
    # A bad rating must say what went wrong: the department verifies exactly that.
    cleaned_text = _text(
        text,
        "text",
        "评价内容（差评请说明原因）",
        required=level in BAD_LEVELS,
        limit=MAX_RATING_TEXT,
    )
    name = _text(contact_name, "contact_name", "姓名", required=False, limit=32)
    phone = ""
    if named:
        phone = validate_mobile(contact_phone, field="contact_phone")
    return RatingInput(level, cleaned_text, cleaned_scores, bool(named), name, phone)


# --- rating -------------------------------------------------------------------------------------


def check_case_rateable(case: Case, today: dt.date | None = None) -> None:
    """A case is rated (一事一评) once decided, or earlier when it is past its due date.

    The late-case rule lets J4's applicant complain while the case is still overdue rather
    than after it finally closes. Raises ``Conflict`` (``ratings.case_not_rateable``).
    """
    if case.status in RATEABLE_FINAL:
        return
    today = today or cal.local_date(_now())
    if case.is_open and case.due_date is not None and today > case.due_date:
        return
    raise Conflict(
        "ratings.case_not_rateable",
        f"办件当前状态为“{CaseStatus(case.status).label}”，办结后才能评价（超期未办结的办件可以先行评价）。",
        f"The case is {case.status}; it can be rated once decided or when overdue.",
        details={"status": case.status},
    )


def _already_rated(kind: str, case: Case | None, visit_reference: str) -> Conflict:
    what = "该办件" if kind == RatingKind.CASE else "本次服务"
    return Conflict(
        "ratings.already_rated",
        f"{what}已评价过，每次只能评价一次。",
        "This case or visit has already been rated.",
        details={"case": case.number if case else None, "visit_reference": visit_reference},
    )


def _create_rating(
    *,
    kind: str,
    case: Case | None,
    visit_reference: str,
    department: Department,
    item: Item | None,
    data: RatingInput,
    channel: str,
    rater: Any,
    rater_name: str,
    actor: str,
) -> Rating:
    existing = Rating.objects.filter(kind=kind)
    existing = (
        existing.filter(case=case)
        if kind == RatingKind.CASE
        else existing.filter(visit_reference=visit_reference)
    )
    if existing.exists():
        raise _already_rated(kind, case, visit_reference)
    rating = Rating(
        kind=kind,
        case=case,
        visit_reference=visit_reference,
        department=department,
        item=item,
        level=data.level,
        text=data.text,
        channel=channel,
        rater=rater,
        rater_name=mask_name(rater_name)[:64],
        named=data.named,
        contact_phone=data.contact_phone,
        **data.scores,
    )
    try:
        with transaction.atomic():
            rating.save()
    except IntegrityError as exc:  # two submissions at once: the unique constraint decides
        raise _already_rated(kind, case, visit_reference) from exc
    audit.record(
        "ratings:rating:create",
        "ratings.rating",
        rating.pk,
        after={
            "kind": kind,
            "case": case.number if case else None,
            "visit_reference": visit_reference,
            "department": department.pk,
            "level": data.level,
            "channel": channel,
            "named": data.named,
        },
        actor=actor,
    )
    if rating.is_bad:
        _open_rectification(rating, actor)
    return rating


def rate_case(
    user: Any,
    case: Case,
    *,
    level: Any,
    text: str = "",
    scores: Mapping[str, Any] | None = None,
    channel: str = Channel.PC,
    named: bool = False,
    contact_phone: str = "",
    acting_uscc: str | None = None,
) -> Rating:
    """一事一评 online by the case's applicant (or the company's agent acting for it).

    Raises ``PermissionDenied`` for anyone else, ``Conflict`` when the case is not yet rateable
    or was rated already, ``ValidationError`` for bad input.
    """
    if not is_applicant_side(user, case, acting_uscc):
        raise PermissionDenied(
            "ratings.not_applicant",
            "只有办件的申请人（或其授权经办人）可以评价该办件。",
            "Only the case's applicant may rate it.",
        )
    if channel not in ONLINE_CHANNELS:
        raise ValidationError(
            "ratings.channel",
            "网上评价的渠道应为 1 PC端 或 2 移动端。",
            "An online rating's channel is 1 (PC) or 2 (mobile).",
            field="channel",
            details={"allowed": [c.value for c in ONLINE_CHANNELS]},
        )
    if named and not contact_phone:
        contact_phone = getattr(user, "phone", "") or ""
    data = clean_rating_input(
        level, text, scores, named=named, contact_name=_display(user), contact_phone=contact_phone
    )
    with transaction.atomic():
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("department")
            .get(pk=case.pk)
        )
        check_case_rateable(locked)
        return _create_rating(
            kind=RatingKind.CASE,
            case=locked,
            visit_reference="",
            department=locked.department,
            item=locked.item,
            data=data,
            channel=channel,
            rater=user,
            rater_name=_display(user),
            actor=actor_ref(user),
        )


# --- tokens (QR codes) --------------------------------------------------------------------------


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def token_url(token: str) -> str:
    return f"{settings.PUBLIC_URL.rstrip('/')}/ratings/r/{token}"


def _issue_token(
    kind: str,
    *,
    department: Department,
    case: Case | None = None,
    visit_reference: str = "",
    item: Item | None = None,
    channel: str = Channel.QR_CODE,
    issued_by: str = "system",
) -> tuple[RatingToken, str]:
    nonce = secrets.token_urlsafe(12)
    now = _now()
    row = RatingToken.objects.create(
        kind=kind,
        case=case,
        visit_reference=visit_reference,
        department=department,
        item=item,
        channel=channel,
        nonce_digest=_digest(nonce),
        issued_by=issued_by[:64],
        expires_at=now + dt.timedelta(days=settings.RATINGS_TOKEN_DAYS),
    )
    token = signing.Signer(salt=TOKEN_SALT).sign_object({"t": row.pk, "n": nonce})
    audit.record(
        "ratings:token:issue",
        "ratings.token",
        row.pk,
        after={
            "kind": kind,
            "case": case.number if case else None,
            "visit_reference": visit_reference,
            "department": department.pk,
            "channel": channel,
            "expires_at": row.expires_at,
        },
        actor=issued_by,
    )
    return row, token


def rating_url_for_case(case: Case, actor: Any = None) -> str:
    """The signed single-use URL to print as a QR code on a case's notices.

    Before the case is decided (the 受理通知书) it rates the service at acceptance — one visit,
    一次一评, reference ``<办件编号>/accept``; once decided (决定书) it rates the case, 一事一评.
    Anyone holding the paper can use it once (J7: the resident uses his daughter's phone).
    ``actor`` (the clerk printing the notice) is recorded as the token's issuer.
    """
    issued_by = actor_ref(actor) if actor is not None else "system"
    with transaction.atomic():
        if case.status in RATEABLE_FINAL:
            _row, token = _issue_token(
                RatingKind.CASE,
                department=case.department,
                case=case,
                item=case.item,
                issued_by=issued_by,
            )
        else:
            _row, token = _issue_token(
                RatingKind.VISIT,
                department=case.department,
                case=case,
                visit_reference=f"{case.number or case.pk}/accept",
                item=case.item,
                issued_by=issued_by,
            )
    return token_url(token)


def issue_visit_token(
    clerk: Any,
    *,
    department: Department,
    visit_reference: str = "",
    item_code: str = "",
    channel: str = Channel.QR_CODE,
) -> tuple[RatingToken, str]:
    """A window clerk prints (or shows on the hall tablet) a QR code for one visit (一次一评).

    Raises ``PermissionDenied`` unless ``clerk`` is a 窗口人员 of ``department``; ``Conflict``
    when the visit was rated already.
    """
    if not (
        getattr(clerk, "is_superuser", False)
        or department.pk in staff_departments(clerk, Role.CLERK)
    ):
        raise PermissionDenied(
            "ratings.not_clerk",
            f"您不是{department.name}的窗口人员，不能生成评价码。",
            f"You are not a clerk of department {department.pk}.",
            details={"department": department.pk},
        )
    if channel not in TOKEN_CHANNELS:
        raise ValidationError(
            "ratings.channel",
            "评价码的渠道应为 3 二维码、4 政务大厅平板电脑 或 5 政务大厅其他终端。",
            "A token's channel is 3 (QR code), 4 (hall tablet) or 5 (hall terminal).",
            field="channel",
            details={"allowed": [c.value for c in TOKEN_CHANNELS]},
        )
    reference = (visit_reference or "").strip()
    if not reference:
        today = cal.local_date(_now())
        reference = f"V{today:%Y%m%d}-{department.pk}-{secrets.token_hex(4)}"
    elif not VISIT_REFERENCE.match(reference):
        raise ValidationError(
            "ratings.visit_reference",
            "窗口服务编号只能包含字母、数字和 - _ . /，最长64位。",
            "visit_reference: letters, digits and - _ . / only, at most 64.",
            field="visit_reference",
        )
    item = None
    if item_code:
        item = Item.objects.filter(implementation_code=item_code).first()
        if item is None:
            raise NotFound("ratings.item_unknown", "事项不存在。", "Unknown item.", field="item")
        if item.department_id != department.pk:
            raise ValidationError(
                "ratings.item_department",
                "该事项不由本部门实施。",
                "The item is not implemented by this department.",
                field="item_code",
            )
    with transaction.atomic():
        if Rating.objects.filter(kind=RatingKind.VISIT, visit_reference=reference).exists():
            raise _already_rated(RatingKind.VISIT, None, reference)
        return _issue_token(
            RatingKind.VISIT,
            department=department,
            visit_reference=reference,
            item=item,
            channel=channel,
            issued_by=actor_ref(clerk),
        )


def _token_invalid() -> ValidationError:
    return ValidationError(
        "ratings.token_invalid",
        "评价码无效，请确认扫描的是完整的二维码。",
        "The rating token is invalid.",
    )


def token_row(token: str) -> RatingToken:
    """The row behind a signed token; raises ``ValidationError`` for a forged or altered one."""
    if not isinstance(token, str) or len(token) > 200:
        raise _token_invalid()
    try:
        payload = signing.Signer(salt=TOKEN_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, UnicodeDecodeError) as exc:
        raise _token_invalid() from exc
    if not isinstance(payload, dict):
        raise _token_invalid()
    token_id, nonce = payload.get("t"), payload.get("n")
    if not isinstance(token_id, int) or not isinstance(nonce, str) or not 0 < token_id < 2**63:
        raise _token_invalid()
    row = (
        RatingToken.objects.select_related("department", "item", "case").filter(pk=token_id).first()
    )
    if row is None or not hmac.compare_digest(row.nonce_digest, _digest(nonce)):
        raise _token_invalid()
    return row


def token_state(row: RatingToken, now: dt.datetime | None = None) -> str:
    """``open``, ``used``, ``expired``, ``rated`` (someone rated it otherwise) or ``not_yet``."""
    now = now or _now()
    if row.used_at is not None:
        return "used"
    if now >= row.expires_at:
        return "expired"
    ratings = Rating.objects.filter(kind=row.kind)
    if row.kind == RatingKind.CASE:
        if ratings.filter(case=row.case).exists():
            return "rated"
        assert row.case is not None
        try:
            check_case_rateable(row.case)
        except Conflict:
            return "not_yet"
    elif ratings.filter(visit_reference=row.visit_reference).exists():
        return "rated"
    return "open"


def rate_by_token(
    token: str,
    *,
    level: Any,
    text: str = "",
    scores: Mapping[str, Any] | None = None,
    named: bool = False,
    contact_name: str = "",
    contact_phone: str = "",
) -> Rating:
    """Rate without logging in, through a QR code; the token works once.

    Raises ``ValidationError`` (``ratings.token_invalid``) for a forged or altered token and
    ``Conflict`` for a used (``ratings.token_used``) or expired (``ratings.token_expired``)
    one, or when the case or visit has been rated already.
    """
    row = token_row(token)
    if named and not (contact_name or "").strip():
        raise ValidationError(
            "ratings.text_required",
            "请填写姓名，以便回访。",
            "contact_name is required.",
            field="contact_name",
        )
    data = clean_rating_input(
        level,
        text,
        scores,
        named=named,
        contact_name=contact_name,
        contact_phone=contact_phone,
    )
    with transaction.atomic():
        row = (
            RatingToken.objects.select_for_update(of=("self",))
            .select_related("department", "item", "case")
            .get(pk=row.pk)
        )
        now = _now()
        if row.used_at is not None:
            raise Conflict(
                "ratings.token_used",
                "该评价码已使用过，每个评价码只能评价一次。",
                "This rating token has been used.",
            )
        if now >= row.expires_at:
            raise Conflict(
                "ratings.token_expired",
                "该评价码已过期。",
                "This rating token has expired.",
                details={"expired_at": row.expires_at.isoformat()},
            )
        case = row.case
        if row.kind == RatingKind.CASE:
            assert case is not None
            case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
            check_case_rateable(case)
        rating = _create_rating(
            kind=row.kind,
            case=case,
            visit_reference=row.visit_reference,
            department=row.department,
            item=row.item,
            data=data,
            channel=row.channel,
            rater=None,
            rater_name=data.contact_name if data.named else "",
            actor=f"token:{row.pk}",
        )
        row.used_at = now
        row.rating = rating
        row.save(update_fields=["used_at", "rating"])
    return rating


# --- rectification ------------------------------------------------------------------------------


def _step(
    rect: Rectification, action: str, before: str, actor: Any, note: str = "", *, at: Any = None
) -> None:
    RectificationStep.objects.create(
        rectification=rect,
        action=action,
        from_status=before,
        to_status=rect.status,
        actor=actor_ref(actor) if not isinstance(actor, str) else actor,
        actor_name=_display(actor) if not isinstance(actor, str) else "系统",
        note=note,
        at=at or _now(),
    )


def _audit(
    rect: Rectification, verb: str, before: str, after: Mapping[str, Any], actor: Any
) -> None:
    audit.record(
        f"ratings:rectification:{verb}",
        "ratings.rectification",
        rect.pk,
        before={"status": before},
        after={"status": rect.status, **after},
        actor=actor if isinstance(actor, str) else actor_ref(actor),
    )


def _subject(rating: Rating) -> str:
    """What was rated, in words (no personal data: it goes into messages)."""
    item = rating.item.name if rating.item_id and rating.item else ""
    if rating.kind == RatingKind.CASE and rating.case is not None:
        return f"办件{rating.case.number}（{rating.case.item_name}）"
    return f"窗口服务{rating.visit_reference}" + (f"（{item}）" if item else "")


def _message(user: Any, template: str, context: Mapping[str, Any], dedupe: str) -> None:
    """An in-site message, queued on commit; a missing or broken template is logged, not
    raised: a rating or a rectification must not fail over a notification."""
    from zwfw.notifications.services import queue_message

    try:
        queue_message(
            channel="site",
            recipient="",
            template_code=template,
            context=context,
            user=user,
            dedupe_key=dedupe,
        )
    except (NotFound, ValidationError) as error:
        log.warning("ratings: message %s not queued: %s", template, error.code)


def _notify_department(rect: Rectification) -> None:
    rating = rect.rating
    managers = (
        StaffMembership.objects.filter(
            department_id=rect.department_id, role__in=DEPARTMENT_MANAGERS
        )
        .exclude(valid_until__lt=timezone.localdate())
        .select_related("user")
    )
    context = {
        "department": rect.department.name,
        "level": Level(rating.level).label,
        "subject": _subject(rating),
        "deadline": rect.deadline.isoformat(),
    }
    for user in {m.user_id: m.user for m in managers}.values():
        _message(user, "ratings.bad_rating", context, f"rating:{rating.pk}:bad:{user.pk}")


def _notify_rater(rect: Rectification) -> None:
    rating = rect.rating
    if rating.rater_id is None:
        return  # a QR rating is anonymous: the return call is the answer
    context = {
        "department": rect.department.name,
        "subject": _subject(rating),
        "measures": rect.measures,
    }
    _message(rating.rater, "ratings.rectification_closed", context, f"rating:{rating.pk}:closed")


def _open_rectification(rating: Rating, actor: str) -> Rectification:
    now = _now()
    deadline = cal.add_working_days(cal.local_date(now), settings.RATINGS_RECTIFICATION_DAYS)
    rect = Rectification.objects.create(
        rating=rating, department=rating.department, opened_at=now, deadline=deadline
    )
    _step(
        rect,
        "open",
        "",
        "system",
        f"差评（{Level(rating.level).label}），整改期限 {deadline}",
        at=now,
    )
    _audit(rect, "open", "", {"rating": rating.pk, "deadline": deadline}, actor)
    _notify_department(rect)
    return rect


def _locked(rect: Rectification) -> Rectification:
    return (
        Rectification.objects.select_for_update(of=("self",))
        .select_related("rating", "department")
        .get(pk=rect.pk)
    )


def _wrong_status(rect: Rectification, action: str, allowed: tuple[str, ...]) -> Conflict:
    labels = "、".join(RectificationStatus(s).label for s in allowed)
    return Conflict(
        "ratings.wrong_status",
        f"整改当前状态为“{RectificationStatus(rect.status).label}”，不能{action}（仅{labels}时可以）。",
        f"The rectification is {rect.status}; {action} needs one of {', '.join(allowed)}.",
        details={"status": rect.status, "allowed": list(allowed)},
    )


def _require_status(rect: Rectification, action: str, *allowed: str) -> None:
    if rect.status not in allowed:
        raise _wrong_status(rect, action, allowed)


def _require_manager(user: Any, rect: Rectification, action: str) -> None:
    if not manages(user, rect.department_id):
        raise PermissionDenied(
            "ratings.not_department_manager",
            f"只有{rect.department.name}的部门管理员或决定人员可以{action}。",
            f"Only a department_admin or decider of department {rect.department_id} may {action}.",
            details={"department": rect.department_id},
        )


def _require_supervisor(user: Any, action: str) -> None:
    if not is_supervisor(user):
        raise PermissionDenied(
            "ratings.not_supervisor",
            f"只有监察人员可以{action}。",
            f"Only a supervisor may {action}.",
        )


def verify(
    user: Any,
    rect: Rectification,
    *,
    outcome: str,
    verification: str,
    measures: str,
    ledger_deadline: dt.date | None = None,
) -> Rectification:
    """The department's verified answer: 立行立改 (fixed), 限期整改 (ledger, with a deadline)
    or 解释说明 (explained, when the request had no legal basis)."""
    if outcome not in OUTCOMES:
        raise ValidationError(
            "ratings.outcome",
            "整改方式应为 fixed 立行立改、ledger 限期整改 或 explained 解释说明。",
            "outcome must be fixed, ledger or explained.",
            field="outcome",
            details={"allowed": [o.value for o in OUTCOMES]},
        )
    verification = _text(verification, "verification", "核实情况", required=True, limit=MAX_TEXT)
    measures = _text(measures, "measures", "整改措施或说明", required=True, limit=MAX_TEXT)
    today = cal.local_date(_now())
    if outcome == RectificationStatus.LEDGER:
        if ledger_deadline is None:
            raise ValidationError(
                "ratings.ledger_deadline_required",
                "限期整改须填写整改期限。",
                "A ledger entry needs ledger_deadline.",
                field="ledger_deadline",
            )
        if ledger_deadline < today or ledger_deadline > today + dt.timedelta(days=366):
            raise ValidationError(
                "ratings.ledger_deadline_range",
                "整改期限应在今天到一年之内。",
                "ledger_deadline must be between today and one year ahead.",
                field="ledger_deadline",
            )
    elif ledger_deadline is not None:
        raise ValidationError(
            "ratings.ledger_deadline_unexpected",
            "只有限期整改需要填写整改期限。",
            "ledger_deadline applies only to outcome ledger.",
            field="ledger_deadline",
        )
    with transaction.atomic():
        rect = _locked(rect)
        _require_manager(user, rect, "核实整改")
        _require_status(rect, "核实整改", *AWAITING_DEPARTMENT)
        before = rect.status
        rect.status = outcome
        rect.outcome = outcome
        rect.verification = verification
        rect.measures = measures
        rect.ledger_deadline = ledger_deadline
        rect.verified_at = _now()
        rect.verified_by = _display(user)
        rect.save()
        note = measures if ledger_deadline is None else f"{measures}（整改期限 {ledger_deadline}）"
        _step(rect, "verify", before, user, note)
        _audit(
            rect, "verify", before, {"outcome": outcome, "ledger_deadline": ledger_deadline}, user
        )
    return rect


def record_return_call(
    user: Any, rect: Rectification, *, summary: str, called_at: dt.datetime | None = None
) -> Rectification:
    """Log the return call (回访) to the rater: when, by whom, what was said."""
    summary = _text(summary, "summary", "回访情况", required=True, limit=MAX_TEXT)
    with transaction.atomic():
        rect = _locked(rect)
        _require_manager(user, rect, "登记回访")
        open_statuses = (*AWAITING_DEPARTMENT, *OUTCOMES)
        _require_status(rect, "登记回访", *open_statuses)
        now = _now()
        at = called_at or now
        if at > now + dt.timedelta(minutes=5) or at < rect.rating.created_at:
            raise ValidationError(
                "ratings.return_call_time",
                "回访时间应在评价之后、当前时间之前。",
                "called_at must lie between the rating and now.",
                field="called_at",
            )
        rect.return_call_at = at
        rect.return_call_by = _display(user)
        rect.return_call_summary = summary
        rect.save()
        _step(rect, "return_call", rect.status, user, summary, at=now)
        _audit(rect, "return_call", rect.status, {"called_at": at}, user)
    return rect


def appeal(user: Any, rect: Rectification, *, reason: str) -> Rectification:
    """申诉: the department holds the rating malicious or mistaken (once, while verifying)."""
    reason = _text(reason, "reason", "申诉理由", required=True, limit=MAX_TEXT)
    with transaction.atomic():
        rect = _locked(rect)
        _require_manager(user, rect, "申诉")
        _require_status(rect, "申诉", RectificationStatus.VERIFYING)
        before = rect.status
        rect.status = RectificationStatus.APPEALED
        rect.appeal_reason = reason
        rect.appealed_at = _now()
        rect.save()
        _step(rect, "appeal", before, user, reason)
        _audit(rect, "appeal", before, {}, user)
    return rect


def review_appeal(user: Any, rect: Rectification, *, uphold: bool, opinion: str) -> Rectification:
    """复核: uphold (the rating stays on record, excluded from statistics) or reject (the
    department must rectify after all)."""
    opinion = _text(opinion, "opinion", "复核意见", required=True, limit=MAX_TEXT)
    with transaction.atomic():
        rect = _locked(rect)
        _require_supervisor(user, "复核申诉")
        _require_status(rect, "复核申诉", RectificationStatus.APPEALED)
        before = rect.status
        rect.status = (
            RectificationStatus.APPEAL_UPHELD if uphold else RectificationStatus.APPEAL_REJECTED
        )
        rect.appeal_opinion = opinion
        rect.appeal_reviewed_at = _now()
        rect.appeal_reviewed_by = _display(user)
        rect.save()
        if uphold:
            Rating.objects.filter(pk=rect.rating_id).update(excluded=True)
            rect.rating.excluded = True
            audit.record(
                "ratings:rating:exclude",
                "ratings.rating",
                rect.rating_id,
                before={"excluded": False},
                after={"excluded": True, "rectification": rect.pk},
                actor=actor_ref(user),
            )
        _step(rect, "appeal_review", before, user, opinion)
        _audit(rect, "appeal_review", before, {"uphold": uphold}, user)
    return rect


def close(user: Any, rect: Rectification, *, opinion: str) -> Rectification:
    """The supervisor closes a verified rectification (after the return call, if one is owed)."""
    opinion = _text(opinion, "opinion", "办结意见", required=True, limit=MAX_TEXT)
    with transaction.atomic():
        rect = _locked(rect)
        _require_supervisor(user, "办结整改")
        _require_status(rect, "办结整改", *OUTCOMES)
        if rect.rating.named and rect.return_call_at is None:
            raise Conflict(
                "ratings.return_call_required",
                "评价人留下了联系方式，须先登记回访情况才能办结。",
                "The rater left a contact: log the return call before closing.",
            )
        before = rect.status
        rect.status = RectificationStatus.CLOSED
        rect.closed_at = _now()
        rect.closed_by = _display(user)
        rect.close_opinion = opinion
        rect.save()
        _step(rect, "close", before, user, opinion)
        _audit(rect, "close", before, {"outcome": rect.outcome}, user)
        _notify_rater(rect)
    return rect
