"""CSV loading: encodings, each kind of bad row, idempotency, dry run, strict, all-or-nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from zwfw.core.errors import ValidationError
from zwfw.core.models import AuditRecord
from zwfw.registries import loading, services
from zwfw.registries.demo import JOURNEY_COMPANY, JOURNEY_PEOPLE
from zwfw.registries.models import LegalEntityRecord, PersonRecord
from zwfw.registries.schema import POPULATION

pytestmark = pytest.mark.django_db

LI_NA = JOURNEY_PEOPLE["li_na"]
WANG = JOURNEY_PEOPLE["wang_qiang"]
HEADER_ZH = [
    "姓名",
    "公民身份号码",
    "性别",
    "民族",
    "出生日期",
    "户籍地行政区划",
    "手机号码",
    "社保卡号",
    "银行卡号",
]


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def good_rows() -> list[list[str]]:
    return [
        [
            "李娜",
            LI_NA.id_number,
            "女",
            "汉族",
            "1992-01-20",
            "511602",
            LI_NA.phone,
            LI_NA.social_security_card,
            LI_NA.bank_card,
        ],
        ["王强", WANG.id_number, "", "", "", "", WANG.phone, "", ""],
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_each_encoding_loads_with_chinese_headings(encoding: str) -> None:
    report = loading.load_file("population", csv_bytes(HEADER_ZH, good_rows(), encoding))
    assert report.encoding == encoding
    assert (report.total, report.created, report.rejected) == (2, 2, 0), report.errors
    wang = PersonRecord.objects.get(
        id_number_index=POPULATION.index_of("id_number", WANG.id_number)
    )
    # Derived from the ID number when not given.
    assert (wang.sex, wang.birth_date.isoformat(), wang.household_division) == (
        "1",
        "1988-06-15",
        "511602",
    )
    assert wang.name == "王强"


BAD_PEOPLE = [
    # (row, expected column, expected code)
    (["张三", "511602199201200024"], "id_number", "id_number.check_digit"),
    (["张三", "511602203001010021"], "id_number", "id_number.birth_date_future"),
    (
        ["张三", "51169919900101003X", "", "", "", "511699"],
        "household_division",
        "registry_load.division",
    ),
    (["张三", "51169919900101003X"], "household_division", "registry_load.required"),
    (["张三", "511602198509110070", "女"], "sex", "registry_load.sex_mismatch"),
    (
        ["张三", "511602198509110070", "", "", "1985-09-12"],
        "birth_date",
        "registry_load.birth_date_mismatch",
    ),
    (["张三", "511602198509110070", "", "火星族"], "ethnicity", "registry_load.code"),
    (["张三", "511602198509110070", "", "", "", "", "12345"], "phone", "mobile.length"),
    (
        ["张三", "511602198509110070", "", "", "", "", "", "社保"],
        "social_security_card",
        "registry_load.format",
    ),
    (
        ["张三", "511602198509110070", "", "", "", "", "", "", "6217008511602000013"],
        "bank_card",
        "registry_load.check_digit",
    ),
    (["", "511602198509110070"], "name", "registry_load.required"),
    (["张三", ""], "id_number", "registry_load.required"),
]


def test_each_kind_of_bad_person_row_is_reported_with_row_and_reason() -> None:
    rows = [*good_rows(), *[row for row, _, _ in BAD_PEOPLE], good_rows()[0]]
    report = loading.load_file("population", csv_bytes(HEADER_ZH, rows))
    expected = [
        (number, column, code) for number, (_, column, code) in enumerate(BAD_PEOPLE, start=4)
    ]
    expected.append((len(rows) + 1, "id_number", "registry_load.duplicate"))
    assert [(e.row, e.column, e.code) for e in report.errors] == expected
    assert "与第2行重复" in report.errors[-1].message
    assert "第18位校验码应为3" in report.errors[0].message
    assert (report.created, report.rejected) == (2, len(BAD_PEOPLE) + 1)
    assert PersonRecord.objects.count() == 2
    for error in report.errors:  # messages never repeat a whole ID number
        assert "511602198509110070" not in error.message


LEGAL_HEADER = [
    "统一社会信用代码",
    "名称",
    "类型",
    "法定代表人",
    "法定代表人公民身份号码",
    "住所",
    "成立日期",
    "经营范围",
    "登记状态",
]


def company(**changes: str) -> list[str]:
    row = dict(
        zip(
            LEGAL_HEADER,
            [
                JOURNEY_COMPANY.uscc,
                JOURNEY_COMPANY.name,
                "有限责任公司",
                "张伟",
                JOURNEY_PEOPLE["company_rep"].id_number,
                JOURNEY_COMPANY.address,
                "2019-05-16",
                "餐饮服务",
                "存续",
            ],
            strict=True,
        )
    )
    row.update(changes)
    return list(row.values())


def test_each_kind_of_bad_legal_entity_row() -> None:
    rows = [
        company(),
        company(统一社会信用代码="91511602MA6CXY4R8C"),  # wrong check character
        company(统一社会信用代码="91511699MA6CXY4R8U"),  # unknown division
        company(统一社会信用代码="91511602MA6CXY4R8B", 成立日期="2099-01-01"),
        company(统一社会信用代码="91511602MA6CXY4R8B", 成立日期="2019-02-30"),
        company(统一社会信用代码="91511602MA6CXY4R8B", 法定代表人公民身份号码="511602197903080013"),
        company(统一社会信用代码="91511602MA6CXY4R8B", 类型="火箭公司"),
        company(统一社会信用代码="91511602MA6CXY4R8B", 法定代表人=""),
        company(统一社会信用代码="91511621MA6CXY4R8U", 登记状态="吊销"),
    ]
    report = loading.load_file("legal_entity", csv_bytes(LEGAL_HEADER, rows, "gb18030"))
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (3, "uscc", "uscc.check_digit"),
        (4, "uscc", "registry_load.division"),
        (5, "registration_date", "registry_load.future_date"),
        (6, "registration_date", "registry_load.date"),
        (7, "legal_rep_id_number", "id_number.check_digit"),
        (8, "entity_type", "registry_load.code"),
        (9, "legal_rep_name", "registry_load.required"),
    ]
    assert report.created == 2
    revoked = LegalEntityRecord.objects.get(uscc="91511621MA6CXY4R8U")
    assert (revoked.status, revoked.entity_type) == ("revoked", "llc")


def test_loading_twice_changes_nothing_and_a_change_is_an_update() -> None:
    data = csv_bytes(HEADER_ZH, good_rows())
    loading.load_file("population", data, source="a.csv")
    audits = AuditRecord.objects.filter(action="registries:population:load").count()
    again = loading.load_file("population", data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert AuditRecord.objects.filter(action="registries:population:load").count() == audits
    rows = good_rows()
    rows[0][6] = "13900000001"
    changed = loading.load_file("population", csv_bytes(HEADER_ZH, rows))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
    li_na = PersonRecord.objects.get(
        id_number_index=POPULATION.index_of("id_number", LI_NA.id_number)
    )
    assert li_na.phone == "13900000001"
    assert li_na.phone_index == POPULATION.index_of("phone", "13900000001")
    entry = AuditRecord.objects.filter(action="registries:population:load").latest("id")
    assert entry.after == {"source": "", "created": 0, "updated": 1, "unchanged": 1, "rejected": 0}


def test_dry_run_and_strict_write_nothing() -> None:
    rows = [*good_rows(), ["张三", "511602199201200024"]]
    dry = loading.load_file("population", csv_bytes(HEADER_ZH, rows), dry_run=True)
    assert (dry.created, dry.rejected, dry.written) == (2, 1, False)
    strict = loading.load_file("population", csv_bytes(HEADER_ZH, rows), strict=True)
    assert (strict.created, strict.rejected, strict.written) == (0, 1, False)
    assert PersonRecord.objects.count() == 0


def test_a_failure_half_way_leaves_nothing_written(monkeypatch) -> None:
    real = services.upsert_records
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "upsert_records", failing)
    with pytest.raises(RuntimeError):
        loading.load_file("population", csv_bytes(HEADER_ZH, good_rows()), batch_size=1)
    assert PersonRecord.objects.count() == 0
    assert not AuditRecord.objects.filter(action__startswith="registries:").exists()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "registry_load.empty"),
        (b"\x00\x01binary", "registry_load.not_text"),
        (b"\xff\xfe\xff", "registry_load.encoding"),
        ("姓名,手机\n李娜,1\n".encode(), "registry_load.columns"),
    ],
)
def test_unreadable_files(data: bytes, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        loading.load_file("population", data)
    assert caught.value.code == code


def test_command_prints_rows_and_summary_and_exits_2_on_rejections(tmp_path: Path, capsys) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(
        csv_bytes(HEADER_ZH, [*good_rows(), ["张三", "511602199201200024"]], "utf-8-sig")
    )
    report_path = tmp_path / "report.json"
    with pytest.raises(SystemExit) as exited:
        call_command("load_registry", "population", str(path), "--report", str(report_path))
    assert exited.value.code == 2
    out = capsys.readouterr().out
    assert "第4行" in out
    assert "id_number.check_digit" in out
    assert "新增 created 2" in out
    assert "拒绝 rejected 1" in out
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["errors"][0]["row"] == 4
    assert PersonRecord.objects.count() == 2
    entry = AuditRecord.objects.get(action="registries:population:load")
    assert (entry.actor, entry.after["source"]) == ("system:load_registry", "people.csv")


def test_command_dry_run_and_errors(tmp_path: Path, capsys) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(HEADER_ZH, good_rows()))
    call_command("load_registry", "population", str(path), "--dry-run")
    assert "未写入" in capsys.readouterr().out
    assert PersonRecord.objects.count() == 0
    with pytest.raises(CommandError, match="cannot read"):
        call_command("load_registry", "population", str(tmp_path / "missing.csv"))
    path.write_bytes(b"a,b\n1,2\n")
    with pytest.raises(CommandError, match=r"registry_load\.columns"):
        call_command("load_registry", "population", str(path))


def test_write_csv_round_trips_through_the_loader() -> None:
    people = [JOURNEY_PEOPLE["li_na"].row(), JOURNEY_PEOPLE["elderly_man"].row()]
    text = loading.write_csv("population", people)
    report = loading.load_file("population", text.encode())
    assert (report.created, report.rejected) == (2, 0)


def test_luhn() -> None:
    assert loading.luhn_ok("79927398713")
    assert not loading.luhn_ok("79927398710")
    assert loading.luhn_check_digit("7992739871") == "3"
