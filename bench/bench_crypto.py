"""National cryptography throughput: SM2 per backend, SM3, SM4-CBC and SM4-GCM.

Target (ARCHITECTURE, national crypto): >= 1,000 SM2 signatures/s and verifications/s on one
core through libcrypto. Runs in about 30 s; no Django set-up needed.
Usage: python bench/bench_crypto.py [--seconds S]   (S: time spent on each figure, default 1)
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

# Imported after the path set-up, so that the script runs from a checkout without install.
from zwfw.core import crypto
from zwfw.core.crypto import sm2 as sm2_module

KIB = 1024
MIB = 1024 * KIB


def per_second(operation: Callable[[], object], seconds: float) -> tuple[float, int]:
    """Calls per second of ``operation`` over about ``seconds`` (after one warm-up call)."""
    operation()
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        operation()
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started), count


def threaded_per_second(operation: Callable[[], object], threads: int, seconds: float) -> float:
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def work(index: int) -> None:
        while time.perf_counter() < stop:
            operation()
            counts[index] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - started)


def bench_sm2(backend: str, seconds: float) -> None:
    os.environ["ZWFW_CRYPTO_BACKEND"] = backend
    if crypto.sm2_backend() != backend:
        print(f"SM2 [{backend}]: unavailable")
        return
    private_pem, public_pem = crypto.sm2_generate_key()
    message = os.urandom(KIB)
    signature = crypto.sm2_sign(private_pem, message)
    data_key = os.urandom(16)  # SM2 encryption is for short secrets: an SM4 key, say
    ciphertext = crypto.sm2_encrypt(public_pem, data_key)
    # The python backend manages tens per second: give it more time for a stable figure.
    budget = seconds if backend == "openssl" else 2 * seconds
    figures = [
        ("key generation", crypto.sm2_generate_key),
        ("sign 1 KiB message", lambda: crypto.sm2_sign(private_pem, message)),
        ("verify 1 KiB message", lambda: crypto.sm2_verify(public_pem, message, signature)),
        ("encrypt 16 B", lambda: crypto.sm2_encrypt(public_pem, data_key)),
        ("decrypt 16 B", lambda: crypto.sm2_decrypt(private_pem, ciphertext)),
    ]
    for label, operation in figures:
        rate, count = per_second(operation, budget)
        print(f"SM2 [{backend}] {label}: {rate:,.0f} /s ({count:,} operations)")
    if backend == "openssl" and (os.cpu_count() or 1) > 1:
        threads = min(os.cpu_count() or 1, 4)
        rate = threaded_per_second(lambda: crypto.sm2_sign(private_pem, message), threads, seconds)
        print(f"SM2 [{backend}] sign 1 KiB message, {threads} threads: {rate:,.0f} /s")


def bench_buffers(key: bytes, size: int, seconds: float) -> None:
    data = os.urandom(size)
    cbc, gcm = crypto.sm4_cbc_encrypt(key, data), crypto.sm4_gcm_encrypt(key, data)
    cases: list[tuple[str, Callable[[], object]]] = [
        ("SM3", lambda: crypto.sm3(data)),
        ("HMAC-SM3", lambda: crypto.sm3_hmac(key, data)),
        ("SM4-CBC encrypt", lambda: crypto.sm4_cbc_encrypt(key, data)),
        ("SM4-CBC decrypt", lambda: crypto.sm4_cbc_decrypt(key, cbc)),
        ("SM4-GCM encrypt", lambda: crypto.sm4_gcm_encrypt(key, data)),
        ("SM4-GCM decrypt", lambda: crypto.sm4_gcm_decrypt(key, gcm)),
    ]
    for label, operation in cases:
        rate, _ = per_second(operation, seconds / 2)
        print(f"{label}, {size // KIB:,} KiB buffers: {rate * size / 1e6:,.0f} MB/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=1.0, help="time per figure")
    args = parser.parse_args()
    openssl = sm2_module._openssl()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; SM2 default backend: {crypto.sm2_backend()}"
        + ("" if openssl else f" (libcrypto: {sm2_module._openssl_failure})")
    )
    started = time.perf_counter()
    for backend in ("openssl", "python"):
        bench_sm2(backend, args.seconds)
    key = os.urandom(16)
    for size in (4 * KIB, MIB):
        bench_buffers(key, size, args.seconds)
    print(f"total: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
