"""OFD (GB/T 33190-2016) documents written by the project: layout, embedded font, seal signature.

No usable Python OFD writer exists (ARCHITECTURE.md), so this module writes the package itself:
a zip of XML parts in the namespace ``http://www.ofdspec.org/2016``::

    OFD.xml                               entry: DocInfo (DocID, Title, Author, CreationDate),
                                          DocRoot, Signatures
    Doc_0/Document.xml                    CommonData (MaxUnitID, PageArea, PublicRes,
                                          DocumentRes) and the page list
    Doc_0/PublicRes.xml                   the font (ofd:Font → Res/font_N.ttf)
    Doc_0/DocumentRes.xml                 images (ofd:MultiMedia → Res/image_N.png)
    Doc_0/Res/…                           the embedded files
    Doc_0/Pages/Page_N/Content.xml        TextObject / ImageObject / PathObject in one layer
    Doc_0/Signs/Signatures.xml            the signature list            ┐ only when
    Doc_0/Signs/Sign_0/Signature.xml      SignedInfo: Provider, method, │ signed
                                          time, References, StampAnnot  │
    Doc_0/Signs/Sign_0/SignedValue.dat    the SES_Signature (GB/T 38540) ┘

Units are millimetres, the origin is the page's top-left corner and y grows downwards, as
in GB/T 33190. Every text object carries its glyph advances (``DeltaX``) taken from the
embedded font, so readers place each character where the writer measured it.

**Font.** The one font (a TrueType file or a face of a .ttc collection, normally the CJK font
of :mod:`zwfw.cases.fonts`) is embedded as a TrueType *subset*: the face is taken out of its
collection and every glyph the document does not use is emptied, glyph numbers and the
Unicode ``cmap`` unchanged (so the file stays a valid font for any reader, and text stays
extractable). WenQuanYi Zen Hei is a 16.8 MB collection; a one-page licence's subset is
about 0.4 MB before compression and under 50 kB in the zip. A font without TrueType outlines
(OpenType/CFF) is embedded whole.

**Signing** is two-step, because the seal key lives elsewhere (the caller makes the
SES_Signature of GB/T 38540 over the SM3 digest of ``Signature.xml``)::

    package = build_ofd(pages, ..., signature=OfdSignature(stamp=OfdStamp(...)))
    to_sign = signature_xml_to_sign(package)          # the bytes of Signature.xml
    ses = make_ses_signature(sm3(to_sign))            # caller's SES_Signature (DER)
    data = finish_ofd(package, ses)

``Signature.xml`` lists every other file of the package (except ``Signatures.xml`` and the
signature's own directory) with its SM3 digest (``CheckMethod`` = SM3's OID
1.2.156.10197.1.401; the published 2016 XSD enumerates only MD5 and SHA1, but SM3 by OID is
what Chinese readers and signing tools use), so changing any byte of a protected file breaks
the signature. :func:`check_ofd` checks the structure and those digests — not the
SES_Signature itself, which is :mod:`zwfw.signing.ses`'s job.

Signature IDs (``MaxSignId``, ``Signature/@ID``, ``StampAnnot/@ID``) are written as numbers
like all other OFD IDs; the 2016 XSD types them ``xs:ID`` (which cannot start with a digit),
but readers parse them as numbers.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import io
import posixpath
import struct
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from lxml import etree
from reportlab.pdfbase.ttfonts import TTFontFile

import zwfw
from zwfw.core.crypto import sm3

OFD_NS = "http://www.ofdspec.org/2016"
_NSMAP = {"ofd": OFD_NS}
#: SM3 (GM/T 0006): the digest of the References.
SM3_OID = "1.2.156.10197.1.401"
#: SM2 with SM3: the signature algorithm of the SES_Signature.
SM2_SM3_OID = "1.2.156.10197.1.501"

_SHANGHAI = ZoneInfo("Asia/Shanghai")

DOC_DIR = "Doc_0"
SIGNATURES_PATH = f"{DOC_DIR}/Signs/Signatures.xml"
SIGNATURE_DIR = f"{DOC_DIR}/Signs/Sign_0"
SIGNATURE_PATH = f"{SIGNATURE_DIR}/Signature.xml"
SIGNED_VALUE_PATH = f"{SIGNATURE_DIR}/SignedValue.dat"

#: Refuse to unpack more than this (a zip bomb guard for check_ofd and read_ofd_text).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024

Color = tuple[int, int, int]
BLACK: Color = (0, 0, 0)


class OfdError(ValueError):
    """An OFD package cannot be read (not a zip, a part missing or not well-formed)."""


# --- what a page holds --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfdText:
    """One line of text; ``(x, y)`` is the top-left of its line box, ``size`` the em in mm."""

    x: float
    y: float
    text: str
    size: float = 4.2  # about 12 pt
    color: Color = BLACK


@dataclass(frozen=True, slots=True)
class OfdImage:
    """An image of ``images[name]`` (PNG, JPEG or BMP) drawn into the box."""

    name: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class OfdLine:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.3
    color: Color = BLACK


@dataclass(frozen=True, slots=True)
class OfdRect:
    x: float
    y: float
    width: float
    height: float
    line_width: float = 0.3
    stroke: Color | None = BLACK
    fill: Color | None = None


OfdObject = OfdText | OfdImage | OfdLine | OfdRect


@dataclass(frozen=True, slots=True)
class OfdPage:
    """A page: its objects in painting order (later ones are drawn over earlier ones)."""

    objects: Sequence[OfdObject] = ()
    width: float = 210.0  # A4
    height: float = 297.0


@dataclass(frozen=True, slots=True)
class OfdStamp:
    """Where the seal appears: a box on a page (0-based index), in mm."""

    x: float
    y: float
    width: float
    height: float
    page: int = 0


@dataclass(frozen=True, slots=True)
class OfdSignature:
    """A seal signature: where its seal shows, when, by what, and (once made) its value.

    ``signed_value`` is the DER SES_Signature; leave it empty while building the package
    whose ``Signature.xml`` is to be signed.
    """

    signed_value: bytes = b""
    stamp: OfdStamp | None = None
    signed_at: dt.datetime | None = None
    provider: str = "zwfw"
    provider_version: str = zwfw.__version__
    company: str = ""


@dataclass(frozen=True)
class OfdPackage:
    """The parts of an OFD package (path → bytes), without ``SignedValue.dat``."""

    parts: Mapping[str, bytes]
    signed: bool = False
    doc_id: str = ""
    font_file: str = ""  # package path of the embedded font


# --- numbers and XML ----------------------------------------------------------------------------


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _nums(*values: float) -> str:
    return " ".join(_num(value) for value in values)


def _color(color: Color) -> str:
    return " ".join(str(int(part)) for part in color)


def _q(tag: str) -> str:
    return f"{{{OFD_NS}}}{tag}"


def _el(
    parent: etree._Element | None, tag: str, text: str | None = None, **attrs: str
) -> etree._Element:
    element = (
        etree.Element(_q(tag), nsmap=_NSMAP)
        if parent is None
        else etree.SubElement(parent, _q(tag))
    )
    for name, value in attrs.items():
        element.set(name, value)
    if text is not None:
        element.text = text
    return element


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _parse(data: bytes) -> etree._Element:
    # A parser per call: lxml parsers must not be shared between threads. No DTDs, no
    # entity expansion, no network: packages come from outside.
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    return etree.fromstring(data, parser=parser)


# --- the font -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Font:
    family: str
    name: str
    ascent: float  # in 1/1000 em
    descent: float
    widths: Mapping[int, float]  # code point → advance in 1/1000 em
    glyphs: Mapping[int, int]  # code point → glyph id
    default_width: float


@functools.lru_cache(maxsize=4)
def _load_font(path: str, index: int) -> _Font:
    face = TTFontFile(path, subfontIndex=index, validate=False)

    def text(value: bytes | str) -> str:
        return value.decode("latin-1") if isinstance(value, bytes) else str(value)

    return _Font(
        family=text(face.familyName),
        name=text(face.name),
        ascent=float(face.ascent),
        descent=float(face.descent),
        widths=dict(face.charWidths),
        glyphs=dict(face.charToGlyph),
        default_width=float(face.defaultWidth),
    )


@functools.lru_cache(maxsize=2)
@functools.lru_cache(maxsize=4)
def _font_bytes(path: str) -> bytes:
    """The font file, read once per process (a CJK collection is ~17 MB: reading it for every
    document took longer than subsetting it)."""
    return Path(path).read_bytes()


def _table_directory(data: bytes, index: int) -> tuple[int, dict[str, tuple[int, int]]]:
    """(sfnt version, {tag: (offset, length)}) of face ``index`` of a .ttf/.otf/.ttc file."""
    offset = 0
    if data[:4] == b"ttcf":
        (count,) = struct.unpack_from(">I", data, 8)
        if not 0 <= index < count:
            raise ValueError(f"font collection has {count} faces, no face {index}")
        (offset,) = struct.unpack_from(">I", data, 12 + 4 * index)
    version, num_tables = struct.unpack_from(">IH", data, offset)
    tables = {}
    for i in range(num_tables):
        tag, _checksum, table_offset, length = struct.unpack_from(
            ">4sIII", data, offset + 12 + 16 * i
        )
        tables[tag.decode("latin-1")] = (table_offset, length)
    return version, tables


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


_ARG_1_AND_2_ARE_WORDS = 0x0001
_WE_HAVE_A_SCALE = 0x0008
_MORE_COMPONENTS = 0x0020
_WE_HAVE_AN_X_AND_Y_SCALE = 0x0040
_WE_HAVE_A_TWO_BY_TWO = 0x0080


def _components(glyph: bytes) -> Iterator[int]:
    """Glyph ids a composite glyph is built from (none for a simple glyph)."""
    if len(glyph) < 10 or struct.unpack_from(">h", glyph, 0)[0] >= 0:
        return
    position = 10
    while True:
        flags, component = struct.unpack_from(">HH", glyph, position)
        yield component
        position += 4 + (4 if flags & _ARG_1_AND_2_ARE_WORDS else 2)
        if flags & _WE_HAVE_A_SCALE:
            position += 2
        elif flags & _WE_HAVE_AN_X_AND_Y_SCALE:
            position += 4
        elif flags & _WE_HAVE_A_TWO_BY_TWO:
            position += 8
        if not flags & _MORE_COMPONENTS:
            return


# Tables a subset keeps (drawing, metrics, hinting, names); the rest (bitmaps, vertical
# metrics, layout features, vendor tables) is dropped. 'post' is rewritten as format 3.
_KEPT_TABLES = (
    "OS/2", "cmap", "cvt ", "fpgm", "gasp", "glyf", "head", "hhea", "hmtx", "loca", "maxp",
    "name", "post", "prep",
)  # fmt: skip


def subset_truetype(data: bytes, index: int, glyph_ids: Iterable[int]) -> bytes | None:
    """A TrueType font of face ``index`` of ``data`` where only ``glyph_ids`` keep outlines.

    Glyph numbers, metrics and the ``cmap`` are unchanged; every other glyph is made empty
    (components of kept composite glyphs are kept too). Returns ``None`` for a font without
    TrueType outlines (CFF), which cannot be subset this way.
    """
    _version, tables = _table_directory(data, index)
    if "glyf" not in tables or "loca" not in tables:
        return None

    def table(tag: str) -> bytes:
        offset, length = tables[tag]
        return data[offset : offset + length]

    head = bytearray(table("head"))
    long_offsets = struct.unpack_from(">h", head, 50)[0] == 1
    (glyph_count,) = struct.unpack_from(">H", table("maxp"), 4)
    loca = table("loca")
    if long_offsets:
        offsets = list(struct.unpack(f">{glyph_count + 1}I", loca[: 4 * (glyph_count + 1)]))
    else:
        offsets = [
            2 * o for o in struct.unpack(f">{glyph_count + 1}H", loca[: 2 * (glyph_count + 1)])
        ]
    glyf = table("glyf")

    def glyph(gid: int) -> bytes:
        return glyf[offsets[gid] : offsets[gid + 1]]

    keep = {0}  # .notdef
    pending = [gid for gid in glyph_ids if 0 <= gid < glyph_count]
    while pending:
        gid = pending.pop()
        if gid not in keep:
            keep.add(gid)
            pending.extend(c for c in _components(glyph(gid)) if c < glyph_count)

    # Dropped glyphs are empty: each starts where the next kept one does. Walking the kept
    # glyphs only (a few dozen) instead of all ~40,000 of a CJK font saves ~10 ms a document.
    new_glyf = bytearray()
    new_offsets: list[int] = []
    next_gid = 0
    for gid in sorted(keep):
        new_offsets.extend([len(new_glyf)] * (gid - next_gid + 1))
        outline = glyph(gid)
        new_glyf += outline + b"\0" * (-len(outline) % 4)
        next_gid = gid + 1
    new_offsets.extend([len(new_glyf)] * (glyph_count + 1 - next_gid))

    struct.pack_into(">I", head, 8, 0)  # checkSumAdjustment, set below
    struct.pack_into(">h", head, 50, 1)  # indexToLocFormat: long offsets
    post = bytearray(table("post")[:32].ljust(32, b"\0"))
    struct.pack_into(">I", post, 0, 0x00030000)  # format 3: no glyph names
    out_tables = {
        tag: table(tag) for tag in _KEPT_TABLES if tag in tables and tag not in ("glyf", "loca")
    }
    out_tables.update(
        head=bytes(head),
        post=bytes(post),
        glyf=bytes(new_glyf),
        loca=struct.pack(f">{len(new_offsets)}I", *new_offsets),
    )

    tags = sorted(out_tables)
    count = len(tags)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(
        ">IHHHH", 0x00010000, count, power * 16, power.bit_length() - 1, count * 16 - power * 16
    )
    directory = bytearray()
    body = bytearray()
    position = len(header) + 16 * count
    for tag in tags:
        content = out_tables[tag]
        directory += struct.pack(
            ">4sIII", tag.encode("latin-1"), _checksum(content), position + len(body), len(content)
        )
        body += content + b"\0" * (-len(content) % 4)
    font = bytearray(header + directory + body)
    head_offset = position + sum(
        len(out_tables[t]) + (-len(out_tables[t]) % 4) for t in tags[: tags.index("head")]
    )
    struct.pack_into(
        ">I", font, head_offset + 8, (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
    )
    return bytes(font)


# --- writing ------------------------------------------------------------------------------------


def _image_format(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG", "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG", "jpg"
    if data.startswith(b"BM"):
        return "BMP", "bmp"
    raise ValueError("images must be PNG, JPEG or BMP")


class _Ids:
    def __init__(self) -> None:
        self.last = 0

    def next(self) -> str:
        self.last += 1
        return str(self.last)


def _text_object(
    layer: etree._Element, ids: _Ids, item: OfdText, font: _Font, font_id: str
) -> None:
    if not item.text:
        return
    if any(ord(char) < 0x20 for char in item.text):
        raise ValueError("text objects hold one line: no control characters")
    missing = sorted({c for c in item.text if ord(c) not in font.glyphs and not c.isspace()})
    if missing:
        raise ValueError(f"the font has no glyph for {''.join(missing)!r}")
    scale = item.size / 1000
    advances = [font.widths.get(ord(char), font.default_width) * scale for char in item.text]
    ascent = font.ascent * scale
    height = (font.ascent - font.descent) * scale
    text = _el(
        layer,
        "TextObject",
        ID=ids.next(),
        Boundary=_nums(item.x, item.y, sum(advances), height),
        Font=font_id,
        Size=_num(item.size),
    )
    _el(text, "FillColor", Value=_color(item.color))
    attrs = {"X": "0", "Y": _num(ascent)}
    if len(advances) > 1:
        attrs["DeltaX"] = _nums(*advances[:-1])
    _el(text, "TextCode", item.text, **attrs)


def _path_object(
    layer: etree._Element,
    ids: _Ids,
    *,
    box: tuple[float, float, float, float],
    data: str,
    line_width: float,
    stroke: Color | None,
    fill: Color | None,
) -> None:
    path = _el(
        layer,
        "PathObject",
        ID=ids.next(),
        Boundary=_nums(*box),
        LineWidth=_num(line_width),
        Stroke="true" if stroke is not None else "false",
        Fill="true" if fill is not None else "false",
    )
    if stroke is not None:
        _el(path, "StrokeColor", Value=_color(stroke))
    if fill is not None:
        _el(path, "FillColor", Value=_color(fill))
    _el(path, "AbbreviatedData", data)


def _page_xml(
    page: OfdPage,
    ids: _Ids,
    *,
    font: _Font,
    font_id: str,
    media: Mapping[str, str],
    default: OfdPage,
) -> bytes:
    root = _el(None, "Page")
    if (page.width, page.height) != (default.width, default.height):
        area = _el(root, "Area")
        _el(area, "PhysicalBox", _nums(0, 0, page.width, page.height))
    content = _el(root, "Content")
    layer = _el(content, "Layer", ID=ids.next(), Type="Body")
    for item in page.objects:
        if isinstance(item, OfdText):
            _text_object(layer, ids, item, font, font_id)
        elif isinstance(item, OfdImage):
            _el(
                layer,
                "ImageObject",
                ID=ids.next(),
                Boundary=_nums(item.x, item.y, item.width, item.height),
                CTM=_nums(item.width, 0, 0, item.height, 0, 0),
                ResourceID=media[item.name],
            )
        elif isinstance(item, OfdLine):
            pad = item.width / 2
            left, top = min(item.x1, item.x2) - pad, min(item.y1, item.y2) - pad
            _path_object(
                layer,
                ids,
                box=(left, top, abs(item.x2 - item.x1) + 2 * pad, abs(item.y2 - item.y1) + 2 * pad),
                data=(
                    f"M {_nums(item.x1 - left, item.y1 - top)} "
                    f"L {_nums(item.x2 - left, item.y2 - top)}"
                ),
                line_width=item.width,
                stroke=item.color,
                fill=None,
            )
        else:
            pad = item.line_width / 2
            w, h = item.width, item.height
            _path_object(
                layer,
                ids,
                box=(item.x - pad, item.y - pad, w + 2 * pad, h + 2 * pad),
                data=(
                    f"M {_nums(pad, pad)} L {_nums(pad + w, pad)} L {_nums(pad + w, pad + h)} "
                    f"L {_nums(pad, pad + h)} C"
                ),
                line_width=item.line_width,
                stroke=item.stroke,
                fill=item.fill,
            )
    return _xml(root)


def _file_digest(method: str, data: bytes) -> bytes | None:
    normalised = method.strip().upper()
    if normalised in (SM3_OID, "SM3"):
        return sm3(data)
    if normalised in ("SHA1", "SHA-1", "1.3.14.3.2.26"):
        return hashlib.sha1(data, usedforsecurity=False).digest()
    if normalised in ("SHA256", "SHA-256", "2.16.840.1.101.3.4.2.1"):
        return hashlib.sha256(data).digest()
    if normalised in ("MD5", "1.2.840.113549.2.5"):
        return hashlib.md5(data, usedforsecurity=False).digest()
    return None


def _signature_xml(
    parts: Mapping[str, bytes], signature: OfdSignature, page_ids: Sequence[str]
) -> bytes:
    signed_at = signature.signed_at or dt.datetime.now(dt.UTC)
    if signed_at.tzinfo is None:
        raise ValueError("signed_at must be timezone-aware")
    root = _el(None, "Signature")
    info = _el(root, "SignedInfo")
    provider = {"ProviderName": signature.provider, "Version": signature.provider_version}
    if signature.company:
        provider["Company"] = signature.company
    _el(info, "Provider", **provider)
    _el(info, "SignatureMethod", SM2_SM3_OID)
    _el(info, "SignatureDateTime", signed_at.astimezone(dt.UTC).strftime("%Y%m%d%H%M%SZ"))
    references = _el(info, "References", CheckMethod=SM3_OID)
    for path in sorted(parts):
        reference = _el(references, "Reference", FileRef=f"/{path}")
        _el(reference, "CheckValue", base64.b64encode(sm3(parts[path])).decode("ascii"))
    stamp = signature.stamp
    if stamp is not None:
        if not 0 <= stamp.page < len(page_ids):
            raise ValueError(f"the stamp is on page {stamp.page}, the document has {len(page_ids)}")
        _el(
            info,
            "StampAnnot",
            ID="1",
            PageRef=page_ids[stamp.page],
            Boundary=_nums(stamp.x, stamp.y, stamp.width, stamp.height),
        )
    _el(root, "SignedValue", f"/{SIGNED_VALUE_PATH}")
    return _xml(root)


def _entry_xml(*, doc_id: str, title: str, author: str, created: dt.date, signed: bool) -> bytes:
    ofd = _el(None, "OFD", Version="1.0", DocType="OFD")
    body = _el(ofd, "DocBody")
    info = _el(body, "DocInfo")
    _el(info, "DocID", doc_id)
    _el(info, "Title", title)
    _el(info, "Author", author)
    _el(info, "CreationDate", created.isoformat())
    _el(info, "Creator", "zwfw")
    _el(info, "CreatorVersion", zwfw.__version__)
    _el(body, "DocRoot", f"{DOC_DIR}/Document.xml")
    if signed:
        _el(body, "Signatures", SIGNATURES_PATH)
    return _xml(ofd)


def _document_xml(
    *, max_unit_id: int, default: OfdPage, page_ids: Sequence[str], has_media: bool
) -> bytes:
    document = _el(None, "Document")
    common = _el(document, "CommonData")
    _el(common, "MaxUnitID", str(max_unit_id))
    area = _el(common, "PageArea")
    _el(area, "PhysicalBox", _nums(0, 0, default.width, default.height))
    _el(common, "PublicRes", "PublicRes.xml")
    if has_media:
        _el(common, "DocumentRes", "DocumentRes.xml")
    page_list = _el(document, "Pages")
    for number, page_id in enumerate(page_ids):
        _el(page_list, "Page", ID=page_id, BaseLoc=f"Pages/Page_{number}/Content.xml")
    return _xml(document)


def _font_res_xml(font: _Font, font_id: str, font_file: str) -> bytes:
    res = _el(None, "Res", BaseLoc="Res")
    fonts = _el(res, "Fonts")
    element = _el(fonts, "Font", ID=font_id, FontName=font.name, FamilyName=font.family)
    _el(element, "FontFile", font_file)
    return _xml(res)


def _media_res_xml(media: Mapping[str, tuple[str, str, str]]) -> bytes:
    res = _el(None, "Res", BaseLoc="Res")
    medias = _el(res, "MultiMedias")
    for media_id, fmt, file_name in media.values():
        multimedia = _el(medias, "MultiMedia", ID=media_id, Type="Image", Format=fmt)
        _el(multimedia, "MediaFile", file_name)
    return _xml(res)


def _font_file(
    font: _Font,
    font_path: str,
    *,
    font_index: int,
    font_id: str,
    pages: Sequence[OfdPage],
    subset: bool,
) -> tuple[str, bytes]:
    """(file name, bytes) of the embedded font: a subset of the glyphs used, or the file."""
    raw = _font_bytes(font_path)
    used = {
        font.glyphs[ord(char)]
        for page in pages
        for item in page.objects
        if isinstance(item, OfdText)
        for char in item.text
        if ord(char) in font.glyphs
    }
    data = subset_truetype(raw, font_index, used) if subset else None
    if data is None:
        return f"font_{font_id}{Path(font_path).suffix.lower() or '.ttf'}", raw
    return f"font_{font_id}.ttf", data


def build_ofd(
    pages: Sequence[OfdPage],
    *,
    title: str,
    author: str,
    font_path: str,
    images: Mapping[str, bytes] | None = None,
    signature: OfdSignature | None = None,
    font_index: int = 0,
    doc_id: str | None = None,
    created: dt.date | None = None,
    subset_font: bool = True,
) -> OfdPackage:
    """Lay out ``pages`` as an OFD package; with ``signature``, ready to be signed.

    ``images`` maps the names :class:`OfdImage` objects use to PNG/JPEG/BMP bytes (only the
    images used are embedded). ``font_path``/``font_index`` name the TrueType font (face of a
    collection) all text is set in — e.g. ``zwfw.cases.fonts.font_status()["path"]``.
    ``doc_id`` (default: a random UUID) and ``created`` (default: today in China) go to DocInfo;
    fixing them (and ``signature.signed_at``) makes the output byte-for-byte reproducible.
    Raises ``ValueError`` for no pages, an unknown or unsupported image, a character the font
    lacks, a control character in a text, or a stamp on a page that does not exist.
    """
    if not pages:
        raise ValueError("an OFD document needs at least one page")
    images = images or {}
    font = _load_font(font_path, font_index)
    ids = _Ids()
    page_ids = [ids.next() for _ in pages]
    font_id = ids.next()
    used_names = sorted(
        {item.name for page in pages for item in page.objects if isinstance(item, OfdImage)}
    )
    unknown = [name for name in used_names if name not in images]
    if unknown:
        raise ValueError(f"no image data for {', '.join(unknown)}")
    media: dict[str, tuple[str, str, str]] = {}  # name → (ID, format, file name)
    for name in used_names:
        media_id = ids.next()
        fmt, extension = _image_format(images[name])
        media[name] = (media_id, fmt, f"image_{media_id}.{extension}")
    resource_ids = {name: media_id for name, (media_id, _, _) in media.items()}
    page_parts = [
        _page_xml(page, ids, font=font, font_id=font_id, media=resource_ids, default=pages[0])
        for page in pages
    ]
    font_file, font_data = _font_file(
        font, font_path, font_index=font_index, font_id=font_id, pages=pages, subset=subset_font
    )
    doc_id = doc_id or uuid.uuid4().hex

    parts: dict[str, bytes] = {
        "OFD.xml": _entry_xml(
            doc_id=doc_id,
            title=title,
            author=author,
            created=created or dt.datetime.now(_SHANGHAI).date(),
            signed=signature is not None,
        ),
        f"{DOC_DIR}/Document.xml": _document_xml(
            max_unit_id=ids.last, default=pages[0], page_ids=page_ids, has_media=bool(media)
        ),
        f"{DOC_DIR}/PublicRes.xml": _font_res_xml(font, font_id, font_file),
    }
    if media:
        parts[f"{DOC_DIR}/DocumentRes.xml"] = _media_res_xml(media)
    for number, page_xml in enumerate(page_parts):
        parts[f"{DOC_DIR}/Pages/Page_{number}/Content.xml"] = page_xml
    parts[f"{DOC_DIR}/Res/{font_file}"] = font_data
    for name, (_, _, file_name) in media.items():
        parts[f"{DOC_DIR}/Res/{file_name}"] = images[name]
    package = OfdPackage(parts=parts, doc_id=doc_id, font_file=f"{DOC_DIR}/Res/{font_file}")
    if signature is None:
        return package

    signature_xml = _signature_xml(parts, signature, page_ids)
    signatures = _el(None, "Signatures")
    _el(signatures, "MaxSignId", "1")
    _el(signatures, "Signature", ID="1", Type="Seal", BaseLoc=f"/{SIGNATURE_PATH}")
    parts[SIGNATURES_PATH] = _xml(signatures)
    parts[SIGNATURE_PATH] = signature_xml
    return OfdPackage(parts=parts, signed=True, doc_id=doc_id, font_file=package.font_file)


def signature_xml_to_sign(package: OfdPackage) -> bytes:
    """The bytes of ``Signature.xml``: the SES_Signature's dataHash is their SM3 digest."""
    if not package.signed:
        raise ValueError("the package was built without a signature")
    return package.parts[SIGNATURE_PATH]


def _zip(parts: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in parts.items():
            entry = zipfile.ZipInfo(path, date_time=(2016, 1, 1, 0, 0, 0))
            # PNG and JPEG are compressed already: deflating them again costs time, saves nothing
            stored = path.lower().endswith((".png", ".jpg", ".jpeg"))
            entry.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            # A font subset keeps the whole cmap/hmtx/loca of a CJK font (~600 KB): level 1
            # deflates it four times faster for a few per cent more bytes.
            font = path.lower().endswith((".ttf", ".otf", ".ttc"))
            archive.writestr(entry, data, compresslevel=1 if font else None)
    return buffer.getvalue()


def finish_ofd(package: OfdPackage, signed_value: bytes) -> bytes:
    """The OFD file: the package with ``SignedValue.dat`` holding ``signed_value``."""
    if not package.signed:
        raise ValueError("the package was built without a signature")
    if not signed_value:
        raise ValueError("the signed value is empty")
    return _zip({**package.parts, SIGNED_VALUE_PATH: signed_value})


def write_ofd(
    pages: Sequence[OfdPage],
    *,
    title: str,
    author: str,
    font_path: str,
    images: Mapping[str, bytes] | None = None,
    signature: OfdSignature | None = None,
    font_index: int = 0,
    doc_id: str | None = None,
    created: dt.date | None = None,
    subset_font: bool = True,
) -> bytes:
    """Build and zip an OFD document in one step (see :func:`build_ofd` for the arguments).

    With a ``signature``, its ``signed_value`` is stored as given: use this for an unsigned
    placeholder or when the value was made over this very ``Signature.xml`` — otherwise use
    :func:`build_ofd`, :func:`signature_xml_to_sign` and :func:`finish_ofd`.
    """
    package = build_ofd(
        pages,
        title=title,
        author=author,
        font_path=font_path,
        images=images,
        signature=signature,
        font_index=font_index,
        doc_id=doc_id,
        created=created,
        subset_font=subset_font,
    )
    if signature is None:
        return _zip(package.parts)
    return finish_ofd(package, signature.signed_value)


# --- reading and checking -----------------------------------------------------------------------


class _Package:
    """Read access to an OFD zip with path resolution and a size guard."""

    def __init__(self, data: bytes) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise OfdError("not a zip file") from exc
        if sum(info.file_size for info in self.zip.infolist()) > MAX_UNPACKED_BYTES:
            raise OfdError("the package unpacks to more than the allowed size")
        self.names = {info.filename for info in self.zip.infolist() if not info.is_dir()}

    def read(self, path: str) -> bytes:
        if path not in self.names:
            raise OfdError(f"{path} is missing")
        return self.zip.read(path)

    def xml(self, path: str, root_tag: str) -> etree._Element:
        try:
            root = _parse(self.read(path))
        except etree.XMLSyntaxError as exc:
            raise OfdError(f"{path} is not well-formed XML: {exc}") from exc
        if root.tag != _q(root_tag):
            raise OfdError(f"{path}: root element is {root.tag}, expected ofd:{root_tag}")
        return root


def _resolve(base_dir: str, location: str | None) -> str:
    """A package path for an ST_Loc: absolute from the package root, else from ``base_dir``."""
    loc = (location or "").strip()
    if not loc:
        raise OfdError("an empty location")
    joined = loc.lstrip("/") if loc.startswith("/") else posixpath.join(base_dir, loc)
    path = posixpath.normpath(joined)
    if path.startswith("../") or path == ".." or path.startswith("/"):
        raise OfdError(f"location {loc} leaves the package")
    return path


def _child_text(element: etree._Element, tag: str) -> str | None:
    child = element.find(_q(tag))
    return child.text.strip() if child is not None and child.text else None


def _doc_roots(package: _Package) -> list[tuple[etree._Element, str]]:
    ofd = package.xml("OFD.xml", "OFD")
    bodies = ofd.findall(_q("DocBody"))
    if not bodies:
        raise OfdError("OFD.xml has no DocBody")
    return [(body, _resolve("", _child_text(body, "DocRoot"))) for body in bodies]


def _page_paths(package: _Package, document_path: str) -> list[tuple[str, str]]:
    document = package.xml(document_path, "Document")
    base = posixpath.dirname(document_path)
    pages = document.find(_q("Pages"))
    if pages is None:
        raise OfdError(f"{document_path} has no Pages")
    return [
        (page.get("ID", ""), _resolve(base, page.get("BaseLoc")))
        for page in pages.findall(_q("Page"))
    ]


def read_ofd_text(data: bytes) -> str:
    """The text of an OFD document: one line per text object, pages separated by form feeds.

    Text objects are read in document order (layers, nested page blocks); each object's
    ``TextCode`` contents are concatenated. Raises :class:`OfdError` for an unreadable package.
    """
    package = _Package(data)
    pages_text = []
    for _body, document_path in _doc_roots(package):
        for _page_id, page_path in _page_paths(package, document_path):
            page = package.xml(page_path, "Page")
            lines = [
                "".join(code.text or "" for code in text_object.iter(_q("TextCode")))
                for text_object in page.iter(_q("TextObject"))
            ]
            pages_text.append("\n".join(lines))
    return "\f".join(pages_text)


def _expand_delta(value: str) -> list[str]:
    """ST_Array with the ``g n v`` abbreviation (n copies of v) expanded."""
    tokens = value.split()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i] == "g" and i + 2 < len(tokens):
            out.extend([tokens[i + 2]] * int(tokens[i + 1]))
            i += 3
        else:
            out.append(tokens[i])
            i += 1
    return out


class _Checker:
    def __init__(self, package: _Package) -> None:
        self.package = package
        self.problems: list[str] = []
        self.ids: dict[str, str] = {}

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def xml(self, path: str, root_tag: str) -> etree._Element | None:
        try:
            return self.package.xml(path, root_tag)
        except OfdError as exc:
            self.problem(str(exc))
            return None

    def resolve(self, base: str, location: str | None, what: str) -> str | None:
        try:
            path = _resolve(base, location)
        except OfdError as exc:
            self.problem(f"{what}: {exc}")
            return None
        if path not in self.package.names:
            self.problem(f"{what}: {path} is missing")
            return None
        return path

    def register_id(self, value: str | None, where: str) -> None:
        if not value or not value.isdigit():
            self.problem(f"{where}: ID {value!r} is not a positive integer")
        elif value in self.ids:
            self.problem(f"{where}: ID {value} is also used by {self.ids[value]}")
        else:
            self.ids[value] = where

    def resources(self, document_path: str, document: etree._Element) -> tuple[set[str], set[str]]:
        fonts: set[str] = set()
        media: set[str] = set()
        common = document.find(_q("CommonData"))
        if common is None:
            self.problem(f"{document_path} has no CommonData")
            return fonts, media
        base = posixpath.dirname(document_path)
        for tag in ("PublicRes", "DocumentRes"):
            for element in common.findall(_q(tag)):
                res_path = self.resolve(base, element.text, f"{document_path} {tag}")
                if res_path is None:
                    continue
                res = self.xml(res_path, "Res")
                if res is None:
                    continue
                res_base = posixpath.dirname(res_path)
                if res.get("BaseLoc"):
                    try:
                        res_base = _resolve(res_base, res.get("BaseLoc"))
                    except OfdError as exc:
                        self.problem(f"{res_path}: {exc}")
                for font in res.iter(_q("Font")):
                    self.register_id(font.get("ID"), f"{res_path} Font")
                    fonts.add(font.get("ID", ""))
                    if font.find(_q("FontFile")) is not None:
                        self.resolve(
                            res_base, _child_text(font, "FontFile"), f"{res_path} FontFile"
                        )
                for item in res.iter(_q("MultiMedia")):
                    self.register_id(item.get("ID"), f"{res_path} MultiMedia")
                    media.add(item.get("ID", ""))
                    self.resolve(res_base, _child_text(item, "MediaFile"), f"{res_path} MediaFile")
        return fonts, media

    def page(self, page_path: str, fonts: set[str], media: set[str]) -> None:
        page = self.xml(page_path, "Page")
        if page is None:
            return
        for element in page.iter(
            _q("Layer"), _q("TextObject"), _q("ImageObject"), _q("PathObject"), _q("PageBlock")
        ):
            where = f"{page_path} {etree.QName(element).localname}"
            self.register_id(element.get("ID"), where)
            if element.tag == _q("TextObject"):
                if element.get("Font") not in fonts:
                    self.problem(f"{where}: font {element.get('Font')} is not a resource")
                for code in element.iter(_q("TextCode")):
                    deltas = _expand_delta(code.get("DeltaX", ""))
                    if len(deltas) > max(len(code.text or "") - 1, 0):
                        self.problem(f"{where}: more DeltaX values than character gaps")
            elif element.tag == _q("ImageObject") and element.get("ResourceID") not in media:
                self.problem(f"{where}: image {element.get('ResourceID')} is not a resource")

    def document(self, document_path: str) -> set[str] | None:
        """Check a document and its pages; returns its page IDs (None if unreadable)."""
        if document_path not in self.package.names:
            self.problem(f"OFD.xml DocRoot: {document_path} is missing")
            return None
        document = self.xml(document_path, "Document")
        if document is None:
            return None
        self.ids = {}
        fonts, media = self.resources(document_path, document)
        common = document.find(_q("CommonData"))
        area = common.find(_q("PageArea")) if common is not None else None
        if area is None or not _child_text(area, "PhysicalBox"):
            self.problem(f"{document_path}: CommonData/PageArea/PhysicalBox missing")
        try:
            page_paths = _page_paths(self.package, document_path)
        except OfdError as exc:
            self.problem(str(exc))
            page_paths = []
        if not page_paths:
            self.problem(f"{document_path}: no pages")
        for page_id, page_path in page_paths:
            self.register_id(page_id, f"{document_path} Page")
            if page_path in self.package.names:
                self.page(page_path, fonts, media)
            else:
                self.problem(f"{document_path} Page: {page_path} is missing")
        max_unit = _child_text(common, "MaxUnitID") if common is not None else None
        if not max_unit or not max_unit.isdigit():
            self.problem(f"{document_path}: MaxUnitID missing")
        elif self.ids and max(int(i) for i in self.ids) > int(max_unit):
            self.problem(f"{document_path}: an ID exceeds MaxUnitID {max_unit}")
        return {page_id for page_id, _ in page_paths}

    def signatures(self, signatures_path: str, page_ids: set[str]) -> None:
        signatures = self.xml(signatures_path, "Signatures")
        if signatures is None:
            return
        protected_dirs = {posixpath.dirname(signatures_path)}
        entries = []
        for entry in signatures.findall(_q("Signature")):
            path = self.resolve(
                posixpath.dirname(signatures_path), entry.get("BaseLoc"), "signature"
            )
            if path is not None:
                entries.append(path)
                protected_dirs.add(posixpath.dirname(path))
        for path in entries:
            self.signature(path, page_ids, protected_dirs)

    def signature(self, path: str, page_ids: set[str], signature_dirs: set[str]) -> None:
        signature = self.xml(path, "Signature")
        if signature is None:
            return
        info = signature.find(_q("SignedInfo"))
        references = info.find(_q("References")) if info is not None else None
        if info is None or references is None:
            self.problem(f"{path}: no SignedInfo/References")
            return
        method = references.get("CheckMethod", "MD5")
        base = posixpath.dirname(path)
        covered = set()
        for reference in references.findall(_q("Reference")):
            target = self.resolve(base, reference.get("FileRef"), f"{path} Reference")
            if target is None:
                continue
            covered.add(target)
            expected = _child_text(reference, "CheckValue") or ""
            digest = _file_digest(method, self.package.read(target))
            if digest is None:
                self.problem(f"{path}: unknown CheckMethod {method}")
                return
            if base64.b64encode(digest).decode("ascii") != expected.replace("\n", ""):
                self.problem(f"{path}: digest of {target} does not match its Reference")
        signed_value = self.resolve(
            base, _child_text(signature, "SignedValue"), f"{path} SignedValue"
        )
        if signed_value is not None and not self.package.read(signed_value):
            self.problem(f"{path}: {signed_value} is empty")
        for stamp in info.findall(_q("StampAnnot")):
            if stamp.get("PageRef") not in page_ids:
                self.problem(f"{path}: StampAnnot refers to page {stamp.get('PageRef')}, unknown")
        for name in sorted(self.package.names - covered):
            if name.endswith("/Signatures.xml") or posixpath.dirname(name) in signature_dirs:
                continue
            self.problem(f"{path}: {name} is not protected by the signature")


def check_ofd(data: bytes) -> list[str]:
    """Structural problems of an OFD package (empty when it is sound).

    Checks that the parts the entry names exist, are well-formed XML with the expected root in
    the OFD namespace, that fonts, images and pages they refer to exist, object IDs are unique
    and within ``MaxUnitID``, text objects use declared fonts and images declared resources;
    for each signature, that every Reference's digest matches its file, every other file of the
    package (except signature files) is covered, the signed value exists and stamps are on
    existing pages. The SES_Signature itself is not verified here.
    """
    try:
        package = _Package(data)
        doc_roots = _doc_roots(package)
    except OfdError as exc:
        return [str(exc)]
    checker = _Checker(package)
    ofd = package.xml("OFD.xml", "OFD")
    if ofd.get("Version") != "1.0" or ofd.get("DocType") != "OFD":
        checker.problem("OFD.xml: Version must be 1.0 and DocType OFD")
    for body, document_path in doc_roots:
        info = body.find(_q("DocInfo"))
        if info is None or not _child_text(info, "DocID"):
            checker.problem("OFD.xml: DocInfo/DocID missing")
        page_ids = checker.document(document_path)
        signatures = _child_text(body, "Signatures")
        if signatures and page_ids is not None:
            path = checker.resolve("", signatures, "OFD.xml Signatures")
            if path is not None:
                checker.signatures(path, page_ids)
    return checker.problems
