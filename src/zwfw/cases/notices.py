"""Electronic notices (电子文书) of a case, rendered as PDF and stored with the case.

Five kinds (:data:`NOTICE_KINDS`): 受理通知书, 不予受理通知书, 补正告知书 (一次性告知: every missing
or wrong material in one table), 准予许可决定书 and 不予许可决定书. :func:`render_notice_pdf`
turns a kind and a dict of facts into an A4 PDF (reportlab platypus); :func:`issue_notice`
numbers, renders and stores it for a case (content-addressed file, :class:`StoredFile`,
:class:`Notice`, audit entry); :func:`notice_pdf_bytes` reads it back, checking its SM3.

The facts (all text already as the applicant should see it — masking is the caller's call):

==================  ==========================================================================
every kind          ``number`` 文书编号, ``case_number`` 办件编号, ``applicant_name``,
                    ``item_name``, ``department`` (issuing department), ``issued_on`` (default
                    today), ``submitted_at`` (optional), ``qr_url`` and ``qr_caption``
                    (optional: a QR code, e.g. the progress or rating page)
acceptance          ``accepted_at``; ``due_date`` 承诺办结日期 (optional); ``query_password``
                    (optional, printed once and never stored)
refusal             ``reason``; ``referral`` (the body to apply to instead, optional);
                    ``review_body`` 复议机关 and ``court`` 管辖法院, or a whole ``remedy``
                    sentence (optional: the standard sentence otherwise)
correction          ``items`` ``[{"material", "problem"}]`` (at least one); ``deadline`` and
                    ``note`` (optional)
approval            ``accepted_at``, ``reason``, ``legal_basis``, ``result_name``,
                    ``result_number``, ``valid_from``/``valid_until`` or ``validity``,
                    ``delivery`` (all optional)
rejection           ``reason``; ``accepted_at``, ``legal_basis``, remedy as for refusal
==================  ==========================================================================

Dates may be ``date``/``datetime`` objects or ISO 8601 strings; they print in Asia/Shanghai
as ``2026年11月27日``. The issuing department and date sit at the bottom right of the last page
with a dashed placeholder circle where the department's electronic seal goes: the closing block
is pushed to the bottom of the last page, so the seal's place is always :func:`seal_box`.
Output is deterministic (reportlab's ``invariant`` mode: fixed creation date and document id),
so the same facts give the same bytes and the same SM3.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import segno
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from reportlab.lib import colors
from reportlab.lib import textsplit as _rl_textsplit
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import paragraph as _rl_paragraph
from reportlab.platypus.flowables import TopPadder

from zwfw.cases import fonts
from zwfw.cases.models import Case, Notice, StoredFile
from zwfw.core import audit
from zwfw.core.crypto import sm3_hex
from zwfw.core.errors import Conflict, ValidationError

SHANGHAI = ZoneInfo("Asia/Shanghai")
logger = logging.getLogger("zwfw.cases.notices")

# reportlab's CJK line breaking keeps a character that may not start a line at the end of the
# previous one, but its list lacks the full-width Chinese punctuation (GB/T 15834): add it, so
# that no line of a notice starts with "，" or "。". Adding characters is harmless elsewhere.
_NO_LINE_START = "，；：！？、。”’）》」』】〕…"
_rl_textsplit.ALL_CANNOT_START = _rl_paragraph.ALL_CANNOT_START = "".join(
    dict.fromkeys(_rl_textsplit.ALL_CANNOT_START + _NO_LINE_START)
)

NOTICE_KINDS: dict[str, str] = {str(kind.value): str(kind.label) for kind in Notice.Kind}
NUMBER_PREFIXES: dict[str, str] = {
    Notice.Kind.ACCEPTANCE.value: "SL",
    Notice.Kind.REFUSAL.value: "BSL",
    Notice.Kind.CORRECTION.value: "BZ",
    Notice.Kind.APPROVAL.value: "ZY",
    Notice.Kind.REJECTION.value: "BY",
}
NUMBER_MAX_LENGTH = 48
STANDARD_REMEDY = (
    "如不服本决定，可在收到本通知书之日起六十日内申请行政复议，或者六个月内提起行政诉讼。"
)
DEFAULT_QR_CAPTION = "扫码查询办理进度"
MEDIA_TYPE = "application/pdf"
NOTICE_DIR = "notices"

# --- page geometry (points) ---------------------------------------------------------------------
PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT, RIGHT, TOP, BOTTOM = 28 * mm, 26 * mm, 32 * mm, 24 * mm
FRAME_WIDTH = PAGE_WIDTH - LEFT - RIGHT
BODY_SIZE = 14  # 四号
SMALL_SIZE = 11
TITLE_SIZE = 22  # 二号
HEAD_SIZE = 16
QR_SIZE = 28 * mm
SEAL_DIAMETER = 42 * mm  # the usual diameter of a department's round seal
CLOSING_HEIGHT = 50 * mm
#: Centre of the signature (department above, date below) from the frame's left edge: the date
#: ends four characters short of the right margin, as official documents place it.
_SIGN_CENTRE_X = FRAME_WIDTH - 4 * BODY_SIZE - 7 * BODY_SIZE * 0.75
_DATE_Y = 20 * mm
_DEPT_Y = _DATE_Y + BODY_SIZE * 1.9
_SEAL_CENTRE_Y = (_DATE_Y + _DEPT_Y + BODY_SIZE) / 2


def seal_box() -> tuple[float, float, float, float]:
    """``(x, y, width, height)`` in PDF points, on the last page, where the seal goes."""
    radius = SEAL_DIAMETER / 2
    return (
        LEFT + _SIGN_CENTRE_X - radius,
        BOTTOM + _SEAL_CENTRE_Y - radius,
        SEAL_DIAMETER,
        SEAL_DIAMETER,
    )


# --- numbers and facts ----------------------------------------------------------------------------


def _check_kind(kind: str) -> str:
    if kind not in NOTICE_KINDS:
        raise ValidationError(
            "cases.notice_kind_unknown",
            f"未知的文书种类：{kind}",
            f"Unknown notice kind: {kind}",
            field="kind",
        )
    return NOTICE_KINDS[kind]


def notice_number(case_number: str, kind: str, seq: int) -> str:
    """文书编号 ``{prefix}-{case number}-{seq:02d}``, e.g. ``SL-5116002026112700001-01``."""
    _check_kind(kind)
    if seq < 1:
        raise ValueError("notice sequence numbers start at 1")
    number = f"{NUMBER_PREFIXES[kind]}-{case_number}-{seq:02d}"
    if len(number) > NUMBER_MAX_LENGTH:
        raise ValueError(f"notice number longer than {NUMBER_MAX_LENGTH} characters: {number}")
    return number


def _missing(key: str) -> ValidationError:
    return ValidationError(
        "cases.notice_fact_missing",
        f"文书缺少必要内容：{key}",
        f"The notice needs the fact {key!r}",
        field=key,
    )


def _text(facts: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = facts.get(key)
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise _missing(key)
    return text


def _as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = (
                dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
            )
        except ValueError as exc:
            raise ValidationError(
                "cases.notice_date_invalid", f"日期格式错误：{value}", f"Not a date: {value}"
            ) from exc
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(SHANGHAI)
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise ValidationError(
        "cases.notice_date_invalid", f"日期格式错误：{value}", f"Not a date: {value!r}"
    )


def chinese_date(value: Any) -> str:
    """``2026年11月27日`` (no leading zeros, as official documents write dates)."""
    day = _as_date(value)
    return "" if day is None else f"{day.year}年{day.month}月{day.day}日"


def _date(facts: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    text = chinese_date(facts.get(key))
    if required and not text:
        raise _missing(key)
    return text


def jsonable_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The facts as plain JSON (dates as ISO 8601 strings), without the query password."""
    clean = {key: value for key, value in facts.items() if key != "query_password"}
    result: dict[str, Any] = json.loads(json.dumps(clean, cls=DjangoJSONEncoder))
    return result


def _today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


# --- styles and flowables ----------------------------------------------------------------------


class _Styles:
    def __init__(self, font: str) -> None:
        base = {"fontName": font, "wordWrap": "CJK"}
        self.head = ParagraphStyle(
            "head", fontSize=HEAD_SIZE, leading=HEAD_SIZE * 1.4, alignment=TA_CENTER, **base
        )
        self.title = ParagraphStyle(
            "title",
            fontSize=TITLE_SIZE,
            leading=TITLE_SIZE * 1.4,
            alignment=TA_CENTER,
            spaceBefore=4,
            spaceAfter=6,
            **base,
        )
        self.number = ParagraphStyle(
            "number", fontSize=SMALL_SIZE, leading=SMALL_SIZE * 1.5, alignment=TA_RIGHT, **base
        )
        self.body = ParagraphStyle(
            "body",
            fontSize=BODY_SIZE,
            leading=BODY_SIZE * 1.75,
            firstLineIndent=2 * BODY_SIZE,
            spaceAfter=2,
            **base,
        )
        self.salutation = ParagraphStyle(
            "salutation", parent=self.body, firstLineIndent=0, spaceBefore=6
        )
        self.cell = ParagraphStyle("cell", fontSize=12, leading=17, **base)
        self.cell_label = ParagraphStyle("cell_label", parent=self.cell, textColor=colors.black)
        self.caption = ParagraphStyle(
            "caption", fontSize=9, leading=12, alignment=TA_CENTER, **base
        )


class QRCode(Flowable):
    """A QR code drawn as vector rectangles inside a form XObject named ``qrcode``."""

    def __init__(self, data: str, size: float = QR_SIZE) -> None:
        super().__init__()
        self.qr = segno.make(data, error="m", micro=False)
        self.size = size
        self.width = self.height = size

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        return self.size, self.size

    def draw(self) -> None:
        draw_qr(self.canv, self.qr, 0, 0, self.size)


def draw_qr(canv: Canvas, qr: segno.QRCode, x: float, y: float, size: float) -> None:
    """Draw ``qr`` (with its four-module quiet zone) in a ``size`` square at ``(x, y)``."""
    border = 4
    modules, _ = qr.symbol_size(border=border)
    step = size / modules
    canv.beginForm("qrcode", 0, 0, size, size)
    canv.setFillColor(colors.white)
    canv.rect(0, 0, size, size, stroke=0, fill=1)
    canv.setFillColor(colors.black)
    path = canv.beginPath()
    for row_index, row in enumerate(qr.matrix_iter(border=border)):
        top = size - row_index * step
        start: int | None = None
        for col, dark in enumerate([*row, False]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                path.rect(start * step, top - step, (col - start) * step, step)
                start = None
    canv.drawPath(path, stroke=0, fill=1)
    canv.endForm()
    canv.saveState()
    canv.translate(x, y)
    canv.doForm("qrcode")
    canv.restoreState()


class ClosingBlock(Flowable):
    """QR code (left), issuing department and date with the seal placeholder (right)."""

    def __init__(
        self, *, department: str, date_text: str, qr_url: str, caption: str, styles: _Styles
    ) -> None:
        super().__init__()
        self.department = department
        self.date_text = date_text
        self.qr = segno.make(qr_url, error="m", micro=False) if qr_url else None
        self.caption = caption
        self.styles = styles
        self.width, self.height = FRAME_WIDTH, CLOSING_HEIGHT
        self.body_page: int | None = None  # set by the _BodyEnd mark when the text ends

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        return self.width, self.height

    def _centred(self, text: str, y: float) -> None:
        canv = self.canv
        font = self.styles.body.fontName
        width = canv.stringWidth(text, font, BODY_SIZE)
        left = min(_SIGN_CENTRE_X - width / 2, FRAME_WIDTH - width)
        canv.drawString(left, y, text)

    def draw(self) -> None:
        canv = self.canv
        if self.body_page is not None and canv.getPageNumber() > self.body_page:
            # the signature did not fit under the text: say so on its page (GB/T 9704 practice)
            canv.setFont(self.styles.body.fontName, BODY_SIZE)
            canv.drawString(2 * BODY_SIZE, PAGE_HEIGHT - TOP - BOTTOM - BODY_SIZE, "（此页无正文）")
        if self.qr is not None:
            caption = Paragraph(escape(self.caption), self.styles.caption)
            _, caption_height = caption.wrap(QR_SIZE + 12 * mm, CLOSING_HEIGHT)
            caption.drawOn(canv, -6 * mm, 0)
            draw_qr(canv, self.qr, 0, caption_height + 2, QR_SIZE)
        # the seal placeholder: a light dashed circle the electronic seal will cover
        canv.saveState()
        canv.setStrokeColor(colors.Color(0.8, 0.8, 0.8))
        canv.setLineWidth(0.5)
        canv.setDash(3, 3)
        canv.circle(_SIGN_CENTRE_X, _SEAL_CENTRE_Y, SEAL_DIAMETER / 2, stroke=1, fill=0)
        canv.restoreState()
        canv.setFont(self.styles.body.fontName, BODY_SIZE)
        self._centred(self.department, _DEPT_Y)
        self._centred(self.date_text, _DATE_Y)


class _BodyEnd(Flowable):
    """Zero-size mark after the text: tells the closing block on which page the text ended."""

    def __init__(self, closing: ClosingBlock) -> None:
        super().__init__()
        self.closing = closing
        self.width = self.height = 0

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        return 0, 0

    def draw(self) -> None:
        self.closing.body_page = self.canv.getPageNumber()


def _table(rows: list[list[Any]], widths: list[float], *, header: bool = False) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.Color(0.45, 0.45, 0.45)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.93, 0.93, 0.93)))
    else:
        commands.append(("BACKGROUND", (0, 0), (0, -1), colors.Color(0.96, 0.96, 0.96)))
    table.setStyle(TableStyle(commands))
    return table


# --- the body of each kind ----------------------------------------------------------------------


class _Body:
    """Collects the flowables of one notice's body."""

    def __init__(self, facts: Mapping[str, Any], styles: _Styles) -> None:
        self.facts = facts
        self.styles = styles
        self.story: list[Flowable] = []

    def para(self, text: str) -> None:
        """A body paragraph; ``text`` is already escaped markup."""
        self.story.append(Paragraph(text, self.styles.body))

    def kv_table(self, rows: list[tuple[str, str]]) -> None:
        cell = self.styles.cell
        data = [[Paragraph(label, cell), Paragraph(escape(value), cell)] for label, value in rows]
        self.story.append(_table(data, [30 * mm, FRAME_WIDTH - 30 * mm]))
        self.story.append(Spacer(1, 4 * mm))

    def applied(self) -> str:
        """``你（单位）于2026年11月20日提交的“…”申请`` (the date when known)."""
        item = escape(_text(self.facts, "item_name", required=True))
        submitted = _date(self.facts, "submitted_at")
        when = f"于{submitted}" if submitted else ""
        return f"你（单位）{when}提交的“{item}”申请"

    def remedy(self, document: str) -> None:
        """行政复议/行政诉讼: the channels of the facts, else the standard sentence."""
        facts = self.facts
        custom = _text(facts, "remedy")
        if custom:
            self.para(escape(custom))
            return
        review = _channel(facts, "reconsideration", "review_body")
        court = _channel(facts, "litigation", "court")
        if not review and not court:
            self.para(STANDARD_REMEDY.replace("本通知书", document))
            return
        review = f"向{review}申请行政复议" if review else "依法申请行政复议"
        court = f"向{court}提起行政诉讼" if court else "依法提起行政诉讼"
        self.para(f"如不服本决定，可在收到{document}之日起六十日内{review}，或者六个月内{court}。")


def _channel(facts: Mapping[str, Any], key: str, plain_key: str) -> str:
    """Escaped ``body（地址：…，电话：…）`` of a remedy channel.

    ``facts[key]`` is the catalogue's channel (``{"body", "address", "phone", "url"}``) or a
    plain name; ``facts[plain_key]`` is a plain name.
    """
    channel = facts.get(key)
    if isinstance(channel, Mapping):
        body = _text(channel, "body")
        extras = [
            f"{label}：{_text(channel, field)}"
            for field, label in (("address", "地址"), ("phone", "电话"))
            if _text(channel, field)
        ]
        if body and extras:
            body += "（" + "，".join(extras) + "）"
    else:
        body = _text(facts, key)
    body = body or _text(facts, plain_key)
    return escape(body)


def _acceptance(body: _Body) -> None:
    facts = body.facts
    accepted = _date(facts, "accepted_at", required=True)
    body.para(
        f"{body.applied()}，经审查，申请材料齐全、符合法定形式，本机关决定予以受理，"
        f"受理日期为{accepted}。"
    )
    due = _date(facts, "due_date")
    if due:
        body.para(
            f"本事项承诺办结日期为{due}（依法需要听证、检验、检测、鉴定、专家评审等特别程序的，"
            "所需时间不计算在内）。"
        )
    node = escape(str(settings.NODE_NAME))
    case_number = escape(_text(facts, "case_number", required=True))
    scan = "，或扫描下方二维码" if _text(facts, "qr_url") else ""
    body.para(f"你（单位）可登录{node}，凭办件编号 {case_number} 查询办理进度{scan}。")
    password = _text(facts, "query_password")
    if password:
        body.para(f"查询密码：{escape(password)}（请妥善保管，切勿告知他人）。")
    body.para("特此通知。")


def _refusal(body: _Body) -> None:
    facts = body.facts
    reason = escape(_text(facts, "reason", required=True))
    body.para(f"{body.applied()}，经审查，本机关决定不予受理。理由如下：")
    body.para(reason)
    referral = _text(facts, "referral")
    if referral:
        body.para(f"请向{escape(referral)}提出申请。")
    body.remedy("本通知书")
    body.para("特此通知。")


def _correction(body: _Body) -> None:
    facts = body.facts
    items = facts.get("items") or []
    if not isinstance(items, list) or not items:
        raise _missing("items")
    body.para(
        f"{body.applied()}，经审查，申请材料不齐全或者不符合法定形式。"
        "现将需要补正的全部内容一次性告知如下："
    )
    cell = body.styles.cell
    rows: list[list[Any]] = [
        [
            Paragraph("序号", cell),
            Paragraph("材料名称", cell),
            Paragraph("存在问题及补正要求", cell),
        ]
    ]
    for index, entry in enumerate(items, start=1):
        if not isinstance(entry, Mapping):
            raise _missing("items")
        material = _text(entry, "material")
        problem = _text(entry, "problem")
        if not material or not problem:
            raise _missing("items")
        rows.append(
            [
                Paragraph(str(index), cell),
                Paragraph(escape(material), cell),
                Paragraph(escape(problem), cell),
            ]
        )
    body.story.append(_table(rows, [14 * mm, 52 * mm, FRAME_WIDTH - 66 * mm], header=True))
    body.story.append(Spacer(1, 4 * mm))
    deadline = _date(facts, "deadline")
    if deadline:
        body.para(f"请于{deadline}前一次性补正上述全部材料。补正后，本机关将重新审查。")
    else:
        body.para("请按上述要求一次性补正全部材料后重新提交，本机关将重新审查。")
    note = _text(facts, "note")
    if note:
        body.para(f"说明：{escape(note)}")
    body.para("特此告知。")


def _basis(facts: Mapping[str, Any]) -> str:
    basis = _text(facts, "legal_basis")
    return f"根据{escape(basis)}的规定，" if basis else ""


def _decision_opening(body: _Body) -> str:
    accepted = _date(body.facts, "accepted_at")
    return body.applied() + (f"，本机关已于{accepted}受理" if accepted else "")


def _approval(body: _Body) -> None:
    facts = body.facts
    body.para(
        f"{_decision_opening(body)}。经审查，该申请符合法定条件、标准，"
        f"{_basis(facts)}本机关决定准予行政许可。"
    )
    reason = _text(facts, "reason")
    if reason:
        body.para(f"审查意见：{escape(reason)}")
    rows: list[tuple[str, str]] = []
    if _text(facts, "result_name"):
        rows.append(("许可结果", _text(facts, "result_name")))
    if _text(facts, "result_number"):
        rows.append(("证件编号", _text(facts, "result_number")))
    valid_from, valid_until = _date(facts, "valid_from"), _date(facts, "valid_until")
    validity = _text(facts, "validity")
    if valid_from and valid_until:
        validity = f"自{valid_from}至{valid_until}"
    elif valid_until:
        validity = f"至{valid_until}"
    if validity:
        rows.append(("有效期限", validity))
    if rows:
        body.kv_table(rows)
    delivery = _text(facts, "delivery")
    if delivery:
        body.para(escape(delivery))
    body.para("特此决定。")


def _rejection(body: _Body) -> None:
    facts = body.facts
    reason = escape(_text(facts, "reason", required=True))
    body.para(
        f"{_decision_opening(body)}。经审查，该申请不符合法定条件、标准，"
        f"{_basis(facts)}本机关决定不予行政许可。理由如下："
    )
    body.para(reason)
    body.remedy("本决定书")
    body.para("特此决定。")


_BODIES: dict[str, Callable[[_Body], None]] = {
    Notice.Kind.ACCEPTANCE.value: _acceptance,
    Notice.Kind.REFUSAL.value: _refusal,
    Notice.Kind.CORRECTION.value: _correction,
    Notice.Kind.APPROVAL.value: _approval,
    Notice.Kind.REJECTION.value: _rejection,
}


# --- rendering ------------------------------------------------------------------------------------


def render_notice_pdf(kind: str, facts: Mapping[str, Any]) -> bytes:
    """The notice of ``kind`` stating ``facts`` (see the module docstring), as PDF bytes."""
    title = _check_kind(kind)
    font = fonts.cjk_font_name()
    styles = _Styles(font)
    number = _text(facts, "number", required=True)
    case_number = _text(facts, "case_number", required=True)
    department = _text(facts, "department", required=True)
    applicant = _text(facts, "applicant_name", required=True)
    issued = _date(facts, "issued_on") or chinese_date(_today())
    node = str(settings.NODE_NAME)

    story: list[Flowable] = [
        Paragraph(escape(department), styles.head),
        Paragraph(escape(title), styles.title),
        Paragraph(f"文书编号：{escape(number)}", styles.number),
        Spacer(1, 3 * mm),
    ]
    body = _Body(facts, styles)
    info = [("申请人", applicant), ("办件编号", case_number)]
    info.append(("事项名称", _text(facts, "item_name", required=True)))
    body.kv_table(info)
    body.story.append(Paragraph(f"{escape(applicant)}：", styles.salutation))
    _BODIES[kind](body)
    story.extend(body.story)
    closing = ClosingBlock(
        department=department,
        date_text=issued,
        qr_url=_text(facts, "qr_url"),
        caption=_text(facts, "qr_caption") or DEFAULT_QR_CAPTION,
        styles=styles,
    )
    story += [_BodyEnd(closing), Spacer(1, 6 * mm), TopPadder(closing)]

    def decorate(canv: Canvas, doc: BaseDocTemplate) -> None:
        canv.saveState()
        canv.setFont(font, 9)
        canv.setFillColor(colors.Color(0.35, 0.35, 0.35))
        canv.drawCentredString(PAGE_WIDTH / 2, PAGE_HEIGHT - 16 * mm, node)
        canv.setStrokeColor(colors.Color(0.6, 0.6, 0.6))
        canv.setLineWidth(0.5)
        canv.line(LEFT, PAGE_HEIGHT - 18 * mm, PAGE_WIDTH - RIGHT, PAGE_HEIGHT - 18 * mm)
        canv.drawString(LEFT, 12 * mm, f"{title}　{number}")
        canv.drawRightString(PAGE_WIDTH - RIGHT, 12 * mm, f"第 {doc.page} 页")
        canv.restoreState()

    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=LEFT,
        rightMargin=RIGHT,
        topMargin=TOP,
        bottomMargin=BOTTOM,
        title=title,
        author=department,
        subject=case_number,
        creator=node,
        keywords=[number],
        lang="zh-CN",
        initialFontName=font,
        initialFontSize=BODY_SIZE,
        invariant=1,
    )
    frame = Frame(
        LEFT,
        BOTTOM,
        FRAME_WIDTH,
        PAGE_HEIGHT - TOP - BOTTOM,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    doc.addPageTemplates([PageTemplate(id="notice", frames=[frame], onPage=decorate)])
    doc.build(story)
    return buffer.getvalue()


# --- issuing and storage ------------------------------------------------------------------------


def _file_path(storage_name: str) -> Path:
    root = Path(settings.FILE_DIR).resolve()
    path = (root / storage_name).resolve()
    if not path.is_relative_to(root):
        raise OSError(f"stored file path outside FILE_DIR: {storage_name}")
    return path


def store_notice_file(content: bytes) -> tuple[str, str]:
    """Write ``content`` under ``FILE_DIR`` by its SM3; ``(sm3, storage name)``.

    The same content is written once; a new file appears under its final name only when
    complete (written to a temporary file in the same directory, then renamed).
    """
    sha = sm3_hex(content)
    storage_name = f"{NOTICE_DIR}/{sha[:2]}/{sha}.pdf"
    path = _file_path(storage_name)
    if _content_ok(path, sha, len(content)):
        return sha, storage_name
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pdf")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return sha, storage_name


def _content_ok(path: Path, sha: str, size: int) -> bool:
    try:
        return path.stat().st_size == size and sm3_hex(path.read_bytes()) == sha
    except OSError:
        return False


def _case_facts(case: Case) -> dict[str, Any]:
    return {
        "case_number": case.number,
        "applicant_name": case.applicant_name,
        "item_name": case.item_name,
        "department": case.department.name,
        "submitted_at": case.submitted_at,
        "accepted_at": case.accepted_at,
        "due_date": case.due_date,
    }


def issue_notice(case: Case, kind: str, facts: Mapping[str, Any], *, defer: bool = False) -> Notice:
    """Number, render and store the notice of ``kind`` for ``case``; the new :class:`Notice`.

    ``facts`` (see the module docstring) override what the case itself says (applicant name —
    pass it masked if the notice should show it masked —, item, department, dates). They are
    kept in ``Notice.data`` as JSON, except ``query_password``, which is printed and dropped.

    With ``defer=True`` the notice is numbered and its facts fixed now, and the PDF is
    rendered by the task worker after the transaction commits (:func:`render_notice`; a
    download before that renders it on the spot). Case transitions use this: rendering costs
    20–40 ms, several times the rest of a transition. A notice that prints the query password
    is always rendered at once (the password is never stored).
    """
    title = _check_kind(kind)
    if not case.number:
        raise Conflict(
            "cases.not_submitted",
            "办件尚未提交，不能出具文书",
            "The case has no number yet (not submitted)",
        )
    with transaction.atomic():
        # serialise notices of one case, so that two issuers cannot take the same number
        Case.objects.select_for_update().filter(pk=case.pk).values_list("pk").get()
        seq = Notice.objects.filter(case=case, kind=kind).count() + 1
        number = notice_number(case.number, kind, seq)
        merged: dict[str, Any] = {**_case_facts(case), **facts}
        merged["number"] = number
        merged["case_number"] = case.number
        if not merged.get("issued_on"):
            merged["issued_on"] = _today()
        password = merged.get("query_password")
        data = jsonable_facts(merged)
        stored = None
        seal_signature = b""
        if not defer or password:
            pdf = render_notice_pdf(
                kind, {**data, "query_password": password} if password else data
            )
            stored, seal_signature = _seal_and_store(case, title, number, pdf)
        notice = Notice.objects.create(
            case=case,
            kind=kind,
            number=number,
            title=title,
            data=data,
            file=stored,
            seal_signature=seal_signature if stored is not None else b"",
        )
        audit.record(
            "cases:notice:issue",
            "cases.notice",
            notice.pk,
            after={"case": case.number, "kind": kind, "number": notice.number},
        )
        if stored is None:
            transaction.on_commit(lambda: _enqueue_render(notice.pk))
    return notice


def seal_pdf(case: Case, title: str, number: str, pdf: bytes) -> tuple[bytes, bytes]:
    """The department's electronic seal on a notice (电子文书): ``(sealed PDF, SES_Signature)``.

    The seal's picture covers the placeholder circle of :func:`seal_box` on the last page, as
    the appearance of a PAdES signature (any PDF reader checks it); the department's SM2 seal
    key then signs the sealed PDF as a GB/T 38540 ``SES_Signature``, kept with the notice.
    """
    from zwfw.signing import pades
    from zwfw.signing import services as signing

    seal = signing.seal_for(case.department)
    authority = signing.ensure_node_authority()
    x, y, width, height = seal_box()
    sealed = pades.sign_pdf(
        pdf,
        key_pem=authority.pdf_key_pem,
        cert_pem=authority.pdf_cert_pem,
        ca_chain_pem=authority.pdf_ca_cert_pem,
        reason=f"{title} {number}",
        location=case.department.name,
        visible_box=(int(x), int(y), int(x + width), int(y + height)),
        page=-1,
        stamp_image=bytes(seal.picture_png),
    )
    return sealed, signing.sign_bytes(seal, sealed)


def _seal_and_store(case: Case, title: str, number: str, pdf: bytes) -> tuple[StoredFile, bytes]:
    sealed, seal_signature = seal_pdf(case, title, number, pdf)
    return _store(case, title, number, sealed), seal_signature


def _store(case: Case, title: str, number: str, pdf: bytes) -> StoredFile:
    sha, storage_name = store_notice_file(pdf)
    return StoredFile.objects.create(
        sha=sha,
        size=len(pdf),
        media_type=MEDIA_TYPE,
        original_name=f"{title}-{number}.pdf",
        storage_name=storage_name,
        owner_id=case.applicant_user_id,
        company_id=case.company_id,
        material_name=title,
        scan_status=StoredFile.ScanStatus.CLEAN,
    )


def _enqueue_render(notice_id: int) -> None:
    from zwfw.cases.tasks import render_notice_task

    render_notice_task.enqueue(notice_id)


def render_notice(notice_id: int) -> Notice:
    """Render and store a deferred notice's PDF (idempotent: a rendered notice is left alone)."""
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update(of=("self",))
            .select_related("case__department")
            .get(pk=notice_id)
        )
        if notice.file_id is not None:
            return notice
        pdf = render_notice_pdf(notice.kind, notice.data)
        notice.file, notice.seal_signature = _seal_and_store(
            notice.case, notice.title, notice.number, pdf
        )
        notice.save(update_fields=["file", "seal_signature"])
        audit.record(
            "cases:notice:render", "cases.notice", notice.pk, after={"number": notice.number}
        )
    return notice


def notice_pdf_bytes(notice: Notice) -> bytes:
    """The stored PDF of ``notice``, after checking its SM3.

    Raises ``Conflict("cases.file_corrupt")`` when the file is missing or its content changed.
    """
    if notice.file_id is None:
        notice = render_notice(notice.pk)  # the worker has not got to it yet
    stored = notice.file

    def corrupt(reason: str) -> Conflict:
        logger.error("notice %s: stored file is %s", notice.number, reason)
        return Conflict(
            "cases.file_corrupt",
            "文书文件已损坏或丢失，请联系管理员。",
            "The notice's stored file is missing or damaged.",
            details={"notice": notice.number, "reason": reason},
        )

    if stored is None:
        raise corrupt("missing")
    try:
        content = _file_path(stored.storage_name).read_bytes()
    except FileNotFoundError:
        raise corrupt("missing") from None
    except OSError:
        raise corrupt("unreadable") from None
    if len(content) != stored.size or sm3_hex(content) != stored.sha:
        raise corrupt("checksum")
    return content
