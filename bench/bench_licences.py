"""Licences: issuance (canonical JSON + SES, PDF render + PAdES, OFD + SES) and verification.

Targets (issue 8): >= 20 licences/s per core including PDF render and both signatures; public
verification API p50 <= 20 ms. One thread; the first issuance (CA, seal, font) is left out.
Usage: python bench/bench_licences.py [--licences N] [--verifications N]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _setup import django_on_fresh_database, machine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--licences", type=int, default=30)
    parser.add_argument("--verifications", type=int, default=200)
    args = parser.parse_args()
    vendor = django_on_fresh_database("licences")

    from django.test import Client

    from zwfw.licences import services
    from zwfw.licences.management.commands.demo_licence import demo_department
    from zwfw.licences.models import HolderKind
    from zwfw.signing import pades
    from zwfw.signing import services as signing

    department = demo_department()
    licence_type = services.create_licence_type(
        name="食品经营许可证", defining_department=department, holder_kind=HolderKind.PERSON
    )

    def issue() -> object:
        return services.issue_licence(
            licence_type=licence_type,
            holder_kind=HolderKind.PERSON,
            holder_name="李娜",
            holder_id_number="511602199201200023",
            face={"holder_name": "李娜", "holder_id": "511602199201200023"},
            issuer=department,
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
        f"{args.licences / cpu:.1f}/CPU-s; per licence {wall / args.licences * 1000:.0f} ms"
    )
    for name, values in stages.items():
        print(f"  {name}: median {statistics.median(values) * 1000:.0f} ms")

    identifier = licences[-1].identifier  # type: ignore[attr-defined]
    client = Client(SERVER_NAME="127.0.0.1")  # an allowed host of the dev settings
    times = []
    for _ in range(args.verifications):
        start = time.perf_counter()
        response = client.get(f"/api/v1/licences/verify/{identifier}")
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
    times.sort()
    print(
        f"verification API: p50 {times[len(times) // 2] * 1000:.1f} ms, "
        f"p95 {times[int(len(times) * 0.95)] * 1000:.1f} ms"
    )
    pdf = services.file_bytes(licences[-1], "pdf")  # type: ignore[arg-type]
    roots = signing.pdf_trust_roots()
    start = time.perf_counter()
    for _ in range(20):
        assert pades.verify_pdf(pdf, trust_roots_pem=roots).valid
    print(f"PDF signature verification: {(time.perf_counter() - start) / 20 * 1000:.0f} ms each")


if __name__ == "__main__":
    main()
