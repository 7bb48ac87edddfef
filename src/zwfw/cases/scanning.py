"""Virus scanning of uploaded material files (病毒扫描), behind one small plugin interface.

A scanner has one method, ``scan(data) -> ScanResult``. Which one runs is chosen by
``settings.CASE_VIRUS_SCANNER``:

* ``""`` — :class:`SignatureScanner`: no real virus engine, it only refuses the EICAR test file
  (so the refusal path can be exercised end to end) and says "signature check only".
* ``clamd:HOST:PORT`` — :class:`ClamdScanner`: the ClamAV daemon over TCP (INSTREAM command).

A scanner that cannot give an answer raises :class:`ScannerUnavailable`. Callers fail closed:
the file is kept as *pending* and may not be used until a later scan says it is clean. Other
schemes can be added with :func:`register`.
"""

from __future__ import annotations

import io
import logging
import socket
import struct
import zipfile
import zlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("zwfw.cases.scanning")

# The EICAR anti-virus test file, built from two halves so that this source file is not itself
# reported by the scanners on developers' machines.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

SIGNATURE_DETAIL = "signature check only"
# Entries of a zip (OFD) are unpacked for the signature check up to this many bytes in all.
_UNPACK_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    detail: str


class ScannerUnavailable(Exception):
    """The scanner gave no answer (down, timed out, or reported an error)."""


@runtime_checkable
class Scanner(Protocol):
    def scan(self, data: bytes) -> ScanResult: ...


# --- the built-in signature check ---------------------------------------------------------------


class SignatureScanner:
    """Refuses the EICAR test string anywhere in the file (also inside zip entries)."""

    def scan(self, data: bytes) -> ScanResult:
        if EICAR in data or _eicar_in_zip(data):
            return ScanResult(False, "Eicar-Test-Signature")
        return ScanResult(True, SIGNATURE_DETAIL)


def _eicar_in_zip(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    budget = _UNPACK_LIMIT
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                with archive.open(info) as member:
                    tail = b""
                    while budget > 0:
                        chunk = member.read(min(1 << 16, budget))
                        if not chunk:
                            break
                        budget -= len(chunk)
                        if EICAR in tail + chunk:
                            return True
                        tail = chunk[-len(EICAR) :]
                if budget <= 0:
                    break
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        RuntimeError,
        OSError,
        EOFError,
        zlib.error,
    ):
        return False  # not a readable zip: the flat search above is all we can do
    return False


# --- ClamAV (clamd) ---------------------------------------------------------------------------


class ClamdScanner:
    """The ClamAV daemon's INSTREAM command over TCP.

    The request is ``zINSTREAM\\0`` followed by chunks, each prefixed with its length as a
    4-byte big-endian integer, and a zero length to end. clamd answers ``stream: OK``,
    ``stream: <signature> FOUND`` or ``<message> ERROR`` (NUL-terminated, for the ``z`` form).
    """

    CHUNK = 64 * 1024
    MAX_REPLY = 4096

    def __init__(self, host: str, port: int, *, timeout: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"ClamdScanner({self.host!r}, {self.port})"

    def scan(self, data: bytes) -> ScanResult:
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
                sock.settimeout(self.timeout)
                # clamd closes the stream early when it exceeds StreamMaxLength; its reason
                # is then waiting to be read.
                with suppress(BrokenPipeError, ConnectionResetError):
                    self._send(sock, data)
                reply = self._receive(sock)
        except OSError as exc:  # refused, unreachable, timed out (socket.timeout is an OSError)
            logger.warning("clamd %s:%s unavailable: %s", self.host, self.port, exc)
            raise ScannerUnavailable(f"clamd {self.host}:{self.port}: {exc}") from exc
        return self.parse_reply(reply)

    def _send(self, sock: socket.socket, data: bytes) -> None:
        sock.sendall(b"zINSTREAM\0")
        view = memoryview(data)
        for start in range(0, len(data), self.CHUNK):
            chunk = view[start : start + self.CHUNK]
            sock.sendall(struct.pack("!I", len(chunk)))
            sock.sendall(chunk)
        sock.sendall(struct.pack("!I", 0))

    def _receive(self, sock: socket.socket) -> bytes:
        reply = b""
        while b"\0" not in reply and len(reply) < self.MAX_REPLY:
            part = sock.recv(self.MAX_REPLY)
            if not part:
                break
            reply += part
        return reply

    @staticmethod
    def parse_reply(raw: bytes) -> ScanResult:
        text = raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
        if text.endswith("ERROR") or not text:
            raise ScannerUnavailable(f"clamd error: {text or 'no answer'}")
        _, _, verdict = text.rpartition(": ")  # "stream: OK", "1: stream: OK"
        verdict = verdict.strip() if verdict else text
        if verdict == "OK":
            return ScanResult(True, "clamd: OK")
        if verdict.endswith(" FOUND"):
            signature = verdict.removesuffix(" FOUND").strip()
            return ScanResult(False, signature[:200] or "FOUND")
        raise ScannerUnavailable(f"clamd answer not understood: {text[:200]}")


# --- the registry -------------------------------------------------------------------------------

Factory = Callable[[str], Scanner]
_FACTORIES: dict[str, Factory] = {}


def register(scheme: str) -> Callable[[Factory], Factory]:
    """Register a factory for ``CASE_VIRUS_SCANNER = "<scheme>:<arguments>"``."""

    def decorator(factory: Factory) -> Factory:
        _FACTORIES[scheme] = factory
        return factory

    return decorator


@register("clamd")
def _clamd(arguments: str) -> Scanner:
    host, sep, port = arguments.rpartition(":")
    host = host.strip("[]")  # [::1]:3310
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ImproperlyConfigured(
            f"CASE_VIRUS_SCANNER: expected clamd:HOST:PORT, got clamd:{arguments!r}"
        )
    return ClamdScanner(host, int(port))


def scanner_for(spec: str) -> Scanner:
    """The scanner a ``CASE_VIRUS_SCANNER`` value names."""
    spec = spec.strip()
    if not spec:
        return SignatureScanner()
    scheme, _, arguments = spec.partition(":")
    factory = _FACTORIES.get(scheme)
    if factory is None:
        known = ", ".join(sorted(_FACTORIES))
        raise ImproperlyConfigured(f"CASE_VIRUS_SCANNER: unknown scanner {scheme!r} ({known})")
    return factory(arguments)


def get_scanner() -> Scanner:
    """The configured scanner (read from the settings on each call)."""
    return scanner_for(settings.CASE_VIRUS_SCANNER)
