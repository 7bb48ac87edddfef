"""Virus scanners: the signature check, ClamAV's INSTREAM protocol (against a fake clamd), and
the choice by ``CASE_VIRUS_SCANNER``."""

from __future__ import annotations

import io
import socket
import struct
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from zwfw.cases import scanning
from zwfw.cases.scanning import (
    EICAR,
    SIGNATURE_DETAIL,
    ClamdScanner,
    Scanner,
    ScannerUnavailable,
    ScanResult,
    SignatureScanner,
    get_scanner,
    scanner_for,
)

# --- a fake clamd ------------------------------------------------------------------------------


@dataclass
class Session:
    command: bytes = b""
    chunk_sizes: list[int] = field(default_factory=list)
    data: bytes = b""
    terminated: bool = False


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    buffer = b""
    while len(buffer) < size:
        part = conn.recv(size - len(buffer))
        if not part:
            raise ConnectionError("client closed the stream early")
        buffer += part
    return buffer


class FakeClamd:
    """Speaks clamd's INSTREAM: ``zINSTREAM\\0``, then 4-byte big-endian length + chunk, and a
    zero length to end; answers like clamd. ``mode``: "verdict" (FOUND for EICAR, else OK),
    "error" (size limit error), "silent" (never answers), "garbage"."""

    def __init__(self, mode: str = "verdict") -> None:
        self.mode = mode
        self.sessions: list[Session] = []
        self.problems: list[str] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)
        self.port = self.server.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    self._session(conn)
                except (OSError, ConnectionError) as exc:
                    self.problems.append(f"{type(exc).__name__}: {exc}")

    def _session(self, conn: socket.socket) -> None:
        session = Session()
        self.sessions.append(session)
        session.command = _read_exactly(conn, len(b"zINSTREAM\0"))
        if session.command != b"zINSTREAM\0":
            self.problems.append(f"unexpected command {session.command!r}")
            conn.sendall(b"UNKNOWN COMMAND\0")
            return
        while True:
            (size,) = struct.unpack("!I", _read_exactly(conn, 4))
            if size == 0:
                session.terminated = True
                break
            session.chunk_sizes.append(size)
            session.data += _read_exactly(conn, size)
        if self.mode == "silent":
            self.stop.wait(5)
            return
        if self.mode == "error":
            conn.sendall(b"INSTREAM size limit exceeded. ERROR\0")
        elif self.mode == "garbage":
            conn.sendall(b"what?\0")
        elif EICAR in session.data:
            conn.sendall(b"stream: Eicar-Signature FOUND\0")
        else:
            conn.sendall(b"stream: OK\0")

    def close(self) -> None:
        self.stop.set()
        self.server.close()
        self.thread.join(timeout=5)


@pytest.fixture
def clamd() -> Iterator[FakeClamd]:
    server = FakeClamd()
    yield server
    server.close()
    assert server.problems == []


def _dead_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


# --- the signature check -----------------------------------------------------------------------


def test_signature_scanner_passes_ordinary_files() -> None:
    result = SignatureScanner().scan(b"%PDF-1.4\n" + b"x" * 1000)
    assert result == ScanResult(True, SIGNATURE_DETAIL)


@pytest.mark.parametrize("offset", [0, 17, 70_000])
def test_signature_scanner_refuses_eicar_anywhere(offset: int) -> None:
    data = b"A" * offset + EICAR + b"\r\n"
    result = SignatureScanner().scan(data)
    assert not result.clean
    assert "Eicar" in result.detail


def test_signature_scanner_looks_inside_zip_entries() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", b"<ofd:OFD/>")
        archive.writestr("Doc_0/Res/eicar.com", EICAR)
    packed = buffer.getvalue()
    assert EICAR not in packed  # compressed: only visible once unpacked
    assert not SignatureScanner().scan(packed).clean


def test_signature_scanner_survives_a_broken_zip() -> None:
    assert SignatureScanner().scan(b"PK\x03\x04" + b"\x00" * 50).clean


def test_eicar_is_not_spelled_out_in_the_source() -> None:
    source = Path(scanning.__file__).read_bytes() + Path(__file__).read_bytes()
    assert EICAR not in source
    assert len(EICAR) == 68


# --- clamd ---------------------------------------------------------------------------------------


def test_clamd_clean_answer_and_framing(clamd: FakeClamd) -> None:
    data = bytes(range(256)) * 1000  # 256 000 bytes: several chunks
    result = ClamdScanner("127.0.0.1", clamd.port, timeout=5).scan(data)
    assert result == ScanResult(True, "clamd: OK")
    [session] = clamd.sessions
    assert session.command == b"zINSTREAM\0"
    assert session.terminated
    assert session.data == data
    assert len(session.chunk_sizes) == 4
    assert all(0 < size <= ClamdScanner.CHUNK for size in session.chunk_sizes)


def test_clamd_found(clamd: FakeClamd) -> None:
    result = ClamdScanner("127.0.0.1", clamd.port, timeout=5).scan(b"x" * 100 + EICAR)
    assert result == ScanResult(False, "Eicar-Signature")
    assert clamd.sessions[0].data.endswith(EICAR)


def test_clamd_error_answer_is_unavailable() -> None:
    server = FakeClamd("error")
    try:
        with pytest.raises(ScannerUnavailable, match="size limit exceeded"):
            ClamdScanner("127.0.0.1", server.port, timeout=5).scan(b"data")
        assert server.sessions[0].terminated
    finally:
        server.close()


def test_clamd_answer_not_understood_is_unavailable() -> None:
    server = FakeClamd("garbage")
    try:
        with pytest.raises(ScannerUnavailable, match="not understood"):
            ClamdScanner("127.0.0.1", server.port, timeout=5).scan(b"data")
    finally:
        server.close()


def test_clamd_dead_port_is_unavailable() -> None:
    with pytest.raises(ScannerUnavailable, match=r"clamd 127\.0\.0\.1"):
        ClamdScanner("127.0.0.1", _dead_port(), timeout=2).scan(b"data")


def test_clamd_timeout_is_unavailable() -> None:
    server = FakeClamd("silent")
    try:
        started = time.monotonic()
        with pytest.raises(ScannerUnavailable):
            ClamdScanner("127.0.0.1", server.port, timeout=0.3).scan(b"data")
        assert time.monotonic() - started < 3
    finally:
        server.close()


def test_clamd_empty_file_still_terminates(clamd: FakeClamd) -> None:
    assert ClamdScanner("127.0.0.1", clamd.port, timeout=5).scan(b"").clean
    assert clamd.sessions[0].chunk_sizes == []
    assert clamd.sessions[0].terminated


@pytest.mark.parametrize(
    ("raw", "clean", "detail"),
    [
        (b"stream: OK\0", True, "clamd: OK"),
        (b"stream: Win.Test.EICAR_HDB-1 FOUND\0", False, "Win.Test.EICAR_HDB-1"),
        (b"1: stream: OK\n", True, "clamd: OK"),
    ],
)
def test_clamd_reply_parsing(raw: bytes, clean: bool, detail: str) -> None:
    assert ClamdScanner.parse_reply(raw) == ScanResult(clean, detail)


@pytest.mark.parametrize("raw", [b"", b"\0", b"stream: Can't allocate memory ERROR\0"])
def test_clamd_reply_errors(raw: bytes) -> None:
    with pytest.raises(ScannerUnavailable):
        ClamdScanner.parse_reply(raw)


# --- choosing the scanner ------------------------------------------------------------------------


def test_default_is_the_signature_scanner(settings: Any) -> None:
    settings.CASE_VIRUS_SCANNER = ""
    scanner = get_scanner()
    assert isinstance(scanner, SignatureScanner)
    assert isinstance(scanner, Scanner)


def test_clamd_from_settings(settings: Any, clamd: FakeClamd) -> None:
    settings.CASE_VIRUS_SCANNER = f"clamd:127.0.0.1:{clamd.port}"
    scanner = get_scanner()
    assert isinstance(scanner, ClamdScanner)
    assert (scanner.host, scanner.port) == ("127.0.0.1", clamd.port)
    assert scanner.scan(b"hello").clean


def test_clamd_ipv6_host() -> None:
    scanner = scanner_for("clamd:[::1]:3310")
    assert isinstance(scanner, ClamdScanner)
    assert (scanner.host, scanner.port) == ("::1", 3310)


@pytest.mark.parametrize("spec", ["clamd:", "clamd:host", "clamd:host:99999", "avast:x", "x"])
def test_bad_settings_are_configuration_errors(spec: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        scanner_for(spec)


def test_other_scanners_can_be_registered() -> None:
    class Refuser:
        def scan(self, data: bytes) -> ScanResult:
            return ScanResult(False, "refused")

    scanning.register("test-refuser")(lambda arguments: Refuser())
    try:
        assert scanner_for("test-refuser:anything").scan(b"x") == ScanResult(False, "refused")
    finally:
        scanning._FACTORIES.pop("test-refuser")
