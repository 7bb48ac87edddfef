"""Portal pages (门户): server time of the home, search and guide pages over a large catalogue,
and the weight of each page's JavaScript and CSS.

Target (issue 6): server time p50 ≤ 50 ms for home, search and guide with 100,000 items;
JS + CSS ≤ 150 KB per page. "Server time" is one request through the whole Django stack
(middleware, view, queries, template) with the test client, in-process: no network and no
browser. The home page's counts per theme are cached for a minute (as in production, with
the local-memory cache): its p50 is the warm figure, the first (cold) request is printed too.

Usage: python bench/bench_portal.py [--items N] [--requests N] [--reuse]
       (DATABASE_URL=postgres://… selects PostgreSQL; use a fresh database. --reuse measures
       the previous run's database again.)
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

from _setup import REPO, django_on_fresh_database, machine

QUERIES = ["户口", "户口迁移", "社保", "食品经营许可", "营业执照 变更", "医保 报销", "公积金提取"]


def _previous_database(name: str) -> str:
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{REPO / 'var' / 'bench' / f'{name}.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zwfw.settings.dev")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.db import connection

    return connection.vendor


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _time(client: object, paths: list[str]) -> tuple[list[float], int]:
    times = []
    statuses = set()
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - started) * 1000)
        statuses.add(response.status_code)
    bad = [s for s in statuses if s != 200]
    if bad:
        raise SystemExit(f"unexpected status {bad} for {paths[0]}")
    return times, len(paths)


def _assets(html: str) -> list[str]:
    return re.findall(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"', html)


def _weight(urls: list[str]) -> tuple[int, int]:
    """Bytes of the page's stylesheets and scripts, as served and gzip-compressed."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    raw = compressed = 0
    for url in urls:
        name = url[len(settings.STATIC_URL) :] if url.startswith(settings.STATIC_URL) else url
        name = name.lstrip("/").removeprefix("static/")
        path = finders.find(name)
        if path is None:
            raise SystemExit(f"static file not found: {url}")
        data = Path(path).read_bytes()
        raw += len(data)
        compressed += len(gzip.compress(data, compresslevel=6))
    return raw, compressed


#: Guide pages are measured over this many items, whose content is made a complete guide (the
#: bulk fixture writes only what search reads).
GUIDES = 2000


def _complete_guides(count: int) -> list[str]:
    """Give ``count`` items a full, valid guide (the factory content of the catalogue tests,
    renamed), so that their guide pages render every section."""
    from django.db import transaction

    from zwfw.catalog.models import Item, ItemVersion
    from zwfw.catalog.tests.factories import content

    rows = list(Item.objects.select_related("current_version", "department").order_by("id")[:count])
    versions = []
    for item in rows:
        version = item.current_version
        assert version is not None
        version.content = content(
            name=item.name,
            implementation_code=item.implementation_code,
            basic_code="",
            implementing_body={"name": item.department.name, "uscc": ""},
        )
        versions.append(version)
    with transaction.atomic():
        ItemVersion.objects.bulk_update(versions, ["content"], batch_size=500)
    return [item.implementation_code for item in rows]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="measure the previous database")
    args = parser.parse_args()
    vendor = _previous_database("portal") if args.reuse else django_on_fresh_database("portal")

    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from catalog_fixture import load
    from zwfw.catalog.models import Item
    from zwfw.catalog.synonyms import seed_synonyms

    print(f"machine: {machine()}; database: {vendor}")
    if not args.reuse:
        seed_synonyms()
        timings = load(args.items)
        print(f"loaded {args.items:,} published items in {timings['load']:.1f} s")
    items = Item.objects.count()
    codes = _complete_guides(GUIDES)
    rng = random.Random(6)
    client = Client(SERVER_NAME="localhost")
    cache.clear()
    started = time.perf_counter()
    first = client.get("/")
    cold = (time.perf_counter() - started) * 1000
    pages = {
        "home": ["/"] * args.requests,
        "search": [f"/search/?q={rng.choice(QUERIES)}" for _ in range(args.requests)],
        "search (filtered)": [
            f"/search/?q={rng.choice(QUERIES)}&online_depth=IV" for _ in range(args.requests)
        ],
        "browse by department": ["/browse/department/"] * args.requests,
        "guide": [f"/items/{rng.choice(codes)}/" for _ in range(args.requests)],
    }
    print(f"{items:,} published items; {args.requests} requests per page; times in ms")
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores; others' work inflates times)")
    print(f"home, first request (counts not cached yet): {cold:.1f} ms")
    for name, paths in pages.items():
        _time(client, paths[:5])  # warm-up: templates compiled, connection open
        times, n = _time(client, paths)
        print(
            f"{name:22s} p50 {statistics.median(times):6.1f}  p90 {_percentile(times, 90):6.1f}"
            f"  p99 {_percentile(times, 99):6.1f}  (n={n})"
        )
    # The search page's own share: the same queries through the selector alone.
    from zwfw.catalog import search

    selector = []
    for _ in range(args.requests):
        started = time.perf_counter()
        search.search_items(rng.choice(QUERIES), search.SearchFilters())
        selector.append((time.perf_counter() - started) * 1000)
    print(
        f"{'search selector alone':22s} p50 {statistics.median(selector):6.1f}"
        f"  p90 {_percentile(selector, 90):6.1f}  p99 {_percentile(selector, 99):6.1f}"
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print("page weight (stylesheets + scripts; raw / gzip):")
    samples = {
        "home": first.content.decode(),
        "search": client.get("/search/?q=户口").content.decode(),
        "guide": client.get(f"/items/{codes[0]}/").content.decode(),
        "progress": client.get("/progress/").content.decode(),
    }
    for name, html in samples.items():
        urls = _assets(html)
        raw, compressed = _weight(urls)
        print(
            f"  {name:9s} {raw / 1024:6.1f} KB / {compressed / 1024:5.1f} KB gzip "
            f"({', '.join(u.rsplit('/', 1)[-1] for u in urls)}); HTML {len(html) / 1024:.1f} KB"
        )
    connection.close()


if __name__ == "__main__":
    main()
