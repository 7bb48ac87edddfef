"""A licence's face as PDF (reportlab, embedded CJK font) and as OFD (zwfw.signing.ofd).

Both show the same lines: the licence type, the identifier, the holder, the face fields, the
validity, the issuer and the date, the issuer's seal picture and a QR code to the public
verification page.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from zwfw.cases import fonts
from zwfw.cases.notices import draw_qr
from zwfw.signing import ofd

PAGE_WIDTH, PAGE_HEIGHT = A4
SEAL_MM = 40.0
QR_MM = 30.0
# Seal and QR boxes, in mm from the top-left (OFD) — the PDF converts them.
SEAL_BOX = (140.0, 200.0, SEAL_MM, SEAL_MM)
QR_BOX = (25.0, 205.0, QR_MM, QR_MM)


@dataclass(frozen=True)
class Face:
    """What is printed on a licence."""

    title: str
    identifier: str
    lines: Sequence[tuple[str, str]]  # (label, value)
    issuer: str
    issued_on: str
    verify_url: str
    seal_png: bytes
    watermark: str = ""  # copies: the trust-level text of SPEC §9, across the page


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def _layout(face: Face) -> list[tuple[float, float, str, float]]:
    """Text lines as (x mm, y mm from top, text, size mm)."""
    out: list[tuple[float, float, str, float]] = [
        (105.0 - len(face.title) * 4.2, 30.0, face.title, 8.4),
        (25.0, 48.0, f"证照标识：{face.identifier}", 3.2),
    ]
    y = 62.0
    for label, value in face.lines:
        for index, chunk in enumerate(_wrap(value, 30)):
            out.append((25.0, y, f"{label}：" if index == 0 else "", 4.2))
            out.append((62.0, y, chunk, 4.2))
            y += 8.0
    out.append((130.0, 245.0, face.issuer, 4.2))
    out.append((130.0, 253.0, face.issued_on, 4.2))
    out.append((25.0, 240.0, "扫码核验", 3.2))
    return [item for item in out if item[2]]


def render_pdf(face: Face) -> bytes:
    """The licence as an A4 PDF page (unsigned)."""
    font = fonts.cjk_font_name()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    canvas.setTitle(face.title)
    canvas.setAuthor(face.issuer)
    canvas.setSubject(face.identifier)
    canvas.setStrokeColor(colors.Color(0.7, 0.1, 0.1))
    canvas.setLineWidth(2)
    canvas.rect(12 * mm, 12 * mm, PAGE_WIDTH - 24 * mm, PAGE_HEIGHT - 24 * mm)
    for x, y, text, size in _layout(face):
        canvas.setFont(font, size / 0.3528)
        canvas.drawString(x * mm, PAGE_HEIGHT - (y + size) * mm, text)
    qx, qy, qsize, _ = QR_BOX
    draw_qr(
        canvas,
        _qr(face.verify_url),
        qx * mm,
        PAGE_HEIGHT - (qy + qsize) * mm,
        qsize * mm,
    )
    sx, sy, sw, sh = SEAL_BOX
    canvas.drawImage(
        ImageReader(io.BytesIO(face.seal_png)),
        sx * mm,
        PAGE_HEIGHT - (sy + sh) * mm,
        sw * mm,
        sh * mm,
        mask="auto",
    )
    if face.watermark:
        _draw_watermark(canvas, face.watermark, font)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_watermark(canvas: Canvas, text: str, font: str) -> None:
    """``text`` in light grey, diagonal, repeated over the page so that no part is left bare."""
    canvas.saveState()
    canvas.setFillColor(colors.Color(0.55, 0.55, 0.55, alpha=0.35))
    canvas.setFont(font, 11)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(30)
    for row in range(-7, 8):
        canvas.drawCentredString(0, row * 34 * mm / 1.2, text)
    canvas.restoreState()


def _font_index(path: str) -> int:
    return dict(fonts.CANDIDATES).get(path, 0)


def ofd_available() -> bool:
    return bool(fonts.font_status()["path"])


def build_ofd_package(face: Face, *, qr_png: bytes) -> ofd.OfdPackage:
    """The OFD package, with a seal signature slot over the seal's place (to be signed)."""
    path = fonts.font_status()["path"]
    objects: list[ofd.OfdObject] = [ofd.OfdRect(12, 12, 186, 273, line_width=0.7)]
    for x, y, text, size in _layout(face):
        objects.append(ofd.OfdText(x, y, text, size=size))
    qx, qy, qsize, _ = QR_BOX
    objects.append(ofd.OfdImage("qr", qx, qy, qsize, qsize))
    sx, sy, sw, sh = SEAL_BOX
    objects.append(ofd.OfdImage("seal", sx, sy, sw, sh))
    return ofd.build_ofd(
        [ofd.OfdPage(objects=objects)],
        title=face.title,
        author=face.issuer,
        font_path=path,
        font_index=_font_index(path),
        images={"seal": face.seal_png, "qr": qr_png},
        signature=ofd.OfdSignature(stamp=ofd.OfdStamp(sx, sy, sw, sh), company=face.issuer),
    )


@functools.lru_cache(maxsize=64)
def _qr(url: str) -> segno.QRCode:
    """The QR code of ``url``, encoded once for the PDF and the OFD.

    The mask pattern is fixed: every one of the eight is valid (ISO/IEC 18004 §7.8), and
    scoring all eight to pick the "best" took 20 ms per licence for no reader's benefit.
    """
    return segno.make(url, error="m", mask=0)


def qr_png(url: str, scale: int = 4) -> bytes:
    """The QR code as a black-and-white PNG (4 pixels a module, 4-module quiet zone).

    Drawn through Pillow rather than segno's own PNG writer: the same pixels, ten times faster.
    """
    from PIL import Image

    rows = _qr(url).matrix_iter(scale=1, border=4)
    data = b"".join(bytes(0 if dark else 255 for dark in row) for row in rows)
    side = int(len(data) ** 0.5)
    image = Image.frombytes("L", (side, side), data).convert("1")
    image = image.resize((side * scale, side * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
