"""好差评 through the services: J4's loop, appeals, the one-rating rule, who may do what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from zwfw.cases.models import Case, CaseStatus
from zwfw.core import calendar as cal
from zwfw.core.errors import Conflict, PermissionDenied, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.notifications.models import OutboxMessage
from zwfw.ratings import selectors, services
from zwfw.ratings.models import Rating, Rectification, RectificationStatus
from zwfw.ratings.tests.conftest import closed_case, submitted

pytestmark = pytest.mark.django_db

ANGRY = "三次电话都没人接"


def bad_rating(people: dict[str, Any], case: Case, **kwargs: Any) -> Rating:
    return services.rate_case(people["person"], case, level=5, text=ANGRY, **kwargs)


def snapshot(rect: Rectification) -> dict[str, Any]:
    rect.refresh_from_db()
    return {
        f.name: getattr(rect, f.name)
        for f in Rectification._meta.concrete_fields
        if f.name != "updated_at"
    } | {"steps": rect.steps.count(), "excluded": rect.rating.excluded}


def test_j4_bad_rating_to_closed_rectification(people: dict[str, Any], case: Case) -> None:
    rating = bad_rating(people, case, named=True)
    assert rating.level == 5
    assert rating.is_bad
    assert rating.stars == 1
    assert rating.department == people["market"]
    assert rating.item_id == case.item_id
    assert rating.rater_name == "李*"
    assert rating.contact_phone == "13800138000"  # the account's phone, encrypted at rest
    rect = rating.rectification
    assert rect.status == RectificationStatus.VERIFYING
    assert rect.department == people["market"]
    today = cal.local_date(timezone.now())
    assert rect.deadline == cal.add_working_days(today, 5)
    # The department's managers (部门管理员 孙主任, 决定人员 陈局) are told; nobody else.
    told = OutboxMessage.objects.filter(template_code="ratings.bad_rating")
    assert sorted(told.values_list("recipient_user__real_name", flat=True)) == ["孙主任", "陈局"]
    assert told.first().subject == f"差评待核实：办件{case.number}（{case.item_name}）"  # type: ignore[union-attr]

    deadline = today + dt.timedelta(days=20)
    rect = services.verify(
        people["admin"],
        rect,
        outcome="ledger",
        verification="核实：窗口电话占线，未安排专人接听。",
        measures="设专人接听咨询电话，列入整改台账。",
        ledger_deadline=deadline,
    )
    assert rect.status == RectificationStatus.LEDGER
    assert rect.ledger_deadline == deadline
    # A named rater is owed a return call before the supervisor may close.
    with pytest.raises(Conflict) as info:
        services.close(people["supervisor"], rect, opinion="同意办结")
    assert info.value.code == "ratings.return_call_required"
    rect = services.record_return_call(people["decider"], rect, summary="已致电李娜，说明整改措施")
    assert rect.return_call_by == "陈局"
    rect = services.close(people["supervisor"], rect, opinion="整改到位，同意办结")
    assert rect.status == RectificationStatus.CLOSED
    assert rect.closed_by == "赵刚"
    closed = OutboxMessage.objects.get(template_code="ratings.rectification_closed")
    assert closed.recipient_user == people["person"]
    steps = list(rect.steps.order_by("id").values_list("action", "to_status"))
    assert steps == [
        ("open", "verifying"),
        ("verify", "ledger"),
        ("return_call", "ledger"),
        ("close", "closed"),
    ]
    actions = list(
        AuditRecord.objects.filter(object_type="ratings.rectification", object_id=str(rect.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "ratings:rectification:open",
        "ratings:rectification:verify",
        "ratings:rectification:return_call",
        "ratings:rectification:close",
    ]
    created = AuditRecord.objects.get(action="ratings:rating:create", object_id=str(rating.pk))
    assert created.actor == f"user:{people['person'].pk}"
    # Neither the text nor the phone goes into the audit trail.
    assert ANGRY not in str(created.after)
    assert "13800138000" not in str(created.after)
    assert selectors.statistics(department_id=people["market"].pk)["rectified"] == 1


def test_text_is_encrypted_at_rest(people: dict[str, Any], case: Case) -> None:
    rating = bad_rating(people, case)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM ratings_rating WHERE id = %s", [rating.pk])
        (stored,) = cursor.fetchone()
    assert ANGRY not in stored
    assert Rating.objects.get(pk=rating.pk).text == ANGRY


def test_good_rating_opens_no_rectification(people: dict[str, Any], case: Case) -> None:
    rating = services.rate_case(
        people["person"], case, level=1, scores={"efficiency": 5, "attitude": 4}
    )
    assert not rating.is_bad
    assert rating.efficiency == 5
    assert rating.attitude == 4
    assert rating.convenience is None
    assert not Rectification.objects.exists()


def test_level_4_is_bad_and_level_3_is_not(people: dict[str, Any]) -> None:
    first, second = closed_case(people), closed_case(people)
    services.rate_case(people["person"], first, level=3)
    services.rate_case(people["person"], second, level=4, text="等了很久")
    assert list(Rectification.objects.values_list("rating__level", flat=True)) == [4]


def test_one_rating_per_case(people: dict[str, Any], case: Case) -> None:
    services.rate_case(people["person"], case, level=2)
    with pytest.raises(Conflict) as info:
        services.rate_case(people["person"], case, level=5, text="改主意了")
    assert info.value.code == "ratings.already_rated"
    assert Rating.objects.get().level == 2
    assert not Rectification.objects.exists()


def test_only_the_applicant_rates(people: dict[str, Any], case: Case) -> None:
    for who in ("stranger", "clerk", "supervisor", "agent"):
        with pytest.raises(PermissionDenied):
            services.rate_case(people[who], case, level=5, text="x")
    assert not Rating.objects.exists()


def test_agent_rates_the_company_case_while_acting_for_it(people: dict[str, Any]) -> None:
    from zwfw.cases import services as cases
    from zwfw.cases.models import CaseTask

    uscc = people["company"].uscc
    case = cases.create_draft(
        people["agent"], "XK00012000-3-511600-11511600511600040M-01", acting_uscc=uscc
    )
    from zwfw.cases.tests.conftest import PDF

    for index, entry in enumerate(case.item_version.content.get("materials", [])):
        if entry.get("required", True):
            cases.add_material_upload(
                people["agent"],
                case,
                checklist_index=index,
                name="a.pdf",
                data=PDF + bytes([index]),
                acting_uscc=uscc,
            )
    case = cases.submit(people["agent"], case, acting_uscc=uscc).case
    case = cases.refuse(people["clerk"], case, "材料不符合法定形式")
    assert case.status == CaseStatus.REFUSED
    with pytest.raises(PermissionDenied):
        services.rate_case(people["agent"], case, level=2)  # not acting for the company
    rating = services.rate_case(people["agent"], case, level=2, acting_uscc=uscc)
    assert rating.rater == people["agent"]
    assert CaseTask  # imported for the fixture's process


def test_open_case_is_rateable_only_when_overdue(people: dict[str, Any]) -> None:
    case = submitted(people)
    from zwfw.cases import services as cases

    case = cases.accept(people["clerk"], case, opinion="受理")
    assert case.status == CaseStatus.IN_PROGRESS
    assert case.due_date
    with pytest.raises(Conflict) as info:
        services.rate_case(people["person"], case, level=5, text=ANGRY)
    assert info.value.code == "ratings.case_not_rateable"
    # J4: the promised days have passed with no decision — the applicant may rate now.
    Case.objects.filter(pk=case.pk).update(
        due_date=cal.local_date(timezone.now()) - dt.timedelta(days=1)
    )
    case.refresh_from_db()
    rating = services.rate_case(people["person"], case, level=5, text=ANGRY)
    assert rating.rectification.status == RectificationStatus.VERIFYING


def test_withdrawn_and_draft_cases_are_not_rateable(people: dict[str, Any]) -> None:
    from zwfw.cases import services as cases

    draft = cases.create_draft(people["person"], "XK00012000-3-511600-11511600511600040M-01")
    withdrawn = cases.withdraw(people["person"], submitted(people), "不办了")
    for case in (draft, withdrawn):
        with pytest.raises(Conflict):
            services.rate_case(people["person"], case, level=1)
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"level": 0}, "ratings.level"),
        ({"level": 6}, "ratings.level"),
        ({"level": "5"}, "ratings.level"),
        ({"level": True}, "ratings.level"),
        ({"level": 5}, "ratings.text_required"),
        ({"level": 4, "text": "   "}, "ratings.text_required"),
        ({"level": 1, "text": "好" * 501}, "ratings.text_too_long"),
        ({"level": 1, "scores": {"speed": 3}}, "ratings.dimension_unknown"),
        ({"level": 1, "scores": {"attitude": 6}}, "ratings.score"),
        ({"level": 1, "scores": {"attitude": 0}}, "ratings.score"),
        ({"level": 1, "channel": "3"}, "ratings.channel"),
        ({"level": 1, "named": True, "contact_phone": "12345"}, "mobile.length"),
    ],
)
def test_bad_input_is_refused(
    people: dict[str, Any], case: Case, kwargs: dict[str, Any], code: str
) -> None:
    with pytest.raises(ValidationError) as info:
        services.rate_case(people["person"], case, **kwargs)
    assert info.value.code == code
    assert not Rating.objects.exists()


def test_appeal_upheld_keeps_the_rating_out_of_statistics(
    people: dict[str, Any], case: Case
) -> None:
    rect = bad_rating(people, case).rectification
    before = selectors.statistics(department_id=people["market"].pk)
    assert (before["total"], before["bad"]) == (1, 1)
    rect = services.appeal(people["admin"], rect, reason="办件当场办结，评价人所述与事实不符")
    assert rect.status == RectificationStatus.APPEALED
    rect = services.review_appeal(people["supervisor"], rect, uphold=True, opinion="申诉成立")
    assert rect.status == RectificationStatus.APPEAL_UPHELD
    rating = Rating.objects.get()
    assert rating.excluded
    assert rating.text == ANGRY
    after = selectors.statistics(department_id=people["market"].pk)
    assert (after["total"], after["bad"], after["rectification_rate"]) == (0, 0, None)
    assert AuditRecord.objects.filter(action="ratings:rating:exclude").count() == 1
    # Final: nothing more happens to it.
    with pytest.raises(Conflict):
        services.verify(people["admin"], rect, outcome="fixed", verification="x", measures="y")
    with pytest.raises(Conflict):
        services.close(people["supervisor"], rect, opinion="x")


def test_appeal_rejected_means_rectify_after_all(people: dict[str, Any], case: Case) -> None:
    rect = bad_rating(people, case).rectification
    rect = services.appeal(people["admin"], rect, reason="恶意差评")
    rect = services.review_appeal(people["supervisor"], rect, uphold=False, opinion="理由不充分")
    assert rect.status == RectificationStatus.APPEAL_REJECTED
    assert not Rating.objects.get().excluded
    # One appeal only.
    with pytest.raises(Conflict):
        services.appeal(people["admin"], rect, reason="再次申诉")
    rect = services.verify(
        people["admin"], rect, outcome="fixed", verification="属实", measures="已当场改正"
    )
    rect = services.close(people["supervisor"], rect, opinion="同意")
    assert rect.status == RectificationStatus.CLOSED
    assert [s.action for s in rect.steps.order_by("id")] == [
        "open",
        "appeal",
        "appeal_review",
        "verify",
        "close",
    ]


def test_verify_rules(people: dict[str, Any], case: Case) -> None:
    rect = bad_rating(people, case).rectification
    today = cal.local_date(timezone.now())
    cases = [
        ({"outcome": "ignore", "verification": "a", "measures": "b"}, "ratings.outcome"),
        ({"outcome": "fixed", "verification": "", "measures": "b"}, "ratings.text_required"),
        ({"outcome": "explained", "verification": "a", "measures": ""}, "ratings.text_required"),
        (
            {"outcome": "ledger", "verification": "a", "measures": "b"},
            "ratings.ledger_deadline_required",
        ),
        (
            {
                "outcome": "ledger",
                "verification": "a",
                "measures": "b",
                "ledger_deadline": today - dt.timedelta(days=1),
            },
            "ratings.ledger_deadline_range",
        ),
        (
            {"outcome": "fixed", "verification": "a", "measures": "b", "ledger_deadline": today},
            "ratings.ledger_deadline_unexpected",
        ),
    ]
    state = snapshot(rect)
    for kwargs, code in cases:
        with pytest.raises(ValidationError) as info:
            services.verify(people["admin"], rect, **kwargs)
        assert info.value.code == code
    assert snapshot(rect) == state


def test_denied_actions_change_nothing(people: dict[str, Any], case: Case) -> None:
    rect = bad_rating(people, case).rectification
    state = snapshot(rect)
    audits = AuditRecord.objects.count()
    department_actions = [
        lambda u: services.verify(u, rect, outcome="fixed", verification="a", measures="b"),
        lambda u: services.appeal(u, rect, reason="r"),
        lambda u: services.record_return_call(u, rect, summary="s"),
    ]
    # Applicant, other citizen, clerk of another department, a reviewer of the department
    # (staff, but not one who answers for it) and the supervisor may not answer for market.
    for who in ("person", "stranger", "other_clerk", "reviewer", "supervisor"):
        for action in department_actions:
            with pytest.raises(PermissionDenied):
                action(people[who])
    services.appeal(people["admin"], rect, reason="恶意差评")
    state = snapshot(rect)
    for who in ("person", "stranger", "other_clerk", "admin", "decider"):
        with pytest.raises(PermissionDenied):
            services.review_appeal(people[who], rect, uphold=True, opinion="x")
        with pytest.raises(PermissionDenied):
            services.close(people[who], rect, opinion="x")
    assert snapshot(rect) == state
    assert AuditRecord.objects.count() == audits + 1  # only the admin's appeal


def test_deadline_and_overdue_around_national_day(
    people: dict[str, Any], case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = dt.datetime(2026, 9, 29, 10, 0, tzinfo=cal.SHANGHAI)  # Tuesday before 国庆
    monkeypatch.setattr(services, "_now", lambda: opened)
    rect = bad_rating(people, case).rectification
    Rating.objects.filter(pk=rect.rating_id).update(created_at=opened)
    # Working days: 9-30 (1); 10-1…10-7 holiday; 10-8 (2), 10-9 (3), Saturday 10-10 调休上班 (4),
    # Sunday 10-11 rest, Monday 10-12 (5).
    assert rect.deadline == dt.date(2026, 10, 12)
    assert not rect.is_overdue(dt.date(2026, 10, 12))
    assert rect.is_overdue(dt.date(2026, 10, 13))
    assert list(selectors.overdue_rectifications(dt.date(2026, 10, 12))) == []
    assert list(selectors.overdue_rectifications(dt.date(2026, 10, 13))) == [rect]
    # Answered with a ledger entry, it is overdue only after the ledger deadline.
    monkeypatch.setattr(services, "_now", lambda: opened + dt.timedelta(days=1))
    rect = services.verify(
        people["admin"],
        rect,
        outcome="ledger",
        verification="a",
        measures="b",
        ledger_deadline=dt.date(2026, 10, 30),
    )
    assert list(selectors.overdue_rectifications(dt.date(2026, 10, 13))) == []
    assert list(selectors.overdue_rectifications(dt.date(2026, 10, 31))) == [rect]
    services.record_return_call(people["admin"], rect, summary="已回访")
    services.close(people["supervisor"], rect, opinion="同意")
    assert list(selectors.overdue_rectifications(dt.date(2026, 10, 31))) == []


def test_rectification_days_setting(
    people: dict[str, Any], case: Case, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.RATINGS_RECTIFICATION_DAYS = 15
    opened = dt.datetime(2026, 11, 2, 9, 0, tzinfo=cal.SHANGHAI)  # a Monday, no holidays after
    monkeypatch.setattr(services, "_now", lambda: opened)
    rect = bad_rating(people, case).rectification
    assert rect.deadline == dt.date(2026, 11, 23)  # three whole weeks later


def test_statistics_hand_computed(people: dict[str, Any]) -> None:
    # Market: levels 1, 1, 2, 3, 4, 5 (the 5 rectified and closed); one more 5 excluded by an
    # upheld appeal. Planning: one level 2 visit rating (must not count for market).
    levels = [1, 1, 2, 3, 4, 5, 5]
    ratings = []
    for level in levels:
        ratings.append(
            services.rate_case(
                people["person"], closed_case(people), level=level, text="差" if level > 3 else ""
            )
        )
    closing = ratings[5].rectification
    services.verify(people["admin"], closing, outcome="fixed", verification="a", measures="b")
    services.close(people["supervisor"], closing, opinion="ok")
    excluded = ratings[6].rectification
    services.appeal(people["admin"], excluded, reason="恶意")
    services.review_appeal(people["supervisor"], excluded, uphold=True, opinion="成立")
    _row, token = services.issue_visit_token(people["other_clerk"], department=people["planning"])
    services.rate_by_token(token, level=2)

    market = selectors.statistics(department_id=people["market"].pk)
    assert market["total"] == 6
    assert market["by_level"] == {"1": 2, "2": 1, "3": 1, "4": 1, "5": 1}
    assert (market["satisfied"], market["good"], market["bad"], market["rectified"]) == (3, 4, 2, 1)
    assert market["satisfaction_rate"] == 0.5  # 3 / 6
    assert market["good_rate"] == 0.6667  # 4 / 6
    assert market["bad_rate"] == 0.3333  # 2 / 6
    assert market["rectification_rate"] == 0.5  # 1 / 2
    node = selectors.statistics()
    assert node["total"] == 7
    assert node["by_level"]["2"] == 2
    item = selectors.statistics(item_code=ratings[0].item.implementation_code)
    assert item["total"] == 6
    tomorrow = cal.local_date(timezone.now()) + dt.timedelta(days=1)
    assert selectors.statistics(date_from=tomorrow)["total"] == 0
    assert selectors.statistics(date_to=tomorrow)["total"] == 7


def test_a_missing_message_template_does_not_stop_a_rating(
    people: dict[str, Any], case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    from zwfw.notifications.models import MessageTemplate

    MessageTemplate.objects.filter(code__startswith="ratings.").delete()
    rating = bad_rating(people, case)
    assert rating.rectification.status == RectificationStatus.VERIFYING
    assert not OutboxMessage.objects.filter(template_code="ratings.bad_rating").exists()
    assert "ratings.bad_rating not queued: notify.template_unknown" in caplog.text
