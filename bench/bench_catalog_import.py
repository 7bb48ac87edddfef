"""Catalogue import: rows/s for a synthetic N-item file in the import template.

Generates the file with ``gen_catalog.py`` (all county-level divisions, their departments with
valid USCCs), loads the divisions into a fresh database (SQLite under var/bench/, or
DATABASE_URL if set), then times: the first import (every item, version, facet and department
created), the re-import of the same file (every row unchanged), and the export of the catalogue
to the template. Usage: python bench/bench_catalog_import.py [--count N] [--format xlsx|csv]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import gen_catalog
from _setup import django_on_fresh_database, machine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    vendor = django_on_fresh_database("catalog_import")
    from django.contrib.auth import get_user_model

    from zwfw.catalog.exporting import export_file
    from zwfw.catalog.importing import import_file
    from zwfw.catalog.models import Item, ItemFacet, ItemVersion
    from zwfw.core import context
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
    print(f"{machine()}, {vendor}")
    print(
        f"file: {args.count:,} items, {args.format}, {size / 1e6:.1f} MB "
        f"(generated in {generated:.1f} s)"
    )

    def run(label: str) -> None:
        with context.bind(actor="user:bench"):
            report = import_file(
                data, f"catalog.{args.format}", user=user, batch_size=args.batch_size
            )
        rate = report.rows / report.seconds
        print(
            f"{label}: {report.rows:,} rows in {report.seconds:.1f} s = {rate:,.0f} rows/s "
            f"(created {report.created:,}, updated {report.updated:,}, "
            f"unchanged {report.unchanged:,}, rejected {report.rejected:,}, "
            f"departments created {len(report.departments_created):,})"
        )
        for error in report.errors[:5]:
            print(f"   row {error.row} [{error.column}] {error.message}")

    run("first import  ")
    versions = ItemVersion.objects.count()
    print(
        f"  database: {Item.objects.count():,} items, {versions:,} versions, "
        f"{ItemFacet.objects.count():,} facets, {Department.objects.count():,} departments"
    )
    run("re-import     ")
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
