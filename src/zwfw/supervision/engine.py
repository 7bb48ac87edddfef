# The SQL below is assembled from this module's constants and table names only; every value
# a caller or the data supplies goes in as a bound parameter.
# ruff: noqa: S608
"""The rules engine of 电子监察: every rule is SQL over the case tables, never a loop per case.

How a run works (:func:`run_rules`; design in docs/decisions/0019-supervision-rules.md):

- Each rule is one or more *branches*. A branch is a FROM/WHERE over ``cases_case c`` (plus
  joins) that holds exactly for the cases the rule hits, in one of three universes: ``open``
  (open cases), ``final`` (closed / refused / withdrawn cases) or ``any``.
- **Raise**: one ``SELECT`` per branch returns the hit cases that have no open warning of the rule
  yet (anti-join on the partial unique index); the new warnings are bulk-inserted.
- **Clear**: one ``UPDATE`` per rule clears the open warnings for which no branch holds any more
  (correlated ``NOT EXISTS``, so the cost follows the open warnings, not the cases).
- **Update**: one ``SELECT`` finds open warnings whose responsible department changed (转办),
  updated in one statement per department.
- The **incremental** pass limits all three to cases whose ``updated_at`` is after the
  watermark (less an overlap, for transactions that committed late); the first run of a day
  is a **full** pass, because time alone moves cases into "nearing" and "overdue".
- A full pass looks at final cases closed within ``ZWFW_SUPERVISION_LOOKBACK_DAYS`` only (they
  do not change any more; the incremental pass sees each one when it closes).

"Working days used" is counted as in :func:`zwfw.cases.clock.state`: from ``clock_start`` to
today (or to ``paused_since`` while paused), less ``paused_days``, in the case's unit — with
the ordinals of :class:`~zwfw.supervision.models.DayIndex`, one join instead of a calendar walk.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from zwfw.cases.models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseTask,
    SpecialProcedure,
)
from zwfw.core import audit
from zwfw.core import calendar as cal
from zwfw.core.models import CalendarDay
from zwfw.supervision.models import (
    DayIndex,
    NumberSequence,
    Order,
    Rule,
    RunState,
    Warning,
    WarningCount,
)

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system:supervision"
#: The incremental pass re-reads cases changed this long before the previous run started: a
#: transaction that stamped ``updated_at`` before the run but committed after it is not lost.
OVERLAP = dt.timedelta(minutes=2)
#: PostgreSQL ``work_mem`` of a full pass (its transaction only).
FULL_PASS_WORK_MEM = "256MB"  # noqa: S105 - a memory size, not a password
#: A run that raised or cleared more warnings than this refreshes their table's statistics.
ANALYZE_AFTER = 10_000
DAY_INDEX_YEARS_BACK = 10
DAY_INDEX_YEARS_AHEAD = 3

CASE = Case._meta.db_table
TASK = CaseTask._meta.db_table
EVENT = CaseEvent._meta.db_table
SPECIAL = SpecialProcedure._meta.db_table
WARNING = Warning._meta.db_table
ORDER = Order._meta.db_table
DAYS = DayIndex._meta.db_table

OPEN_SQL = "c.status IN ({})".format(", ".join(f"'{s.value}'" for s in OPEN_STATUSES))
FINAL_SQL = "c.status IN ({})".format(", ".join(f"'{s.value}'" for s in FINAL_STATUSES))
#: Handling steps recorded on the platform (an off-platform case has none of them).
STEP_EVENT_KINDS = ("accept", "review", "decide")
#: Task outcomes that need a reason (不予受理, 不予许可, 退回).
REASONED_OUTCOMES = ("refuse", "reject", "return")


# --- the context of one run ----------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    today: dt.date
    now: dt.datetime
    full: bool
    changed_after: dt.datetime | None  # incremental: cases updated after this
    lookback_from: dt.datetime  # full pass: final cases closed since
    today_natural: int
    today_working: int
    #: Whether the temporary table ``sv_changed`` holds the cases updated since the previous
    #: run (False on the first run ever). The incremental pass runs every rule over it instead
    #: of ``cases_case``; department changes (转办) always bump ``Case.updated_at``, so even a
    #: full pass refreshes the departments of these cases only.
    has_changed: bool = False
    #: Their ids, for the warning side of each statement (one array parameter, so the
    #: planner probes the (rule, case) index instead of reading every warning of the rule).
    changed_ids: list[int] = field(default_factory=list)
    #: Open-warning count changes of warnings that moved department in this run.
    moves: Counter[tuple[int, str]] = field(default_factory=Counter)


def _d(value: dt.date) -> Any:
    return connection.ops.adapt_datefield_value(value)


def _t(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def as_date(value: Any) -> dt.date | None:
    """A date column read through a raw cursor (SQLite returns text)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# --- rules as SQL --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Branch:
    """One way a rule can hold: ``FROM … WHERE …`` over ``cases_case c``.

    ``columns`` are two extra values for the warning's detail (``n`` a number, ``d`` a date),
    ``department`` the responsible department; ``group`` when the joins repeat a case.
    """

    universe: str  # open / final / any
    joins: str
    where: str
    params: Callable[[Context, Rule], list[Any]]
    n: str = "NULL"
    d: str = "NULL"
    department: str = "c.department_id"
    group: bool = False
    #: The 结果描述 as SQL over ``h.no`` (case number), ``h.n`` and ``h.d``; ``{percent}`` and
    #: ``{max_days}`` are filled with the rule's (integer) thresholds.
    text: str = "'办件' || h.no || '触发监察规则。'"


def percent_of(rule: Rule) -> int:
    value = (rule.parameters or {}).get("percent")
    return int(value) if value else int(settings.SUPERVISION_NEARING_PERCENT)


def max_pause_of(rule: Rule) -> int:
    value = (rule.parameters or {}).get("max_days")
    return int(value) if value else int(settings.SUPERVISION_MAX_PAUSE_DAYS)


USED_SQL = (
    "(CASE WHEN c.limit_unit = 'natural' THEN COALESCE(dp.natural, %s) - ds.natural "
    "ELSE COALESCE(dp.working, %s) - ds.working END - c.paused_days)"
)
OVERDUE_SQL = "(c.due_date < %s AND c.paused_since IS NULL)"


def _no_params(ctx: Context, rule: Rule) -> list[Any]:
    return []


BRANCHES: dict[str, list[Branch]] = {
    # R01 环节超期: an open step past its own due date (the step's department answers for it).
    "R01": [
        Branch(
            "open",
            f"JOIN {TASK} t ON t.case_id = c.id AND t.status = 'open'",
            "t.due_date < %s",
            lambda ctx, rule: [_d(ctx.today)],
            n="COUNT(t.id)",
            d="MIN(t.due_date)",
            department="MIN(t.department_id)",
            group=True,
            text="'办件' || h.no || '有' || h.n || '个办理环节超过环节时限（最早应于' || h.d "
            "|| '办结）。'",
        )
    ],
    # R02 临近超期 (yellow): used ≥ percent of the limit, not yet overdue (that is R03).
    "R02": [
        Branch(
            "open",
            f"JOIN {DAYS} ds ON ds.day = c.clock_start "
            f"LEFT JOIN {DAYS} dp ON dp.day = c.paused_since",
            f"c.limit_days > 0 AND NOT {OVERDUE_SQL} AND {USED_SQL} * 100 >= c.limit_days * %s",
            lambda ctx, rule: [
                _d(ctx.today),
                ctx.today_natural,
                ctx.today_working,
                percent_of(rule),
            ],
            n=USED_SQL,
            d="c.due_date",
            text="'办件' || h.no || '已用' || h.n || '个计时日，达到承诺时限的{percent}%%，应于' "
            "|| h.d || '前办结。'",
        )
    ],
    # R03 超期 (red): past the due date with the clock running.
    "R03": [
        Branch(
            "open",
            "",
            f"c.due_date IS NOT NULL AND {OVERDUE_SQL}",
            lambda ctx, rule: [_d(ctx.today)],
            d="c.due_date",
            text="'办件' || h.no || '已超过承诺办结期限（' || h.d || '）仍未办结。'",
        )
    ],
    # R04 不予受理 / 不予许可 / 退回 without a reason.
    "R04": [
        Branch(
            "final",
            "",
            "((c.status = 'refused' AND TRIM(c.refusal_reason) = '') OR "
            "(c.decision = 'reject' AND TRIM(c.decision_reason) = ''))",
            _no_params,
            n="CASE WHEN c.status = 'refused' THEN 1 ELSE 2 END",
            text="'办件' || h.no || CASE WHEN h.n = 1 THEN '不予受理但未说明理由。' "
            "ELSE '作出不予许可决定但未说明理由。' END",
        ),
        Branch(
            "any",
            "",
            f"c.id IN (SELECT t.case_id FROM {TASK} t WHERE t.outcome IN "
            f"({', '.join(repr(o) for o in REASONED_OUTCOMES)}) AND TRIM(t.opinion) = '')",
            _no_params,
            n="3",
            text="'办件' || h.no || '有环节退回或不予办理但未填写理由。'",
        ),
    ],
    # R05 未经审查作出决定: closed with a decision but no finished review (or 即办) step.
    "R05": [
        Branch(
            "final",
            "",
            f"c.status = 'closed' AND c.decision <> '' AND NOT EXISTS (SELECT 1 FROM {TASK} t "
            "WHERE t.case_id = c.id AND t.status = 'done' AND t.kind IN ('review', 'handle'))",
            _no_params,
            text="'办件' || h.no || '已作出决定，但没有完成审查环节的记录。'",
        )
    ],
    # R06 暂停计时过长: paused longer than allowed, or a 特别程序 past its expected end.
    "R06": [
        Branch(
            "open",
            "",
            f"c.paused_since IS NOT NULL AND (c.paused_since < %s OR EXISTS (SELECT 1 FROM "
            f"{SPECIAL} sp WHERE sp.case_id = c.id AND sp.ended_at IS NULL "
            "AND sp.expected_end < %s))",
            lambda ctx, rule: [
                _d(ctx.today - dt.timedelta(days=max_pause_of(rule))),
                _d(ctx.today),
            ],
            d="c.paused_since",
            text="'办件' || h.no || '自' || h.d || '起暂停计时，已超过允许的{max_days}个自然日"
            "或特别程序预计结束日期。'",
        )
    ],
    # R07 收费不在目录: no payment records exist yet — see :func:`fee_branches`.
    "R07": [],
    # R08 体外办理: closed without any handling step recorded on the platform.
    "R08": [
        Branch(
            "final",
            "",
            f"c.status = 'closed' AND NOT EXISTS (SELECT 1 FROM {EVENT} e WHERE e.case_id = c.id "
            f"AND e.kind IN ({', '.join(repr(k) for k in STEP_EVENT_KINDS)}))",
            _no_params,
            text="'办件' || h.no || '已办结，但平台上没有受理、审查或决定环节的记录"
            "（疑似体外办理）。'",
        )
    ],
}


def fee_branches() -> list[Branch]:
    """The hook of R07 (fees charged that the item's fee list does not contain).

    The platform has no payment records yet (SPEC §10 payment is a later issue), so there is
    nothing to compare and this returns no branch: R07 is seeded disabled and cannot be
    enabled (``supervision.rule_unavailable``). The payment app adds its branch here: a join
    of its charges to the item version's fee list, hitting charges with no matching entry.
    """
    return []


def branches_of(code: str) -> list[Branch]:
    if code == "R07":
        return fee_branches()
    return BRANCHES.get(code, [])


def is_available(code: str) -> bool:
    return bool(branches_of(code))


# --- SQL builders --------------------------------------------------------------------------------


def _universe(kind: str) -> str:
    return {"open": OPEN_SQL, "final": FINAL_SQL, "any": "1 = 1"}[kind]


def _hit_select(branch: Branch, rule: Rule, ctx: Context) -> tuple[str, list[Any]]:
    """New hits of one branch: cases where it holds with no open warning of the rule yet."""
    where = [_universe(branch.universe), f"({branch.where})"]
    params: list[Any] = list(branch.params(ctx, rule))
    if ctx.full and branch.universe == "final":
        # Final cases do not change: a full pass reads the recently closed ones only.
        where.append("c.closed_at >= %s")
        params.append(_t(ctx.lookback_from))
    where.append(
        f"NOT EXISTS (SELECT 1 FROM {WARNING} w WHERE w.rule_id = %s AND w.status = 'open' "
        "AND w.case_id = c.id)"
    )
    params.append(rule.pk)
    select_params = _column_params(branch, rule, ctx)
    sql = (
        f"SELECT c.id AS case_id, COALESCE(c.number, '') AS no, {branch.department} AS "
        f"department_id, {branch.n} AS n, {branch.d} AS d "
        f"FROM {_cases(ctx)} c {branch.joins} WHERE {' AND '.join(where)}"
    )
    if branch.group:
        sql += " GROUP BY c.id, c.number"
    return sql, [*select_params, *params]


def _column_params(branch: Branch, rule: Rule, ctx: Context) -> list[Any]:
    """Parameters of the SELECT list (R02's used-days expression has two)."""
    if "%s" not in branch.n:
        return []
    return [ctx.today_natural, ctx.today_working]


def _holds(branch: Branch, rule: Rule, ctx: Context) -> tuple[str, list[Any]]:
    """``EXISTS`` (correlated to ``w.case_id``): the branch still holds for the warning's case."""
    sql = (
        f"EXISTS (SELECT 1 FROM {_cases(ctx)} c {branch.joins} WHERE c.id = w.case_id "
        f"AND {_universe(branch.universe)} AND ({branch.where}))"
    )
    return sql, list(branch.params(ctx, rule))


#: The columns of ``cases_case`` the rules read (the incremental pass copies only these).
CASE_COLUMNS = (
    "id, number, status, department_id, clock_start, paused_days, paused_since, due_date, "
    "limit_days, limit_unit, closed_at, updated_at, decision, decision_reason, refusal_reason"
)
CHANGED = "sv_changed"


def _cases(ctx: Context) -> str:
    """The case rows a pass reads: all of them, or the changed ones (incremental)."""
    return CASE if ctx.full else CHANGED


def _ids_sql(column: str, ids: list[int]) -> tuple[str, list[Any]]:
    """``column`` among ``ids``, as one parameter (PostgreSQL array, SQLite JSON array)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [ids]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]


def _changed_scope(ctx: Context) -> tuple[str, list[Any]]:
    if ctx.full:
        return "", []
    sql, params = _ids_sql("w.case_id", ctx.changed_ids)
    return f" AND {sql}", params


def load_changed(since: dt.datetime | None) -> int:
    """Copy the rule columns of cases updated after ``since`` into the temporary table
    ``sv_changed`` (dropped at the end of the run): the incremental pass then joins a table
    of thousands of rows, planned as such, instead of probing a million-row one per rule."""
    drop_changed()
    if since is None:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {CHANGED} AS SELECT {CASE_COLUMNS} FROM {CASE} "
            "WHERE updated_at > %s",
            [_t(since)],
        )
        cursor.execute(f"CREATE INDEX {CHANGED}_id ON {CHANGED} (id)")
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {CHANGED}")
        cursor.execute(f"SELECT COUNT(*) FROM {CHANGED}")
        return int(cursor.fetchone()[0])


def changed_ids() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {CHANGED}")
        return [row[0] for row in cursor.fetchall()]


def drop_changed() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CHANGED}")


# --- numbers -------------------------------------------------------------------------------------


def reserve_numbers(prefix: str, day: dt.date, count: int) -> list[str]:
    """``count`` consecutive numbers ``{prefix}{YYYYMMDD}{serial:07d}`` (row-locked sequence)."""
    if count <= 0:
        return []
    with transaction.atomic():
        NumberSequence.objects.get_or_create(prefix=prefix, day=day)
        row = NumberSequence.objects.select_for_update().get(prefix=prefix, day=day)
        first = row.last + 1
        row.last += count
        row.save(update_fields=["last"])
    stamp = day.strftime("%Y%m%d")
    return [f"{prefix}{stamp}{serial:07d}" for serial in range(first, first + count)]


# --- the day index -------------------------------------------------------------------------------


def _calendar_stamp() -> str:
    stamp = CalendarDay.objects.aggregate(
        count=Count("id"), top=Max("id"), changed=Max("updated_at")
    )
    return f"{stamp['count']}|{stamp['top']}|{stamp['changed']}"


def ensure_day_index(today: dt.date, state: RunState) -> bool:
    """(Re)build :class:`DayIndex` when the holiday table changed or the range is short."""
    first = dt.date(today.year - DAY_INDEX_YEARS_BACK, 1, 1)
    last = dt.date(today.year + DAY_INDEX_YEARS_AHEAD, 12, 31)
    stamp = _calendar_stamp()
    if (
        state.calendar_stamp == stamp
        and DayIndex.objects.filter(day=first).exists()
        and DayIndex.objects.filter(day=last).exists()
    ):
        return False
    calendar = cal.calendar_snapshot()
    calendar.ensure(first, last)
    rows = []
    working = 0
    day = first
    while day <= last:
        if day != first and calendar.is_working_day(day):
            working += 1
        rows.append(DayIndex(day=day, natural=(day - first).days, working=working))
        day += dt.timedelta(days=1)
    DayIndex.objects.all().delete()
    DayIndex.objects.bulk_create(rows, batch_size=2000)
    state.calendar_stamp = stamp
    return True


def _ordinals(day: dt.date) -> tuple[int, int]:
    row = DayIndex.objects.filter(day=day).values_list("natural", "working").first()
    if row is None:  # pragma: no cover - ensure_day_index covers today
        raise RuntimeError(f"day index does not cover {day}")
    return row


# --- one rule ------------------------------------------------------------------------------------


@dataclass
class RuleResult:
    raised: int = 0
    cleared: int = 0
    updated: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "raised": self.raised,
            "cleared": self.cleared,
            "updated": self.updated,
            "seconds": round(self.seconds, 3),
        }


def _clear(rule: Rule, branches: list[Branch], ctx: Context, reason: str = "") -> int:
    conditions: list[str] = []
    params: list[Any] = [_t(ctx.now), _t(ctx.now), rule.pk]
    for branch in branches:
        sql, branch_params = _holds(branch, rule, ctx)
        conditions.append(f" AND NOT {sql}")
        params.extend(branch_params)
    scope, scope_params = _changed_scope(ctx)
    params.extend(scope_params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {WARNING} AS w SET status = 'cleared', cleared_at = %s, updated_at = %s "
            f"WHERE w.rule_id = %s AND w.status = 'open'{''.join(conditions)}{scope}",
            params,
        )
        return max(cursor.rowcount, 0)


def _refresh_departments(rule: Rule, branches: list[Branch], ctx: Context) -> int:
    """Open warnings whose responsible department moved (转办) follow it."""
    department = branches[0].department
    if department.startswith("MIN(t."):
        department = (
            f"(SELECT MIN(t.department_id) FROM {TASK} t WHERE t.case_id = c.id "
            "AND t.status = 'open' AND t.due_date < %s)"
        )
        params: list[Any] = [_d(ctx.today), _d(ctx.today)]
    else:
        params = []
    if not ctx.has_changed:
        return 0
    own, own_params = _ids_sql("w.case_id", ctx.changed_ids)
    sql = (
        f"SELECT w.id, {department}, w.department_id FROM {WARNING} w "
        f"JOIN {CHANGED} c ON c.id = w.case_id "
        f"WHERE w.rule_id = %s AND w.status = 'open' AND {department} <> w.department_id"
        f" AND {own}"
    )
    params = [*params[:1], rule.pk, *params[1:], *own_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    moved: dict[int, list[int]] = defaultdict(list)
    for warning_id, department_id, previous in rows:
        if department_id is not None:
            moved[department_id].append(warning_id)
            ctx.moves[(previous, rule.severity)] -= 1
            ctx.moves[(department_id, rule.severity)] += 1
    for department_id, ids in moved.items():
        Warning.objects.filter(pk__in=ids).update(department_id=department_id, updated_at=ctx.now)
    return sum(len(ids) for ids in moved.values())


def _pad(expression: str) -> str:
    """``expression`` as text, zero-padded to 7 digits (the serial of a number)."""
    if connection.vendor == "postgresql":
        return f"LPAD(CAST({expression} AS TEXT), 7, '0')"
    return f"printf('%%07d', {expression})"  # %% : the statement also goes through %-formatting


def _json(pairs: list[tuple[str, str]]) -> str:
    function = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    arguments = ", ".join(f"'{key}', {value}" for key, value in pairs)
    return f"{function}({arguments})"


def _raise(rule: Rule, branches: list[Branch], ctx: Context) -> int:
    """INSERT … SELECT the new warnings of every branch (numbers from the locked sequence).

    Branch by branch: a case that two branches hit is inserted by the first, and the second's
    anti-join sees that row (same transaction).
    """
    sequence = _lock_sequence("JC", ctx.today)
    prefix = f"JC{ctx.today:%Y%m%d}"
    total = 0
    thresholds = {"percent": percent_of(rule), "max_days": max_pause_of(rule)}
    with connection.cursor() as cursor:
        for branch in branches:
            inner, params = _hit_select(branch, rule, ctx)
            detail = [("case_number", "h.no")]
            if branch.n != "NULL":
                detail.append(("n", "h.n"))
            if branch.d != "NULL":
                detail.append(("date", "h.d"))
            text = branch.text.format(**thresholds)
            cursor.execute(
                f"INSERT INTO {WARNING} (number, case_id, rule_id, severity, department_id, "
                "raised_at, updated_at, status, description, detail) "
                f"SELECT %s || {_pad('%s + ROW_NUMBER() OVER (ORDER BY h.case_id)')}, "
                "h.case_id, %s, %s, h.department_id, %s, %s, 'open', "
                f"SUBSTR({text}, 1, 500), {_json(detail)} FROM ({inner}) h",
                [
                    prefix,
                    sequence.last + total,
                    rule.pk,
                    rule.severity,
                    _t(ctx.now),
                    _t(ctx.now),
                    *params,
                ],
            )
            total += max(cursor.rowcount, 0)
    if total:
        sequence.last += total
        sequence.save(update_fields=["last"])
    return total


def _lock_sequence(prefix: str, day: dt.date) -> NumberSequence:
    NumberSequence.objects.get_or_create(prefix=prefix, day=day)
    return NumberSequence.objects.select_for_update().get(prefix=prefix, day=day)


def evaluate(rule: Rule, ctx: Context) -> RuleResult:
    """Clear, update and raise the warnings of one enabled rule."""
    result = RuleResult()
    branches = branches_of(rule.code)
    result.cleared = _clear(rule, branches, ctx)
    if not branches:
        return result
    result.updated = _refresh_departments(rule, branches, ctx)
    result.raised = _raise(rule, branches, ctx)
    return result


# --- orders opened and escalated by the sweep ----------------------------------------------------


def open_orders(rule: Rule, ctx: Context) -> int:
    """督办 orders for the open warnings of a rule with ``auto_order`` (R03 红色预警) that have
    none yet: one INSERT … SELECT, numbered from the locked ``DB`` sequence."""
    from zwfw.supervision.services import order_card_for, order_deadline

    if not (rule.parameters or {}).get("auto_order"):
        return 0
    deadline = order_deadline(ctx.today, rule.response_working_days)
    sequence = _lock_sequence("DB", ctx.today)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ORDER} (number, warning_id, case_id, department_id, issued_by, "
            "issued_by_name, reason, issued_at, response_deadline, status, response, "
            "responded_by, responded_by_name, escalation_level, card, closed_by, close_note) "
            f"SELECT %s || {_pad('%s + ROW_NUMBER() OVER (ORDER BY w.id)')}, w.id, w.case_id, "
            "w.department_id, %s, %s, %s || w.description || %s, %s, %s, 'open', '', '', '', 0, "
            f"%s, '', '' FROM {WARNING} w WHERE w.rule_id = %s AND w.status = 'open' "
            f"AND NOT EXISTS (SELECT 1 FROM {ORDER} o WHERE o.warning_id = w.id)",
            [
                f"DB{ctx.today:%Y%m%d}",
                sequence.last,
                SYSTEM_ACTOR,
                "电子监察系统",
                f"{rule.name}：",
                f"请于{deadline:%Y年%m月%d日}前回复办理情况。",
                _t(ctx.now),
                _d(deadline),
                order_card_for(rule.severity),
                rule.pk,
            ],
        )
        opened = max(cursor.rowcount, 0)
    if opened:
        sequence.last += opened
        sequence.save(update_fields=["last"])
    return opened


# --- the run -------------------------------------------------------------------------------------


def recount_warnings(ctx: Context) -> int:
    """Refresh :class:`WarningCount`: recounted on a full pass; on an incremental one moved by
    this run's changes only — warnings raised now (+1), cleared now (−1), moved now."""
    if ctx.full:
        rows = [
            WarningCount(
                department_id=row["department_id"], severity=row["severity"], count=row["n"]
            )
            for row in Warning.objects.filter(status="open")
            .values("department_id", "severity")
            .annotate(n=Count("id"))
        ]
        WarningCount.objects.all().delete()
        WarningCount.objects.bulk_create(rows, batch_size=1000)
        return len(rows)
    deltas: Counter[tuple[int, str]] = Counter(ctx.moves)
    touched = (
        Warning.objects.filter(updated_at=ctx.now)
        .filter(Q(status="open", raised_at=ctx.now) | Q(status="cleared", cleared_at=ctx.now))
        .values("department_id", "severity", "status")
        .annotate(n=Count("id"))
    )
    for row in touched:
        sign = 1 if row["status"] == "open" else -1
        deltas[(row["department_id"], row["severity"])] += sign * row["n"]
    changed = 0
    for (department_id, severity), delta in deltas.items():
        if not delta:
            continue
        updated = WarningCount.objects.filter(
            department_id=department_id, severity=severity
        ).update(count=F("count") + delta)
        if not updated:
            WarningCount.objects.create(
                department_id=department_id, severity=severity, count=max(delta, 0)
            )
        changed += 1
    return changed


def _state() -> RunState:
    RunState.objects.get_or_create(pk=1)
    return RunState.objects.select_for_update().get(pk=1)


def run_rules(  # noqa: PLR0915 - the steps of a run, in order
    full: bool = False,
    *,
    now: dt.datetime | None = None,
    codes: Iterable[str] | None = None,
) -> dict[str, Any]:
    """One pass of every enabled rule (full, or incremental when a full pass ran today).

    Runs are serialised by a lock on the :class:`RunState` row. Returns counts per rule.
    """
    from zwfw.supervision.services import escalate_orders

    started = time.perf_counter()
    now = now or timezone.now()
    today = cal.local_date(now)
    with transaction.atomic():
        state = _state()
        if not full and (state.watermark is None or state.last_full_date != today):
            full = True  # a new day: time alone has moved cases into nearing / overdue
        ensure_day_index(today, state)
        changed = load_changed(state.watermark)
        natural, working = _ordinals(today)
        lookback = int(settings.SUPERVISION_LOOKBACK_DAYS)
        ctx = Context(
            today=today,
            now=now,
            full=full,
            changed_after=None if full else state.watermark,
            lookback_from=now - dt.timedelta(days=lookback),
            today_natural=natural,
            today_working=working,
            has_changed=state.watermark is not None,
            changed_ids=changed_ids() if state.watermark is not None else [],
        )
        if full and connection.vendor == "postgresql":
            # A full pass hashes a million cases and warnings per rule: with the default 4 MB
            # each hash spills to temporary files in batches.
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL work_mem = '{FULL_PASS_WORK_MEM}'")
        if not full and connection.vendor == "postgresql":
            # Every statement of an incremental pass starts from a few thousand changed cases:
            # index probes beat hashing the million-row side, which the planner otherwise
            # prefers (it cannot see that the probes hit cached pages).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_hashjoin = off")
                cursor.execute("SET LOCAL enable_mergejoin = off")
        rules = list(Rule.objects.all())
        if codes is not None:
            wanted = set(codes)
            rules = [r for r in rules if r.code in wanted]
        per_rule: dict[str, dict[str, int]] = {}
        orders_opened = 0
        for rule in rules:
            if not rule.enabled:
                # A switched-off rule raises nothing and leaves no open warning behind.
                cleared = (
                    Warning.objects.filter(rule=rule, status="open").update(
                        status="cleared", cleared_at=now, updated_at=now
                    )
                    if full
                    else 0
                )
                per_rule[rule.code] = {"raised": 0, "cleared": cleared, "updated": 0, "seconds": 0}
                continue
            rule_started = time.perf_counter()
            result = evaluate(rule, ctx)
            orders_opened += open_orders(rule, ctx)
            result.seconds = time.perf_counter() - rule_started
            per_rule[rule.code] = result.as_dict()
        escalated = escalate_orders(today=today, now=now)
        recount_warnings(ctx)
        drop_changed()
        touched = sum(r["raised"] + r["cleared"] for r in per_rule.values())
        if connection.vendor == "postgresql" and touched + orders_opened > ANALYZE_AFTER:
            # Fresh statistics, or the next pass plans nested loops over "one row" of warnings.
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {WARNING}, {ORDER}, {WarningCount._meta.db_table}")
        summary = {
            "full": full,
            "today": today.isoformat(),
            "changed_after": ctx.changed_after.isoformat() if ctx.changed_after else None,
            "changed_cases": changed,
            "rules": per_rule,
            "orders_opened": orders_opened,
            "orders_escalated": escalated,
            "seconds": round(time.perf_counter() - started, 3),
        }
        state.watermark = now - OVERLAP
        if full:
            state.last_full_date = today
        state.last_run_at = now
        state.last_run = summary
        state.save()
        totals = {
            key: sum(r[key] for r in per_rule.values()) for key in ("raised", "cleared", "updated")
        }
        # A pass that changed nothing is kept in RunState only: a sweep every minute would
        # otherwise add 1,440 audit entries a day that say nothing happened.
        if any(totals.values()) or orders_opened or escalated:
            audit.record(
                "supervision:run:complete",
                "supervision.run",
                today.isoformat(),
                after={
                    **totals,
                    "full": full,
                    "orders_opened": orders_opened,
                    "escalated": escalated,
                },
                actor=SYSTEM_ACTOR,
            )
    log.info("supervision run", extra={"supervision": summary})
    return summary
