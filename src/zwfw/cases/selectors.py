"""Read queries over cases — each restricted to what the viewer may see.

- Applicants see their own cases; an agent sees the company's cases while acting for it.
- Staff see the cases of the departments where they hold a role, and cases with a task
  (current or past) in such a department (parallel reviews by other departments).
- Supervisors (监察人员) see every case of the node.

Reads of another person's case by staff are audited (``cases:case:read``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from zwfw.cases import clock
from zwfw.cases.models import Case, CaseEvent, CaseStatus, CaseTask
from zwfw.cases.services import is_applicant_side, staff_departments
from zwfw.core import audit
from zwfw.core import calendar as cal
from zwfw.core.errors import NotFound, ValidationError
from zwfw.core.pagination import Page, check_limit, decode_cursor, encode_cursor
from zwfw.organisations.models import Role


def is_supervisor(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or bool(
        staff_departments(user, Role.SUPERVISOR)
    )


def staff_case_filter(user: Any) -> Q | None:
    """The Q restricting cases to what a staff member may see (None: everything)."""
    if is_supervisor(user):
        return None
    departments = staff_departments(user)
    if not departments:
        return Q(pk__in=[])
    has_task = CaseTask.objects.filter(case=OuterRef("pk"), department_id__in=departments)
    return Q(department_id__in=departments) | Q(Exists(has_task))


def _by_ref(ref: str) -> QuerySet[Case]:
    text = str(ref).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 32:
        raise NotFound("cases.case_unknown", "办件不存在。", "Unknown case.")
    if len(text) >= 14:
        return Case.objects.filter(number=text)
    if len(text) <= 12:
        return Case.objects.filter(pk=int(text))
    raise NotFound("cases.case_unknown", "办件不存在。", "Unknown case.")


def case_for_applicant(user: Any, ref: str, acting_uscc: str | None) -> Case:
    case = _by_ref(ref).select_related("company", "department", "item_version").first()
    if case is None or not is_applicant_side(user, case, acting_uscc):
        raise NotFound("cases.case_unknown", "办件不存在。", "Unknown case.")
    return case


def case_for_staff(user: Any, ref: str, *, purpose: str = "handle") -> Case:
    queryset = _by_ref(ref).select_related("company", "department", "item_version")
    restriction = staff_case_filter(user)
    if restriction is not None:
        queryset = queryset.filter(restriction)
    case = queryset.first()
    if case is None:
        raise NotFound("cases.case_unknown", "办件不存在。", "Unknown case.")
    audit.record_read(
        "cases.case", case.pk, purpose=purpose, fields=["applicant", "form", "materials"]
    )
    return case


def case_for_anyone(user: Any, ref: str, acting_uscc: str | None, *, purpose: str) -> Case:
    """The case if ``user`` is on its applicant side, or staff who may see it."""
    queryset = _by_ref(ref).select_related("company", "department", "item_version")
    case = queryset.first()
    if case is not None and is_applicant_side(user, case, acting_uscc):
        return case
    if staff_departments(user) or getattr(user, "is_superuser", False):
        return case_for_staff(user, ref, purpose=purpose)
    raise NotFound("cases.case_unknown", "办件不存在。", "Unknown case.")


def my_cases(
    user: Any,
    acting_uscc: str | None,
    *,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page[Case]:
    if acting_uscc:
        queryset = Case.objects.filter(company__uscc=acting_uscc)
    else:
        queryset = Case.objects.filter(applicant_user_id=user.pk, company__isnull=True)
    if status:
        queryset = queryset.filter(status=_status(status))
    return _page(queryset, cursor, limit)


def _status(value: str) -> str:
    if value not in CaseStatus.values:
        raise ValidationError(
            "cases.status_unknown",
            f"办件状态“{value}”无效。",
            f"Unknown status {value!r}.",
            field="status",
            details={"allowed": list(CaseStatus.values)},
        )
    return value


def _page(queryset: QuerySet[Case], cursor: str | None, limit: int) -> Page[Case]:
    check_limit(limit)
    if cursor:
        (last,) = decode_cursor(cursor, 1)
        if not isinstance(last, int):
            raise ValidationError("pagination.cursor", "分页游标无效。", "Bad cursor.")
        queryset = queryset.filter(pk__lt=last)
    rows = list(queryset.select_related("department").order_by("-pk")[: limit + 1])
    next_cursor = encode_cursor([rows[limit - 1].pk]) if len(rows) > limit else None
    return Page(rows[:limit], next_cursor)


def department_cases(
    user: Any,
    *,
    status: str | None = None,
    item_code: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page[Case]:
    queryset = Case.objects.exclude(status=CaseStatus.DRAFT)
    restriction = staff_case_filter(user)
    if restriction is not None:
        queryset = queryset.filter(restriction)
    if status:
        queryset = queryset.filter(status=_status(status))
    if item_code:
        queryset = queryset.filter(implementation_code=item_code)
    return _page(queryset, cursor, limit)


# --- the inbox -----------------------------------------------------------------------------------


#: What an inbox row shows: the task, and of its case only the number and the item name (not
#: the workflow state or the encrypted applicant columns, which would be parsed and decrypted).
INBOX_COLUMNS = (
    "id",
    "case_id",
    "name",
    "kind",
    "department_id",
    "role",
    "assignee_id",
    "status",
    "created_at",
    "due_date",
    "completed_at",
    "outcome",
    "opinion",
    "case__number",
    "case__item_name",
    "department__name",
)


def inbox(  # noqa: PLR0912 (one branch per filter)
    user: Any,
    *,
    scope: str = "all",
    kind: str | None = None,
    department_id: int | None = None,
    item_code: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page[CaseTask]:
    """Open tasks the user may act on: claimed by them (``mine``), unclaimed in their
    departments and roles (``queue``), or both (``all``), newest first.

    Each part is its own query that an index on open tasks serves in order (claimed by me;
    one per department and role), each limited to the page; the parts are merged by id. An
    OR of them in one query could use no index for the order and sorted every inbox row.
    """
    check_limit(limit)
    if scope not in ("all", "mine", "queue"):
        raise ValidationError(
            "cases.inbox_scope",
            "范围应为 all、mine 或 queue。",
            "scope must be all, mine or queue.",
            field="scope",
        )
    last: int | None = None
    if cursor:
        (value,) = decode_cursor(cursor, 1)
        if not isinstance(value, int):
            raise ValidationError("pagination.cursor", "分页游标无效。", "Bad cursor.")
        last = value
    parts: list[QuerySet[CaseTask]] = []
    open_tasks = CaseTask.objects.filter(status=CaseTask.Status.OPEN)
    if scope in ("all", "mine"):
        parts.append(open_tasks.filter(assignee_id=user.pk))
    if scope in ("all", "queue"):
        for pair_department, role in _role_pairs(user):
            if department_id and pair_department != department_id:
                continue
            parts.append(
                open_tasks.filter(department_id=pair_department, role=role, assignee__isnull=True)
            )
    narrowing = Q()
    if kind:
        narrowing &= Q(kind=kind)
    if department_id:
        narrowing &= Q(department_id=department_id)
    if item_code:
        narrowing &= Q(case__implementation_code=item_code)
    if last is not None:
        narrowing &= Q(pk__lt=last)
    rows: dict[int, CaseTask] = {}
    for part in parts:
        query = part.filter(narrowing).select_related("case", "department").only(*INBOX_COLUMNS)
        for task in query.order_by("-pk")[: limit + 1]:
            rows[task.pk] = task
    ordered = sorted(rows.values(), key=lambda t: t.pk, reverse=True)
    next_cursor = encode_cursor([ordered[limit - 1].pk]) if len(ordered) > limit else None
    return Page(ordered[:limit], next_cursor)


def _role_pairs(user: Any) -> list[tuple[int, str]]:
    from django.utils import timezone

    from zwfw.organisations.models import StaffMembership

    today = timezone.localdate()
    return list(
        StaffMembership.objects.filter(user_id=user.pk)
        .exclude(valid_until__lt=today)
        .values_list("department_id", "role")
    )


def _inbox_base(user: Any, scope: str) -> QuerySet[CaseTask]:
    if scope not in ("all", "mine", "queue"):
        raise ValidationError(
            "cases.inbox_scope",
            "范围应为 all、mine 或 queue。",
            "scope must be all, mine or queue.",
            field="scope",
        )
    open_tasks = CaseTask.objects.filter(status=CaseTask.Status.OPEN)
    mine = Q(assignee_id=user.pk)
    pairs = _role_pairs(user)
    queue = Q(pk__in=[])
    for department_id, role in pairs:
        queue |= Q(department_id=department_id, role=role, assignee__isnull=True)
    if scope == "mine":
        return open_tasks.filter(mine)
    if scope == "queue":
        return open_tasks.filter(queue)
    return open_tasks.filter(mine | queue)


def inbox_counts(user: Any) -> dict[str, Any]:
    """Counts for the inbox tabs: mine, queue, per kind, and clock status of the cases."""
    mine = _inbox_base(user, "mine").count()
    base = _inbox_base(user, "all")
    per_kind = dict(base.values_list("kind").annotate(n=Count("id")).order_by())
    today = cal.local_date(_now())
    overdue = base.filter(
        case__due_date__lt=today, case__closed_at__isnull=True, case__paused_since__isnull=True
    ).count()
    return {
        "mine": mine,
        "queue": _inbox_base(user, "queue").count(),
        "by_kind": per_kind,
        "overdue": overdue,
    }


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


# --- details --------------------------------------------------------------------------------------


def timeline(case: Case) -> list[CaseEvent]:
    return list(case.events.select_related("department").order_by("id"))


def clock_state(case: Case) -> dict[str, Any]:
    return clock.state(case).as_dict()


def department_days(case: Case) -> list[dict[str, Any]]:
    """Which departments hold the case now and the working days each one's steps have taken
    (J3: the supervisor sees where a parallel case waits). One query."""
    calendar = cal.calendar_snapshot()
    today = cal.local_date(_now())
    rows: dict[int, dict[str, Any]] = {}
    tasks = case.tasks.exclude(status=CaseTask.Status.CANCELLED).select_related("department")
    for task in tasks.order_by("id"):
        entry = rows.setdefault(
            task.department_id,
            {
                "department_id": task.department_id,
                "department": task.department.name,
                "holding": [],
                "working_days_used": 0,
            },
        )
        start = cal.local_date(task.created_at)
        end = cal.local_date(task.completed_at) if task.completed_at else today
        entry["working_days_used"] += max(0, calendar.working_days_between(start, end))
        if task.status == CaseTask.Status.OPEN:
            entry["holding"].append(task.name)
    return list(rows.values())
