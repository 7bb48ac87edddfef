"""Base registries: bulk load, then 核验 (verify) calls per second, service-level and over HTTP.

Target (issue): ≥ 2,000 核验 calls/s at service level. Each call checks the grant, looks the
person up by blind index, compares the claimed values' indexes and appends an audit entry
(its own transaction, so one commit per call).
Usage: python bench/bench_registries.py [--people N] [--calls N] [--api-calls N] [--threads N]
(DATABASE_URL selects PostgreSQL; the registry tables of that database are emptied first)
"""

from __future__ import annotations

import argparse
import os
import random
import threading
import time
from pathlib import Path
from typing import Any

from _setup import django_on_fresh_database, machine

Sample = tuple[str, dict[str, str]]


def load(people: int) -> list[dict[str, str]]:
    from django.db import connection

    from zwfw.core import context
    from zwfw.registries import demo, loading
    from zwfw.registries.models import Consumer, PersonRecord

    PersonRecord.objects.all().delete()
    Consumer.objects.filter(name="bench").delete()
    started = time.perf_counter()
    rows = list(demo.people(people))
    generated = time.perf_counter() - started
    started = time.perf_counter()
    with context.bind(actor="system:bench"):
        report = loading.load_rows("population", enumerate(rows, start=2), source="bench")
    elapsed = time.perf_counter() - started
    assert not report.errors, report.errors[:3]
    assert report.created == people
    print(
        f"generate {people:,} synthetic people: {generated:.1f} s; "
        f"validate + load: {elapsed:.1f} s = {people / elapsed:,.0f} records/s"
    )
    if connection.vendor == "sqlite":
        size = Path(connection.settings_dict["NAME"]).stat().st_size
        print(f"database file after load: {size / 2**20:,.0f} MiB")
    return rows


def samples(rows: list[dict[str, str]], count: int, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    result = []
    for i in range(count):
        row = rng.choice(rows)
        claim = {"name": row["name"] if i % 4 else row["name"] + "x"}  # one in four false
        if i % 2 and row.get("phone"):
            claim["phone"] = row["phone"]
        result.append((row["id_number"], claim))
    return result


def service_calls(consumer: Any, calls: list[Sample], people: int) -> None:
    from zwfw.core import context
    from zwfw.core.models import AuditRecord
    from zwfw.registries import services

    audited_before = AuditRecord.objects.count()
    with context.bind(actor=consumer.audit_ref):
        started, cpu_started = time.perf_counter(), time.process_time()
        results = [services.verify(consumer, "population", k, c) for k, c in calls]
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    assert AuditRecord.objects.count() - audited_before == len(calls)
    print(
        f"核验 via service: {len(calls):,} calls over {people:,} people in {elapsed:.2f} s "
        f"= {len(calls) / elapsed:,.0f} calls/s ({sum(results):,} true; one audit entry each); "
        f"CPU {cpu:.2f} s = {len(calls) / cpu:,.0f} calls per CPU-second; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def threaded_calls(consumer: Any, calls: list[Sample], threads: int) -> None:
    from django.db import connection

    from zwfw.core import context
    from zwfw.registries import services

    def worker(chunk: list[Sample]) -> None:
        with context.bind(actor=consumer.audit_ref):
            for k, c in chunk:
                services.verify(consumer, "population", k, c)
        connection.close()  # each thread has its own database connection

    workers = [threading.Thread(target=worker, args=(calls[i::threads],)) for i in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    print(
        f"核验 via service, {threads} threads (one connection each): {len(calls):,} calls "
        f"in {elapsed:.2f} s = {len(calls) / elapsed:,.0f} calls/s"
    )


def api_calls(key: str, calls: list[Sample]) -> None:
    from django.test import Client

    client = Client(SERVER_NAME="127.0.0.1")  # an allowed host of the dev settings
    started = time.perf_counter()
    for k, c in calls:
        response = client.post(
            "/api/v1/registries/population/verify",
            {"key": k, "claims": c},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        assert response.status_code == 200, response.content
    elapsed = time.perf_counter() - started
    print(
        f"核验 via HTTP API (Django test client, one process): {len(calls):,} calls in "
        f"{elapsed:.2f} s = {len(calls) / elapsed:,.0f} calls/s; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000, help="population records")
    parser.add_argument("--calls", type=int, default=20_000, help="service-level 核验 calls")
    parser.add_argument("--api-calls", type=int, default=5_000, help="核验 calls over HTTP")
    parser.add_argument("--threads", type=int, default=4, help="threads for the threaded run")
    args = parser.parse_args()
    vendor = django_on_fresh_database("registries")
    print(f"machine: {machine()}; database: {vendor}")

    from zwfw.registries import services

    rows = load(args.people)
    consumer, key = services.create_consumer(name="bench", with_api_key=True)
    assert key is not None
    services.grant_scope(
        consumer=consumer,
        registry="population",
        mode="verify",
        fields=["id_number", "name", "phone", "social_security_card"],
    )
    service_calls(consumer, samples(rows, args.calls, 7), args.people)
    if args.threads > 1:
        threaded_calls(consumer, samples(rows, args.calls, 8), args.threads)
    api_calls(key, samples(rows, args.api_calls, 9))


if __name__ == "__main__":
    main()
