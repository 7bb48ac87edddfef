"""``zwfw setup_signing``: create the node's SM2 CA and PDF signing identity (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from zwfw.signing import services, x509


class Command(BaseCommand):
    help = "Create the node's SM2 certificate authority and PDF signing identity if missing."

    def handle(self, *args: Any, **options: Any) -> None:
        authority = services.ensure_node_authority()
        info = x509.certificate_info(bytes(authority.ca_cert_der))
        self.stdout.write(
            f"SM2 CA: {info.subject_text} (valid until {info.not_after:%Y-%m-%d}); "
            "PDF signing identity ready."
        )
