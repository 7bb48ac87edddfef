"""The spreadsheet format: cell syntax, exact round trips, reading files, the blank template."""

from __future__ import annotations

import io

import pytest

from zwfw.catalog import importing, spreadsheet
from zwfw.catalog.content import content_hash, validate_content
from zwfw.catalog.spreadsheet import COLUMNS_BY_FIELD, CellError
from zwfw.catalog.tests import factories
from zwfw.catalog.tests.import_fixtures import csv_bytes, table, xlsx_bytes
from zwfw.core.errors import ValidationError


def parse(field: str, text: str):
    return COLUMNS_BY_FIELD[field].codec.parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15", (15, None)),
        ("15.0", (15, None)),
        ("１５", (15, None)),
        ("15个工作日", (15, "1")),
        ("20自然日", (20, "2")),
        ("即办", (0, None)),
    ],
)
def test_time_limits_are_numbers_of_days(text: str, expected) -> None:
    assert parse("promised_time_limit", text) == expected


@pytest.mark.parametrize("text", ["十五天", "15天", "15.5", "两周", "15-20"])
def test_time_limit_in_words_is_refused_with_the_reason(text: str) -> None:
    with pytest.raises(CellError) as error:
        parse("promised_time_limit", text)
    assert error.value.code == "catalog_import.time_limit"
    assert "应填写天数（阿拉伯数字" in error.value.message
    assert f"实际为“{text}”" in error.value.message


def test_codes_by_code_or_name_and_lists_split_outside_brackets() -> None:
    assert parse("item_type", "行政许可") == "01"
    assert parse("item_type", "01") == "01"
    assert parse("item_type", "13") == "13"  # local extension
    assert parse("level", "镇（乡、街道）级") == "5"
    assert parse("level", "乡镇级") == "5"
    assert parse("target", "企业法人、其他组织") == ["2", "6"]
    assert parse("target", "1,2，6") == ["1", "2", "6"]
    assert parse("channel", "窗口办理、网上办理(电脑端)") == ["1", "2"]
    assert parse("supports_delivery", "是") is True
    assert parse("in_service_hall", "否") is False
    assert parse("effective_date", "2026年3月1日") == "2026-03-01"


def test_foreign_item_type_numbers_are_refused_not_guessed() -> None:
    with pytest.raises(CellError) as error:
        parse("item_type", "1")
    assert error.value.code == "catalog_import.item_type_unknown"
    assert "values.item_type" in error.value.message


def test_online_depth_as_steps_or_as_a_level() -> None:
    assert parse("online_depth", "互联网咨询、互联网收件") == (["1", "2"], None)
    assert parse("online_depth", "1,2,3,4") == (["1", "2", "3", "4"], None)
    assert parse("online_depth", "Ⅲ") == (["1", "2", "3", "4"], "III")
    assert parse("online_depth", "全程网办") == (["1", "2", "3", "4", "5", "6"], "IV")
    assert parse("online_depth", "四级") == (["1", "2", "3", "4", "5", "6"], "IV")


def test_record_lines_and_json() -> None:
    assert parse("legal_basis", "食品安全法|第三十五条|国家对食品生产经营实行许可制度。") == [
        {
            "law_name": "食品安全法",
            "article": "第三十五条",
            "text": "国家对食品生产经营实行许可制度。",
        }
    ]
    # A free-text basis: the first 《title》 names the law.
    free = parse("legal_basis", "《中华人民共和国食品安全法》第三十五条")
    assert free == [
        {"law_name": "中华人民共和国食品安全法", "text": "《中华人民共和国食品安全法》第三十五条"}
    ]
    materials = parse("materials", "申请书|原件、复印件|纸质|申请人自备||2|A4|否")
    assert materials == [
        {
            "name": "申请书",
            "kinds": ["1", "2"],
            "forms": ["1"],
            "source": "1",
            "paper_copies": 2,
            "paper_spec": "A4",
            "required": False,
        }
    ]
    assert parse("fees", "不收费") == []
    assert parse("faqs", '[{"question": "问", "answer": "答"}]') == [
        {"question": "问", "answer": "答"}
    ]
    with pytest.raises(CellError) as error:
        parse("materials", "申请书|原件\n营业执照|正本")
    assert error.value.message.startswith("第2项：材料类型")


def test_every_element_survives_export_and_import_exactly() -> None:
    rich = factories.content(
        legal_bases=[
            {"law_name": "某条例", "article": "第一条", "text": "第一款。\n第二款含有|竖线。"},
            {"law_name": "《带书名号的法》"},
        ],
        joint_departments=["广安市公安局", "广安市民政局"],
        joint_units=["含；分号的机构"],
        charges_fee=True,
        fees=[
            {
                "name": "工本费",
                "standard": "每证10元",
                "basis": "价费字〔2020〕1号",
                "amount": "10.00",
                "reducible": True,
            },
            {"name": "检测费", "formula": "按面积计算"},
        ],
        faqs=[{"question": "多久？", "answer": "10个工作日。"}],
        reconsideration={"body": "广安市人民政府", "phone": "0826-1234567"},
        litigation={"body": "广安区人民法院", "url": "https://court.example.cn"},
        person_themes=[],
        targets=["1", "2"],
        legal_themes=["010", "005"],
        keywords=["食品", "许可证"],
        life_events=["开办企业"],
        effective_date="2026-01-01",
        cancel_date="2027-01-01",
        tongban_scope="2",
        min_trust_level="L3",
        site_visits=1,
        site_visit_reason="核验原件",
        online_steps=["1", "2", "3", "4"],
        process_steps=[{"name": "申请", "description": "提交", "time_limit": "1个工作日"}],
    )
    content = validate_content(rich)
    dumped = content.model_dump(mode="json")
    cells = spreadsheet.cells_from_content(dumped, division_code="511600")
    reader = importing.RowReader(
        importing.bind_columns(
            [c.header for c in spreadsheet.TEMPLATE_COLUMNS], importing.ImportMapping()
        )
    )
    prepared = reader.read(2, [cells[c.field] for c in spreadsheet.TEMPLATE_COLUMNS])
    assert isinstance(prepared, importing.PreparedRow), prepared
    assert prepared.digest == content_hash(content)
    # The lines that could not be written line by line fell back to JSON.
    assert cells["legal_basis"].startswith("[{")
    assert cells["fees"].splitlines()[0] == "工本费|每证10元|价费字〔2020〕1号|10.00||是"


def test_digest_is_content_hash() -> None:
    content = validate_content(factories.content())
    assert importing.content_digest(content.model_dump(mode="json")) == content_hash(content)


# --- reading files ---------------------------------------------------------------------------

HEADERS = spreadsheet.header_lookup()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding(encoding: str) -> None:
    data = csv_bytes([["事项名称", "实施编码"], ["食品经营许可", "A-1"]], encoding)
    found = spreadsheet.read_table(data, "list.csv", HEADERS)
    assert found.rows == [(2, ["食品经营许可", "A-1"])]
    assert found.encoding == encoding


def test_a_file_in_no_known_encoding_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        spreadsheet.read_table(b"\xff\xfe\xfa\xfb" * 10, "list.csv", HEADERS)
    assert error.value.code == "catalog_import.encoding"
    with pytest.raises(ValidationError) as binary:
        spreadsheet.read_table(b"PK\x03\x04\x00\x00", "list.csv", HEADERS)
    assert binary.value.code == "catalog_import.not_text"


def test_header_row_below_a_title_and_blank_rows_skipped() -> None:
    lines = [["广安市岳池县政务服务事项实施清单"], [], ["事项名称", "实施编码"], ["甲", "1"], []]
    lines += [["乙", "2"]]
    found = spreadsheet.read_table(xlsx_bytes(lines), "list.xlsx", HEADERS)
    assert found.header_row == 3
    assert [number for number, _ in found.rows] == [4, 6]


def test_excel_numbers_and_dates_become_text() -> None:
    import datetime as dt

    lines = [["事项名称", "行政区划代码", "计划生效日期"], ["甲", 511621, dt.date(2026, 3, 1)]]
    found = spreadsheet.read_table(xlsx_bytes(lines), "list.xlsx", HEADERS)
    assert found.rows[0][1] == ["甲", "511621", "2026-03-01"]


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"", "list.csv", "catalog_import.empty"),
        (csv_bytes([["a", "b"], ["1", "2"]]), "list.csv", "catalog_import.no_header"),
        (b"not a zip", "list.xlsx", "catalog_import.xlsx"),
        (b"PK\x03\x04broken", "list.xlsx", "catalog_import.xlsx"),
        (b"%PDF-1.4", "list.pdf", "catalog_import.format"),
    ],
)
def test_unreadable_files_get_a_clear_error(data: bytes, filename: str, code: str) -> None:
    with pytest.raises(ValidationError) as error:
        spreadsheet.read_table(data, filename, HEADERS)
    assert error.value.code == code
    assert error.value.message


def test_a_workbook_that_unpacks_to_too_much_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(spreadsheet, "MAX_XLSX_UNCOMPRESSED", 1000)
    with pytest.raises(ValidationError) as error:
        spreadsheet.read_table(xlsx_bytes(table([{"name": "甲"}])), "list.xlsx", HEADERS)
    assert error.value.code == "catalog_import.xlsx_too_large"


def test_missing_required_columns_are_named() -> None:
    with pytest.raises(ValidationError) as error:
        importing.bind_columns(["事项名称", "实施编码", "备注"], importing.ImportMapping())
    assert error.value.code == "catalog_import.missing_columns"
    assert "事项类型（item_type）" in error.value.message
    assert "item_type" in error.value.details["missing"]


def test_blank_template_has_headers_help_and_no_rows() -> None:
    from openpyxl import load_workbook

    from zwfw.catalog.exporting import write_template

    out = io.BytesIO()
    write_template(out)
    workbook = load_workbook(io.BytesIO(out.getvalue()))
    assert workbook.sheetnames == ["事项", "填写说明"]
    sheet = workbook["事项"]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [c.header for c in spreadsheet.TEMPLATE_COLUMNS]
    assert "字段名：item_type（必填）" in sheet["E1"].comment.text
    assert sheet.data_validations.dataValidation  # drop-downs for code columns
    help_rows = list(workbook["填写说明"].values)
    assert help_rows[1][:3] == ("事项名称", "name", "是")
    found = spreadsheet.read_table(out.getvalue(), "template.xlsx", HEADERS)
    assert found.rows == []


def test_mapping_documents_are_checked() -> None:
    mapping = importing.parse_mapping(
        '{"columns": {"事项 类型": "item_type", "备注": null}, '
        '"values": {"item_type": {"1": "01"}}, "defaults": {"division_code": 511621}}'
    )
    assert mapping.columns == {"事项类型": "item_type", "备注": ""}
    assert mapping.values == {"item_type": {"1": "01"}}
    assert mapping.defaults == {"division_code": "511621"}
    for bad in ("{not json", "[]", '{"columns": {"a": "nonsense"}}', '{"extra": 1}'):
        with pytest.raises(ValidationError) as error:
            importing.parse_mapping(bad)
        assert error.value.code == "catalog_import.mapping"


def test_exported_csv_reads_back(tmp_path) -> None:
    out = io.BytesIO()
    spreadsheet.write_csv(out, table([{"name": "甲"}])[1:])
    assert out.getvalue().startswith(b"\xef\xbb\xbf")
    found = spreadsheet.read_table(out.getvalue(), "export.csv", HEADERS)
    assert found.rows[0][1][0] == "甲"


def test_xlsx_values_are_text_never_formulas() -> None:
    from openpyxl import load_workbook

    out = io.BytesIO()
    spreadsheet.write_xlsx(out, [['=HYPERLINK("http://evil")', "+1", "a\x07b"]])
    sheet = load_workbook(io.BytesIO(out.getvalue()))["事项"]
    assert sheet["A2"].data_type == "s"
    assert sheet["A2"].value == '=HYPERLINK("http://evil")'
    assert sheet["C2"].value == "ab"  # control characters cannot be stored in .xlsx


def test_the_documentation_lists_every_column() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[4] / "docs" / "catalog-import.md").read_text()
    for column in spreadsheet.COLUMNS:
        assert f"| {column.header} | `{column.field}` |" in doc, column.field
