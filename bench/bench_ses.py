"""GB/T 38540 seal signatures: SES_Signature signing and verification rates, one thread.

Target (decision 0016): >= 1,000 SES_Signature verifications per second per core. Every
verification does one SM2 verification (the signer's) plus parsing; the maker's signature over
a seal is checked once per seal and then cached, as are parsed seals and certificates. The
raw SM2 rates are printed alongside, because the machine's load moves every figure.
No Django set-up or database is needed.
Usage: python bench/bench_ses.py [--operations N] [--picture-kib K]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import struct
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

# Imported after the path set-up, so that the script runs from a checkout without install.
from zwfw.core.crypto import sm2_backend, sm2_generate_key, sm2_sign, sm2_verify
from zwfw.signing import (
    issue_certificate,
    make_ca,
    make_seal,
    sign_data,
    verify_seal,
    verify_signature,
)

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
AT = START + dt.timedelta(days=10)


def png(size: int) -> bytes:
    """A valid PNG of about ``size`` bytes (incompressible pixels, like a real seal image)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    side = max(1, int((size / 3) ** 0.5))
    rows = b"".join(b"\x00" + os.urandom(side * 3) for _ in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 1))
        + chunk(b"IEND", b"")
    )


def rate(operation: Callable[[], object], count: int) -> tuple[float, float]:
    """Operations per wall-clock second and per CPU second of this process.

    The second figure is the per-core rate even on a busy machine (other processes take wall
    time, not this process's CPU time).
    """
    operation()  # warm-up (loads keys, fills caches as a running server would have them)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        operation()
    return count / (time.perf_counter() - wall), count / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--picture-kib", type=int, default=16)
    args = parser.parse_args()
    n = args.operations

    ca_key, ca = make_ca("Bench CA", "Bench", valid_days=3650, not_before=START)
    maker_key, maker_public = sm2_generate_key()
    signer_key, signer_public = sm2_generate_key()
    maker = issue_certificate(
        ca_key, ca, maker_public, common_name="制章者", organisation="政务服务中心",
        uscc="91350100M000100Y43", valid_days=365, not_before=START,
    )  # fmt: skip
    signer = issue_certificate(
        ca_key, ca, signer_public, common_name="签章者", organisation="行政审批局",
        uscc="91110000600037341L", valid_days=365, not_before=START,
    )  # fmt: skip
    picture = png(args.picture_kib * 1024)
    seal = make_seal(
        es_id="35010000000001", seal_type=1, name="行政审批专用章", holder_certs=[signer],
        picture=picture, picture_type="PNG", width_mm=42, height_mm=42, valid_start=START,
        valid_end=START + dt.timedelta(days=300), maker_private_pem=maker_key,
        maker_cert_der=maker, created_at=START,
    )  # fmt: skip
    document = os.urandom(1024)
    signature = sign_data(
        document, seal_der=seal, signer_private_pem=signer_key, signer_cert_der=signer, at=AT
    )
    assert verify_signature(signature, document, at=AT, trusted_cas=[ca]).ok

    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"SM2 backend {sm2_backend()}; load average {os.getloadavg()[0]:.1f}")
    print(f"seal {len(seal):,} bytes (picture {len(picture):,}); SES_Signature {len(signature):,}")
    print(f"bytes; 1 KiB documents; {n:,} operations per figure, one thread")
    raw_signature = sm2_sign(signer_key, document)
    figures = [
        ("SM2 sign, 1 KiB (reference)", lambda: sm2_sign(signer_key, document)),
        (
            "SM2 verify, 1 KiB (reference)",
            lambda: sm2_verify(signer_public, document, raw_signature),
        ),
        (
            "sign_data (checks the seal, signs)",
            lambda: sign_data(
                document,
                seal_der=seal,
                signer_private_pem=signer_key,
                signer_cert_der=signer,
                at=AT,
            ),
        ),
        ("verify_signature", lambda: verify_signature(signature, document, at=AT)),
        (
            "verify_signature + trusted_cas",
            lambda: verify_signature(signature, document, at=AT, trusted_cas=[ca]),
        ),
        ("verify_seal", lambda: verify_seal(seal, at=AT)),
    ]
    print(f"  {'operation':<40} {'per s':>8} {'per CPU s':>10}")
    for label, operation in figures:
        wall, cpu = rate(operation, n)
        print(f"  {label:<40} {wall:>8,.0f} {cpu:>10,.0f}")


if __name__ == "__main__":
    main()
