"""Password sign-ins per second on one core, with the documented argon2id parameters.

Target (identity issue): ≥ 30 password logins/s per core with argon2id t=2, m=19 MiB, p=1.
A login here is the whole service call: blind-index lookup of the ID number, lockout checks,
argon2id verification, Django session creation, the session-tracking row and the audit
record. Rates are per CPU-second of this process (SQLite runs inside it), so they are per
core whatever else the machine is doing; wall time is printed beside them.
Usage: python bench/bench_login.py [--users N] [--logins N]
(DATABASE_URL selects PostgreSQL — then the database's own CPU time is not counted).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from typing import Any

from _setup import django_on_fresh_database, machine

PASSWORD = "Bench-password-2026"  # noqa: S105 — benchmark data


def _id_number(n: int) -> str:
    from zwfw.core.validators import resident_id_check_char

    body = f"511602{1950 + n % 50:04d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + resident_id_check_char(body)


def _accounts(count: int, encoded: str) -> list[str]:
    """``count`` person accounts sharing one password hash (creating must not take minutes)."""
    from zwfw.identity.models import User

    numbers: dict[str, None] = {}
    batch = []
    for n in range(count):
        number = _id_number(n)
        if number in numbers:
            continue
        numbers[number] = None
        batch.append(
            User(
                username=f"b{n}",
                kind="person",
                id_type="111",
                id_number=number,
                phone=f"139{n:08d}",
                trust_level="L3",
                password=encoded,
            )
        )
    User.objects.bulk_create(batch, batch_size=1000)  # pre_save fills the blind indexes
    return list(numbers)


def _login(identifier: str, secret: str) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    from zwfw.identity import services

    request: Any = RequestFactory().post("/api/v1/identity/login")
    request.session = SessionStore()
    request.user = AnonymousUser()
    try:
        services.login_with_password(request, identifier, secret)
    finally:
        request.session.save()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--logins", type=int, default=300)
    args = parser.parse_args()
    vendor = django_on_fresh_database("login")

    from django.conf import settings
    from django.contrib.auth.hashers import get_hasher

    from zwfw.core import context
    from zwfw.core.models import AuditRecord
    from zwfw.identity.models import User, UserSession

    hasher: Any = get_hasher()
    print(f"machine: {machine()}; database: {vendor}")
    print(
        f"hasher: {settings.PASSWORD_HASHERS[0]} "
        f"(t={hasher.time_cost}, m={hasher.memory_cost} KiB, p={hasher.parallelism})"
    )
    encoded = hasher.encode(PASSWORD, hasher.salt())
    started = time.perf_counter()
    numbers = _accounts(args.users, encoded)
    print(f"accounts: {User.objects.count():,} ({time.perf_counter() - started:.1f} s to create)")

    started = time.process_time()
    for _ in range(100):
        assert hasher.verify(PASSWORD, encoded)
    print(f"argon2id verifications alone: {100 / (time.process_time() - started):.1f}/CPU-s")

    with context.bind(ip="10.1.0.1", request_id="bench-login"):
        started, wall = time.process_time(), time.perf_counter()
        for i in range(args.logins):
            _login(numbers[(i * 7919) % len(numbers)], PASSWORD)
        cpu, wall = time.process_time() - started, time.perf_counter() - wall
    rate = args.logins / cpu
    print(
        f"successful password logins: {args.logins} in {cpu:.2f} CPU-s ({wall:.2f} s wall) "
        f"= {rate:.1f}/s per core ({1000 / rate:.1f} ms CPU each)"
    )

    failures = min(args.logins, 100)
    started = time.process_time()
    for i in range(failures):
        # a different address each time: the per-address lock must not cut the run short
        with context.bind(ip=f"10.2.{i}.1"), contextlib.suppress(Exception):
            _login(numbers[(i * 104729) % len(numbers)], "Wrong-password-1")
    cpu = time.process_time() - started
    print(
        f"failed password logins: {failures} in {cpu:.2f} CPU-s = {failures / cpu:.1f}/s per core"
    )
    print(
        f"rows afterwards: sessions {UserSession.objects.count():,}, "
        f"audit records {AuditRecord.objects.count():,}"
    )
    print(f"target ≥ 30 logins/s per core: {'meets' if rate >= 30 else 'MISSES'} ({rate:.1f}/s)")


if __name__ == "__main__":
    main()
