"""Validators and division loading: resident IDs/s, USCCs/s, division-load time.

Generates valid values (random county, birth date and sequence; random organisation code) with
the check characters computed, validates each, and loads the shipped divisions into a fresh
database (SQLite under var/bench/, or DATABASE_URL if set) twice: first load and the no-op
second load. Usage: python bench/bench_validators.py [--count N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from _setup import django_on_fresh_database, machine


def _resident_ids(count: int, rng: random.Random) -> list[str]:
    from zwfw.core.validators import resident_id_check_char
    from zwfw.organisations.divisions import division_index

    counties = [code for code, rec in division_index().items() if rec.level == 3]
    first, days = dt.date(1920, 1, 1).toordinal(), 365 * 100
    values = []
    for _ in range(count):
        birth = dt.date.fromordinal(first + rng.randrange(days))
        body = f"{rng.choice(counties)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        values.append(body + resident_id_check_char(body))
    return values


def _usccs(count: int, rng: random.Random) -> list[str]:
    from zwfw.core.validators import org_code_check_char, uscc_check_char
    from zwfw.organisations.divisions import division_index

    kinds = ["91", "92", "93", "11", "12", "51", "52", "53"]
    divisions = list(division_index())
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    values = []
    for _ in range(count):
        org = "".join(rng.choice(alphabet) for _ in range(8))
        body = f"{rng.choice(kinds)}{rng.choice(divisions)}{org}{org_code_check_char(org)}"
        values.append(body + uscc_check_char(body))
    return values


def _rate(label: str, func, values: list[str]) -> None:
    started = time.perf_counter()
    for value in values:
        func(value)
    elapsed = time.perf_counter() - started
    print(f"{label}: {len(values):,} in {elapsed:.2f} s = {len(values) / elapsed:,.0f}/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000, help="values per validator")
    args = parser.parse_args()
    vendor = django_on_fresh_database("validators")

    from zwfw.core.validators import validate_resident_id, validate_uscc
    from zwfw.organisations.divisions import division_index, load_divisions

    print(f"machine: {machine()}; database: {vendor}")
    started = time.perf_counter()
    division_index()
    print(f"division index (CSV → memory): {time.perf_counter() - started:.3f} s")

    rng = random.Random(2026)
    _rate("resident IDs validated", validate_resident_id, _resident_ids(args.count, rng))
    _rate("USCCs validated", validate_uscc, _usccs(args.count, rng))

    first = load_divisions()
    print(f"load_divisions, empty table: {first.created:,} created in {first.seconds:.2f} s")
    again = load_divisions()
    print(
        f"load_divisions, second run: {again.unchanged:,} unchanged, "
        f"{again.created + again.updated} written in {again.seconds:.2f} s"
    )


if __name__ == "__main__":
    main()
