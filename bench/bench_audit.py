"""Audit log: append rate and whole-chain verification time.

Targets (issue 2): ≥ 5,000 appends/s on SQLite; verification of 1,000,000 entries ≤ 30 s.
Usage: python bench/bench_audit.py [--entries N]   (DATABASE_URL selects PostgreSQL)
"""

from __future__ import annotations

import argparse
import time

from _setup import django_on_fresh_database, machine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000, help="chain length to verify")
    parser.add_argument("--single", type=int, default=20_000, help="one-per-transaction appends")
    args = parser.parse_args()
    vendor = django_on_fresh_database("audit")

    from zwfw.core import audit

    print(f"machine: {machine()}; database: {vendor}")

    started = time.perf_counter()
    for i in range(args.single):
        audit.record("bench:thing:update", "thing", i, before={"n": i}, after={"n": i + 1})
    elapsed = time.perf_counter() - started
    print(
        f"append, one entry per transaction: {args.single:,} entries in {elapsed:.2f} s "
        f"= {args.single / elapsed:,.0f} entries/s"
    )

    batch = 1000
    remaining = args.entries - args.single
    started = time.perf_counter()
    while remaining > 0:
        size = min(batch, remaining)
        audit.record_many(
            [
                audit.Entry("bench:thing:update", "thing", str(i), {"n": i}, {"n": i + 1})
                for i in range(size)
            ]
        )
        remaining -= size
    elapsed = time.perf_counter() - started
    bulk = args.entries - args.single
    if bulk > 0:
        print(
            f"append, {batch} entries per transaction: {bulk:,} entries in {elapsed:.2f} s "
            f"= {bulk / elapsed:,.0f} entries/s"
        )

    started = time.perf_counter()
    result = audit.verify_chain()
    elapsed = time.perf_counter() - started
    assert result.ok, result
    print(
        f"verify chain: {result.checked:,} entries in {elapsed:.2f} s "
        f"= {result.checked / elapsed:,.0f} entries/s"
    )


if __name__ == "__main__":
    main()
