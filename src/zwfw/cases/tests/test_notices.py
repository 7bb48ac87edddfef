"""Electronic notices (电子文书): PDF content read back with poppler, the embedded font, the QR
code, and issuing (numbering, storage, audit, read-back with its SM3)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import shutil
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
import segno
from django.conf import settings as django_settings

from zwfw.cases import fonts, notices
from zwfw.cases.models import Case, CaseStatus, Notice, StoredFile
from zwfw.cases.notices import (
    NOTICE_KINDS,
    STANDARD_REMEDY,
    chinese_date,
    issue_notice,
    notice_number,
    notice_pdf_bytes,
    render_notice_pdf,
)
from zwfw.catalog.content import validate_content
from zwfw.catalog.services import publish_content
from zwfw.catalog.tests import factories
from zwfw.core.crypto import sm3_hex
from zwfw.core.errors import Conflict, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.identity.models import User

CASE_NUMBER = "5116002026112700001"
ITEM = "食品经营许可（新办）"
DEPARTMENT = "广安市市场监督管理局"
QR_URL = f"https://zwfw.example.gov.cn/progress?case={CASE_NUMBER}"
CORRECTION_ITEMS = [
    {"material": "经营场所平面图", "problem": "未标明操作间面积和设备布局"},
    {"material": "食品经营许可申请书", "problem": "缺少法定代表人签字"},
    {"material": "营业执照", "problem": "经营范围不含餐饮服务"},
]

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
    reason="poppler-utils (pdftotext, pdffonts) is not installed: apt-get install poppler-utils",
)


def facts(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": "SL-5116002026112700001-01",
        "case_number": CASE_NUMBER,
        "applicant_name": "李娜",
        "item_name": ITEM,
        "department": DEPARTMENT,
        "submitted_at": "2026-11-20T02:30:00+00:00",
        "issued_on": "2026-11-27",
    }
    data.update(extra)
    return data


KIND_FACTS: dict[str, dict[str, Any]] = {
    "acceptance": {
        "accepted_at": "2026-11-27T01:00:00+00:00",
        "due_date": "2026-12-11",
        "query_password": "483920",
        "qr_url": QR_URL,
    },
    "refusal": {"reason": "申请事项依法不需要取得行政许可。"},
    "correction": {"items": CORRECTION_ITEMS, "deadline": "2026-12-20", "note": "可网上补正。"},
    "approval": {
        "reason": "材料齐全，现场核查符合要求。",
        "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "result_name": "食品经营许可证",
        "result_number": "JY15116000001234",
        "valid_from": "2026-11-27",
        "valid_until": "2031-11-26",
        "qr_url": "https://zwfw.example.gov.cn/rate/abc",
        "qr_caption": "扫码评价（好差评）",
    },
    "rejection": {"reason": "经营场所距离公共厕所不足25米。"},
}

KIND_TEXTS: dict[str, list[str]] = {
    "acceptance": [
        "受理日期为2026年11月27日",
        "承诺办结日期为2026年12月11日",
        f"凭办件编号{CASE_NUMBER}查询办理进度",
        "查询密码：483920",
        "扫码查询办理进度",
    ],
    "refusal": ["决定不予受理", "申请事项依法不需要取得行政许可。", STANDARD_REMEDY],
    "correction": [
        "一次性告知",
        *(entry["material"] for entry in CORRECTION_ITEMS),
        *(entry["problem"] for entry in CORRECTION_ITEMS),
        "请于2026年12月20日前",
        "可网上补正。",
    ],
    "approval": [
        "决定准予行政许可",
        "材料齐全，现场核查符合要求。",
        "《中华人民共和国食品安全法》第三十五条",
        "食品经营许可证",
        "JY15116000001234",
        "自2026年11月27日至2031年11月26日",
        "扫码评价（好差评）",
    ],
    "rejection": [
        "决定不予行政许可",
        "经营场所距离公共厕所不足25米。",
        STANDARD_REMEDY.replace("本通知书", "本决定书"),
    ],
}


def pdf_text(pdf: bytes, tmp_path: Path, *pages: int) -> str:
    """The PDF's text as pdftotext extracts it, all whitespace removed (lines wrap anywhere)."""
    source = tmp_path / "notice.pdf"
    source.write_bytes(pdf)
    page_args = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    result = subprocess.run(
        ["pdftotext", *page_args, str(source), "-"], capture_output=True, check=True
    )
    return re.sub(r"\s+", "", result.stdout.decode("utf-8"))


def poppler(tool: str, pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / "probe.pdf"
    source.write_bytes(pdf)
    result = subprocess.run([tool, str(source)], capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def form_stream(pdf: bytes, name_marker: bytes = b"/Subtype /Form") -> bytes:
    """The decoded content of the (only) form XObject of a reportlab PDF."""
    start = pdf.index(name_marker)
    begin = pdf.index(b"stream", start) + len(b"stream")
    begin += 2 if pdf[begin : begin + 2] == b"\r\n" else 1  # the one end-of-line after "stream"
    end = pdf.index(b"endstream", begin)
    raw = pdf[begin:end]
    if raw.lstrip().startswith(b"<~") or raw.rstrip().endswith(b"~>"):  # ASCII85 layer
        raw = base64.a85decode(raw.strip(), adobe=True)
    return zlib.decompressobj().decompress(raw)  # ignores the end-of-line before "endstream"


# --- numbers, kinds, dates --------------------------------------------------------------------


def test_kinds_are_the_notice_model_kinds_with_their_titles() -> None:
    assert NOTICE_KINDS == {
        "acceptance": "受理通知书",
        "refusal": "不予受理通知书",
        "correction": "补正告知书",
        "approval": "准予许可决定书",
        "rejection": "不予许可决定书",
    }
    assert set(NOTICE_KINDS) == set(Notice.Kind.values)


def test_notice_number_format_and_limits() -> None:
    assert notice_number(CASE_NUMBER, "acceptance", 1) == f"SL-{CASE_NUMBER}-01"
    assert notice_number(CASE_NUMBER, "refusal", 2) == f"BSL-{CASE_NUMBER}-02"
    assert notice_number(CASE_NUMBER, "correction", 12) == f"BZ-{CASE_NUMBER}-12"
    assert notice_number(CASE_NUMBER, "approval", 1) == f"ZY-{CASE_NUMBER}-01"
    assert notice_number(CASE_NUMBER, "rejection", 100) == f"BY-{CASE_NUMBER}-100"
    longest = notice_number("9" * 32, "refusal", 99)
    assert len(longest) <= Notice._meta.get_field("number").max_length == 48
    with pytest.raises(ValueError, match="longer than 48"):
        notice_number("9" * 43, "refusal", 1)
    with pytest.raises(ValueError, match="start at 1"):
        notice_number(CASE_NUMBER, "acceptance", 0)
    with pytest.raises(ValidationError) as caught:
        notice_number(CASE_NUMBER, "licence", 1)
    assert caught.value.code == "cases.notice_kind_unknown"


def test_dates_print_in_shanghai_without_leading_zeros() -> None:
    assert chinese_date(dt.date(2026, 11, 27)) == "2026年11月27日"
    assert chinese_date("2026-03-05") == "2026年3月5日"
    # 16:30 UTC is half past midnight of the next day in Beijing
    assert chinese_date(dt.datetime(2026, 11, 26, 16, 30, tzinfo=dt.UTC)) == "2026年11月27日"
    assert chinese_date("2026-11-26T16:30:00Z") == "2026年11月27日"
    assert chinese_date("2026-11-26T16:30:00+08:00") == "2026年11月26日"
    assert chinese_date(None) == ""
    with pytest.raises(ValidationError):
        chinese_date("27/11/2026")


# --- rendering --------------------------------------------------------------------------------


@needs_poppler
@pytest.mark.parametrize("kind", list(NOTICE_KINDS))
def test_each_kind_renders_its_title_numbers_and_body(kind: str, tmp_path: Path) -> None:
    pdf = render_notice_pdf(kind, facts(number=f"X-{kind}", **KIND_FACTS[kind]))
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path)
    expected = [
        NOTICE_KINDS[kind],
        django_settings.NODE_NAME,
        f"文书编号：X-{kind}",
        CASE_NUMBER,
        "李娜：",
        ITEM,
        DEPARTMENT,
        "2026年11月27日",  # the issuing date
        "于2026年11月20日提交",  # submitted, in Beijing time
        *KIND_TEXTS[kind],
    ]
    missing = [phrase for phrase in expected if re.sub(r"\s+", "", phrase) not in text]
    assert not missing, f"not in the {kind} notice: {missing}"


@needs_poppler
def test_metadata_names_title_department_and_case(tmp_path: Path) -> None:
    pdf = render_notice_pdf("refusal", facts(**KIND_FACTS["refusal"]))
    info = poppler("pdfinfo", pdf, tmp_path)
    fields = {
        key.strip(): value.strip()
        for key, _, value in (line.partition(":") for line in info.splitlines())
    }
    assert fields["Title"] == "不予受理通知书"
    assert fields["Author"] == DEPARTMENT
    assert fields["Subject"] == CASE_NUMBER
    assert fields["Page size"].startswith("595.276 x 841.89")  # A4
    assert fields["Pages"] == "1"


@needs_poppler
def test_chinese_font_is_embedded_as_a_subset(tmp_path: Path) -> None:
    status = fonts.font_status()
    if not status["embedded"]:
        pytest.skip("no TrueType CJK font installed (apt-get install fonts-wqy-zenhei)")
    pdf = render_notice_pdf("acceptance", facts(**KIND_FACTS["acceptance"]))
    rows = poppler("pdffonts", pdf, tmp_path).splitlines()[2:]
    cjk = [row.split() for row in rows if "+" in row.split()[0]]
    assert cjk, rows
    for name, kind, _encoding, emb, sub, uni, *_ in cjk:
        assert kind == "TrueType"
        assert (emb, sub, uni) == ("yes", "yes", "yes"), name
    if "wqy-zenhei" in status["path"]:
        assert all("WenQuanYiZenHei" in row[0] for row in cjk)
    assert len(pdf) < 200_000  # a subset, not the whole 17 MB font


def test_rendering_is_deterministic() -> None:
    data = facts(**KIND_FACTS["correction"])
    assert render_notice_pdf("correction", data) == render_notice_pdf("correction", data)
    other = render_notice_pdf("correction", {**data, "note": "另一说明"})
    assert other != render_notice_pdf("correction", data)


def _dark_runs(qr: segno.QRCode) -> int:
    runs = 0
    for row in qr.matrix_iter(border=4):
        previous = False
        for dark in row:
            runs += dark and not previous
            previous = bool(dark)
    return runs


def test_qr_code_draws_the_matrix_of_the_url() -> None:
    pdf = render_notice_pdf("acceptance", facts(**KIND_FACTS["acceptance"]))
    assert b"/FormXob.qrcode" in pdf
    content = form_stream(pdf)
    rectangles = len(re.findall(rb"\bre\b", content))
    expected = segno.make(QR_URL, error="m", micro=False)
    assert expected.designator == "4-M"  # 52 bytes: version 4 at error level M
    # one white background plus one rectangle per horizontal run of dark modules
    assert rectangles == 1 + _dark_runs(expected)
    # a different URL gives a different drawing
    other = render_notice_pdf("acceptance", facts(**{**KIND_FACTS["acceptance"], "qr_url": "x"}))
    assert form_stream(other) != content


@needs_poppler
def test_without_url_there_is_no_qr_code_and_without_password_no_password_line(
    tmp_path: Path,
) -> None:
    data = {
        k: v for k, v in KIND_FACTS["acceptance"].items() if k not in ("qr_url", "query_password")
    }
    pdf = render_notice_pdf("acceptance", facts(**data))
    assert b"/FormXob.qrcode" not in pdf
    text = pdf_text(pdf, tmp_path)
    assert "查询密码" not in text
    assert "二维码" not in text
    assert f"凭办件编号{CASE_NUMBER}查询办理进度" in text


@needs_poppler
def test_remedy_names_the_channels_given(tmp_path: Path) -> None:
    pdf = render_notice_pdf(
        "refusal",
        facts(
            reason="不属于本机关职权范围。",
            referral="广安市广安区市场监督管理局",
            reconsideration={
                "body": "广安市人民政府（行政复议机构设在广安市司法局）",
                "phone": "0826-2222222",
            },
            litigation={"body": "有管辖权的人民法院"},
        ),
    )
    text = pdf_text(pdf, tmp_path)
    assert "请向广安市广安区市场监督管理局提出申请。" in text
    assert (
        "如不服本决定，可在收到本通知书之日起六十日内向广安市人民政府（行政复议机构设在广安市"
        "司法局）（电话：0826-2222222）申请行政复议，或者六个月内向有管辖权的人民法院提起行政诉讼。"
    ) in text
    assert STANDARD_REMEDY not in text

    plain = render_notice_pdf("rejection", facts(reason="不符合条件。", court="广安区人民法院"))
    text = pdf_text(plain, tmp_path)
    assert "六十日内依法申请行政复议，或者六个月内向广安区人民法院提起行政诉讼。" in text


@needs_poppler
def test_a_long_correction_lists_every_item_over_several_pages(tmp_path: Path) -> None:
    items = [
        {
            "material": f"第{n}项材料",
            "problem": f"问题{n}：复印件模糊不清，请提供清晰的复印件。" * 3,
        }
        for n in range(1, 41)
    ]
    pdf = render_notice_pdf("correction", facts(items=items))
    found = re.search(r"Pages:\s+(\d+)", poppler("pdfinfo", pdf, tmp_path))
    assert found is not None
    pages = int(found.group(1))
    assert pages > 2
    text = pdf_text(pdf, tmp_path)
    for entry in items:
        assert entry["material"] in text
        assert entry["problem"] in text
    # the department and date close the last page
    last = pdf_text(pdf, tmp_path, pages)
    assert f"{DEPARTMENT}2026年11月27日" in last


@needs_poppler
def test_text_is_printed_literally_not_as_markup(tmp_path: Path) -> None:
    pdf = render_notice_pdf(
        "refusal", facts(applicant_name="A&B <b>公司</b>", reason="x < y & z > 1")
    )
    text = pdf_text(pdf, tmp_path)
    assert "A&B<b>公司</b>：" in text
    assert "x<y&z>1" in text


@pytest.mark.parametrize(
    ("kind", "extra", "field"),
    [
        ("refusal", {}, "reason"),
        ("rejection", {"reason": "  "}, "reason"),
        ("correction", {"items": []}, "items"),
        ("correction", {"items": [{"material": "营业执照", "problem": ""}]}, "items"),
        ("acceptance", {}, "accepted_at"),
    ],
)
def test_missing_facts_are_refused(kind: str, extra: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        render_notice_pdf(kind, facts(**extra))
    assert caught.value.code == "cases.notice_fact_missing"
    assert caught.value.field == field


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        render_notice_pdf("licence", facts())
    assert caught.value.code == "cases.notice_kind_unknown"


# --- the font fallback ------------------------------------------------------------------------


@pytest.fixture
def no_truetype_font(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(fonts, "CANDIDATES", (("/nonexistent/zwfw-test.ttf", 0),))
    fonts.reset_for_tests()
    yield
    monkeypatch.undo()
    fonts.reset_for_tests()


@pytest.mark.usefixtures("no_truetype_font")
def test_without_a_truetype_font_notices_use_stsong_and_warn_once(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.WARNING, logger="zwfw.cases")
    assert fonts.font_status() == {"name": "STSong-Light", "path": "", "embedded": False}
    pdf = render_notice_pdf("refusal", facts(**KIND_FACTS["refusal"]))
    render_notice_pdf("refusal", facts(**KIND_FACTS["refusal"]))
    warnings = [r for r in caplog.records if "NOT embedded" in r.getMessage()]
    assert len(warnings) == 1
    if shutil.which("pdffonts"):
        rows = [row.split() for row in poppler("pdffonts", pdf, tmp_path).splitlines()[2:]]
        song = [row for row in rows if row[0].startswith("STSong-Light")]
        assert song, rows
        assert song[0][-5:-2] == ["no", "no", "no"]  # emb, sub, uni


# --- issuing, storing, reading back -------------------------------------------------------------


@pytest.fixture
def file_dir(settings: Any, tmp_path: Path) -> Path:
    settings.FILE_DIR = tmp_path / "files"
    return settings.FILE_DIR


@pytest.fixture
def case(db: None, file_dir: Path) -> Case:
    department = factories.department(DEPARTMENT)
    item, version = publish_content(validate_content(factories.content()), department=department)
    applicant = User.objects.create_user("li_na_notices", kind="person", real_name="李娜")
    return Case.objects.create(
        number=CASE_NUMBER,
        status=CaseStatus.SUBMITTED,
        item=item,
        item_version=version,
        item_name=item.name,
        implementation_code=item.implementation_code,
        case_type="2",
        department=department,
        division_code="511600",
        applicant_kind="person",
        applicant_user=applicant,
        applicant_name="李娜",
        applicant_id_type="111",
        applicant_id_number="511602199001011234",
        channel="2",
        submitted_at=dt.datetime(2026, 11, 20, 2, 30, tzinfo=dt.UTC),
        accepted_at=dt.datetime(2026, 11, 27, 1, 0, tzinfo=dt.UTC),
        due_date=dt.date(2026, 12, 11),
    )


@needs_poppler
def test_issue_notice_stores_file_rows_and_audit(
    case: Case, file_dir: Path, tmp_path: Path
) -> None:
    notice = issue_notice(
        case,
        "acceptance",
        {"query_password": "483920", "qr_url": QR_URL, "issued_on": "2026-11-27"},
    )
    notice.refresh_from_db()
    assert notice.number == f"SL-{CASE_NUMBER}-01"
    assert notice.title == "受理通知书"
    assert notice.kind == "acceptance"
    assert notice.case_id == case.pk

    stored = notice.file
    assert stored is not None
    assert stored.media_type == "application/pdf"
    assert stored.scan_status == StoredFile.ScanStatus.CLEAN
    assert stored.owner_id == case.applicant_user_id
    assert stored.company_id is None
    assert stored.material_name == "受理通知书"
    assert stored.storage_name == f"notices/{stored.sha[:2]}/{stored.sha}.pdf"
    on_disk = (file_dir / stored.storage_name).read_bytes()
    assert sm3_hex(on_disk) == stored.sha
    assert len(on_disk) == stored.size
    assert notice_pdf_bytes(notice) == on_disk

    # the facts: the case's own, as JSON, and never the query password
    assert "query_password" not in notice.data
    assert "483920" not in json.dumps(notice.data)
    assert notice.data["case_number"] == CASE_NUMBER
    assert notice.data["number"] == notice.number
    assert notice.data["item_name"] == ITEM
    assert notice.data["due_date"] == "2026-12-11"
    text = pdf_text(on_disk, tmp_path)
    assert "查询密码：483920" in text  # printed once, on the applicant's copy
    assert "承诺办结日期为2026年12月11日" in text
    assert "受理日期为2026年11月27日" in text

    entry = AuditRecord.objects.filter(action="cases:notice:issue").latest("id")
    assert entry.object_type == "cases.notice"
    assert entry.object_id == str(notice.pk)
    assert entry.after == {"case": CASE_NUMBER, "kind": "acceptance", "number": notice.number}


def test_stored_facts_render_the_same_document_again(case: Case) -> None:
    notice = issue_notice(case, "correction", {"items": CORRECTION_ITEMS, "note": "请网上补正"})
    notice.refresh_from_db()
    # the stored file is the same rendering with the seal appended as an incremental update
    assert notice_pdf_bytes(notice).startswith(render_notice_pdf("correction", notice.data))


def test_numbers_increase_per_kind(case: Case) -> None:
    first = issue_notice(case, "correction", {"items": CORRECTION_ITEMS[:1]})
    second = issue_notice(case, "correction", {"items": CORRECTION_ITEMS})
    acceptance = issue_notice(case, "acceptance", {})
    third = issue_notice(case, "correction", {"items": CORRECTION_ITEMS[1:]})
    assert [first.number, second.number, third.number] == [
        f"BZ-{CASE_NUMBER}-01",
        f"BZ-{CASE_NUMBER}-02",
        f"BZ-{CASE_NUMBER}-03",
    ]
    assert acceptance.number == f"SL-{CASE_NUMBER}-01"
    assert Notice.objects.filter(case=case).count() == 4
    assert AuditRecord.objects.filter(action="cases:notice:issue").count() == 4


@needs_poppler
def test_the_caller_decides_the_name_shown(case: Case, tmp_path: Path) -> None:
    notice = issue_notice(
        case, "refusal", {"reason": "不属于本机关职权范围。", "applicant_name": "李*"}
    )
    text = pdf_text(notice_pdf_bytes(notice), tmp_path)
    assert "李*：" in text
    assert "李娜" not in text
    assert notice.data["applicant_name"] == "李*"


def test_same_content_is_stored_once(case: Case, file_dir: Path) -> None:
    sha, name = notices.store_notice_file(b"%PDF-1.4 test")
    again = notices.store_notice_file(b"%PDF-1.4 test")
    assert again == (sha, name)
    assert [p.name for p in (file_dir / "notices").rglob("*") if p.is_file()] == [f"{sha}.pdf"]


def test_corrupt_or_missing_file_is_detected(case: Case, file_dir: Path) -> None:
    notice = issue_notice(case, "rejection", {"reason": "不符合条件。"})
    assert notice.file is not None
    path = file_dir / notice.file.storage_name
    content = path.read_bytes()
    path.write_bytes(content.replace(b"/Title", b"/Tit1e", 1))
    with pytest.raises(Conflict) as caught:
        notice_pdf_bytes(notice)
    assert caught.value.code == "cases.file_corrupt"
    assert caught.value.details["reason"] == "checksum"

    path.unlink()
    with pytest.raises(Conflict) as caught:
        notice_pdf_bytes(notice)
    assert caught.value.details["reason"] == "missing"

    # issuing the same document again repairs the content-addressed copy
    path.write_bytes(b"damaged")
    notices.store_notice_file(content)
    assert notice_pdf_bytes(notice) == content


def test_a_case_without_number_gets_no_notice(case: Case) -> None:
    case.number = None
    case.status = CaseStatus.DRAFT
    with pytest.raises(Conflict) as caught:
        issue_notice(case, "acceptance", {})
    assert caught.value.code == "cases.not_submitted"
    assert not Notice.objects.exists()


def test_a_failed_render_leaves_nothing_behind(case: Case) -> None:
    with pytest.raises(ValidationError):
        issue_notice(case, "correction", {"items": []})
    assert not Notice.objects.exists()
    assert not StoredFile.objects.exists()
    assert not AuditRecord.objects.filter(action="cases:notice:issue").exists()


# --- the department's seal (电子文书) ---------------------------------------------------------


@needs_poppler
def test_issued_notice_carries_the_department_seal_any_reader_can_check(
    case: Case, tmp_path: Path
) -> None:
    from zwfw.signing import services as signing

    notice = issue_notice(case, "correction", {"items": CORRECTION_ITEMS})
    notice.refresh_from_db()
    pdf = notice_pdf_bytes(notice)
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    assert "Signature is Valid" in out.stdout, out.stdout
    # the SES_Signature of the department's SM2 seal covers exactly the stored PDF
    assert signing.verify_ses(bytes(notice.seal_signature), pdf).ok
    tampered = pdf.replace(b"/Title", b"/Titlf", 1)
    assert not signing.verify_ses(bytes(notice.seal_signature), tampered).ok
    assert signing.seal_for(case.department).department_id == case.department_id
