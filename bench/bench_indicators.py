"""Indicators and the dashboard API over generated cases (issue 7; figures in docs/benchmarks.md).

1. ``--cases N`` cases (default 1,000,000) from ``case_generator.py`` into a fresh database
   ``zwfw_bench_ind`` (PostgreSQL) or ``var/bench/ind.sqlite3``.
2. Ratings, rectifications, warnings and 督办 orders derived from those cases with one
   ``INSERT … SELECT`` each (no Python loop): a rating for 40 % of closed cases (levels 62 / 22
   / 9 / 4 / 3 %), a rectification for each bad one, a warning for 5 % of all cases, an order
   for each red warning.
3. Full rollup rebuild (``rollups.refresh()``), and the incremental refresh a stale read pays
   (the look-back window, default 31 days).
4. Latency through the Django test client (the whole request: session, permission, queries,
   serialisation): ``GET /api/v1/indicators/dashboard`` for the node (12 months) and for one
   department, ``GET /api/v1/indicators/``, ``/trend``, the xlsx export; and for comparison the
   one aggregate over ``cases_case`` that the rollups replace.

Usage: python bench/bench_indicators.py [--cases N] [--db postgres|sqlite] [--runs R] [--reuse]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from _setup import machine


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _time(fn: Callable[[], Any], runs: int) -> list[float]:
    values = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        values.append((time.perf_counter() - started) * 1000)
    return values


def _line(label: str, values: list[float], target: str = "") -> None:
    print(
        f"{label}: p50 {_percentile(values, 0.5):.1f} ms, p95 {_percentile(values, 0.95):.1f} ms, "
        f"max {max(values):.1f} ms (n={len(values)}; load {os.getloadavg()[0]:.1f})"
        + (f"  [target {target}]" if target else "")
    )


def _insert_select(model: Any, columns: dict[str, str], source: str, params: list[Any]) -> int:
    """INSERT INTO model's table (every concrete column) SELECT the given expressions FROM
    ``source``; columns not given get NULL, '' , 0, false or '{}' by their field type."""
    from django.db import connection, models

    names, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(connection.ops.quote_name(field.column))
        if field.column in columns:
            values.append(columns[field.column])
        elif field.null:
            values.append("NULL")
        elif isinstance(field, models.JSONField):
            values.append("'{}'")
        elif isinstance(field, models.BooleanField):
            values.append("false" if connection.vendor == "postgresql" else "0")
        elif isinstance(field, (models.IntegerField, models.DecimalField)):
            values.append("0")
        else:
            values.append("''")
    # Bench-only SQL: the expressions are the literals above, never outside input.
    table = connection.ops.quote_name(model._meta.db_table)
    # The SQL goes through the driver's parameter formatting (params may be empty): a literal
    # modulo is written "%%" in the expressions.
    sql = f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} FROM {source}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def derive_ratings_and_warnings() -> dict[str, int]:
    from django.db import connection

    from zwfw.cases.models import Case
    from zwfw.ratings.models import Rating, Rectification
    from zwfw.supervision.models import Order, Rule, Warning

    cases = connection.ops.quote_name(Case._meta.db_table)
    level = (
        "CASE WHEN (c.id * 37) %% 100 < 62 THEN 1 WHEN (c.id * 37) %% 100 < 84 THEN 2 "
        "WHEN (c.id * 37) %% 100 < 93 THEN 3 WHEN (c.id * 37) %% 100 < 97 THEN 4 ELSE 5 END"
    )
    counts = {}
    counts["ratings"] = _insert_select(
        Rating,
        {"kind": "'case'", "case_id": "c.id", "department_id": "c.department_id",
         "item_id": "c.item_id", "level": level, "channel": "'1'",
         "rater_id": "c.applicant_user_id", "created_at": "c.closed_at"},
        f"{cases} c WHERE c.status = 'closed' AND c.id %% 10 < 4",
        [],
    )  # fmt: skip
    ratings = connection.ops.quote_name(Rating._meta.db_table)
    counts["rectifications"] = _insert_select(
        Rectification,
        {"rating_id": "r.id", "department_id": "r.department_id",
         "status": "CASE r.id %% 5 WHEN 0 THEN 'verifying' WHEN 1 THEN 'fixed' WHEN 2 THEN "
                   "'ledger' WHEN 3 THEN 'explained' ELSE 'closed' END",
         "opened_at": "r.created_at", "deadline": "%s", "updated_at": "r.created_at"},
        f"{ratings} r WHERE r.level >= 4",
        [dt.date(2026, 12, 31)],
    )  # fmt: skip
    rule = Rule.objects.order_by("id").first()
    if rule is None:
        rule = Rule.objects.create(code="B01", name="基准规则", severity="yellow")
    counts["warnings"] = _insert_select(
        Warning,
        {"number": "'JC' || c.id", "case_id": "c.id", "rule_id": str(rule.pk),
         "severity": "CASE c.id %% 3 WHEN 0 THEN 'yellow' WHEN 1 THEN 'orange' ELSE 'red' END",
         "department_id": "c.department_id", "raised_at": "c.submitted_at",
         "updated_at": "c.submitted_at",
         "status": "CASE WHEN c.status IN ('closed', 'refused', 'withdrawn') THEN 'cleared' "
                   "ELSE 'open' END",
         "description": "'基准预警'"},
        f"{cases} c WHERE (c.id * 13) %% 100 < 5 AND c.submitted_at IS NOT NULL",
        [],
    )  # fmt: skip
    warnings = connection.ops.quote_name(Warning._meta.db_table)
    counts["orders"] = _insert_select(
        Order,
        {"number": "'DB' || w.id", "warning_id": "w.id", "case_id": "w.case_id",
         "department_id": "w.department_id", "issued_by": "'system:supervision'",
         "reason": "'办件超期'", "issued_at": "w.raised_at", "response_deadline": "%s",
         "status": "CASE w.id %% 4 WHEN 0 THEN 'open' WHEN 1 THEN 'responded' WHEN 2 THEN "
                   "'escalated' ELSE 'closed' END",
         "card": "CASE WHEN w.id %% 2 = 0 THEN 'red' ELSE 'yellow' END"},
        f"{warnings} w WHERE w.severity = 'red'",
        [dt.date(2026, 12, 31)],
    )  # fmt: skip
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return counts


def main() -> None:  # noqa: PLR0915 - one measurement after another
    from case_generator import DEFAULT_DB

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB, choices=["sqlite", "postgres"])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100, help="requests per figure")
    parser.add_argument("--reuse", action="store_true", help="previous run's database, no load")
    args = parser.parse_args()

    from case_generator import LEAD, build_world, prepare, report, use_database

    vendor = use_database(args.db, "ind", fresh=not args.reuse)
    print(
        f"machine: {machine()}; database: {vendor}; load average {os.getloadavg()[0]:.1f}; "
        f"{time.strftime('%Y-%m-%d %H:%M')}"
    )
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count, Q
    from django.test import Client

    from zwfw.cases.models import Case
    from zwfw.identity.models import User
    from zwfw.indicators import rollups, selectors
    from zwfw.organisations.models import Department
    from zwfw.ratings.models import Rating
    from zwfw.supervision.models import Warning

    if not args.reuse:
        started = time.perf_counter()
        world = build_world()
        print(f"world: {len(world.items)} items, staff ({time.perf_counter() - started:.1f} s)")
        report(prepare(args.cases, world))
    if not Rating.objects.exists():
        started = time.perf_counter()
        derived = derive_ratings_and_warnings()
        print(
            "derived with INSERT … SELECT: "
            + ", ".join(f"{n:,} {name}" for name, n in derived.items())
            + f" ({time.perf_counter() - started:.1f} s)"
        )
    print(
        f"data: {Case.objects.count():,} cases, {Rating.objects.count():,} ratings, "
        f"{Warning.objects.count():,} warnings"
    )

    started = time.perf_counter()
    rows = rollups.refresh()
    print(f"full rollup rebuild: {rows:,} rows in {time.perf_counter() - started:.1f} s")

    def incremental() -> None:
        from django.utils import timezone

        from zwfw.indicators.models import RollupState

        RollupState.objects.filter(pk=1).update(
            refreshed_at=timezone.now() - dt.timedelta(minutes=10)
        )
        rollups.ensure_fresh()

    _line(
        f"incremental refresh (stale read; look-back {settings.INDICATORS_ROLLUP_LOOKBACK_DAYS} "
        "days)",
        _time(incremental, 5),
    )

    supervisor = User.objects.get(username="bench_supervisor")
    market = Department.objects.get(name=LEAD)
    client = Client(SERVER_NAME="127.0.0.1")  # an allowed host of the dev settings
    client.force_login(supervisor)
    period = selectors.parse_period()
    print(f"default period: {period.start} – {period.end}")

    def get(path: str, **params: Any) -> Callable[[], None]:
        def call() -> None:
            response = client.get(path, params)
            if response.status_code != 200:
                raise SystemExit(f"{path} → {response.status_code}: {response.content[:300]!r}")

        return call

    runs = args.runs
    for label, fn, target in (
        ("GET /indicators/dashboard (node, 12 months)", get("/api/v1/indicators/dashboard"),
         "p50 ≤ 200 ms"),
        (f"GET /indicators/dashboard (department {LEAD})",
         get("/api/v1/indicators/dashboard", department=market.pk), "p50 ≤ 200 ms"),
        ("GET /indicators/ (node, 12 months)", get("/api/v1/indicators/"), ""),
        ("GET /indicators/trend (node, 12 months)", get("/api/v1/indicators/trend"), ""),
        ("GET /indicators/export?format=xlsx (node)",
         get("/api/v1/indicators/export", format="xlsx"), ""),
    ):  # fmt: skip
        _time(fn, 3)  # warm up
        _line(label, _time(fn, runs if "export" not in label else max(5, runs // 5)), target)

    response = client.get("/api/v1/indicators/dashboard")
    body = response.json()
    print(
        f"dashboard payload {len(response.content):,} bytes; total score "
        f"{body['indicators']['total_score']}; on-time rate "
        f"{body['indicators']['indicators'][4]['children'][0]['value']}"
    )

    # What the rollups replace: one conditional aggregate over the cases of the period.
    def live_aggregate() -> None:
        Case.objects.filter(
            status="closed", closed_at__gte=period.start_at, closed_at__lt=period.end_at
        ).aggregate(
            closed=Count("id"),
            on_time=Count("id", filter=Q(due_date__isnull=False, closed_at__date__lte=F_due())),
            online=Count("id", filter=Q(channel="2")),
        )

    _line(
        "for comparison: live aggregate over cases_case (closed in 12 months)",
        _time(live_aggregate, 5),
    )
    connection.close()
    sys.stdout.flush()


def F_due() -> Any:  # noqa: N802 - reads as the F() it returns
    from django.db.models import F

    return F("due_date")


if __name__ == "__main__":
    main()
