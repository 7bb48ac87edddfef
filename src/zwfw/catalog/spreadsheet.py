"""The catalogue spreadsheet format: columns, cell syntax, reading and writing files.

One table describes the platform's template (:data:`COLUMNS`): each column has a Chinese
header, a canonical field name (the name mapping files use) and a codec that turns a cell's
text into a value and a value back into text. Import (:mod:`zwfw.catalog.importing`) and
export (:mod:`zwfw.catalog.exporting`) both go through it, so what export writes import reads
back unchanged — exactly: :func:`cells_from_content` falls back to JSON for a list whose
human-readable line syntax would not read back to the same value.

Cell syntax (documented for people in ``docs/catalog-import.md``):

* codes: the code (``01``) or its Chinese name (``行政许可``); several values separated by
  ``、`` ``,`` ``，`` ``;`` ``；`` or new lines;
* yes/no: ``是``/``否`` (also ``Y``/``N``, ``true``/``false``, ``1``/``0``, ``有``/``无``);
* time limits: a number of days in Arabic digits (``15``), optionally followed by
  ``个工作日`` or ``个自然日``; ``即办`` is 0;
* lists of records (设定依据, 办理流程, 收费项目, 常见问题, 申请材料): one record per line,
  its parts separated by ``|`` in a fixed order, or a JSON array of objects.

Reading: ``.xlsx`` through python-calamine; ``.csv`` in UTF-8 (with or without BOM) or
GB18030. Writing: openpyxl (``.xlsx``, every cell written as text) and UTF-8-with-BOM CSV.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.db import models
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from zwfw.catalog import content as item_content
from zwfw.core import codes
from zwfw.core.errors import ValidationError

TEMPLATE_SHEET = "事项"
HELP_SHEET = "填写说明"
#: Cell words that mean "none" in a list column (``无`` materials, ``不收费`` fees).
NONE_WORDS = frozenset({"无", "暂无", "/", "-", "—", "——", "不收费", "免费", "否"})
_SEPARATORS = re.compile(r"[、,，;；\n]")
_LINE_SEPARATORS = re.compile(r"[;；\n]")
_PART_SEPARATOR = re.compile(r"[|｜]")


class CellError(Exception):
    """A cell that cannot be read: a stable code and a Chinese reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@functools.lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """Fold full-width forms and drop spaces: how labels and headers are compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


# --- codecs ----------------------------------------------------------------------------------


class Codec:
    """Turns one cell's text into a field value (:meth:`parse`) and back (:meth:`format`)."""

    #: What people should write, for the template's help sheet and the docs.
    syntax = "文本"

    def parse(self, text: str) -> Any:
        """The value of a non-empty cell; raises :class:`CellError`."""
        return text

    def format(self, value: Any) -> str:
        """The cell text of a value (``""`` for nothing)."""
        return "" if value is None else str(value)

    def choices(self) -> list[str]:
        """Names offered in the template's drop-down (empty: free text)."""
        return []


class Text(Codec):
    pass


class Integer(Codec):
    syntax = "整数"

    def __init__(self, unit: str = "") -> None:
        self.unit = unit

    def parse(self, text: str) -> int:
        digits = unicodedata.normalize("NFKC", text).strip()
        if self.unit:
            digits = digits.removesuffix(self.unit).strip()
        if re.fullmatch(r"\d+(\.0+)?", digits):
            return int(float(digits)) if "." in digits else int(digits)
        raise CellError("catalog_import.integer", f"应填写整数（阿拉伯数字），实际为“{text}”")


_TRUE = frozenset({"是", "有", "y", "yes", "true", "1", "√", "✓", "支持", "需要"})
_FALSE = frozenset({"否", "无", "n", "no", "false", "0", "×", "✗", "不支持", "不需要"})


class Boolean(Codec):
    syntax = "是/否"

    def parse(self, text: str) -> bool:
        word = normalise(text).lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise CellError("catalog_import.boolean", f"应填写“是”或“否”，实际为“{text}”")

    def format(self, value: Any) -> str:
        return "" if value is None else ("是" if value else "否")

    def choices(self) -> list[str]:
        return ["是", "否"]


class Date(Codec):
    syntax = "日期 YYYY-MM-DD"

    def parse(self, text: str) -> str:
        cleaned = unicodedata.normalize("NFKC", text).strip()
        match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?", cleaned)
        if match:
            try:
                return dt.date(*(int(part) for part in match.groups())).isoformat()
            except ValueError:
                pass
        raise CellError("catalog_import.date", f"应填写日期（如2026-01-01），实际为“{text}”")


class Code(Codec):
    """One code of a table, written as the code or its name."""

    def __init__(
        self, table: type[models.Choices], aliases: Mapping[str, str] | None = None
    ) -> None:
        self.table = table
        self.name = codes.table_name(table)[0]
        self.lookup: dict[str, str] = {}
        for value, label in table.choices:
            self.lookup[normalise(str(value))] = str(value)
            self.lookup[normalise(str(label))] = str(value)
        for alias, value in (aliases or {}).items():
            self.lookup[normalise(alias)] = value
        self.syntax = "代码或名称：" + "、".join(f"{v} {lbl}" for v, lbl in table.choices)

    def code_of(self, token: str) -> str:
        found = self.lookup.get(normalise(token))
        if found is None:
            raise CellError(
                "catalog_import.code_unknown",
                f"“{token}”不是{self.name}的代码或名称（可填：{self._allowed()}）",
            )
        return found

    def _allowed(self) -> str:
        return "、".join(str(label) for _v, label in self.table.choices)

    def parse(self, text: str) -> str:
        return self.code_of(text)

    def format(self, value: Any) -> str:
        if value in (None, ""):
            return ""
        return str(codes.label(self.table, value, default=str(value)))

    def choices(self) -> list[str]:
        return [str(label) for _v, label in self.table.choices]


def split_tokens(text: str) -> list[str]:
    """Split a multi-valued cell on 、,，;； and new lines, but not inside brackets."""
    tokens: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "(（[【":
            depth += 1
        elif char in ")）]】":
            depth = max(depth - 1, 0)
        if depth == 0 and _SEPARATORS.match(char):
            tokens.append("".join(current))
            current = []
        else:
            current.append(char)
    tokens.append("".join(current))
    return [token.strip() for token in tokens if token.strip()]


class Codes(Code):
    """Several codes of a table."""

    def __init__(
        self, table: type[models.Choices], aliases: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(table, aliases)
        self.syntax = "可多选，用“、”分隔；" + self.syntax

    def parse(self, text: str) -> list[str]:  # type: ignore[override]
        whole = self.lookup.get(normalise(text))
        if whole is not None:
            return [whole]
        found: list[str] = []
        for token in split_tokens(text):
            code = self.code_of(token)
            if code not in found:
                found.append(code)
        return found

    def format(self, value: Any) -> str:
        return "、".join(Code.format(self, code) for code in value or [])

    def choices(self) -> list[str]:
        return []


class ItemTypeCode(Code):
    """事项类型: two-digit code (local extensions 11–19, 21–29 included) or name."""

    def __init__(self) -> None:
        super().__init__(codes.ItemType)
        self.syntax += "；地方扩展代码11–19、21–29"

    def code_of(self, token: str) -> str:
        cleaned = normalise(token)
        if codes.is_local_item_type(cleaned):
            return cleaned
        found = self.lookup.get(cleaned)
        if found is None:
            raise CellError(
                "catalog_import.item_type_unknown",
                f"“{token}”不是事项类型的代码或名称（应为两位代码如01，或名称如行政许可）；"
                "如来源清单使用其他编号，请在映射文件的 values.item_type 中逐一对照",
            )
        return found

    def format(self, value: Any) -> str:
        if value and codes.is_local_item_type(str(value)):
            return str(value)
        return super().format(value)


_LEVELS = {"I": "I", "II": "II", "III": "III", "IV": "IV"}
_LEVEL_WORDS = {
    "Ⅰ": "I",
    "Ⅱ": "II",
    "Ⅲ": "III",
    "Ⅳ": "IV",
    "一级": "I",
    "二级": "II",
    "三级": "III",
    "四级": "IV",
    "信息公开": "I",
    "在线预约或预审": "II",
    "在线预审": "II",
    "在线受理办理": "III",
    "全程网办": "IV",
}
#: Online steps stood for by a depth level when a list gives only the level (our choice; a
#: level Ⅳ item whose result is a licence also gets step 7, see ``importing``).
LEVEL_STEPS = {
    "I": ["1"],
    "II": ["1", "3"],
    "III": ["1", "2", "3", "4"],
    "IV": ["1", "2", "3", "4", "5", "6"],
}


class OnlineDepth(Codes):
    """网上办理深度: the online steps (codes 1–7 or names), or a level Ⅰ–Ⅳ."""

    def __init__(self) -> None:
        super().__init__(codes.OnlineStep)
        self.syntax = (
            "网上办理环节（可多选）：1 互联网咨询、2 互联网收件、3 互联网预审、4 互联网受理、"
            "5 互联网办理、6 互联网办理结果信息反馈、7 互联网电子证照反馈；"
            "或等级Ⅰ–Ⅳ（一级–四级、信息公开/在线预约或预审/在线受理办理/全程网办）"
        )

    def parse(self, text: str) -> tuple[list[str], str | None]:  # type: ignore[override]
        word = normalise(text).upper().removesuffix("级").removesuffix("LEVEL")
        level = _LEVELS.get(word) or _LEVEL_WORDS.get(normalise(text)) or _LEVEL_WORDS.get(word)
        if level is None and word in {"Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"}:
            level = _LEVEL_WORDS[word]
        if level is not None:
            return list(LEVEL_STEPS[level]), level
        return sorted(super().parse(text)), None

    def format(self, value: Any) -> str:
        return "、".join(Code.format(self, code) for code in value or [])


class TimeLimit(Codec):
    """A time limit in days: ``15``, ``15个工作日``, ``20个自然日``, ``即办`` (0)."""

    syntax = "天数（阿拉伯数字，如15；可写“15个工作日”“15个自然日”；“即办”为0）"
    _pattern = re.compile(r"(\d+)(?:\.0+)?\s*(个)?\s*(工作日|自然日)?")

    def parse(self, text: str) -> tuple[int, str | None]:
        cleaned = unicodedata.normalize("NFKC", text).strip()
        if cleaned in {"即办", "当场办结", "即时办结", "立即办结"}:
            return 0, None
        match = self._pattern.fullmatch(cleaned)
        if match is None:
            raise CellError(
                "catalog_import.time_limit",
                f"办结时限应填写天数（阿拉伯数字，如15），单位写在“时限单位”列或写作"
                f"“15个工作日”，实际为“{text}”",
            )
        unit = None
        if match[3]:
            unit = (
                codes.TimeLimitUnit.WORKING_DAY.value
                if match[3] == "工作日"
                else codes.TimeLimitUnit.NATURAL_DAY.value
            )
        return int(match[1]), unit

    def format(self, value: Any) -> str:
        return "" if value is None else str(value)


class TextList(Codec):
    """A list of short texts: one per line (or separated by ；)."""

    syntax = "每行一项（或用“；”分隔）"

    def parse(self, text: str) -> list[str]:
        stripped = text.strip()
        if stripped.startswith('["'):
            return _json_list(stripped, str)
        if stripped in NONE_WORDS:
            return []
        return [part.strip() for part in _LINE_SEPARATORS.split(text) if part.strip()]

    def format(self, value: Any) -> str:
        values = list(value or [])
        text = "\n".join(values)
        if (self.parse(text) if text else []) != values:
            return json.dumps(values, ensure_ascii=False)
        return text


def _json_list(text: str, kind: type) -> list[Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CellError(
            "catalog_import.json", f"JSON格式错误（第{exc.lineno}行第{exc.colno}列）：{exc.msg}"
        ) from None
    if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
        expected = "对象" if kind is dict else "文本"
        raise CellError("catalog_import.json", f"JSON应为由{expected}组成的数组")
    return value


@dataclass(frozen=True)
class Part:
    """One ``|``-separated part of a record line: the content key and how to read it."""

    key: str
    label: str
    codec: Codec = dataclasses.field(default_factory=Text)


_NO_DEFAULT = object()


def _json_default(value: Any) -> Any:
    return value if value is None or isinstance(value, str | int | list | bool) else str(value)


class Records(Codec):
    """A list of records, one per line with ``|``-separated parts, or a JSON array."""

    def __init__(
        self,
        model: type[BaseModel],
        parts: Sequence[Part],
        *,
        free_line: Callable[[str], dict[str, Any]] | None = None,
    ) -> None:
        self.model = model
        self.parts = list(parts)
        self.free_line = free_line
        #: JSON-form default of every field (a required field has none: never equal).
        self.defaults = {
            name: (
                _NO_DEFAULT
                if info.is_required()
                else _json_default(info.get_default(call_default_factory=True))
            )
            for name, info in model.model_fields.items()
        }
        self.syntax = (
            "每行一项，各部分用“|”分隔：" + "|".join(p.label for p in self.parts) + "；或JSON数组"
        )

    def parse(self, text: str) -> list[dict[str, Any]]:
        stripped = text.strip()
        if re.match(r"\[\s*(\{|\])", stripped):
            return _json_list(stripped, dict)
        if stripped in NONE_WORDS:
            return []
        records = []
        lines = [line for line in stripped.split("\n") if line.strip()]
        for number, line in enumerate(lines, start=1):
            try:
                records.append(self.parse_line(line))
            except CellError as exc:
                prefix = f"第{number}项：" if len(lines) > 1 else ""
                raise CellError(exc.code, prefix + exc.message) from None
        return records

    def parse_line(self, line: str) -> dict[str, Any]:
        """One record from one line."""
        pieces = _PART_SEPARATOR.split(line)
        if len(pieces) == 1 and self.free_line is not None:
            return self.free_line(line.strip())
        if len(pieces) > len(self.parts):
            raise CellError(
                "catalog_import.record_parts",
                f"最多{len(self.parts)}个部分（{'|'.join(p.label for p in self.parts)}），"
                f"实际为{len(pieces)}个",
            )
        record: dict[str, Any] = {}
        for part, raw in zip(self.parts, pieces, strict=False):
            piece = raw.strip()
            if not piece:
                continue
            try:
                record[part.key] = part.codec.parse(piece)
            except CellError as exc:
                raise CellError(exc.code, f"{part.label}{exc.message}") from None
        return record

    def _line(self, record: Mapping[str, Any]) -> str:
        texts = []
        last = 1  # parts after the last one that differs from its default are left out
        for position, part in enumerate(self.parts, start=1):
            value = record.get(part.key)
            texts.append(part.codec.format(value))
            if value not in (None, "", []) and value != self.defaults[part.key]:
                last = position
        return "|".join(texts[:last])

    def _same(
        self, parsed: Sequence[Mapping[str, Any]], original: Sequence[Mapping[str, Any]]
    ) -> bool:
        """Whether parsed records equal the originals (JSON form), defaults filled in."""
        if len(parsed) != len(original):
            return False
        defaults = self.defaults
        return all(
            p.get(key, default) == o.get(key, default)
            for p, o in zip(parsed, original, strict=True)
            for key, default in defaults.items()
        )

    def format(self, value: Any) -> str:
        records = list(value or [])
        if not records:
            return ""
        text = "\n".join(self._line(r) for r in records)
        try:
            same = self._same(self.parse(text), records)
        except CellError:
            same = False
        if same and not text.lstrip().startswith("["):
            return text
        compact = [self._compact(r) for r in records]
        return json.dumps(compact, ensure_ascii=False)

    def _compact(self, record: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self.model.model_validate(record).model_dump(mode="json", exclude_defaults=True)
        except PydanticValidationError:
            return dict(record)


class Record(Records):
    """A single record on one line (行政复议, 行政诉讼), or a JSON object."""

    def parse(self, text: str) -> dict[str, Any]:  # type: ignore[override]
        stripped = text.strip()
        if stripped.startswith("{"):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise CellError("catalog_import.json", f"JSON格式错误：{exc.msg}") from None
            if not isinstance(value, dict):
                raise CellError("catalog_import.json", "JSON应为对象")
            return value
        if "\n" in stripped:
            raise CellError("catalog_import.record_lines", "只能填写一行")
        return self.parse_line(stripped)

    def format(self, value: Any) -> str:
        if not value:
            return ""
        if self._same([{}], [value]):
            return ""  # all defaults
        text = self._line(value)
        try:
            same = self._same([self.parse(text)], [value])
        except CellError:
            same = False
        if same and not text.startswith("{"):
            return text
        return json.dumps(self._compact(value), ensure_ascii=False)


class Amount(Codec):
    syntax = "金额（元）"

    def parse(self, text: str) -> str:
        cleaned = unicodedata.normalize("NFKC", text).strip().removesuffix("元").strip()
        try:
            Decimal(cleaned)
        except InvalidOperation:
            raise CellError("catalog_import.amount", f"应为金额数字，实际为“{text}”") from None
        return cleaned


def _legal_basis_line(line: str) -> dict[str, Any]:
    """A free-text legal basis line: the first 《title》 names the law, the line is its text."""
    match = re.search(r"《([^》]{1,200})》", line)
    if match is None:
        return {"law_name": line}
    return {"law_name": match[1], "text": line}


_LEGAL_BASES = Records(
    item_content.LegalBasis,
    [Part("law_name", "法律法规名称"), Part("article", "条款号"), Part("text", "条款内容")],
    free_line=_legal_basis_line,
)
_STEPS = Records(
    item_content.ProcessStep,
    [Part("name", "环节名称"), Part("description", "办理说明"), Part("time_limit", "环节时限")],
)
_FEES = Records(
    item_content.Fee,
    [
        Part("name", "收费项目名称"),
        Part("standard", "收费标准"),
        Part("basis", "收费依据"),
        Part("amount", "金额（元）", Amount()),
        Part("formula", "计算方式"),
        Part("reducible", "是否允许减免", Boolean()),
    ],
)
_FAQS = Records(item_content.Faq, [Part("question", "问题"), Part("answer", "解答")])
_REMEDY_PARTS = [
    Part("body", "机构"),
    Part("address", "地址"),
    Part("phone", "电话"),
    Part("url", "网址"),
]
_MATERIALS = Records(
    item_content.Material,
    [
        Part("name", "材料名称"),
        Part("kinds", "材料类型", Codes(item_content.MaterialKind)),
        Part("forms", "材料形式", Codes(item_content.MaterialForm)),
        Part("source", "来源渠道", Code(item_content.MaterialSource)),
        Part("issuer", "出具机构"),
        Part("paper_copies", "纸质份数", Integer("份")),
        Part("paper_spec", "纸质规格"),
        Part("required", "是否必要", Boolean()),
        Part("required_note", "必要性说明"),
        Part("blank_form", "空白表格"),
        Part("sample", "示例样表"),
        Part("instructions", "填报须知"),
        Part("acceptance_standard", "受理标准"),
        Part("basis", "设定依据"),
        Part("licence_type", "可用电子证照"),
        Part("exemption", "免提交条件"),
    ],
)


# --- the template's columns ------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of the platform template.

    ``path`` is where the value sits in the content document (``None``: the importer
    assembles it, e.g. 行政区划代码 selects the department, 时限单位 fills both units).
    """

    field: str
    header: str
    codec: Codec = dataclasses.field(default_factory=Text)
    path: tuple[str, ...] | None = None
    required: bool = False
    in_template: bool = True
    note: str = ""


def _col(
    field_name: str,
    header: str,
    codec: Codec | None = None,
    path: str | None = "",
    *,
    required: bool = False,
    in_template: bool = True,
    note: str = "",
) -> Column:
    if path == "":
        path = field_name
    return Column(
        field_name,
        header,
        codec or Text(),
        tuple(path.split(".")) if path else None,
        required,
        in_template,
        note,
    )


_LEVEL_ALIASES = {
    "乡镇级": "5",
    "镇级": "5",
    "乡级": "5",
    "街道级": "5",
    "镇(乡、街道)级": "5",
    "村级": "6",
    "社区级": "6",
    "村(社区)级": "6",
}

COLUMNS: tuple[Column, ...] = (
    # identity
    _col("name", "事项名称", required=True),
    _col("basic_code", "基本编码"),
    _col("implementation_code", "实施编码", required=True),
    _col("handling_variant_code", "业务办理项编码"),
    _col("item_type", "事项类型", ItemTypeCode(), required=True),
    _col("division_code", "行政区划代码", None, None, required=True, note="实施主体所在区划，6位"),
    _col("department_name", "实施主体", None, "implementing_body.name", required=True),
    _col(
        "department_code",
        "实施主体统一社会信用代码",
        None,
        "implementing_body.uscc",
        note="18位统一社会信用代码",
    ),
    _col("body_nature", "实施主体性质", Code(codes.ImplementingBodyNature)),
    _col("level", "行使层级", Code(codes.ExerciseLevel, _LEVEL_ALIASES), required=True),
    _col("legal_basis", "设定依据", _LEGAL_BASES, "legal_bases"),
    _col("power_source", "权力来源"),
    _col("power_division", "权限划分"),
    _col("power_content", "行使内容"),
    _col("handling_unit", "承办机构"),
    _col("joint_departments", "共同实施部门", TextList()),
    _col("joint_units", "联办机构", TextList()),
    _col("entrusting_department", "委托部门"),
    _col("guidance_department", "中央业务指导部门"),
    # time
    _col("legal_time_limit", "法定办结时限", TimeLimit(), None, required=True),
    _col("legal_time_limit_unit", "法定办结时限单位", Code(codes.TimeLimitUnit), None),
    _col("legal_time_limit_note", "法定办结时限说明", None, "legal_time_limit.note"),
    _col("promised_time_limit", "承诺办结时限", TimeLimit(), None, required=True),
    _col("promised_time_limit_unit", "承诺办结时限单位", Code(codes.TimeLimitUnit), None),
    _col("promised_time_limit_note", "承诺办结时限说明", None, "promised_time_limit.note"),
    _col(
        "time_limit_unit",
        "时限单位",
        Code(codes.TimeLimitUnit),
        None,
        in_template=False,
        note="同时用于法定和承诺时限（未分别填写单位时）",
    ),
    # handling
    _col("case_type", "办件类型", Code(codes.CaseType, {"即办": "1", "承诺": "2"}), required=True),
    _col("review_type", "审查类型", Code(codes.ReviewType)),
    _col("conditions", "受理条件"),
    _col("process_steps", "办理流程", _STEPS),
    _col("flow_chart", "流程图"),
    _col("intermediary_services", "中介服务", TextList()),
    _col("quantity_limit", "数量限制"),
    _col("special_procedures", "特别程序", Codes(codes.SpecialProcedureKind)),
    _col("site_visits", "到办事现场次数", Integer("次")),
    _col("site_visit_reason", "必须到现场原因"),
    _col("online_depth", "网上办理深度", OnlineDepth(), "online_steps"),
    _col("online_url", "网办地址"),
    _col("supports_appointment", "是否支持预约办理", Boolean()),
    _col("supports_online_payment", "是否支持网上支付", Boolean()),
    _col("supports_delivery", "是否支持物流快递", Boolean()),
    _col("supports_self_service", "是否支持自助终端", Boolean()),
    _col("in_service_hall", "是否进驻政务服务大厅", Boolean()),
    _col("system_level", "运行系统层级"),
    _col("min_trust_level", "最低实名信任等级", note="L2、L3、L4 或 L5"),
    # result
    _col("result_type", "审批结果类型", Code(codes.ResultType)),
    _col("result_name", "审批结果名称"),
    _col("result_sample", "审批结果样本"),
    _col("licence_types", "关联电子证照类型", TextList()),
    # fees
    _col("charges_fee", "是否收费", Boolean(), note="不填时按是否列出收费项目判断"),
    _col("fees", "收费项目", _FEES),
    # classification
    _col("target", "服务对象", Codes(codes.ServiceTarget), "targets", required=True),
    _col("person_theme", "自然人主题", Codes(codes.NaturalPersonTheme), "person_themes"),
    _col("legal_theme", "法人主题", Codes(codes.LegalPersonTheme), "legal_themes"),
    _col(
        "theme",
        "服务主题",
        TextList(),
        None,
        in_template=False,
        note="按服务对象归入自然人主题或法人主题；可写“自然人:主题”或“法人:主题”",
    ),
    _col("channel", "办理形式", Codes(codes.Channel), "channels"),
    _col("jurisdiction", "行政管辖"),
    _col("tongban_scope", "通办范围", Code(codes.TongbanScope)),
    _col("life_events", "人生事件/企业事件", TextList()),
    _col("keywords", "检索关键词", TextList()),
    # place and contact
    _col("place", "办理地点"),
    _col("hours", "办理时间"),
    _col("consult_methods", "咨询方式"),
    _col("phone", "咨询电话", None, "consult_phone"),
    _col("complaint_methods", "监督投诉方式"),
    _col("complaint_phone", "监督投诉电话"),
    _col("faqs", "常见问题", _FAQS),
    # rights
    _col("rights_and_obligations", "申请人权利和义务"),
    _col(
        "reconsideration",
        "行政复议",
        Record(item_content.RemedyChannel, _REMEDY_PARTS),
    ),
    _col("litigation", "行政诉讼", Record(item_content.RemedyChannel, _REMEDY_PARTS)),
    # materials
    _col("materials", "申请材料", _MATERIALS),
    # validity
    _col("effective_date", "计划生效日期", Date()),
    _col("cancel_date", "计划取消日期", Date()),
)

COLUMNS_BY_FIELD: Mapping[str, Column] = {c.field: c for c in COLUMNS}
TEMPLATE_COLUMNS: tuple[Column, ...] = tuple(c for c in COLUMNS if c.in_template)
FIELDS: tuple[str, ...] = tuple(c.field for c in COLUMNS)
REQUIRED_FIELDS: tuple[str, ...] = tuple(c.field for c in COLUMNS if c.required)


def header_lookup() -> dict[str, str]:
    """Normalised header → field: template headers and canonical names both work."""
    lookup = {}
    for column in COLUMNS:
        lookup[normalise(column.header)] = column.field
        lookup[normalise(column.field)] = column.field
    return lookup


def field_for_content_path(path: str) -> str | None:
    """The column a content error path belongs to (``materials.2.name`` → ``materials``)."""
    parts = tuple(path.split("."))
    best, best_len = None, 0
    for column in COLUMNS:
        if column.path is None:
            continue
        n = len(column.path)
        if parts[:n] == column.path and n > best_len:
            best, best_len = column.field, n
    if best is not None:
        return best
    for prefix, name in _PATH_FIELDS.items():
        if parts[: len(prefix)] == prefix:
            return name
    return None


_PATH_FIELDS: Mapping[tuple[str, ...], str] = {
    ("implementing_body",): "department_name",
    ("legal_time_limit", "unit"): "legal_time_limit_unit",
    ("legal_time_limit",): "legal_time_limit",
    ("promised_time_limit", "unit"): "promised_time_limit_unit",
    ("promised_time_limit",): "promised_time_limit",
}


# --- export: content → cells -----------------------------------------------------------------


def _get(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def cells_from_content(data: Mapping[str, Any], *, division_code: str) -> dict[str, str]:
    """The template cells (by field) of one item's content document (its JSON form)."""
    cells: dict[str, str] = {}
    for column in TEMPLATE_COLUMNS:
        if column.path is not None:
            cells[column.field] = column.codec.format(_get(data, column.path))
    cells["division_code"] = division_code
    for which in ("legal_time_limit", "promised_time_limit"):
        limit = data.get(which) or {}
        cells[which] = TimeLimit().format(limit.get("value"))
        cells[f"{which}_unit"] = COLUMNS_BY_FIELD[f"{which}_unit"].codec.format(limit.get("unit"))
    return cells


# --- reading files ---------------------------------------------------------------------------


@dataclass
class Table:
    """The rows of a file below its header row, every cell as text."""

    format: str  # "xlsx" or "csv"
    headers: list[str]
    header_row: int  # as the spreadsheet shows it (1-based)
    rows: list[tuple[int, list[str]]]  # (row number as shown, cells)
    encoding: str = ""
    sheet: str = ""


def _file_error(code: str, zh: str, en: str, **details: Any) -> ValidationError:
    return ValidationError(code, zh, en, details=details)


def cell_text(value: Any) -> str:  # noqa: PLR0911 (one return per cell type)
    """A cell value as calamine returns it, as text (numbers without a spurious ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            pass
    raise _file_error(
        "catalog_import.encoding",
        "无法识别CSV文件的编码：应为UTF-8（可带BOM）或GB18030（GBK）。",
        "The CSV file is neither UTF-8 nor GB18030.",
    )


def _csv_rows(data: bytes) -> tuple[list[list[str]], str]:
    if b"\x00" in data[:65536]:
        raise _file_error(
            "catalog_import.not_text",
            "文件不是文本格式的CSV（包含二进制内容）；Excel文件请另存为.xlsx后导入。",
            "The file is not a text CSV file.",
        )
    text, encoding = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        rows = [
            [cell_text(cell) for cell in row]
            for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        ]
    except csv.Error as exc:
        raise _file_error(
            "catalog_import.csv", f"CSV格式错误：{exc}", f"Malformed CSV: {exc}"
        ) from None
    return rows, encoding


#: Largest uncompressed size of an .xlsx accepted (a 100,000-item template is ~250 MB): a
#: small file that would unpack to gigabytes (a "zip bomb") is refused before it is read.
MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024


def _xlsx_rows(data: bytes) -> tuple[list[list[str]], str]:
    import zipfile

    from python_calamine import CalamineError, CalamineWorkbook

    try:
        unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        unpacked = 0  # calamine reports the broken file below
    if unpacked > MAX_XLSX_UNCOMPRESSED:
        raise _file_error(
            "catalog_import.xlsx_too_large",
            f"Excel文件解压后超过{MAX_XLSX_UNCOMPRESSED // 1024 // 1024} MB，请拆分后导入。",
            "The workbook unpacks to more than the limit; split it.",
            unpacked=unpacked,
        )
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = workbook.sheet_names
        name = TEMPLATE_SHEET if TEMPLATE_SHEET in names else names[0]
        sheet = workbook.get_sheet_by_name(name)
        raw = sheet.to_python(skip_empty_area=False)
    except (CalamineError, ValueError, IndexError, OSError) as exc:
        raise _file_error(
            "catalog_import.xlsx",
            "无法读取Excel文件（文件损坏、加密或不是.xlsx格式）。",
            f"Cannot read the Excel file: {type(exc).__name__}.",
        ) from None
    return [[cell_text(cell) for cell in row] for row in raw], name


def read_table(data: bytes, filename: str, known_headers: Iterable[str]) -> Table:
    """Read an .xlsx or .csv file and find its header row.

    The header row is the first of the first 20 rows in which at least two cells are known
    headers (template headers, canonical field names, or mapped source columns); rows above it
    (titles) are ignored. Raises ``ValidationError`` (``catalog_import.format``, ``.encoding``,
    ``.not_text``, ``.csv``, ``.xlsx``, ``.no_header``, ``.empty``).
    """
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if data[:4] == b"PK\x03\x04" and suffix in {"xlsx", "xlsm", ""}:
        rows, sheet = _xlsx_rows(data)
        fmt, encoding = "xlsx", ""
    elif suffix in {"csv", "txt", "tsv"}:
        rows, encoding = _csv_rows(data)
        fmt, sheet = "csv", ""
    elif suffix in {"xlsx", "xlsm"}:
        raise _file_error(
            "catalog_import.xlsx",
            "无法读取Excel文件（文件损坏或不是.xlsx格式）。",
            "The file is not an .xlsx workbook.",
        )
    else:
        raise _file_error(
            "catalog_import.format",
            f"不支持的文件类型“{suffix or filename}”：请使用.xlsx或.csv文件。",
            "Only .xlsx and .csv files can be imported.",
            filename=filename[:200],
        )
    known = {normalise(h) for h in known_headers}
    for index, row in enumerate(rows[:20]):
        if sum(1 for cell in row if cell and normalise(cell) in known) >= 2:
            data_rows = [
                (number, cells)
                for number, cells in enumerate(rows[index + 1 :], start=index + 2)
                if any(cells)
            ]
            return Table(fmt, row, index + 1, data_rows, encoding, sheet)
    if not any(any(row) for row in rows):
        raise _file_error("catalog_import.empty", "文件是空的。", "The file is empty.")
    raise _file_error(
        "catalog_import.no_header",
        "未找到表头行：前20行中没有一行包含模板列名（如“事项名称”“实施编码”）；"
        "其他格式的清单请提供映射文件。",
        "No header row found in the first 20 rows; use the template or a mapping file.",
    )


# --- writing files ---------------------------------------------------------------------------

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xlsx_text(value: str) -> str:
    # openpyxl refuses control characters (XML 1.0 cannot carry them).
    return _ILLEGAL.sub("", value)


def _xlsx_value(sheet: Any, value: str) -> Any:
    """A plain string (fast path of write-only sheets), or a text cell for ``=…``."""
    if not value:
        return None
    value = _xlsx_text(value)
    if value.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        # openpyxl would write it as a formula; data it is.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def help_rows() -> list[list[str]]:
    """The help sheet: one row per column (header, field, required, how to fill it)."""
    rows = [["列名", "字段名", "必填", "填写说明"]]
    for column in COLUMNS:
        where = "" if column.in_template else "（不在模板中，供映射文件使用）"
        note = "；".join(part for part in (column.note, column.codec.syntax) if part)
        rows.append([column.header, column.field, "是" if column.required else "", note + where])
    return rows


def write_xlsx(out: IO[bytes], rows: Iterable[Sequence[str]], *, template: bool = False) -> None:
    """Write the template sheet (header + ``rows``) and the help sheet to ``out``.

    ``template`` adds drop-downs for code columns (a blank template for people to fill);
    exports use openpyxl's write-only mode so that 100,000 items stream through. Every value
    is written as text, so a cell starting with ``=`` is never a formula.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    headers = [c.header for c in TEMPLATE_COLUMNS]
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    workbook = Workbook(write_only=not template)
    if template:
        sheet = workbook.active
        assert sheet is not None
        sheet.title = TEMPLATE_SHEET
        _write_template_sheet(sheet, headers, rows, bold, fill)
        help_sheet = workbook.create_sheet(HELP_SHEET)
        for help_row in help_rows():
            help_sheet.append(help_row)
        for cell in help_sheet[1]:
            cell.font = bold
        help_sheet.column_dimensions["A"].width = 24
        help_sheet.column_dimensions["B"].width = 26
        help_sheet.column_dimensions["D"].width = 100
        for row in help_sheet.iter_rows(min_row=2):
            row[3].alignment = Alignment(wrap_text=True)
    else:
        sheet = workbook.create_sheet(TEMPLATE_SHEET)
        header_cells = []
        for header in headers:
            cell = WriteOnlyCell(sheet, value=header)
            cell.font, cell.fill = bold, fill
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in rows:
            sheet.append([_xlsx_value(sheet, value) for value in row])
        help_sheet = workbook.create_sheet(HELP_SHEET)
        for help_row in help_rows():
            help_sheet.append(help_row)
    workbook.save(out)


def _write_template_sheet(
    sheet: Any, headers: list[str], rows: Iterable[Sequence[str]], bold: Any, fill: Any
) -> None:
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet.append(headers)
    for position, column in enumerate(TEMPLATE_COLUMNS, start=1):
        cell = sheet.cell(row=1, column=position)
        cell.font, cell.fill = bold, fill
        required = "（必填）" if column.required else ""
        cell.comment = Comment(
            f"字段名：{column.field}{required}\n{column.note or column.codec.syntax}"[:1000],
            "zwfw",
        )
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = max(12, min(40, len(column.header) * 2 + 4))
        # Text format keeps codes such as 01 and 005 from becoming numbers.
        sheet.column_dimensions[letter].number_format = "@"
        choices = column.codec.choices()
        if choices and len(",".join(choices)) < 250:
            validation = DataValidation(
                type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True
            )
            validation.add(f"{letter}2:{letter}5000")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "C2"
    for row in rows:
        sheet.append([_xlsx_text(v) if v else None for v in row])


def write_csv(out: IO[bytes], rows: Iterable[Sequence[str]]) -> None:
    """Write the header and ``rows`` as UTF-8 CSV with a BOM (Excel then reads it right)."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow([c.header for c in TEMPLATE_COLUMNS])
    writer.writerows(rows)
    text.flush()
    text.detach()


def template_rows(cells: Iterator[Mapping[str, str]]) -> Iterator[list[str]]:
    """Cells by field → rows in template column order."""
    for row in cells:
        yield [row.get(c.field, "") for c in TEMPLATE_COLUMNS]
