"""Catalogue import: rows/s for a synthetic N-item file in the import template.

Generates the file with ``gen_catalog.py`` (counties of 四川 in turn, ~1,000 items each across
14 departments with valid USCCs), loads the divisions into a fresh database (SQLite under
var/bench/, or DATABASE_URL if set), then times: the first import (every item, version, facet
and department created), the re-import of the same file (every row unchanged), and the export
of the catalogue to the template. Wall time and the CPU time of the Python processes (this one
and the validation workers; the PostgreSQL server's is not included) are printed: on a shared
machine the CPU time is the steadier figure; so is the time spent in ``search.index_items``.
Usage: python bench/bench_catalog_import.py [--count N] [--format xlsx|csv] [--workers N]
"""

from __future__ import annotations

import argparse
import io
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import gen_catalog
from _setup import django_on_fresh_database, machine


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class _IndexTimer:
    """Wraps ``search.index_items`` to add up the time spent indexing."""

    def __init__(self) -> None:
        from zwfw.catalog import search

        self.seconds = 0.0
        self.original = search.index_items
        search.index_items = self

    def __call__(self, items: Any) -> None:
        started = time.perf_counter()
        try:
            self.original(items)
        finally:
            self.seconds += time.perf_counter() - started


def _import(
    label: str, data: bytes, args: argparse.Namespace, user: Any, timer: _IndexTimer
) -> None:
    from zwfw.catalog.importing import import_file
    from zwfw.core import context

    cpu_before, timer.seconds = _cpu(), 0.0
    with context.bind(actor="user:bench"):
        report = import_file(
            data,
            f"catalog.{args.format}",
            user=user,
            batch_size=args.batch_size,
            workers=args.workers,
        )
    rate = report.rows / report.seconds
    print(
        f"{label}: {report.rows:,} rows in {report.seconds:.1f} s = {rate:,.0f} rows/s, "
        f"CPU {_cpu() - cpu_before:.1f} s in Python processes "
        f"(created {report.created:,}, updated {report.updated:,}, "
        f"unchanged {report.unchanged:,}, rejected {report.rejected:,}, "
        f"departments created {len(report.departments_created):,})"
    )
    if timer.seconds:
        print(f"  of which search.index_items: {timer.seconds:.1f} s")
    for error in report.errors[:5]:
        print(f"   row {error.row} [{error.column}] {error.message}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument(
        "--workers", type=int, default=0, help="extra processes validating rows (import_items)"
    )
    args = parser.parse_args()
    vendor = django_on_fresh_database("catalog_import")
    from django.contrib.auth import get_user_model

    from zwfw.catalog.exporting import export_file
    from zwfw.catalog.models import Item, ItemFacet, ItemVersion
    from zwfw.organisations.divisions import load_divisions
    from zwfw.organisations.models import Department

    load_divisions()
    user = get_user_model().objects.create_superuser("bench", password=None)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"catalog.{args.format}"
        started = time.perf_counter()
        size = gen_catalog.write(path, args.count)
        generated = time.perf_counter() - started
        data = path.read_bytes()
    print(f"{machine()}, {vendor}, {args.workers} worker process(es)")
    print(
        f"file: {args.count:,} items, {args.format}, {size / 1e6:.1f} MB "
        f"(generated in {generated:.1f} s)"
    )
    timer = _IndexTimer()
    _import("first import  ", data, args, user, timer)
    versions = ItemVersion.objects.count()
    print(
        f"  database: {Item.objects.count():,} items, {versions:,} versions, "
        f"{ItemFacet.objects.count():,} facets, {Department.objects.count():,} departments"
    )
    _import("re-import     ", data, args, user, timer)
    assert ItemVersion.objects.count() == versions, "a re-import must not create versions"
    started = time.perf_counter()
    out = io.BytesIO()
    count = export_file(out, args.format)
    elapsed = time.perf_counter() - started
    print(
        f"export        : {count:,} rows in {elapsed:.1f} s = {count / elapsed:,.0f} rows/s "
        f"({len(out.getvalue()) / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    main()
