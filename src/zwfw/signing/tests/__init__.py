"""Helpers shared by the signing tests: the OpenSSL command line, pictures, bit flips."""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

OPENSSL_CLI = shutil.which("openssl")
DISTID = "distid:1234567812345678"
# A fixed clock for every test: nothing depends on today's date.
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


def run_openssl(
    *args: str | Path, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    assert OPENSSL_CLI is not None
    return subprocess.run(
        [OPENSSL_CLI, *map(str, args)], input=stdin, capture_output=True, check=False, timeout=30
    )


@functools.cache
def openssl_sm2_problem() -> str | None:
    """Why the OpenSSL command line cannot be used for SM2 here (``None`` when it can)."""
    if OPENSSL_CLI is None:
        return "the openssl command is not on PATH"
    result = run_openssl("genpkey", "-algorithm", "SM2")
    if result.returncode != 0 or b"PRIVATE KEY" not in result.stdout:
        return "this openssl has no SM2 (genpkey -algorithm SM2 fails)"
    return None


def needs_openssl_sm2() -> None:
    """Skip the calling test when the OpenSSL CLI lacks SM2."""
    problem = openssl_sm2_problem()
    if problem is not None:
        pytest.skip(problem)


def flip_bit(data: bytes, index: int, bit: int = 0) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 1 << bit
    return bytes(changed)


def png(width: int = 4, height: int = 4) -> bytes:
    """A valid PNG: red pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = b"".join(b"\x00" + b"\xcc\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
