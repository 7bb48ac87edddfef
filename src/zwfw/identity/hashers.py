"""Password hashing: argon2id with the parameters documented in decision 0012.

OWASP's first recommended argon2id setting: 19 MiB of memory, 2 passes, 1 lane. Measured
≈ 42 verifications/s per core here (bench/bench_login.py), so a login costs ≈ 24 ms of CPU
and one core sustains the ≥ 30 logins/s target; an attacker holding a stolen hash pays the
same 19 MiB and 24 ms per guess. The algorithm name stays ``argon2`` so that hashes made
with other parameters (Django's defaults) still verify and are re-hashed with these at the
next successful login (``must_update``).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """argon2id, t = 2, m = 19 MiB, p = 1 (OWASP Password Storage Cheat Sheet)."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
