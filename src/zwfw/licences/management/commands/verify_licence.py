"""``zwfw verify_licence FILE``: check a licence PDF, OFD or signed JSON; exit 0 valid, 1 not.

* PDF — the PAdES signature (pyHanko; trust root: this node's PDF CA, or ``--trust PEM``);
* OFD — the package structure and digests (``check_ofd``) and the seal signature over
  ``Signature.xml`` (GB/T 38540, trust root: this node's SM2 CA);
* JSON — the signed package of ``zwfw.licences.services.signed_package``: the seal signature
  over the canonical JSON of ``licence``, offline.

When this node's database is reachable, the identifier is also looked up: a revoked, expired
or superseded licence is reported as such (exit 1).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from zwfw.licences import services
from zwfw.signing import ofd, pades, ses
from zwfw.signing.models import NodeAuthority

IDENTIFIER = re.compile(
    r"1\.2\.156\.3005\.2\.[0-9A-Z]{21}\.[0-9A-Z]{18}\.[0-9A-Z]{1,20}\.\d{3}\.[0-9A-Z]"
)
STATUS_ZH = {
    "revoked": "已注销/吊销",
    "expired": "已过期",
    "superseded": "已换发",
    "unknown": "未登记",
}


class Invalid(Exception):
    pass


class Command(BaseCommand):
    help = "Verify a licence file (PDF, OFD or signed JSON); exit status 0 when valid."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        parser.add_argument("--trust", help="PEM file of the PDF trust root (default: this node's)")
        parser.add_argument("--offline", action="store_true", help="do not look up the status")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        authority = None if options["offline"] else self._authority()
        try:
            if data.startswith(b"%PDF"):
                kind, identifier = "PDF", self._pdf(data, authority, options.get("trust"))
            elif data.startswith(b"PK"):
                kind, identifier = "OFD", self._ofd(data, authority)
            else:
                kind, identifier = "JSON", self._json(data, authority)
            if authority is not None and identifier:
                self._status(identifier)
        except Invalid as exc:
            self.stdout.write(f"无效 INVALID ({path.name}): {exc}")
            raise SystemExit(1) from None
        anchored = "" if authority is not None else "（未连接本节点数据库：仅校验文件自身的签名）"
        self.stdout.write(f"有效 VALID {kind} {identifier or ''}{anchored}")

    def _authority(self) -> NodeAuthority | None:
        try:
            return NodeAuthority.objects.order_by("id").first()
        except DatabaseError:
            return None

    def _status(self, identifier: str) -> None:
        verdict = services.verify_licence_identifier(identifier)
        if verdict.status != "valid":
            when = f"，{verdict.revoked_at:%Y-%m-%d}" if verdict.revoked_at else ""
            why = f"：{verdict.revocation_reason}" if verdict.revocation_reason else ""
            raise Invalid(
                f"{STATUS_ZH.get(verdict.status, verdict.status)} {verdict.status}{when}{why}"
            )
        if not verdict.signature_ok:
            raise Invalid(f"登记的签章无效 stored signature: {verdict.signature_problem}")

    def _pdf(self, data: bytes, authority: NodeAuthority | None, trust: str | None) -> str:
        if trust:
            roots: bytes = Path(trust).read_bytes()
        elif authority is not None:
            roots = authority.pdf_ca_cert_pem.encode()
        else:
            raise Invalid("没有信任根：请用 --trust 指定节点的 PDF CA 证书 no trust root")
        check = pades.verify_pdf(data, trust_roots_pem=roots)
        if not check.valid:
            tampered = "文件已被篡改 tampered: " if not check.intact else ""
            raise Invalid(tampered + "; ".join(check.problems))
        found = IDENTIFIER.search(check.reason)
        return found.group(0) if found else ""

    def _ofd(self, data: bytes, authority: NodeAuthority | None) -> str:
        problems = ofd.check_ofd(data)
        if problems:
            raise Invalid("OFD 文件已被篡改或结构错误 tampered: " + "; ".join(problems[:5]))
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                signed = archive.read(ofd.SIGNATURE_PATH)
                value = archive.read(ofd.SIGNED_VALUE_PATH)
        except (KeyError, zipfile.BadZipFile) as exc:
            raise Invalid(f"OFD 没有签章 no signature: {exc}") from None
        self._ses(value, signed, authority)
        found = IDENTIFIER.search(ofd.read_ofd_text(data).replace(" ", ""))
        return found.group(0) if found else ""

    def _json(self, data: bytes, authority: NodeAuthority | None) -> str:
        try:
            package = json.loads(data)
            licence = package["licence"]
            signature = base64.b64decode(package["signature"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise Invalid(f"不是证照签名包 not a signed licence package: {exc}") from None
        if not isinstance(licence, dict):
            raise Invalid("不是证照签名包 not a signed licence package")
        self._ses(signature, services.canonical_bytes(licence), authority)
        return str(licence.get("identifier", ""))

    def _ses(self, signature: bytes, signed: bytes, authority: NodeAuthority | None) -> None:
        cas = [bytes(authority.ca_cert_der)] if authority is not None else None
        check = ses.verify_signature(signature, signed, trusted_cas=cas)
        if not check.ok:
            tampered = "数据已被篡改 tampered" if check.reason == "data_hash" else "签章无效"
            raise Invalid(f"{tampered} ({check.reason}): {check.detail}")
