"""Licences: issuance (canonical JSON + SES, PDF render + PAdES, OFD + SES) and verification.

Targets (issue 8): >= 20 licences/s per core including PDF render and both signatures; public
verification API p50 <= 20 ms with 1,000,000 licences stored. One thread; the first issuance
(CA, seal, font) is left out. Issuance is reported per wall second and per CPU second (the
per-core figure: other processes on the machine move the wall figure).

With ``--stored N`` the library is first filled to N licences: a few hundred are issued for
real and the rest are bulk-written copies of one signed record under their own identifiers
(valid GB/T 36904 identifiers with check characters; COPY on PostgreSQL). Verifying such a
copy does all the work of a real one — index lookup, decryption, SES signature check — and
then reports ``identifier_mismatch``, as a record moved in the database must.

Usage: python bench/bench_licences.py [--db sqlite|postgres] [--licences N]
       [--verifications N] [--stored N] [--reuse]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from _setup import machine
from case_generator import _Writer, use_database


def fill_library(total: int, vendor: str, template: Any) -> float:
    """Bulk-write copies of ``template`` until the library holds ``total`` licences."""
    from django.db import connection

    from zwfw.licences import identifiers
    from zwfw.licences.models import Licence

    missing = total - Licence.objects.count()
    if missing <= 0:
        return 0.0
    first = Licence.objects.filter(serial__startswith="2025").count()  # an earlier fill's copies
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT licence_type_id, holder_kind, holder_name, holder_id_number, holder_id_index,"
            " issuer_id, face, issued_at, valid_from, valid_until, seal_id, canonical, signature"
            " FROM licences_licence WHERE id = %s",
            [template.pk],
        )
        row = cursor.fetchone()
    type_code = template.licence_type.code
    uscc = template.issuer.uscc
    columns = [
        "identifier",
        "licence_type_id",
        "holder_kind",
        "holder_name",
        "holder_id_number",
        "holder_id_index",
        "issuer_id",
        "serial",
        "version",
        "face",
        "issued_at",
        "valid_from",
        "valid_until",
        "status",
        "revoked_at",
        "revocation_reason",
        "seal_id",
        "canonical",
        "signature",
        "pdf_sha",
        "pdf_name",
        "ofd_sha",
        "ofd_name",
    ]
    started = time.perf_counter()
    writer = _Writer(vendor)
    writer.begin(["licences_licence"])
    batch: list[tuple[Any, ...]] = []
    for number in range(first, first + missing):
        serial = f"2025{number:010d}"
        batch.append(
            (
                identifiers.build_identifier(type_code, uscc, serial, 1),
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                serial,
                1,
                row[6],
                row[7],
                row[8],
                row[9],
                "valid",
                None,
                "",
                row[10],
                row[11],
                row[12],
                "",
                "",
                "",
                "",
            )
        )
        if len(batch) == 50_000:
            writer.write("licences_licence", columns, batch)
            writer.commit()
            batch = []
    writer.write("licences_licence", columns, batch)
    writer.commit()
    writer.finish()
    return time.perf_counter() - started


def main() -> None:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--licences", type=int, default=30)
    parser.add_argument("--verifications", type=int, default=500)
    parser.add_argument("--stored", type=int, default=0)
    parser.add_argument("--reuse", action="store_true", help="keep the previous run's library")
    args = parser.parse_args()
    vendor = use_database(args.db, "licences", fresh=not args.reuse)

    from django.test import Client

    from zwfw.licences import services
    from zwfw.licences.management.commands.demo_licence import demo_department
    from zwfw.licences.models import HolderKind, Licence
    from zwfw.signing import pades
    from zwfw.signing import services as signing

    department = demo_department()
    licence_type = services.create_licence_type(
        name="食品经营许可证", defining_department=department, holder_kind=HolderKind.PERSON
    )

    def issue(defer: bool = False) -> Any:
        return services.issue_licence(
            licence_type=licence_type,
            holder_kind=HolderKind.PERSON,
            holder_name="李娜",
            holder_id_number="511602199201200023",
            face={"holder_name": "李娜", "holder_id": "511602199201200023"},
            issuer=department,
            defer_files=defer,
        )

    issue()  # warm-up: node authority, seal, font
    stages: dict[str, list[float]] = {}
    cpu, wall = time.process_time(), time.perf_counter()
    licences = []
    for _ in range(args.licences):
        licences.append(issue())
        for name, seconds in services.LAST_TIMING.stages.items():
            stages.setdefault(name, []).append(seconds)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{machine()}, {vendor}")
    print(
        f"issuance: {args.licences} in {wall:.2f}s = {args.licences / wall:.1f}/s wall, "
        f"{args.licences / cpu:.1f}/CPU-s (per core); "
        f"per licence {wall / args.licences * 1000:.0f} ms wall, "
        f"{cpu / args.licences * 1000:.0f} ms CPU"
    )
    for name, values in stages.items():
        print(f"  {name}: median {statistics.median(values) * 1000:.0f} ms")
    cpu, wall = time.process_time(), time.perf_counter()
    signed_only = [issue(defer=True) for _ in range(args.licences)]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"issuance at a case's close (signed now, files by the worker): "
        f"{len(signed_only) / cpu:.1f}/CPU-s, {wall / len(signed_only) * 1000:.0f} ms wall"
    )

    real = [licence.identifier for licence in licences + signed_only]
    if args.stored:
        seconds = fill_library(args.stored, vendor, licences[-1])
        print(f"library filled to {Licence.objects.count():,} licences in {seconds:.0f}s")
    stored = Licence.objects.count()
    sample_ids = list(
        Licence.objects.filter(pk__in=random.sample(range(1, stored + 1), 200)).values_list(
            "identifier", flat=True
        )
    )
    client = Client(SERVER_NAME="127.0.0.1")  # an allowed host of the dev settings
    times = []
    statuses: dict[str, int] = {}
    for number in range(args.verifications):
        identifier = real[number % len(real)] if number % 2 else random.choice(sample_ids)
        start = time.perf_counter()
        response = client.get(f"/api/v1/licences/verify/{identifier}")
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
        body = response.json()
        key = body["status"] if body["signature_ok"] else f"{body['status']}/{body['reason']}"
        statuses[key] = statuses.get(key, 0) + 1
    times.sort()
    print(
        f"verification API with {stored:,} licences stored: "
        f"p50 {times[len(times) // 2] * 1000:.1f} ms, "
        f"p95 {times[int(len(times) * 0.95)] * 1000:.1f} ms ({args.verifications} requests: "
        + ", ".join(f"{key} {count}" for key, count in sorted(statuses.items()))
        + ")"
    )
    pdf = services.file_bytes(licences[-1], "pdf")
    roots = signing.pdf_trust_roots()
    start = time.perf_counter()
    for _ in range(20):
        assert pades.verify_pdf(pdf, trust_roots_pem=roots).valid
    print(f"PDF signature verification: {(time.perf_counter() - start) / 20 * 1000:.0f} ms each")


if __name__ == "__main__":
    main()
