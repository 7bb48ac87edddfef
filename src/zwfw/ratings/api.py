"""好差评 API (``/api/v1/ratings…``, ``/api/v1/rectifications…``): thin over the services.

- Applicants rate their case (``POST /ratings``); anyone holding a QR code rates through its
  token (``GET``/``POST /ratings/by-token/{token}``, no login); clerks create visit tokens.
- Department staff read their departments' ratings and rectifications and answer them;
  supervisors read the node's, review appeals and close.
- ``GET /ratings/stats`` is public: counts and rates, no personal data.

Staff see the rater's name masked (李*) and the free text with phone and ID numbers masked;
the full return-call number is a separate, audited read (``…/contact``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import segno
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.security import django_auth
from pydantic import Field

from zwfw.api.requesting import acting_uscc as _acting
from zwfw.api.requesting import current_user as _me
from zwfw.cases import selectors as case_selectors
from zwfw.core import audit, idempotency
from zwfw.core.errors import Conflict, NotFound, PermissionDenied
from zwfw.core.masking import mask_phone, mask_text
from zwfw.identity.models import User
from zwfw.organisations.models import Department
from zwfw.ratings import selectors, services
from zwfw.ratings.models import (
    DIMENSION_LABELS,
    DIMENSIONS,
    Channel,
    Level,
    Rating,
    RatingKind,
    Rectification,
    RectificationStatus,
)

router = Router(tags=["ratings"])
MAX_ID = 2**63 - 1
Text = Field("", max_length=2000)


# --- schemas ------------------------------------------------------------------------------------


class Scores(Schema):
    efficiency: int | None = Field(None, description="办事效率 1–5（5 最好）")
    guide_accuracy: int | None = Field(None, description="办事指南准确度 1–5")
    convenience: int | None = Field(None, description="办事便捷度 1–5")
    attitude: int | None = Field(None, description="服务态度 1–5")


class RateCaseIn(Schema):
    case: str = Field(..., max_length=32, description="办件 id 或办件编号")
    level: int = Field(
        ..., description="评价等级：1 非常满意 2 满意 3 基本满意 4 不满意 5 非常不满意"
    )
    text: str = Field("", max_length=500, description="评价内容（差评必填）")
    scores: Scores | None = None
    channel: str = Field("1", max_length=1, description="1 PC端 2 移动端")
    named: bool = Field(False, description="留下联系方式，接受回访")
    contact_phone: str = Field("", max_length=20, description="回访电话（默认账号手机）")


class RateTokenIn(Schema):
    level: int = Field(..., description="评价等级：1 非常满意 … 5 非常不满意")
    text: str = Field("", max_length=500)
    scores: Scores | None = None
    named: bool = False
    contact_name: str = Field("", max_length=32)
    contact_phone: str = Field("", max_length=20)


class VisitTokenIn(Schema):
    department_id: int = Field(..., ge=1, le=MAX_ID)
    visit_reference: str = Field(
        "", max_length=64, description="窗口服务编号（如排队号），空则生成"
    )
    item_code: str = Field("", max_length=64, description="所办事项实施编码（可选）")
    channel: str = Field("3", max_length=1, description="3 二维码 4 大厅平板 5 大厅其他终端")


class VisitTokenOut(Schema):
    token: str
    url: str
    visit_reference: str
    expires_at: dt.datetime
    qr_svg: str = Field(description="打印或显示用的二维码（SVG）")


class RatingOut(Schema):
    id: int
    kind: str
    kind_label: str
    case_number: str | None
    visit_reference: str
    department_id: int
    department: str
    item_code: str | None
    item_name: str | None
    level: int
    level_label: str
    stars: int
    scores: Scores
    text: str
    channel: str
    channel_label: str
    rater_name: str
    named: bool
    excluded: bool
    created_at: dt.datetime
    rectification_id: int | None
    rectification_status: str | None


class RatingPage(Schema):
    items: list[RatingOut]
    next_cursor: str | None


class StepOut(Schema):
    action: str
    from_status: str
    to_status: str
    actor_name: str
    note: str
    at: dt.datetime


class RectificationOut(Schema):
    id: int
    status: str
    status_label: str
    department_id: int
    department: str
    rating: RatingOut
    opened_at: dt.datetime
    deadline: dt.date
    overdue: bool
    outcome: str
    verification: str
    measures: str
    ledger_deadline: dt.date | None
    verified_at: dt.datetime | None
    verified_by: str
    return_call_at: dt.datetime | None
    return_call_by: str
    return_call_summary: str
    return_call_required: bool
    contact_phone: str = Field(description="回访电话（脱敏；完整号码见 …/contact）")
    appeal_reason: str
    appealed_at: dt.datetime | None
    appeal_opinion: str
    appeal_reviewed_at: dt.datetime | None
    appeal_reviewed_by: str
    closed_at: dt.datetime | None
    closed_by: str
    close_opinion: str
    steps: list[StepOut] | None = None


class RectificationPage(Schema):
    items: list[RectificationOut]
    next_cursor: str | None


class VerifyIn(Schema):
    outcome: str = Field(
        ..., max_length=10, description="fixed 立行立改 / ledger 限期整改 / explained 解释说明"
    )
    verification: str = Text
    measures: str = Text
    ledger_deadline: dt.date | None = None


class ReturnCallIn(Schema):
    summary: str = Text
    called_at: dt.datetime | None = None


class AppealIn(Schema):
    reason: str = Text


class AppealReviewIn(Schema):
    uphold: bool
    opinion: str = Text


class CloseIn(Schema):
    opinion: str = Text


class ContactOut(Schema):
    rater_name: str
    contact_phone: str


class TokenFormOut(Schema):
    kind: str
    kind_label: str
    state: str = Field(description="open / used / expired / rated / not_yet")
    state_label: str
    department: str
    item_name: str | None
    case_number: str | None
    expires_at: dt.datetime
    levels: list[dict[str, Any]]
    dimensions: list[dict[str, str]]


class StatsOut(Schema):
    department_id: int | None
    department: str | None
    item_code: str | None
    item_name: str | None
    from_: dt.date | None = Field(None, alias="from")
    to: dt.date | None
    total: int
    by_level: dict[str, int] = Field(description="评价等级代码 → 条数")
    satisfied: int
    good: int
    bad: int
    rectified: int
    satisfaction_rate: float | None = Field(description="(非常满意+满意)/总数")
    good_rate: float | None = Field(description="好评率 (非常满意+满意+基本满意)/总数")
    bad_rate: float | None
    rectification_rate: float | None = Field(description="已办结整改的差评/差评")


class RatingFilter(Schema):
    department_id: int | None = Field(None, ge=1, le=MAX_ID)
    level: int | None = Field(None, ge=1, le=5)
    kind: str | None = Field(None, max_length=5)
    bad_only: bool = False
    date_from: dt.date | None = Field(None, alias="from")
    date_to: dt.date | None = Field(None, alias="to")
    cursor: str | None = Field(None, max_length=200)
    limit: int = 20


class RectificationFilter(Schema):
    status: str | None = Field(None, max_length=16)
    overdue: bool | None = None
    department_id: int | None = Field(None, ge=1, le=MAX_ID)
    cursor: str | None = Field(None, max_length=200)
    limit: int = 20


class StatsFilter(Schema):
    department: int | None = Field(None, ge=1, le=MAX_ID, description="部门 id")
    item: str | None = Field(None, max_length=64, description="事项实施编码")
    date_from: dt.date | None = Field(None, alias="from")
    date_to: dt.date | None = Field(None, alias="to")


# --- serialisation ------------------------------------------------------------------------------

STATE_LABELS = {
    "open": "可以评价",
    "used": "该评价码已使用",
    "expired": "该评价码已过期",
    "rated": "已评价过",
    "not_yet": "办件办结后才能评价",
}


def rating_out(rating: Rating) -> dict[str, Any]:
    rect: Rectification | None = getattr(rating, "rectification", None)
    return {
        "id": rating.pk,
        "kind": rating.kind,
        "kind_label": RatingKind(rating.kind).label,
        "case_number": rating.case.number if rating.case_id and rating.case else None,
        "visit_reference": rating.visit_reference,
        "department_id": rating.department_id,
        "department": rating.department.name,
        "item_code": rating.item.implementation_code if rating.item else None,
        "item_name": rating.item.name if rating.item else None,
        "level": rating.level,
        "level_label": Level(rating.level).label,
        "stars": rating.stars,
        "scores": {key: getattr(rating, key) for key in DIMENSIONS},
        "text": mask_text(rating.text or ""),
        "channel": rating.channel,
        "channel_label": Channel(rating.channel).label,
        "rater_name": rating.rater_name,
        "named": rating.named,
        "excluded": rating.excluded,
        "created_at": rating.created_at,
        "rectification_id": rect.pk if rect else None,
        "rectification_status": rect.status if rect else None,
    }


def rectification_out(rect: Rectification, *, detail: bool = False) -> dict[str, Any]:
    from zwfw.core import calendar as cal

    today = cal.local_date(services._now())
    rating = rect.rating
    rating.rectification = rect
    out = {
        "id": rect.pk,
        "status": rect.status,
        "status_label": RectificationStatus(rect.status).label,
        "department_id": rect.department_id,
        "department": rect.department.name,
        "rating": rating_out(rating),
        "opened_at": rect.opened_at,
        "deadline": rect.deadline,
        "overdue": rect.is_overdue(today),
        "outcome": rect.outcome,
        "verification": rect.verification,
        "measures": rect.measures,
        "ledger_deadline": rect.ledger_deadline,
        "verified_at": rect.verified_at,
        "verified_by": rect.verified_by,
        "return_call_at": rect.return_call_at,
        "return_call_by": rect.return_call_by,
        "return_call_summary": rect.return_call_summary,
        "return_call_required": rating.named,
        "contact_phone": mask_phone(rating.contact_phone),
        "appeal_reason": rect.appeal_reason,
        "appealed_at": rect.appealed_at,
        "appeal_opinion": rect.appeal_opinion,
        "appeal_reviewed_at": rect.appeal_reviewed_at,
        "appeal_reviewed_by": rect.appeal_reviewed_by,
        "closed_at": rect.closed_at,
        "closed_by": rect.closed_by,
        "close_opinion": rect.close_opinion,
    }
    if detail:
        out["steps"] = [
            {
                "action": s.action,
                "from_status": s.from_status,
                "to_status": s.to_status,
                "actor_name": s.actor_name,
                "note": s.note,
                "at": s.at,
            }
            for s in rect.steps.order_by("id")
        ]
    return out


def token_form(row: Any) -> dict[str, Any]:
    state = services.token_state(row)
    return {
        "kind": row.kind,
        "kind_label": RatingKind(row.kind).label,
        "state": state,
        "state_label": STATE_LABELS[state],
        "department": row.department.name,
        "item_name": row.item.name if row.item else None,
        "case_number": row.case.number if row.case else None,
        "expires_at": row.expires_at,
        "levels": [{"level": lv.value, "label": lv.label, "stars": 6 - lv.value} for lv in Level],
        "dimensions": [{"key": k, "label": DIMENSION_LABELS[k]} for k in DIMENSIONS],
    }


# --- rating -------------------------------------------------------------------------------------


@router.post(
    "/ratings",
    response={201: RatingOut},
    auth=django_auth,
    summary="Rate my case (一事一评) — 我要评",
)
def rate_case(request: HttpRequest, body: RateCaseIn) -> Status:
    user = _me(request)

    def create() -> tuple[int, Any]:
        case = case_selectors.case_for_applicant(user, body.case, _acting(request))
        rating = services.rate_case(
            user,
            case,
            level=body.level,
            text=body.text,
            scores=body.scores.dict() if body.scores else None,
            channel=body.channel,
            named=body.named,
            contact_phone=body.contact_phone,
            acting_uscc=_acting(request),
        )
        return 201, rating_out(rating)

    status, payload = idempotency.run(request, body.dict(), create)
    return Status(status, payload)


class CaseRatingOut(Schema):
    case_number: str | None
    rateable: bool = Field(description="可以评价（已办结，或超期未办结）且尚未评价")
    reason: str = Field(description="不能评价时的原因")
    rating: RatingOut | None


@router.get(
    "/ratings/mine",
    response=RatingPage,
    auth=django_auth,
    summary="My ratings — 我的评价",
)
def my_ratings(request: HttpRequest, cursor: str | None = None, limit: int = 20) -> dict[str, Any]:
    user = _me(request)
    page = selectors.my_ratings(user, cursor=cursor, limit=limit)
    return {"items": [rating_out(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/ratings/for-case/{ref}",
    response=CaseRatingOut,
    auth=django_auth,
    summary="Whether the applicant can rate a case now, and the rating if given",
)
def case_rating(request: HttpRequest, ref: str) -> dict[str, Any]:
    user = _me(request)
    case = case_selectors.case_for_applicant(user, ref, _acting(request))
    rating = selectors.case_rating(case)
    reason = ""
    if rating is not None:
        reason = "该办件已评价。"
    else:
        try:
            services.check_case_rateable(case)
        except Conflict as error:
            reason = error.message
    return {
        "case_number": case.number,
        "rateable": not reason,
        "reason": reason,
        "rating": rating_out(rating) if rating else None,
    }


@router.get(
    "/ratings/stats",
    response=StatsOut,
    by_alias=True,
    summary="Public rating statistics per department / item (no personal data)",
)
def rating_stats(request: HttpRequest, filters: Query[StatsFilter]) -> dict[str, Any]:
    return selectors.statistics(
        department_id=filters.department,
        item_code=filters.item,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )


@router.get(
    "/ratings/by-token/{token}",
    response=TokenFormOut,
    summary="What a rating QR code rates, and whether it can still be used (public)",
)
def token_info(request: HttpRequest, token: str) -> dict[str, Any]:
    return token_form(services.token_row(token))


@router.post(
    "/ratings/by-token/{token}",
    response={201: RatingOut},
    summary="Rate through a QR code, without logging in (once per code)",
)
def rate_by_token(request: HttpRequest, token: str, body: RateTokenIn) -> Status:
    rating = services.rate_by_token(
        token,
        level=body.level,
        text=body.text,
        scores=body.scores.dict() if body.scores else None,
        named=body.named,
        contact_name=body.contact_name,
        contact_phone=body.contact_phone,
    )
    out = rating_out(rating)
    # The rater is anonymous to this endpoint: no need to echo the rectification.
    return Status(201, out)


@router.post(
    "/ratings/visit-tokens",
    response={201: VisitTokenOut},
    auth=django_auth,
    summary="A window clerk creates the QR code for one counter visit (一次一评)",
)
def create_visit_token(request: HttpRequest, body: VisitTokenIn) -> Status:
    user = _me(request)
    department = Department.objects.filter(pk=body.department_id).first()
    if department is None:
        raise NotFound("ratings.department_unknown", "部门不存在。", "Unknown department.")
    row, token = services.issue_visit_token(
        user,
        department=department,
        visit_reference=body.visit_reference,
        item_code=body.item_code,
        channel=body.channel,
    )
    url = services.token_url(token)
    qr = segno.make(url, error="m").svg_inline(scale=4)
    return Status(
        201,
        {
            "token": token,
            "url": url,
            "visit_reference": row.visit_reference,
            "expires_at": row.expires_at,
            "qr_svg": qr,
        },
    )


@router.get(
    "/ratings",
    response=RatingPage,
    auth=django_auth,
    summary="Ratings of my departments (supervisors: the node's)",
)
def list_ratings(request: HttpRequest, filters: Query[RatingFilter]) -> dict[str, Any]:
    user = _me(request)
    page = selectors.ratings_for_staff(
        user,
        department_id=filters.department_id,
        level=filters.level,
        kind=filters.kind,
        bad_only=filters.bad_only,
        date_from=filters.date_from,
        date_to=filters.date_to,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [rating_out(r) for r in page.items], "next_cursor": page.next_cursor}


# --- rectification ------------------------------------------------------------------------------


@router.get(
    "/rectifications",
    response=RectificationPage,
    auth=django_auth,
    summary="Rectifications of bad ratings (department staff: theirs; supervisors: all)",
)
def list_rectifications(
    request: HttpRequest, filters: Query[RectificationFilter]
) -> dict[str, Any]:
    user = _me(request)
    page = selectors.rectifications_for_staff(
        user,
        status=filters.status,
        overdue=filters.overdue,
        department_id=filters.department_id,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {
        "items": [rectification_out(r) for r in page.items],
        "next_cursor": page.next_cursor,
    }


def _rect(request: HttpRequest, rect_id: int, purpose: str) -> tuple[User, Rectification]:
    user = _me(request)
    if not 0 < rect_id <= MAX_ID:
        raise NotFound(
            "ratings.rectification_unknown", "整改记录不存在。", "Unknown rectification."
        )
    return user, selectors.rectification_for_staff(user, rect_id, purpose=purpose)


@router.get(
    "/rectifications/{rect_id}",
    response=RectificationOut,
    auth=django_auth,
    summary="One rectification with its history",
)
def get_rectification(request: HttpRequest, rect_id: int) -> dict[str, Any]:
    _user, rect = _rect(request, rect_id, "rectification")
    return rectification_out(rect, detail=True)


@router.get(
    "/rectifications/{rect_id}/contact",
    response=ContactOut,
    auth=django_auth,
    summary="The rater's full return-call number (department managers; audited)",
)
def rectification_contact(request: HttpRequest, rect_id: int) -> dict[str, Any]:
    user, rect = _rect(request, rect_id, "return_call")
    if not services.manages(user, rect.department_id):
        raise PermissionDenied(
            "ratings.not_department_manager",
            "只有本部门的部门管理员或决定人员可以查看回访电话。",
            "Only the department's managers may read the contact.",
        )
    if not rect.rating.named:
        raise NotFound("ratings.no_contact", "评价人未留联系方式。", "The rater left no contact.")
    audit.record_read(
        "ratings.rating", rect.rating_id, purpose="return_call", fields=["contact_phone"]
    )
    return {"rater_name": rect.rating.rater_name, "contact_phone": rect.rating.contact_phone}


@router.post(
    "/rectifications/{rect_id}/verify",
    response=RectificationOut,
    auth=django_auth,
    summary="核实: fixed 立行立改 / ledger 限期整改 / explained 解释说明",
)
def verify(request: HttpRequest, rect_id: int, body: VerifyIn) -> dict[str, Any]:
    user, rect = _rect(request, rect_id, "verify")
    rect = services.verify(
        user,
        rect,
        outcome=body.outcome,
        verification=body.verification,
        measures=body.measures,
        ledger_deadline=body.ledger_deadline,
    )
    return rectification_out(rect, detail=True)


@router.post(
    "/rectifications/{rect_id}/return-call",
    response=RectificationOut,
    auth=django_auth,
    summary="回访: log the return call to the rater",
)
def return_call(request: HttpRequest, rect_id: int, body: ReturnCallIn) -> dict[str, Any]:
    user, rect = _rect(request, rect_id, "return_call")
    rect = services.record_return_call(user, rect, summary=body.summary, called_at=body.called_at)
    return rectification_out(rect, detail=True)


@router.post(
    "/rectifications/{rect_id}/appeal",
    response=RectificationOut,
    auth=django_auth,
    summary="申诉: the department contests a malicious or mistaken rating",
)
def appeal(request: HttpRequest, rect_id: int, body: AppealIn) -> dict[str, Any]:
    user, rect = _rect(request, rect_id, "appeal")
    rect = services.appeal(user, rect, reason=body.reason)
    return rectification_out(rect, detail=True)


@router.post(
    "/rectifications/{rect_id}/appeal-review",
    response=RectificationOut,
    auth=django_auth,
    summary="复核: a supervisor upholds or rejects the appeal",
)
def appeal_review(request: HttpRequest, rect_id: int, body: AppealReviewIn) -> dict[str, Any]:
    user, rect = _rect(request, rect_id, "appeal_review")
    rect = services.review_appeal(user, rect, uphold=body.uphold, opinion=body.opinion)
    return rectification_out(rect, detail=True)


@router.post(
    "/rectifications/{rect_id}/close",
    response=RectificationOut,
    auth=django_auth,
    summary="办结: a supervisor closes the rectification",
)
def close(request: HttpRequest, rect_id: int, body: CloseIn) -> dict[str, Any]:
    user, rect = _rect(request, rect_id, "close")
    rect = services.close(user, rect, opinion=body.opinion)
    return rectification_out(rect, detail=True)
