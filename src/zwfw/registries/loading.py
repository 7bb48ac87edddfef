"""Bulk loading of the registries from CSV (``zwfw load_registry``), row by row validated.

A file is UTF-8 (with or without BOM) or GB18030 CSV with a header row; columns are matched by
their field name or a Chinese heading (``姓名``, ``公民身份号码`` …, see :data:`HEADINGS`).
Each data row is checked on its own and reported with its row number (the header is row 1),
column and reason; the valid rows are upserted in batches, keyed by ID number / USCC, so a file
loaded twice changes nothing the second time. The whole load is one transaction: an error
half-way (database down …) leaves nothing written. ``strict`` writes nothing when any row is
rejected; ``dry_run`` validates and counts without writing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from zwfw.core.errors import ValidationError
from zwfw.core.validators import (
    SHANGHAI,
    validate_division_code,
    validate_mobile,
    validate_resident_id,
    validate_uscc,
)
from zwfw.registries import services
from zwfw.registries.models import EntityStatus, PersonStatus
from zwfw.registries.schema import (
    LEGAL_ENTITY,
    POPULATION,
    RegistrySpec,
    canonical_date,
    canonical_entity_status,
    canonical_entity_type,
    canonical_ethnicity,
    canonical_identifier,
    canonical_name,
    canonical_person_status,
    canonical_sex,
    canonical_text,
    get_registry,
)

DEFAULT_BATCH_SIZE = 1000
MAX_REPORTED_ERRORS = 10_000

#: Accepted column headings per registry: field name → Chinese headings (the field name itself
#: is always accepted).
HEADINGS: dict[str, dict[str, tuple[str, ...]]] = {
    POPULATION.code: {
        "name": ("姓名",),
        "id_number": ("公民身份号码", "身份证号", "身份证号码"),
        "sex": ("性别",),
        "ethnicity": ("民族",),
        "birth_date": ("出生日期",),
        "household_division": ("户籍地行政区划", "户籍区划", "行政区划代码"),
        "address": ("户籍地址", "住址"),
        "phone": ("手机号码", "手机号", "手机"),
        "social_security_card": ("社会保障卡号", "社保卡号"),
        "bank_card": ("银行卡号",),
        "housing_fund_account": ("住房公积金账号", "公积金账号"),
        "driving_licence_file": ("驾驶证档案编号",),
        "status": ("状态",),
    },
    LEGAL_ENTITY.code: {
        "uscc": ("统一社会信用代码",),
        "name": ("名称", "企业名称", "机构名称"),
        "entity_type": ("类型", "企业类型", "市场主体类型"),
        "legal_rep_name": ("法定代表人", "法定代表人姓名"),
        "legal_rep_id_number": ("法定代表人公民身份号码", "法定代表人身份证号"),
        "address": ("住所", "注册地址"),
        "registration_date": ("成立日期", "注册日期"),
        "business_scope": ("经营范围",),
        "status": ("登记状态", "状态"),
    },
}
REQUIRED = {
    POPULATION.code: ("name", "id_number"),
    LEGAL_ENTITY.code: ("uscc", "name", "entity_type", "legal_rep_name", "legal_rep_id_number"),
}


@dataclass(frozen=True)
class RowError:
    row: int  # 1 = header row
    column: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


@dataclass
class LoadReport:
    registry: str
    encoding: str = ""
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    rejected_rows: set[int] = field(default_factory=set)
    dry_run: bool = False
    written: bool = False

    @property
    def rejected(self) -> int:
        return len(self.rejected_rows)

    def summary(self) -> str:
        mode = "（试运行，未写入）" if self.dry_run or not self.written else ""
        return (
            f"{self.total} 行 rows: 新增 created {self.created}, 更新 updated {self.updated}, "
            f"未变 unchanged {self.unchanged}, 拒绝 rejected {self.rejected}{mode}"
        )


class RowRejected(Exception):
    def __init__(self, column: str, code: str, message: str) -> None:
        super().__init__(message)
        self.column, self.code, self.message = column, code, message


# --- file reading ----------------------------------------------------------------------------


def _file_error(code: str, message: str, message_en: str, **details: Any) -> ValidationError:
    return ValidationError(code, message, message_en, field="file", details=details)


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and its encoding (UTF-8 with or without BOM, else GB18030)."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    else:
        for encoding in ("utf-8", "gb18030"):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                continue
    raise _file_error(
        "registry_load.encoding",
        "无法识别CSV文件的编码：应为UTF-8（可带BOM）或GB18030（GBK）。",
        "The CSV file is neither UTF-8 nor GB18030.",
    )


def read_rows(spec: RegistrySpec, data: bytes) -> tuple[list[tuple[int, dict[str, str]]], str]:
    """(row number, field → cell text) for each non-empty data row, and the encoding.

    Raises ``ValidationError`` (``registry_load.encoding``, ``.not_text``, ``.csv``,
    ``.empty``, ``.columns``) for a file that cannot be read at all.
    """
    if b"\x00" in data[:65536]:
        raise _file_error(
            "registry_load.not_text",
            "文件不是文本格式的CSV（包含二进制内容）。",
            "The file is not a text CSV file.",
        )
    text, encoding = decode(data)
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise _file_error(
            "registry_load.csv", f"CSV格式错误：{exc}", f"Malformed CSV: {exc}"
        ) from None
    if not table:
        raise _file_error("registry_load.empty", "文件是空的。", "The file is empty.")
    lookup = {name: name for name in spec.fields}
    for name, headings in HEADINGS[spec.code].items():
        lookup.update(dict.fromkeys(headings, name))
    columns: list[str | None] = [
        lookup.get(cell.strip().lower()) or lookup.get(cell.strip()) for cell in table[0]
    ]
    missing = [name for name in REQUIRED[spec.code] if name not in columns]
    if missing:
        wanted = [f"{HEADINGS[spec.code][n][0]}（{n}）" for n in missing]
        raise _file_error(
            "registry_load.columns",
            f"缺少必填列：{'、'.join(wanted)}。",
            f"Required columns missing: {', '.join(missing)}.",
            missing=missing,
        )
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row = {}
        for column, cell in zip(columns, cells, strict=False):
            if column is not None and column not in row:
                row[column] = cell.strip()
        rows.append((number, row))
    return rows, encoding


# --- row validation --------------------------------------------------------------------------


def _required(row: Mapping[str, str], name: str, label: str) -> str:
    value = row.get(name, "")
    if not value:
        raise RowRejected(name, "registry_load.required", f"{label}不能为空。")
    return value


def _id_number(row: Mapping[str, str], name: str, label: str, today: dt.date) -> Any:
    try:
        return validate_resident_id(_required(row, name, label), name, today=today)
    except ValidationError as exc:
        raise RowRejected(name, exc.code, f"{label}：{exc.message}") from None


def _choice(
    row: Mapping[str, str],
    name: str,
    label: str,
    canonical: Callable[[str], str | None],
    default: str,
) -> str:
    value = row.get(name, "")
    if not value:
        return default
    result = canonical(value)
    if result is None:
        raise RowRejected(
            name, "registry_load.code", f"{label}“{value[:20]}”不是有效的代码或名称。"
        )
    return result


def _length(value: str, name: str, label: str, limit: int) -> str:
    if len(value) > limit:
        raise RowRejected(name, "registry_load.too_long", f"{label}超过{limit}个字符。")
    return value


def luhn_ok(digits: str) -> bool:
    """Luhn (ISO/IEC 7812) check of a bank-card number."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The Luhn digit that completes ``body``."""
    for digit in "0123456789":
        if luhn_ok(body + digit):
            return digit
    raise AssertionError("unreachable")  # pragma: no cover


def _account(
    row: Mapping[str, str],
    name: str,
    label: str,
    *,
    lengths: range,
    digits_only: bool = False,
    luhn: bool = False,
) -> str:
    raw = row.get(name, "")
    if not raw:
        return ""
    value = canonical_identifier(raw)
    if value is None or (digits_only and not value.isdigit()):
        kind = "数字" if digits_only else "字母或数字"
        raise RowRejected(name, "registry_load.format", f"{label}只能包含{kind}。")
    if len(value) not in lengths:
        raise RowRejected(
            name,
            "registry_load.length",
            f"{label}应为{lengths.start}–{lengths.stop - 1}位，实际为{len(value)}位。",
        )
    if luhn and not luhn_ok(value):
        raise RowRejected(name, "registry_load.check_digit", f"{label}校验位（Luhn）不正确。")
    return value


def _date(
    row: Mapping[str, str], name: str, label: str, today: dt.date, *, required: bool
) -> dt.date | None:
    raw = row.get(name, "")
    if not raw:
        if required:
            raise RowRejected(name, "registry_load.required", f"{label}不能为空。")
        return None
    text = canonical_date(raw)
    if text is None:
        raise RowRejected(
            name, "registry_load.date", f"{label}“{raw[:20]}”不是有效日期（YYYY-MM-DD）。"
        )
    value = dt.date.fromisoformat(text)
    if value > today:
        raise RowRejected(name, "registry_load.future_date", f"{label}{text}晚于今天。")
    return value


def _division(value: str, name: str) -> str:
    try:
        info = validate_division_code(value, name)
    except ValidationError as exc:
        raise RowRejected(
            name, "registry_load.division", f"户籍地行政区划：{exc.message}"
        ) from None
    return info.code


def person_record(row: Mapping[str, str], today: dt.date) -> dict[str, Any]:
    """The canonical record of a population row. Raises ``RowRejected``."""
    name = canonical_name(_required(row, "name", "姓名")) or ""
    _length(name, "name", "姓名", 64)
    resident = _id_number(row, "id_number", "公民身份号码", today)
    sex = _choice(row, "sex", "性别", canonical_sex, resident.sex)
    if sex != resident.sex:
        raise RowRejected("sex", "registry_load.sex_mismatch", "性别与公民身份号码第17位不一致。")
    birth = _date(row, "birth_date", "出生日期", today, required=False)
    if birth is not None and birth != resident.birth_date:
        raise RowRejected(
            "birth_date",
            "registry_load.birth_date_mismatch",
            "出生日期与公民身份号码第7–14位不一致。",
        )
    division = row.get("household_division", "")
    if division:
        division = _division(division, "household_division")
    elif resident.division_known:
        division = resident.division_code
    else:
        raise RowRejected(
            "household_division",
            "registry_load.required",
            "户籍地行政区划不能为空（公民身份号码的地址码已不在现行区划中）。",
        )
    phone = row.get("phone", "")
    if phone:
        try:
            phone = validate_mobile(phone, "phone")
        except ValidationError as exc:
            raise RowRejected("phone", exc.code, exc.message) from None
    return {
        "name": name,
        "id_number": resident.number,
        "sex": sex,
        "ethnicity": _choice(row, "ethnicity", "民族", canonical_ethnicity, ""),
        "birth_date": resident.birth_date,
        "household_division": division,
        "address": _length(
            canonical_text(row.get("address", "")) or "", "address", "户籍地址", 200
        ),
        "phone": phone,
        "social_security_card": _account(
            row, "social_security_card", "社会保障卡号", lengths=range(9, 21)
        ),
        "bank_card": _account(
            row, "bank_card", "银行卡号", lengths=range(12, 20), digits_only=True, luhn=True
        ),
        "housing_fund_account": _account(
            row, "housing_fund_account", "住房公积金账号", lengths=range(6, 21)
        ),
        "driving_licence_file": _account(
            row, "driving_licence_file", "驾驶证档案编号", lengths=range(12, 13), digits_only=True
        ),
        "status": _choice(row, "status", "状态", canonical_person_status, PersonStatus.LIVING),
    }


def entity_record(row: Mapping[str, str], today: dt.date) -> dict[str, Any]:
    """The canonical record of a legal-entity row. Raises ``RowRejected``."""
    try:
        uscc = validate_uscc(_required(row, "uscc", "统一社会信用代码"), "uscc")
    except ValidationError as exc:
        raise RowRejected("uscc", exc.code, f"统一社会信用代码：{exc.message}") from None
    if not uscc.division_known:
        raise RowRejected(
            "uscc",
            "registry_load.division",
            f"统一社会信用代码第3–8位“{uscc.division_code}”不是已知的行政区划代码。",
        )
    name = _length(_required(row, "name", "名称"), "name", "名称", 200)
    rep_name = canonical_name(_required(row, "legal_rep_name", "法定代表人姓名")) or ""
    _length(rep_name, "legal_rep_name", "法定代表人姓名", 64)
    rep = _id_number(row, "legal_rep_id_number", "法定代表人公民身份号码", today)
    return {
        "uscc": uscc.number,
        "name": name,
        "entity_type": _choice(row, "entity_type", "类型", canonical_entity_type, ""),
        "legal_rep_name": rep_name,
        "legal_rep_id_number": rep.number,
        "address": _length(row.get("address", ""), "address", "住所", 300),
        "registration_date": _date(row, "registration_date", "成立日期", today, required=True),
        "business_scope": _length(
            row.get("business_scope", ""), "business_scope", "经营范围", 2000
        ),
        "status": _choice(row, "status", "登记状态", canonical_entity_status, EntityStatus.ACTIVE),
    }


ROW_VALIDATORS: dict[str, Callable[[Mapping[str, str], dt.date], dict[str, Any]]] = {
    POPULATION.code: person_record,
    LEGAL_ENTITY.code: entity_record,
}


# --- loading ---------------------------------------------------------------------------------


def load_rows(
    registry: str,
    rows: Iterable[tuple[int, Mapping[str, str]]],
    *,
    source: str = "",
    dry_run: bool = False,
    strict: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    today: dt.date | None = None,
    report: LoadReport | None = None,
) -> LoadReport:
    """Validate rows (row number, field → text) and upsert the valid ones; returns the report.

    Raises ``ValidationError("registry.unknown")`` for an unknown registry; database errors
    propagate after rolling everything back.
    """
    spec = get_registry(registry)
    validate = ROW_VALIDATORS[spec.code]
    today = today or dt.datetime.now(SHANGHAI).date()
    report = report or LoadReport(spec.code)
    report.dry_run = dry_run
    seen: dict[str, int] = {}
    valid: list[dict[str, Any]] = []
    for number, row in rows:
        report.total += 1
        try:
            record = validate(row, today)
        except RowRejected as exc:
            _reject(report, number, exc.column, exc.code, exc.message)
            continue
        key = record[spec.key_field]
        if key in seen:
            label = spec.key_spec.label
            _reject(
                report,
                number,
                spec.key_field,
                "registry_load.duplicate",
                f"{label}与第{seen[key]}行重复。",
            )
            continue
        seen[key] = number
        valid.append(record)
    if strict and report.rejected:
        return report
    counts = services.UpsertCounts()
    with transaction.atomic():
        for start in range(0, len(valid), batch_size):
            services.upsert_records(
                spec, valid[start : start + batch_size], counts=counts, dry_run=dry_run
            )
        if not dry_run:
            services.record_load(spec, counts, source=source, rejected=report.rejected)
    report.created, report.updated, report.unchanged = (
        counts.created,
        counts.updated,
        counts.unchanged,
    )
    report.written = not dry_run
    return report


def _reject(report: LoadReport, row: int, column: str, code: str, message: str) -> None:
    report.rejected_rows.add(row)
    if len(report.errors) < MAX_REPORTED_ERRORS:
        report.errors.append(RowError(row, column, code, message))


def load_file(
    registry: str,
    data: bytes,
    *,
    source: str = "",
    dry_run: bool = False,
    strict: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> LoadReport:
    """Load a CSV file into a registry (see the module docstring).

    Raises ``ValidationError`` for an unknown registry or a file that cannot be read at all.
    """
    spec = get_registry(registry)
    rows, encoding = read_rows(spec, data)
    report = LoadReport(spec.code, encoding=encoding)
    return load_rows(
        spec.code,
        rows,
        source=source,
        dry_run=dry_run,
        strict=strict,
        batch_size=batch_size,
        report=report,
    )


def write_csv(registry: str, records: Sequence[Mapping[str, Any]]) -> str:
    """CSV text (field-name header) of records, e.g. the demo data for trying the loader."""
    spec = get_registry(registry)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=spec.field_names(), extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow(
            {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in record.items()}
        )
    return buffer.getvalue()
