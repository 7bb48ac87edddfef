"""Material files: type sniffing, size, names, the content store, dedupe, the library, reuse."""

from __future__ import annotations

import datetime as dt
import io
import os
import socket
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from zwfw.cases import files
from zwfw.cases.files import (
    clean_filename,
    library_for,
    may_use,
    read_file,
    rescan,
    sniff_type,
    store_upload,
)
from zwfw.cases.models import StoredFile
from zwfw.cases.scanning import EICAR
from zwfw.core.errors import Conflict, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.identity.models import AgentAuthorisation, Company, User

# --- tiny valid files ----------------------------------------------------------------------------


def make_pdf(text: str = "Hello", comment: bytes = b"") -> bytes:
    """A minimal, well-formed PDF (one empty page) with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
    ]
    stream = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode()
    objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + comment
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def make_png(width: int = 2, height: int = 2, shade: int = 0) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = b"".join(b"\x00" + bytes([shade]) * width for _ in range(min(height, 4)))
    return (
        files.PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def make_jpeg(width: int = 16, height: int = 8) -> bytes:
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    sos = b"\x01\x01\x00\x00\x3f\x00"
    return (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", len(app0) + 2)
        + app0
        + b"\xff\xc0"
        + struct.pack(">H", len(sof0) + 2)
        + sof0
        + b"\xff\xda"
        + struct.pack(">H", len(sos) + 2)
        + sos
        + b"\x12\x34\x56\x78"
        + b"\xff\xd9"
    )


OFD_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD">'
    b"<ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
)


def make_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def make_ofd(extra: dict[str, bytes] | None = None, root: bytes = OFD_XML) -> bytes:
    return make_zip(
        {
            "OFD.xml": root,
            "Doc_0/Document.xml": b'<?xml version="1.0"?><ofd:Document/>',
            **(extra or {}),
        }
    )


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def file_dir(settings: Any, tmp_path: Path) -> Path:
    settings.FILE_DIR = tmp_path / "files"
    settings.CASE_VIRUS_SCANNER = ""
    settings.CASE_UPLOAD_MAX_BYTES = 20 * 1024 * 1024
    settings.CASE_UPLOAD_TYPES = "application/pdf,image/jpeg,image/png,application/ofd"
    return tmp_path / "files"


@pytest.fixture
def owner(db: None) -> User:
    return User.objects.create_user("applicant1", password=None, real_name="李娜")


@pytest.fixture
def other(db: None) -> User:
    return User.objects.create_user("applicant2", password=None, real_name="王强")


@pytest.fixture
def company(db: None) -> Company:
    rep = User.objects.create_user("rep1", password=None, real_name="赵刚")
    return Company.objects.create(
        uscc="91511600MA62000001",
        name="广安青山建材有限公司",
        legal_representative=rep,
        verified_via=Company.Source.ONLINE,
        verified_at=timezone.now(),
    )


def authorise(company: Company, agent: User, *, days: int = 30, revoked: bool = False) -> None:
    today = timezone.localdate()
    AgentAuthorisation.objects.create(
        company=company,
        agent=agent,
        all_items=True,
        valid_from=today - dt.timedelta(days=1),
        valid_until=today + dt.timedelta(days=days),
        created_by=company.legal_representative,
        revoked_at=timezone.now() if revoked else None,
    )


def stored_files(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file())


def assert_nothing_written(root: Path) -> None:
    assert StoredFile.objects.count() == 0
    assert stored_files(root) == []
    assert not AuditRecord.objects.filter(action="cases:file:upload").exists()


def _dead_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


# --- sniffing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("maker", "name", "expected"),
    [
        (make_pdf, "申请表.pdf", "application/pdf"),
        (make_png, "照片.png", "image/png"),
        (make_jpeg, "身份证正面.jpg", "image/jpeg"),
        (make_ofd, "营业执照.ofd", "application/ofd"),
        (make_png, "照片.pdf", "image/png"),  # the name is never trusted
        (make_pdf, "noextension", "application/pdf"),
    ],
)
def test_sniff_accepts_material_types(maker: Any, name: str, expected: str) -> None:
    assert sniff_type(maker(), name) == expected


def _mz_with_ofd() -> bytes:
    return b"MZ\x90\x00" + b"\x00" * 200 + make_ofd()


def _zip_bomb() -> bytes:
    return make_zip({"data.bin": b"\x00" * (30 * 1024 * 1024)})


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        (b"MZ\x90\x00\x03" + b"\x00" * 200, "application/x-msdownload"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "application/x-executable"),
        (b"<!DOCTYPE html><html><body><script>alert(1)</script>", "text/html"),
        (b"\xef\xbb\xbf  <html><p>x</p></html>", "text/html"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
            "image/svg+xml",
        ),
        (b"GIF89a\x01\x00\x01\x00" + b"\x00" * 30, "image/gif"),
        (make_zip({"a.txt": b"hello"}), "application/zip"),
        (_zip_bomb(), "application/zip"),
        (_mz_with_ofd(), "application/x-msdownload"),  # a zip behind an executable stub
        (b"just some text", "application/octet-stream"),
    ],
)
def test_sniff_refuses_other_types_named_pdf(data: bytes, detected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        sniff_type(data, "材料.pdf")
    assert caught.value.code == "cases.file_type"
    assert caught.value.details["detected"] == detected
    assert caught.value.details["field"] == "file"
    assert caught.value.details["extension"] == ".pdf"
    assert "不支持的文件类型" in caught.value.message
    assert "仅支持 PDF、JPG、PNG、OFD" in caught.value.message


def _ofd_bomb() -> bytes:
    return make_ofd({"Doc_0/Res/big.bin": b"\x00" * (30 * 1024 * 1024)})


def _ofd_unsafe_path() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", OFD_XML)
        archive.writestr("../../etc/cron.d/x", b"* * * * * root sh")
    return buffer.getvalue()


def _ofd_bad_crc() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("OFD.xml", OFD_XML)
    data = bytearray(buffer.getvalue())
    position = bytes(data).index(b"DocBody")
    data[position] ^= 0x20
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "detected", "reason"),
    [
        (make_pdf()[:-40], "application/pdf", "truncated"),
        (b"%PDF-x\n%%EOF", "application/pdf", "header"),
        (make_png(width=100_000, height=100_000), "image/png", "too_many_pixels"),
        (files.PNG_SIGNATURE + b"\x00" * 40, "image/png", "header"),
        (make_jpeg(width=60_000, height=60_000), "image/jpeg", "too_many_pixels"),
        (b"\xff\xd8\xff\xe0\x00\x04ab\xff\xd9", "image/jpeg", "no_frame"),
        (b"\xff\xd8\xff\xe0\x00\x04ab\x00\x00\x00\x00", "image/jpeg", "structure"),
        (_ofd_bomb(), "application/ofd", "compression_ratio"),
        (_ofd_unsafe_path(), "application/ofd", "unsafe_path"),
        (_ofd_bad_crc(), "application/ofd", "corrupt"),
        (make_ofd(root=b"<html><body>OFD</body></html>"), "application/ofd", "root_document"),
        (
            make_ofd(root=b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><ofd:OFD/>'),
            "application/ofd",
            "root_document",
        ),
    ],
)
def test_sniff_refuses_damaged_files(data: bytes, detected: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        sniff_type(data, "x.pdf")
    assert caught.value.code == "cases.file_damaged"
    assert caught.value.details == {"detected": detected, "reason": reason, "field": "file"}


def test_ofd_expansion_is_counted_not_declared(settings: Any) -> None:
    """Many small-ratio entries still add up: the budget is 10 × the upload limit."""
    settings.CASE_UPLOAD_MAX_BYTES = 100_000
    noise = os.urandom(60_000)  # incompressible: ratio ≈ 1, 60 kB each
    data = make_ofd({f"Doc_0/Res/{i}.bin": noise for i in range(20)})
    with pytest.raises(ValidationError) as caught:
        sniff_type(data, "a.ofd")
    assert caught.value.details["reason"] == "too_large_expanded"


def test_allowed_types_come_from_settings(settings: Any) -> None:
    gif = b"GIF89a\x01\x00\x01\x00" + b"\x00" * 30
    settings.CASE_UPLOAD_TYPES = "application/pdf, image/gif"
    assert sniff_type(gif, "a.gif") == "image/gif"
    with pytest.raises(ValidationError) as caught:
        sniff_type(make_png(), "a.png")
    assert "仅支持 PDF、GIF" in caught.value.message


# --- sizes and names ----------------------------------------------------------------------------


def test_check_size(settings: Any) -> None:
    settings.CASE_UPLOAD_MAX_BYTES = 1000
    files.check_size(1)
    files.check_size(1000)
    with pytest.raises(ValidationError) as caught:
        files.check_size(0)
    assert caught.value.code == "cases.file_empty"
    with pytest.raises(ValidationError) as caught:
        files.check_size(1001)
    assert caught.value.code == "cases.file_too_large"
    assert caught.value.details == {"max": 1000, "size": 1001, "field": "file"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("申请表.pdf", "申请表.pdf"),
        ("C:\\fakepath\\身份证 正面.jpg", "身份证 正面.jpg"),
        ("../../etc/passwd", "passwd"),
        ("/var/tmp/营业执照.ofd", "营业执照.ofd"),
        ("bad\x00name\r\n.pdf", "badname.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # right-to-left override removed
        ("   ", "未命名"),
        ("", "未命名"),
        ("..", "未命名"),
        ("dir/", "未命名"),
        ("\x00\x01", "未命名"),
    ],
)
def test_clean_filename(given: str, expected: str) -> None:
    assert clean_filename(given) == expected


def test_clean_filename_limits_length_and_keeps_the_extension() -> None:
    cleaned = clean_filename("材" * 300 + ".pdf")
    assert len(cleaned) == 200
    assert cleaned.endswith("材.pdf")
    assert len(clean_filename("x" * 300)) == 200


# --- uploads: refusals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "cases.file_empty"),
        (b"MZ\x90\x00\x03" + b"\x00" * 200, "cases.file_type"),
        (b"<html><script>alert(1)</script></html>", "cases.file_type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "cases.file_type"),
        (_zip_bomb(), "cases.file_type"),
        (_ofd_bomb(), "cases.file_damaged"),
        (make_pdf()[:-40], "cases.file_damaged"),
        (make_pdf(comment=b"%" + EICAR + b"\n"), "cases.file_infected"),
        (make_ofd({"Doc_0/Res/a.bin": EICAR}), "cases.file_infected"),
    ],
)
def test_refused_uploads_write_nothing(owner: User, file_dir: Path, data: bytes, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        store_upload(owner=owner, name="材料.pdf", data=data, material_name="身份证")
    assert caught.value.code == code
    assert_nothing_written(file_dir)


def test_too_large_upload_writes_nothing(owner: User, file_dir: Path, settings: Any) -> None:
    data = make_pdf()
    settings.CASE_UPLOAD_MAX_BYTES = len(data) - 1
    with pytest.raises(ValidationError) as caught:
        store_upload(owner=owner, name="a.pdf", data=data)
    assert caught.value.code == "cases.file_too_large"
    assert caught.value.details["size"] == len(data)
    assert_nothing_written(file_dir)


def test_infected_upload_reports_the_signature(owner: User, file_dir: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        store_upload(owner=owner, name="a.pdf", data=make_pdf(comment=b"%" + EICAR + b"\n"))
    assert caught.value.details["signature"] == "Eicar-Test-Signature"
    assert "病毒扫描" in caught.value.message


def test_bad_copy_level_writes_nothing(owner: User, file_dir: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        store_upload(owner=owner, name="a.pdf", data=make_pdf(), copy_level="E")
    assert caught.value.code == "cases.copy_level"
    assert_nothing_written(file_dir)


# --- uploads: accepted --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("maker", "name", "media_type"),
    [
        (make_pdf, "申请表.pdf", "application/pdf"),
        (make_png, "照片.pdf", "image/png"),  # extension contradicts content: content wins
        (make_jpeg, "C:\\fakepath\\身份证.jpg", "image/jpeg"),
        (make_ofd, "营业执照.ofd", "application/ofd"),
    ],
)
def test_upload_stores_content_and_row(
    owner: User, file_dir: Path, maker: Any, name: str, media_type: str
) -> None:
    data = maker()
    stored = store_upload(
        owner=owner, name=name, data=data, material_name="身份证明", copy_level="b"
    )
    stored.refresh_from_db()
    sha = files.sm3_hex(data)
    assert stored.sha == sha
    assert stored.size == len(data)
    assert stored.media_type == media_type
    assert stored.original_name == clean_filename(name)
    assert stored.storage_name == f"uploads/{sha[:2]}/{sha}"
    assert stored.owner == owner
    assert stored.company is None
    assert stored.material_name == "身份证明"
    assert stored.copy_level == "B"
    assert stored.scan_status == StoredFile.ScanStatus.CLEAN
    assert stored.scan_detail == "signature check only"
    assert stored_files(file_dir) == [file_dir / "uploads" / sha[:2] / sha]
    assert (file_dir / stored.storage_name).read_bytes() == data
    assert read_file(stored) == data
    entry = AuditRecord.objects.get(action="cases:file:upload")
    assert entry.object_type == "cases.storedfile"
    assert entry.object_id == str(stored.pk)
    assert entry.after == {
        "sha": sha,
        "size": len(data),
        "media_type": media_type,
        "material_name": "身份证明",
    }


def test_mismatched_extension_keeps_the_users_name(owner: User) -> None:
    stored = store_upload(owner=owner, name="户口本.pdf", data=make_png())
    assert (stored.original_name, stored.media_type) == ("户口本.pdf", "image/png")


# --- dedupe and the content store ---------------------------------------------------------------


def test_same_content_same_material_returns_the_earlier_row(owner: User, file_dir: Path) -> None:
    data = make_pdf()
    first = store_upload(owner=owner, name="a.pdf", data=data, material_name="身份证")
    again = store_upload(owner=owner, name="renamed.pdf", data=data, material_name="身份证")
    assert again.pk == first.pk
    assert again.original_name == "a.pdf"
    assert StoredFile.objects.count() == 1
    assert AuditRecord.objects.filter(action="cases:file:upload").count() == 1


def test_identical_content_is_written_once(
    owner: User, other: User, file_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_pdf()
    first = store_upload(owner=owner, name="a.pdf", data=data, material_name="身份证")
    path = file_dir / first.storage_name
    inode = path.stat().st_ino

    writes: list[str] = []
    real_mkstemp = files.tempfile.mkstemp

    def counting_mkstemp(*args: Any, **kwargs: Any) -> Any:
        writes.append("tmp")
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(files.tempfile, "mkstemp", counting_mkstemp)
    second = store_upload(owner=owner, name="a.pdf", data=data, material_name="户口本")
    third = store_upload(owner=other, name="b.pdf", data=data, material_name="身份证")
    assert len({first.pk, second.pk, third.pk}) == 3  # one row per owner and material
    assert {second.storage_name, third.storage_name} == {first.storage_name}
    assert writes == []
    assert path.stat().st_ino == inode
    assert stored_files(file_dir) == [path]


def test_write_is_atomic(owner: User, file_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Temp file in the target directory, synced, renamed; a failed rename leaves nothing."""
    calls: list[tuple[str, ...]] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        calls.append(("fsync",))
        real_fsync(fd)

    def failing_replace(source: str, target: Any) -> None:
        calls.append(("replace", str(Path(source).parent), str(Path(target).parent)))
        assert Path(source).read_bytes() == data  # complete before the rename
        raise OSError("disk full")

    data = make_pdf()
    monkeypatch.setattr(files.os, "fsync", recording_fsync)
    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        store_upload(owner=owner, name="a.pdf", data=data)
    assert calls[0] == ("fsync",)
    assert calls[1][0] == "replace"
    assert calls[1][1] == calls[1][2]  # same directory: the rename is atomic
    assert_nothing_written(file_dir)  # no row, no final file, no temporary file left

    monkeypatch.undo()
    stored = store_upload(owner=owner, name="a.pdf", data=data)
    assert read_file(stored) == data
    assert [p.name for p in stored_files(file_dir)] == [stored.sha]


def test_row_failure_rolls_back(owner: User, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_audit(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit down")

    monkeypatch.setattr(files.audit, "record", broken_audit)
    with pytest.raises(RuntimeError):
        store_upload(owner=owner, name="a.pdf", data=make_pdf())
    assert StoredFile.objects.count() == 0


# --- reading and corruption ---------------------------------------------------------------------


def test_corrupt_file_is_detected(owner: User, file_dir: Path) -> None:
    data = make_pdf()
    stored = store_upload(owner=owner, name="a.pdf", data=data, material_name="身份证")
    path = file_dir / stored.storage_name
    path.write_bytes(data.replace(b"Hello", b"Hellx"))  # same size, other content
    with pytest.raises(Conflict) as caught:
        read_file(stored)
    assert caught.value.code == "cases.file_corrupt"
    assert caught.value.details == {"file_id": stored.pk, "reason": "checksum"}

    path.unlink()
    with pytest.raises(Conflict) as caught:
        read_file(stored)
    assert caught.value.details["reason"] == "missing"

    # uploading the same content again repairs the stored copy
    assert store_upload(owner=owner, name="a.pdf", data=data, material_name="身份证") == stored
    assert read_file(stored) == data


def test_storage_name_outside_the_file_dir_is_refused(owner: User) -> None:
    stored = store_upload(owner=owner, name="a.pdf", data=make_pdf())
    stored.storage_name = "../../../etc/passwd"
    with pytest.raises(Conflict) as caught:
        read_file(stored)
    assert caught.value.details["reason"] == "bad_path"


# --- scanner unavailable: pending, fail closed --------------------------------------------------


def test_scanner_down_keeps_the_file_pending(owner: User, file_dir: Path, settings: Any) -> None:
    settings.CASE_VIRUS_SCANNER = f"clamd:127.0.0.1:{_dead_port()}"
    data = make_pdf()
    stored = store_upload(owner=owner, name="a.pdf", data=data, material_name="身份证")
    assert stored.scan_status == StoredFile.ScanStatus.PENDING
    assert stored.scan_detail
    assert read_file(stored) == data  # stored, and the owner can look at it
    assert not may_use(owner, stored)
    assert library_for(owner).items == []

    # the scanner still down: the same upload returns the same pending row
    assert store_upload(owner=owner, name="a.pdf", data=data, material_name="身份证") == stored
    assert rescan(stored).scan_status == StoredFile.ScanStatus.PENDING

    # the scanner back: the next identical upload (or a rescan) clears it
    settings.CASE_VIRUS_SCANNER = ""
    again = store_upload(owner=owner, name="a.pdf", data=data, material_name="身份证")
    assert again.pk == stored.pk
    assert again.scan_status == StoredFile.ScanStatus.CLEAN
    assert StoredFile.objects.count() == 1
    entry = AuditRecord.objects.get(action="cases:file:scan")
    assert entry.before == {"scan_status": "pending"}
    assert may_use(owner, again)


def test_rescan_marks_an_infected_pending_file(owner: User, settings: Any) -> None:
    settings.CASE_VIRUS_SCANNER = f"clamd:127.0.0.1:{_dead_port()}"
    data = make_pdf(comment=b"%" + EICAR + b"\n")
    stored = store_upload(owner=owner, name="a.pdf", data=data)
    assert stored.scan_status == StoredFile.ScanStatus.PENDING
    settings.CASE_VIRUS_SCANNER = ""
    stored = rescan(stored)
    assert stored.scan_status == StoredFile.ScanStatus.INFECTED
    with pytest.raises(Conflict) as caught:
        read_file(stored)
    assert caught.value.code == "cases.file_infected"
    assert not may_use(owner, stored)


# --- the material library -----------------------------------------------------------------------


def _row(owner: User, n: int, **extra: Any) -> StoredFile:
    sha = f"{n:064x}"
    return StoredFile.objects.create(
        sha=sha,
        size=10,
        media_type="application/pdf",
        original_name=f"{n}.pdf",
        storage_name=files.storage_name_for(sha),
        owner=owner,
        scan_status=extra.pop("scan_status", StoredFile.ScanStatus.CLEAN),
        **extra,
    )


def test_library_pages_newest_first(
    owner: User, other: User, company: Company, django_assert_num_queries: Any
) -> None:
    mine = [_row(owner, n) for n in range(5)]
    _row(owner, 10, scan_status=StoredFile.ScanStatus.PENDING)
    _row(owner, 11, scan_status=StoredFile.ScanStatus.INFECTED)
    _row(owner, 12, company=company)
    _row(other, 13)

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        with django_assert_num_queries(1):
            page = library_for(owner, cursor=cursor, limit=2)
        seen.extend(f.pk for f in page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f.pk for f in reversed(mine)]


def test_library_of_a_company(owner: User, company: Company) -> None:
    authorise(company, owner)
    by_agent = _row(owner, 1, company=company)
    by_rep = _row(company.legal_representative, 2, company=company)
    _row(owner, 3)  # personal
    page = library_for(owner, company, limit=50)
    assert [f.pk for f in page.items] == [by_rep.pk, by_agent.pk]
    assert page.next_cursor is None


def test_library_new_rows_do_not_shift_pages(owner: User) -> None:
    rows = [_row(owner, n) for n in range(4)]
    first = library_for(owner, limit=2)
    _row(owner, 99)  # uploaded meanwhile
    second = library_for(owner, cursor=first.next_cursor, limit=2)
    assert [f.pk for f in first.items + second.items] == [f.pk for f in reversed(rows)]


@pytest.mark.parametrize("cursor", ["garbage!", "WyJ4Il0", "WzEsMl0"])
def test_library_bad_cursor(owner: User, cursor: str) -> None:
    with pytest.raises(ValidationError) as caught:
        library_for(owner, cursor=cursor)
    assert caught.value.code == "pagination.cursor"


def test_library_bad_limit(owner: User) -> None:
    with pytest.raises(ValidationError) as caught:
        library_for(owner, limit=0)
    assert caught.value.code == "pagination.limit"


# --- reuse --------------------------------------------------------------------------------------


def test_may_use_own_files_only(owner: User, other: User, company: Company) -> None:
    mine = _row(owner, 1)
    assert may_use(owner, mine)
    assert not may_use(other, mine)
    authorise(company, owner)
    assert not may_use(owner, mine, company)  # a personal file is not the company's library


def test_may_use_company_files_while_acting_for_it(
    owner: User, other: User, company: Company
) -> None:
    rep = company.legal_representative
    authorise(company, owner)
    file = _row(owner, 1, company=company)
    assert may_use(owner, file, company)
    assert may_use(rep, file, company)  # the representative uses the company's library too
    assert not may_use(owner, file)  # not acting for the company
    assert not may_use(other, file, company)  # no authorisation

    another = Company.objects.create(
        uscc="91511600MA62000002",
        name="另一家公司",
        legal_representative=owner,
        verified_via=Company.Source.ONLINE,
        verified_at=timezone.now(),
    )
    assert not may_use(owner, file, another)  # acting for another company


def test_may_use_refused_after_authorisation_ends(owner: User, company: Company) -> None:
    authorise(company, owner, revoked=True)
    file = _row(company.legal_representative, 1, company=company)
    assert not may_use(owner, file, company)
    authorise(company, owner, days=-1)  # ended yesterday
    assert not may_use(owner, file, company)


def test_may_use_refuses_unclean_and_anonymous(owner: User) -> None:
    from django.contrib.auth.models import AnonymousUser

    pending = _row(owner, 1, scan_status=StoredFile.ScanStatus.PENDING)
    infected = _row(owner, 2, scan_status=StoredFile.ScanStatus.INFECTED)
    assert not may_use(owner, pending)
    assert not may_use(owner, infected)
    assert not may_use(AnonymousUser(), _row(owner, 3))
    assert not may_use(None, _row(owner, 4))


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_uploads_create_one_row(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the advisory lock is PostgreSQL's")
    import threading
    import time

    owner = User.objects.create_user("racer", password=None)
    data = make_pdf()
    real_write = files.write_content

    def slow_write(sha: str, content: bytes) -> Path:
        time.sleep(0.3)  # both uploads are past their first look for an earlier row
        return real_write(sha, content)

    monkeypatch.setattr(files, "write_content", slow_write)
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            barrier.wait()
            stored = store_upload(owner=owner, name="a.pdf", data=data, material_name="身份证")
            results.append(stored.pk)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == 2
    assert len(set(results)) == 1
    assert StoredFile.objects.count() == 1
