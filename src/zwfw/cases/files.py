"""Material files of applications (申请材料上传): checking, storing, reading, reusing.

An upload is checked before anything is written: its size, its type — detected from the
content, never from the name or the client's content type — and a virus scan. Accepted content
is stored once per SM3 digest under ``FILE_DIR/uploads/<sha[:2]>/<sha>`` (written to a temporary
file in the same directory, synced, then renamed into place), and a :class:`StoredFile` row
records who uploaded it and for which material. The owner's clean files form the material
library (材料库): uploading the same content again for the same material returns the earlier
row, and later cases may reuse it (:func:`may_use`).

When the scanner cannot answer, the file is stored with scan status *pending*; such a file is
not in the library and may not be used until :func:`rescan` finds it clean (fail closed).
"""

from __future__ import annotations

import io
import logging
import os
import re
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from contextlib import suppress
from pathlib import Path, PurePosixPath
from typing import Any

import filetype
from django.conf import settings
from django.db import connection, transaction

from zwfw.cases.models import StoredFile
from zwfw.cases.scanning import ScannerUnavailable, get_scanner
from zwfw.core import audit
from zwfw.core.crypto import sm3, sm3_hex
from zwfw.core.errors import Conflict, ValidationError
from zwfw.core.pagination import Page, check_limit, decode_cursor, encode_cursor

logger = logging.getLogger("zwfw.cases.files")

PDF = "application/pdf"
OFD = "application/ofd"
JPEG = "image/jpeg"
PNG = "image/png"
ZIP = "application/zip"
UNKNOWN = "application/octet-stream"

TYPE_LABELS = {PDF: "PDF", OFD: "OFD", JPEG: "JPG", PNG: "PNG"}

UNNAMED = "未命名"
NAME_MAX = 200
UPLOAD_DIR = "uploads"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Images larger than this many pixels are refused: a tiny file can declare a picture that
# takes gigabytes to decode (an A4 page scanned at 600 dpi is about 35 million pixels).
MAX_PIXELS = 150_000_000
# OFD packages (zip): limits against archive bombs.
OFD_MAX_ENTRIES = 10_000
OFD_MAX_RATIO = 200  # expanded / compressed, for entries expanding past OFD_RATIO_FLOOR
OFD_RATIO_FLOOR = 1024 * 1024
OFD_ROOT_XML_MAX = 1024 * 1024
_OFD_ROOT = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*)*<([A-Za-z_][\w.-]*:)?OFD[\s/>]", re.S
)
_MARKUP_START = re.compile(rb"\A(?:\xef\xbb\xbf|\xff\xfe|\xfe\xff)?\s*<")
_JPEG_SOF = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)


# --- checks ---------------------------------------------------------------------------------


def allowed_types() -> list[str]:
    """The media types accepted (``settings.CASE_UPLOAD_TYPES``)."""
    return [t.strip().lower() for t in settings.CASE_UPLOAD_TYPES.split(",") if t.strip()]


def _mb(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f} MB" if value >= 10 or value == int(value) else f"{value:.1f} MB"


def check_size(size: int) -> None:
    """Refuse an empty file or one over ``settings.CASE_UPLOAD_MAX_BYTES``."""
    if size <= 0:
        raise ValidationError(
            "cases.file_empty",
            "文件为空，请重新选择文件。",
            "The file is empty.",
            field="file",
        )
    limit = settings.CASE_UPLOAD_MAX_BYTES
    if size > limit:
        raise ValidationError(
            "cases.file_too_large",
            f"文件过大（{_mb(size)}），单个文件不能超过{_mb(limit)}。",
            f"The file is too large ({size} bytes); at most {limit} bytes are accepted.",
            field="file",
            details={"max": limit, "size": size},
        )


def _damaged(detected: str, reason: str) -> ValidationError:
    label = TYPE_LABELS.get(detected, detected)
    return ValidationError(
        "cases.file_damaged",
        f"文件内容不完整或结构异常，无法作为{label}文件接收，请重新生成后上传。",
        f"The file looks like {label} but is damaged or malformed ({reason}).",
        field="file",
        details={"detected": detected, "reason": reason},
    )


def _check_pdf(data: bytes) -> None:
    if not re.match(rb"%PDF-\d\.\d", data):
        raise _damaged(PDF, "header")
    if b"%%EOF" not in data[-2048:]:
        raise _damaged(PDF, "truncated")  # every complete PDF ends with %%EOF


def _check_pixels(detected: str, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise _damaged(detected, "dimensions")
    if width * height > MAX_PIXELS:
        raise _damaged(detected, "too_many_pixels")


def _check_png(data: bytes) -> None:
    # the first chunk must be IHDR (13 bytes): width and height come first
    if len(data) < 33 or data[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise _damaged(PNG, "header")
    width, height = struct.unpack(">II", data[16:24])
    _check_pixels(PNG, width, height)


def _check_jpeg(data: bytes) -> None:
    """Walk the markers up to the first frame header (SOFn) and check its size."""
    pos = 2
    end = len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            raise _damaged(JPEG, "structure")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # no length
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image / start of scan before any frame header
            break
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if length < 2:
            raise _damaged(JPEG, "structure")
        if marker in _JPEG_SOF:
            if pos + 9 > end:
                break
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            _check_pixels(JPEG, width, height)
            return
        pos += 2 + length
    raise _damaged(JPEG, "no_frame")


def _expand_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int
) -> tuple[int, bytes]:
    """Decompress one entry, counting its real size; returns (bytes expanded, first bytes)."""
    path = PurePosixPath(info.filename.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or ":" in info.filename:
        raise _damaged(OFD, "unsafe_path")
    if info.flag_bits & 0x1:
        raise _damaged(OFD, "encrypted")
    expanded = 0
    head = b""
    with archive.open(info) as member:
        while chunk := member.read(1 << 16):
            expanded += len(chunk)
            if expanded > budget:
                raise _damaged(OFD, "too_large_expanded")
            if expanded > OFD_RATIO_FLOOR and expanded > OFD_MAX_RATIO * max(info.compress_size, 1):
                raise _damaged(OFD, "compression_ratio")
            if len(head) < OFD_ROOT_XML_MAX:
                head += chunk
    return expanded, head


def _check_ofd(data: bytes) -> bool:
    """True for an OFD package (GB/T 33190: a zip with ``OFD.xml`` at its root).

    False for a zip that is not OFD. Raises ``cases.file_damaged`` for an OFD that cannot be
    read safely: corrupt, encrypted, unsafe entry names, or expanding like an archive bomb.
    Every entry is decompressed here (counting the real output, not the declared sizes; the
    CRC of each entry is checked on the way).
    """
    root_xml = b""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if not any(info.filename == "OFD.xml" for info in infos):
                return False
            if len(infos) > OFD_MAX_ENTRIES:
                raise _damaged(OFD, "too_many_entries")
            budget = 10 * settings.CASE_UPLOAD_MAX_BYTES
            for info in infos:
                expanded, head = _expand_entry(archive, info, budget)
                budget -= expanded
                if info.filename == "OFD.xml":
                    root_xml = head
    except ValidationError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,  # compression method not supported
        RuntimeError,
        OSError,
        EOFError,
        zlib.error,
    ) as exc:
        raise _damaged(OFD, "corrupt") from exc
    if not _OFD_ROOT.match(root_xml):
        raise _damaged(OFD, "root_document")
    return True


def _markup_type(data: bytes) -> str | None:
    """HTML, SVG or other XML (for the refusal's details; never accepted)."""
    head = data[:4096]
    if not _MARKUP_START.match(head):
        return None
    lowered = head.lower()
    if b"<svg" in lowered:
        return "image/svg+xml"
    if b"<html" in lowered or b"<!doctype html" in lowered or b"<script" in lowered:
        return "text/html"
    return "text/xml"


def detect_type(data: bytes) -> str:
    """The media type of ``data`` from its content (no allow-list check).

    The four material types are checked here, strictly, from the first byte (so a file with
    something placed in front of the header, such as an executable carrying a zip, is not
    taken for one of them); anything else is named by ``filetype`` for the refusal message.
    """
    if data.startswith(b"%PDF-"):
        _check_pdf(data)
        return PDF
    if data.startswith(PNG_SIGNATURE):
        _check_png(data)
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        _check_jpeg(data)
        return JPEG
    if data.startswith(b"PK\x03\x04") and _check_ofd(data):
        return OFD
    kind = filetype.guess(data)
    if kind is not None:
        return str(kind.mime)
    return _markup_type(data) or UNKNOWN


def _type_labels(types: list[str]) -> str:
    return "、".join(TYPE_LABELS.get(t, t.rpartition("/")[2].upper()) for t in types)


def sniff_type(data: bytes, name: str) -> str:
    """The media type detected from the content, if it is one of ``CASE_UPLOAD_TYPES``.

    ``name`` is never trusted: a ``.pdf`` that is really a PNG is accepted as ``image/png``
    (the stored name stays as the user gave it). Raises ``cases.file_type`` for a type not
    accepted and ``cases.file_damaged`` for an accepted type whose structure is broken.
    """
    detected = detect_type(data)
    allowed = allowed_types()
    if detected not in allowed:
        labels = _type_labels(allowed)
        raise ValidationError(
            "cases.file_type",
            f"不支持的文件类型：{TYPE_LABELS.get(detected, detected)}（仅支持 {labels}）。",
            f"Unsupported file type {detected} (accepted: {', '.join(allowed)}).",
            field="file",
            details={"detected": detected, "extension": _extension(name)},
        )
    extension = _extension(name)
    if extension and extension not in _EXTENSIONS.get(detected, ()):
        logger.info("upload named %r is %s by its content", extension, detected)
    return detected


_EXTENSIONS = {PDF: (".pdf",), OFD: (".ofd",), JPEG: (".jpg", ".jpeg", ".jpe"), PNG: (".png",)}


def _extension(name: str) -> str:
    return PurePosixPath(clean_filename(name)).suffix.lower()[:16]


def clean_filename(name: str) -> str:
    """The name to show: no directories, no control or format characters, at most 200."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    # Cc control, Cf format (e.g. U+202E that shows "exe.pdf" for "fdp.exe"), Cs, Co, Cn
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = text.strip().strip(".").strip()
    if not text:
        return UNNAMED
    if len(text) > NAME_MAX:
        stem, dot, suffix = text.rpartition(".")
        if dot and stem and 0 < len(suffix) <= 16:
            text = stem[: NAME_MAX - len(suffix) - 1].rstrip() + "." + suffix
        else:
            text = text[:NAME_MAX]
    return text


# --- the content store --------------------------------------------------------------------------


def _root() -> Path:
    return Path(settings.FILE_DIR)


def storage_name_for(sha: str) -> str:
    return f"{UPLOAD_DIR}/{sha[:2]}/{sha}"


def _path_of(storage_name: str) -> Path | None:
    root = _root().resolve()
    path = (root / storage_name).resolve()
    return path if root in path.parents else None


def _content_ok(path: Path, sha: str, size: int) -> bool:
    try:
        if path.stat().st_size != size:
            return False
        return sm3_hex(path.read_bytes()) == sha
    except OSError:
        return False


def _fsync_dir(directory: Path) -> None:
    with suppress(OSError):  # not possible on every platform
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_content(sha: str, data: bytes) -> Path:
    """Store ``data`` under its digest, atomically; content already there is not rewritten
    (a damaged or missing copy is)."""
    path = _root() / storage_name_for(sha)
    if _content_ok(path, sha, len(data)):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{sha[:12]}-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_dir(path.parent)
    return path


def _corrupt(stored: StoredFile, reason: str) -> Conflict:
    logger.error("stored file %s (%s) is %s", stored.pk, stored.storage_name, reason)
    return Conflict(
        "cases.file_corrupt",
        "文件已损坏或丢失，请重新上传。",
        "The stored file is damaged or missing; upload it again.",
        details={"file_id": stored.pk, "reason": reason},
    )


def _read_verified(stored: StoredFile) -> bytes:
    path = _path_of(stored.storage_name)
    if path is None:
        raise _corrupt(stored, "bad_path")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _corrupt(stored, "missing") from None
    except OSError:
        raise _corrupt(stored, "unreadable") from None
    if len(data) != stored.size or sm3_hex(data) != stored.sha:
        raise _corrupt(stored, "checksum")
    return data


def read_file(stored: StoredFile) -> bytes:
    """The file's content, checked against its SM3 digest.

    Raises ``Conflict("cases.file_corrupt")`` when the content is missing or altered, and
    ``Conflict("cases.file_infected")`` for a file a scan found infected.
    """
    if stored.scan_status == StoredFile.ScanStatus.INFECTED:
        raise Conflict(
            "cases.file_infected",
            "该文件未通过病毒扫描，不能打开。",
            "The file failed the virus scan and cannot be opened.",
            details={"file_id": stored.pk},
        )
    return _read_verified(stored)


# --- uploads ------------------------------------------------------------------------------------


def _scan(data: bytes) -> tuple[str, str]:
    """(scan status, detail); raises ``cases.file_infected`` (nothing has been written)."""
    try:
        result = get_scanner().scan(data)
    except ScannerUnavailable as exc:
        logger.warning("virus scanner unavailable, upload kept pending: %s", exc)
        return StoredFile.ScanStatus.PENDING, "扫描服务暂不可用，待重新扫描"
    if not result.clean:
        logger.warning("upload refused by the virus scanner: %s", result.detail)
        raise ValidationError(
            "cases.file_infected",
            f"文件未通过病毒扫描（{result.detail}），已拒收。",
            f"The file failed the virus scan ({result.detail}) and was not stored.",
            field="file",
            details={"signature": result.detail},
        )
    return StoredFile.ScanStatus.CLEAN, result.detail[:200]


def _same_upload(owner: Any, company: Any, sha: str, material_name: str) -> StoredFile | None:
    queryset = StoredFile.objects.filter(owner=owner, sha=sha, material_name=material_name)
    queryset = (
        queryset.filter(company=company) if company is not None else queryset.filter(company=None)
    )
    return queryset.exclude(scan_status=StoredFile.ScanStatus.INFECTED).order_by("-id").first()


def _serialise(owner: Any, company: Any, sha: str, material_name: str) -> None:
    """On PostgreSQL, one upload at a time per (owner, company, content, material) until the
    transaction ends, so two identical uploads cannot both create a row. (SQLite serialises
    writers anyway.)"""
    if connection.vendor != "postgresql":
        return
    key = f"cases.storedfile:{owner.pk}:{getattr(company, 'pk', '')}:{sha}:{material_name}"
    lock_id = int.from_bytes(sm3(key.encode())[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def _check_copy_level(copy_level: str) -> str:
    level = (copy_level or "").strip().upper()
    if level and level not in ("A", "B", "C", "D"):
        raise ValidationError(
            "cases.copy_level",
            "扫描件等级应为 A、B、C 或 D。",
            "copy_level must be A, B, C or D.",
            field="copy_level",
            details={"value": copy_level},
        )
    return level


def _mark_scanned(stored: StoredFile, status: str, detail: str) -> None:
    before = {"scan_status": stored.scan_status}
    stored.scan_status = status
    stored.scan_detail = detail[:200]
    stored.save(update_fields=["scan_status", "scan_detail"])
    audit.record(
        "cases:file:scan",
        "cases.storedfile",
        stored.pk,
        before=before,
        after={"scan_status": status, "scan_detail": stored.scan_detail},
    )


def store_upload(
    *,
    owner: Any,
    company: Any = None,
    name: str,
    data: bytes,
    material_name: str = "",
    copy_level: str = "",
) -> StoredFile:
    """Check and store one uploaded material file; returns its row.

    Refusals (``cases.file_empty``, ``cases.file_too_large``, ``cases.file_type``,
    ``cases.file_damaged``, ``cases.file_infected``, ``cases.copy_level``) happen before
    anything is written. When the scanner is unavailable the row is created with scan status
    *pending*: the caller must not use the file until it is clean. The same owner (and
    company) uploading the same content for the same material gets the earlier row back.

    ``company`` must be one the owner acts for; the caller checks that.
    """
    check_size(len(data))
    media_type = sniff_type(data, name)
    level = _check_copy_level(copy_level)
    material_name = (material_name or "").strip()[:200]
    sha = sm3_hex(data)

    earlier = _same_upload(owner, company, sha, material_name)
    if earlier is not None and earlier.scan_status == StoredFile.ScanStatus.CLEAN:
        write_content(sha, data)  # repairs a lost or damaged copy; no-op otherwise
        return earlier

    status, detail = _scan(data)  # before anything is written; outside the transaction

    with transaction.atomic():
        write_content(sha, data)
        _serialise(owner, company, sha, material_name)
        earlier = _same_upload(owner, company, sha, material_name)
        if earlier is not None:
            if earlier.scan_status != status and status == StoredFile.ScanStatus.CLEAN:
                _mark_scanned(earlier, status, detail)
            return earlier
        stored = StoredFile.objects.create(
            sha=sha,
            size=len(data),
            media_type=media_type,
            original_name=clean_filename(name),
            storage_name=storage_name_for(sha),
            owner=owner,
            company=company,
            material_name=material_name,
            scan_status=status,
            scan_detail=detail,
            copy_level=level,
        )
        audit.record(
            "cases:file:upload",
            "cases.storedfile",
            stored.pk,
            after={
                "sha": sha,
                "size": stored.size,
                "media_type": media_type,
                "material_name": material_name,
            },
        )
    return stored


def rescan(stored: StoredFile) -> StoredFile:
    """Scan a *pending* file again (e.g. from a periodic task once the scanner is back).

    Clean → usable; infected → marked so (it stays refused). The scanner still unavailable →
    unchanged. Files already clean or infected are returned as they are.
    """
    if stored.scan_status != StoredFile.ScanStatus.PENDING:
        return stored
    data = _read_verified(stored)
    try:
        result = get_scanner().scan(data)
    except ScannerUnavailable as exc:
        logger.warning("virus scanner still unavailable for file %s: %s", stored.pk, exc)
        return stored
    status = StoredFile.ScanStatus.CLEAN if result.clean else StoredFile.ScanStatus.INFECTED
    with transaction.atomic():
        locked = StoredFile.objects.select_for_update().get(pk=stored.pk)
        if locked.scan_status == StoredFile.ScanStatus.PENDING:
            _mark_scanned(locked, status, result.detail)
    return locked


# --- the material library -----------------------------------------------------------------------


def library_for(
    owner: Any, company: Any = None, *, cursor: str | None = None, limit: int = 50
) -> Page[StoredFile]:
    """Earlier clean files, newest first: the owner's own (not uploaded for a company), or —
    with ``company`` — the company's, whoever uploaded them. One query per page.

    The caller checks that ``owner`` acts for ``company``.
    """
    check_limit(limit)
    queryset = StoredFile.objects.filter(scan_status=StoredFile.ScanStatus.CLEAN)
    if company is not None:
        queryset = queryset.filter(company=company)
    else:
        queryset = queryset.filter(owner=owner, company=None)
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise ValidationError(
                "pagination.cursor",
                "分页游标无效，请从第一页重新开始。",
                "The page cursor is invalid; start again from the first page.",
                field="cursor",
            )
        queryset = queryset.filter(id__lt=last_id)
    rows = list(queryset.order_by("-id")[: limit + 1])
    next_cursor = encode_cursor([rows[limit - 1].pk]) if len(rows) > limit else None
    return Page(rows[:limit], next_cursor)


def may_use(user: Any, stored: StoredFile, company: Any = None) -> bool:
    """Whether ``user`` may attach ``stored`` to an application (material reuse).

    Only clean files. A personal file: only its owner, applying as a person. A company's
    file: only while acting for that company (``company``), as its legal representative or
    an agent with an authorisation valid today — whoever of them uploaded it.
    """
    if user is None or not getattr(user, "is_authenticated", False) or user.pk is None:
        return False
    if stored.scan_status != StoredFile.ScanStatus.CLEAN:
        return False
    if stored.company_id is None:
        return company is None and stored.owner_id == user.pk
    if company is None or company.pk != stored.company_id:
        return False
    from zwfw.identity.selectors import companies_of

    return companies_of(user).filter(pk=company.pk).exists()
