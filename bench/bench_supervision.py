"""电子监察 (issue 7): full and incremental rule passes over open cases, and /warnings/summary.

Targets (issue 7): a full pass of every rule over 1,000,000 open cases ≤ 10 s on PostgreSQL; an
incremental pass over 10,000 changed cases ≤ 1 s; the p50 of ``GET
/api/v1/supervision/warnings/summary`` reported.

What runs:
(a) ``case_generator.py`` writes ``--cases`` cases with every case open (its open share by age
    replaced by 1.0) over the last ``--days`` days (default 60, so that the mix of normal,
    nearing and overdue clocks is that of a busy node rather than two years of backlog), with
    the generator's usual statuses of open cases (submitted 25 %, correction 8 %, in progress
    57 %, special 6 %, suspended 4 %) and their tasks and events. The workflow state column is
    left empty (the rules never read it; it would add gigabytes and minutes to the load).
    Then ``VACUUM ANALYZE`` (PostgreSQL) / ``ANALYZE`` (SQLite).
(b) the first full pass (it raises every warning and opens R03's 督办 orders — a one-off), a
    second full pass (the steady state: every rule re-evaluated, nothing new), and a third.
(c) ``--changed`` random open cases are touched (``updated_at`` now; a tenth of them also paused
    today, so their clock warnings clear), then one incremental pass.
(d) ``selectors.warning_summary`` and ``GET /api/v1/supervision/warnings/summary`` (Django test
    client as the node's supervisor), ``--queries`` times each, p50 / p95.

Usage: python bench/bench_supervision.py [--db sqlite|postgres] [--cases N] [--days D]
       [--changed K] [--queries Q] [--reuse]
(PostgreSQL database ``zwfw_bench_supervision``, SQLite var/bench/supervision.sqlite3; ``--reuse``
keeps the previous run's cases and skips the generation.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from typing import Any

from _setup import machine


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _timed(label: str, fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.2f} s")
    return seconds, result


def _rules_line(summary: dict[str, Any]) -> str:
    parts = []
    for code, row in summary["rules"].items():
        parts.append(
            f"{code} {row.get('seconds', 0):.2f}s +{row['raised']:,}/-{row['cleared']:,}"
            + (f"/~{row['updated']:,}" if row["updated"] else "")
        )
    return "; ".join(parts)


def generate(args: argparse.Namespace) -> None:
    import case_generator as gen

    gen.DAYS = args.days
    gen._age_open_share = lambda age: 1.0
    started = time.perf_counter()
    world = gen.build_world()
    print(
        f"world: {len(world.items)} items, staff, applicants "
        f"({time.perf_counter() - started:.1f} s)"
    )
    promised = next(i for i in world.items if i.joint is None and i.department.name == gen.LEAD)
    capture_world = gen.World(
        world.departments,
        [promised, *[i for i in world.items if i.joint is not None]],
        world.applicants,
        world.staff,
        world.actors,
        world.processes,
    )
    snapshots = gen.capture_states(capture_world)
    for key, snap in list(snapshots.items()):
        snapshots[key] = type(snap)(**{**snap.__dict__, "state_json": None})
    result = gen.generate(world, snapshots, args.cases)
    statuses = {k: v for k, v in result["stats"].items() if k not in ("cases", "tasks", "events")}
    print(f"generated {result['stats']['cases']:,} cases in {result['seconds']:.1f} s; {statuses}")
    analyse()


def analyse() -> None:
    from django.db import connection

    started = time.perf_counter()
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        raw = connection.connection
        autocommit = raw.autocommit
        raw.autocommit = True
        with raw.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        raw.autocommit = autocommit
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"analyse: {time.perf_counter() - started:.1f} s")


def main() -> None:  # noqa: PLR0915 - one step after the other
    from case_generator import DEFAULT_DB

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB, choices=["sqlite", "postgres"])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--changed", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()

    from case_generator import use_database

    vendor = use_database(args.db, "supervision", fresh=not args.reuse)
    print(
        f"machine: {machine()}; database: {vendor}; load average {os.getloadavg()[0]:.1f}; "
        f"{time.strftime('%Y-%m-%d %H:%M')}"
    )
    if not args.reuse:
        generate(args)

    from django.test import Client
    from django.utils import timezone

    from zwfw.cases.models import OPEN_STATUSES, Case, CaseTask
    from zwfw.identity.models import User
    from zwfw.supervision import engine, selectors
    from zwfw.supervision.models import Order, Warning

    open_cases = Case.objects.filter(status__in=OPEN_STATUSES).count()
    print(
        f"cases: {Case.objects.count():,} ({open_cases:,} open), tasks {CaseTask.objects.count():,}"
        f" ({CaseTask.objects.filter(status='open').count():,} open)"
    )
    figures: dict[str, Any] = {"open_cases": open_cases, "vendor": vendor}

    print("(b) full passes")
    seconds, first = _timed(
        "  first full pass (raises everything)", lambda: engine.run_rules(full=True)
    )
    print(f"    {_rules_line(first)}; orders opened {first['orders_opened']:,}")
    figures["first_full_s"] = seconds
    figures["warnings_open"] = Warning.objects.filter(status="open").count()
    figures["orders"] = Order.objects.count()
    print(f"    open warnings {figures['warnings_open']:,}; orders {figures['orders']:,}")
    steady = []
    for run in range(2):
        seconds, again = _timed(
            f"  full pass {run + 2} (steady state)", lambda: engine.run_rules(full=True)
        )
        print(f"    {_rules_line(again)}")
        steady.append(seconds)
    figures["steady_full_s"] = steady

    print(f"(c) incremental pass over {args.changed:,} changed open cases")
    ids = list(Case.objects.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True))
    rng = random.Random(11)
    chosen = rng.sample(ids, min(args.changed, len(ids)))
    now = timezone.now()
    today = timezone.localdate()
    paused = chosen[: len(chosen) // 10]
    for start in range(0, len(chosen), 5000):
        Case.objects.filter(pk__in=chosen[start : start + 5000]).update(updated_at=now)
    for start in range(0, len(paused), 5000):
        Case.objects.filter(pk__in=paused[start : start + 5000], paused_since__isnull=True).update(
            paused_since=today, status="suspended", pause_reason="suspended"
        )
    incremental = []
    seconds, inc = _timed("  incremental pass", lambda: engine.run_rules(full=False))
    print(f"    full={inc['full']}; {_rules_line(inc)}")
    incremental.append(seconds)
    # A second incremental pass right after: the watermark overlap re-reads the same cases.
    seconds, inc2 = _timed(
        "  incremental pass again (nothing new)", lambda: engine.run_rules(full=False)
    )
    print(f"    {_rules_line(inc2)}")
    incremental.append(seconds)
    figures["incremental_s"] = incremental

    print(f"(d) warning summary, {args.queries} reads each")
    supervisor = User.objects.get(username="bench_supervisor")
    values = []
    for _ in range(args.queries):
        started = time.perf_counter()
        selectors.warning_summary(supervisor)
        values.append((time.perf_counter() - started) * 1000)
    print(
        f"  selectors.warning_summary: p50 {_percentile(values, 0.5):.1f} ms, "
        f"p95 {_percentile(values, 0.95):.1f} ms"
    )
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(supervisor)
    response = client.get("/api/v1/supervision/warnings/summary")
    if response.status_code != 200:
        print(f"  GET summary: {response.status_code} {response.content[:300]!r}")
        sys.exit(1)
    http = []
    for _ in range(args.queries):
        started = time.perf_counter()
        client.get("/api/v1/supervision/warnings/summary")
        http.append((time.perf_counter() - started) * 1000)
    print(
        f"  GET /api/v1/supervision/warnings/summary: p50 {_percentile(http, 0.5):.1f} ms, "
        f"p95 {_percentile(http, 0.95):.1f} ms; total {response.json()['total']:,}"
    )
    page = []
    for _ in range(args.queries):
        started = time.perf_counter()
        client.get("/api/v1/supervision/warnings?severity=red&limit=20")
        page.append((time.perf_counter() - started) * 1000)
    print(f"  GET /api/v1/supervision/warnings?severity=red: p50 {_percentile(page, 0.5):.1f} ms")
    figures["summary_p50_ms"] = statistics.median(http)
    figures["summary_selector_p50_ms"] = statistics.median(values)
    figures["warnings_page_p50_ms"] = statistics.median(page)
    figures["at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
