"""好差评 over generated ratings (issue 7; figures in docs/benchmarks.md and decision 0020).

1. ``--ratings N`` visit ratings (default 200,000) over 20 departments and 200 items, levels
   62 / 22 / 9 / 4 / 3 % (非常满意 … 非常不满意), spread over 365 days, written with
   ``bulk_create``; a rectification for each bad one, a third of them closed.
2. The public statistics (``GET /api/v1/ratings/stats``: one aggregate query) for the node,
   one department, one item, one department over one month — through the test client.
3. Staff lists: ``GET /api/v1/ratings`` (department staff, first page of 20) and
   ``GET /api/v1/rectifications?overdue=true`` (supervisor), and ``overdue_rectifications``.
4. The write path: a clerk's visit code plus a rating through it (``issue_visit_token`` +
   ``rate_by_token``: signature, row lock, rating, audit; a bad one opens a rectification).

Usage: python bench/bench_ratings.py [--ratings N] [--runs R]   (DATABASE_URL for PostgreSQL)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any

from _setup import django_on_fresh_database, machine


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


def _line(label: str, values: list[float]) -> None:
    print(
        f"{label}: p50 {_percentile(values, 0.5):.1f} ms, p95 {_percentile(values, 0.95):.1f} ms "
        f"(n={len(values)}; load {os.getloadavg()[0]:.1f})"
    )


def _world() -> tuple[list[Any], list[Any], Any, Any]:
    from zwfw.catalog.models import Item
    from zwfw.identity.models import User
    from zwfw.organisations import services as organisations
    from zwfw.organisations.models import Department, Division, Role

    city = Division.objects.create(code="511600", name="广安市", level=2, full_name="四川省广安市")
    departments = [
        Department.objects.create(name=f"部门{i:02d}", division=city, level=3) for i in range(20)
    ]
    items = [
        Item.objects.create(
            implementation_code=f"XK{i:08d}-3-511600-BENCH",
            department=departments[i % 20],
            division=city,
            name=f"事项{i:03d}",
            item_type="01",
            level="3",
            case_type="2",
            online_depth="3",
            targets="1",
            status="published",
        )
        for i in range(200)
    ]
    clerk = User.objects.create_user("bench_clerk", password="x" * 12, kind="staff")
    organisations.grant_role(user=clerk, department=departments[0], role=Role.CLERK)
    organisations.grant_role(user=clerk, department=departments[0], role=Role.REVIEWER)
    supervisor = User.objects.create_user("bench_sup", password="x" * 12, kind="staff")
    organisations.grant_role(user=supervisor, department=departments[1], role=Role.SUPERVISOR)
    return departments, items, clerk, supervisor


def _generate(n: int, items: list[Any]) -> tuple[int, float]:
    from django.db import transaction
    from django.utils import timezone

    from zwfw.ratings.models import Rating, Rectification

    rng = random.Random(20)
    levels = [1] * 62 + [2] * 22 + [3] * 9 + [4] * 4 + [5] * 3
    now = timezone.now()
    started = time.perf_counter()
    batch = 5000
    bad = 0
    for first in range(0, n, batch):
        rows = []
        for i in range(first, min(n, first + batch)):
            item = items[i % len(items)]
            rows.append(
                Rating(
                    kind="visit",
                    visit_reference=f"B{i:09d}",
                    department_id=item.department_id,
                    item_id=item.pk,
                    level=rng.choice(levels),
                    channel=rng.choice("1234567"),
                    rater_name="李*",
                )
            )
        with transaction.atomic():
            made = Rating.objects.bulk_create(rows)
            # created_at is auto_now_add: spread it over a year afterwards, by id.
            Rating.objects.filter(pk__in=[r.pk for r in made]).update(created_at=now)
            rects = []
            for rating in made:
                if rating.level >= 4:
                    bad += 1
                    closed = bad % 3 == 0
                    rects.append(
                        Rectification(
                            rating=rating,
                            department_id=rating.department_id,
                            status="closed" if closed else "verifying",
                            opened_at=now,
                            deadline=(now - dt.timedelta(days=rng.randint(0, 30))).date(),
                        )
                    )
            Rectification.objects.bulk_create(rects)
    from django.db import connection

    # One UPDATE spreads created_at over 365 days (id modulo), on either database.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE ratings_rating SET created_at = now() - (id % 365) * interval '1 day'"
            )
        else:
            cursor.execute(
                "UPDATE ratings_rating SET created_at = "
                "strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || (id % 365) || ' days')"
            )
        # Planner statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE would leave them:
        # without them PostgreSQL sorts every overdue rectification instead of reading the
        # primary key backwards (108 ms against 18 ms for the supervisor's first page).
        cursor.execute("ANALYZE")
    return bad, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratings", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    vendor = django_on_fresh_database("ratings")
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from zwfw.core import calendar as cal
    from zwfw.ratings import selectors, services

    print(f"bench_ratings on {vendor}, {machine()}")
    departments, items, clerk, supervisor = _world()
    bad, seconds = _generate(args.ratings, items)
    print(f"generated {args.ratings:,} ratings ({bad:,} bad → rectifications) in {seconds:.1f} s")

    anonymous = Client(SERVER_NAME="127.0.0.1")  # an allowed host of the dev settings
    today = timezone.localdate()
    month = f"from={today - dt.timedelta(days=30)}&to={today}"
    for label, query in [
        ("stats node", ""),
        ("stats department", f"department={departments[3].pk}"),
        ("stats item", f"item={items[7].implementation_code}"),
        ("stats department, 30 days", f"department={departments[3].pk}&{month}"),
    ]:
        url = f"/api/v1/ratings/stats?{query}"
        assert anonymous.get(url).status_code == 200
        _line(label, _time(lambda url=url: anonymous.get(url), args.runs))
    with CaptureQueriesContext(connection) as queries:
        selectors.statistics(department_id=departments[3].pk)
    print(f"  statistics for one department: {len(queries)} queries (lookup + aggregate)")

    staff = Client(SERVER_NAME="127.0.0.1")
    staff.force_login(clerk)
    boss = Client(SERVER_NAME="127.0.0.1")
    boss.force_login(supervisor)
    assert staff.get("/api/v1/ratings").status_code == 200
    _line(
        "GET /ratings (department staff, 20)",
        _time(lambda: staff.get("/api/v1/ratings"), args.runs),
    )
    _line(
        "GET /ratings?bad_only (department staff, 20)",
        _time(lambda: staff.get("/api/v1/ratings?bad_only=true"), args.runs),
    )
    _line(
        "GET /rectifications?overdue=true (supervisor, 20)",
        _time(lambda: boss.get("/api/v1/rectifications?overdue=true"), args.runs),
    )
    day = cal.local_date(timezone.now())
    _line(
        "overdue_rectifications(today).count()",
        _time(lambda: selectors.overdue_rectifications(day).count(), args.runs),
    )

    counter = iter(range(10**9))

    def visit(level: int) -> None:
        _row, token = services.issue_visit_token(
            clerk, department=departments[0], visit_reference=f"W{next(counter):08d}"
        )
        services.rate_by_token(token, level=level, text="等候时间太长" if level > 3 else "")

    _line("visit code + good rating", _time(lambda: visit(1), args.runs))
    _line("visit code + bad rating (opens a rectification)", _time(lambda: visit(5), args.runs))
    reset_queries()


if __name__ == "__main__":
    sys.exit(main())
