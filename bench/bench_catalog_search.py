"""Catalogue search (我要查): latency of the API's selector over a large published catalogue.

Target (issue: search): p50 ≤ 10 ms and p99 ≤ 50 ms over 100,000 items for a mixed query set
(1-, 2-, 4-character, multi-word, pinyin), on SQLite and on PostgreSQL. Each query is one call
of ``catalog.search.search_items`` exactly as ``GET /api/v1/catalog/items`` makes it: synonym
lookup, ranked first page, facet counts, highlights and snippets.

Usage: python bench/bench_catalog_search.py [--items N] [--queries N] [--reuse]
       (DATABASE_URL=postgres://… selects PostgreSQL; use a fresh database. --reuse queries
       the previous run's database again, e.g. when the machine was busy.)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import defaultdict

from _setup import REPO, django_on_fresh_database, machine

ONE = list("户证社医税车婚房食药护照登记许可保险")
TWO = [
    "社保",
    "医保",
    "户口",
    "护照",
    "公司",
    "发票",
    "契税",
    "婚姻",
    "驾照",
    "执照",
    "结婚",
    "离婚",
    "收养",
    "低保",
    "殡葬",
    "失业",
    "养老",
    "生育",
    "排污",
    "取水",
    "兽药",
    "护士",
    "消防",
    "烟草",
    "出租",
    "广告",
    "迁移",
    "补领",
    "变更",
    "注销",
]
FOUR = [
    "户口迁移",
    "营业执照",
    "食品经营",
    "社会保险",
    "医疗保险",
    "养老保险",
    "生育登记",
    "结婚登记",
    "税务登记",
    "教师资格",
    "排污许可",
    "取水许可",
    "护士执业",
    "医师执业",
    "出租汽车",
    "发票领用",
    "契税申报",
    "临时救助",
    "高龄津贴",
    "普通护照",
    "施工许可",
    "规划许可",
    "异地就医",
    "转移接续",
    "变更登记",
    "注销登记",
    "火星移民",
]
MULTI = [
    "户口 迁移",
    "食品 许可 延续",
    "营业执照 变更",
    "社保卡 补领",
    "公积金 提取",
    "驾驶证 换证",
    "不动产 抵押",
    "医保 异地",
    "公司 注销",
    "护照 补发",
    "怎么办理社保卡",
    "个体工商户 注销登记",
    "建设工程 规划许可 变更",
]
PINYIN = ["sb", "shebao", "hukou", "yb", "gjj", "gongjijin", "yyzz", "jsz", "huzhao", "xyzxyz"]
KINDS = {"1-char": ONE, "2-char": TWO, "4-char": FOUR, "multi-word": MULTI, "pinyin": PINYIN}
MIX = ["1-char"] * 2 + ["2-char"] * 3 + ["4-char"] * 2 + ["multi-word"] * 2 + ["pinyin"]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run_queries(count: int, documents: int) -> None:
    """Run ``count`` mixed queries through ``search_items`` and print the percentiles."""
    from django.db import connection

    from zwfw.catalog import search

    rng = random.Random(11)
    plan = []
    for _ in range(count):
        kind = rng.choice(MIX)
        filters = search.SearchFilters()
        if rng.random() < 0.15:  # some searches narrow by a filter, as the portal's facets do
            filters = rng.choice(
                [
                    search.SearchFilters(target="1"),
                    search.SearchFilters(min_online_depth="III"),
                    search.SearchFilters(division="511602"),
                    search.SearchFilters(theme_person="085"),
                ]
            )
        plan.append((kind, rng.choice(KINDS[kind]), filters))

    for _kind, q, filters in plan[:50]:  # warm caches and connections
        search.search_items(q, filters)

    by_kind: dict[str, list[float]] = defaultdict(list)
    totals: dict[str, list[int]] = defaultdict(list)
    every: list[float] = []
    cpu: list[float] = []
    load_before = os.getloadavg()[0]
    for kind, q, filters in plan:
        started, started_cpu = time.perf_counter(), time.thread_time()
        result = search.search_items(q, filters)
        elapsed = (time.perf_counter() - started) * 1000
        cpu.append((time.thread_time() - started_cpu) * 1000)
        every.append(elapsed)
        by_kind[kind].append(elapsed)
        totals[kind].append(result.total or 0)

    print(
        f"search_items (first page of 20 + facets + highlights), {len(every)} queries over "
        f"{documents:,} items: p50 {_percentile(every, 0.5):.1f} ms, "
        f"p95 {_percentile(every, 0.95):.1f} ms, p99 {_percentile(every, 0.99):.1f} ms, "
        f"max {max(every):.1f} ms  (load average {load_before:.1f} → {os.getloadavg()[0]:.1f})"
    )
    if connection.vendor == "sqlite":
        # In-process engine: CPU time is the same work without waits for a busy machine's cores.
        print(
            f"  CPU time of the same queries: p50 {_percentile(cpu, 0.5):.1f} ms, "
            f"p95 {_percentile(cpu, 0.95):.1f} ms, p99 {_percentile(cpu, 0.99):.1f} ms"
        )
    for kind, values in by_kind.items():
        print(
            f"  {kind:<10} n={len(values):>4}  p50 {_percentile(values, 0.5):6.1f} ms  "
            f"p99 {_percentile(values, 0.99):6.1f} ms  "
            f"median matches {int(statistics.median(totals[kind])):,}"
        )

    paging: list[float] = []
    for _kind, q, filters in plan[:200]:
        first = search.search_items(q, filters, with_facets=False)
        if first.next_cursor:
            started = time.perf_counter()
            search.search_items(q, filters, cursor=first.next_cursor, with_facets=False)
            paging.append((time.perf_counter() - started) * 1000)
    if paging:
        print(
            f"next page without facets, {len(paging)} queries: p50 "
            f"{_percentile(paging, 0.5):.1f} ms, p99 {_percentile(paging, 0.99):.1f} ms"
        )


def _previous_database(name: str) -> str:
    """Django on the database a previous run loaded (SQLite file under var/bench/)."""
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{REPO / 'var' / 'bench' / f'{name}.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zwfw.settings.dev")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.db import connection

    return connection.vendor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--reuse", action="store_true", help="query the previous run's database again (no load)"
    )
    args = parser.parse_args()
    if args.reuse:
        vendor = _previous_database("catalog_search")
    else:
        vendor = django_on_fresh_database("catalog_search")

    from django.db import connection

    from catalog_fixture import load
    from zwfw.catalog.models import ItemSearchDocument
    from zwfw.catalog.synonyms import seed_synonyms

    print(f"machine: {machine()}; database: {vendor}")
    if not args.reuse:
        seed_synonyms()
        timings = load(args.items)
        print(
            f"loaded {args.items:,} published items with search documents in "
            f"{timings['load']:.1f} s (building documents: {timings['build_documents']:.1f} s)"
        )
    documents = ItemSearchDocument.objects.count()
    run_queries(args.queries, documents)
    connection.close()


if __name__ == "__main__":
    main()
