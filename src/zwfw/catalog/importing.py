"""Bulk import of the catalogue from spreadsheets (``zwfw import_items``, ``POST …/imports``).

A file is read (:func:`zwfw.catalog.spreadsheet.read_table`), its columns bound to canonical
fields (by the template's headers or a mapping file), and its rows processed in batches:

1. every row is read cell by cell and validated as a whole (:func:`validate_content`); a bad
   row is reported with its row number, column, value, stable code and a Chinese reason, and
   skipped — the other rows go on;
2. a good row whose implementation code already has a published version with the same
   content is *unchanged*; otherwise its department is matched (by USCC, then by division and
   name) or created (audited, through ``organisations.services.create_department``);
3. the batch's new and changed items are written at once — items, immutable versions,
   facets, basic items, search entries — with the semantics of
   :func:`zwfw.catalog.services.publish_content`, in one transaction per batch, with one audit
   entry per batch. All versions of a run belong to one ``ChangeRequest(kind="import",
   status="approved")`` whose text keeps the counts committed so far.

A batch is all or nothing: if anything fails while it is written, none of its rows stays and
the run stops (the batches before it are complete and committed; importing the file again
carries on, since they now count as unchanged). ``dry_run`` does everything but write.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from zwfw.catalog import search, spreadsheet
from zwfw.catalog.content import ItemContent, validate_content
from zwfw.catalog.identifiers import parse_implementation_code
from zwfw.catalog.models import (
    BasicItem,
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
    Item,
    ItemFacet,
    ItemStatus,
    ItemVersion,
)
from zwfw.catalog.services import can_edit, facet_values, item_columns
from zwfw.catalog.spreadsheet import COLUMNS_BY_FIELD, CellError, normalise
from zwfw.core import audit, codes
from zwfw.core.crypto import sm3_hex
from zwfw.core.errors import Conflict, PermissionDenied, ValidationError, ZwfwError
from zwfw.organisations.models import Department, Division, Role
from zwfw.organisations.selectors import has_role

DEFAULT_BATCH_SIZE = 1000
MAX_BATCH_SIZE = 5000
FACET_VALUE_LENGTH = 64
#: Most error entries a report lists (the counts stay exact beyond it).
MAX_REPORTED_ERRORS = 10000
DEFAULT_SOURCE = "映射文件默认值"

Progress = Callable[[int, int, "ImportReport"], None]


# --- mapping files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportMapping:
    """How a foreign layout maps onto the template (see ``docs/catalog-import.md``).

    ``columns``: normalised source header → field (``""``: ignore the column);
    ``values``: field → {normalised source value → value the template accepts};
    ``defaults``: field → value used when the column is missing or the cell empty.
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)


def _mapping_error(zh: str, en: str, **details: Any) -> ValidationError:
    return ValidationError("catalog_import.mapping", "映射文件有误：" + zh, en, details=details)


def _check_field(name: Any, where: str) -> str:
    if not isinstance(name, str) or name not in COLUMNS_BY_FIELD:
        raise _mapping_error(
            f"{where}中的“{name}”不是可导入的字段名（可用：{'、'.join(spreadsheet.FIELDS)}）",
            f"{name!r} in {where} is not a field name.",
            field=str(name)[:100],
            allowed=list(spreadsheet.FIELDS),
        )
    return name


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float | str):
        return spreadsheet.cell_text(value)
    raise _mapping_error(f"{where}的值应为文本", f"{where} must be text.")


def parse_mapping(data: Any) -> ImportMapping:
    """Check a mapping document (JSON text, bytes or a dict); raises ``catalog_import.mapping``."""
    if data is None or (isinstance(data, str | bytes) and not data.strip()):
        return ImportMapping()
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _mapping_error(f"不是有效的JSON（{exc}）", "The mapping is not JSON.") from None
    if not isinstance(data, dict):
        raise _mapping_error("应为JSON对象", "The mapping must be a JSON object.")
    unknown = set(data) - {"columns", "values", "defaults", "comment"}
    if unknown:
        raise _mapping_error(
            f"未知的键：{'、'.join(sorted(map(str, unknown)))}（可用：columns、values、defaults）",
            "Unknown keys in the mapping.",
            keys=sorted(map(str, unknown)),
        )
    columns, values, defaults = (data.get(k) or {} for k in ("columns", "values", "defaults"))
    if not all(isinstance(part, dict) for part in (columns, values, defaults)):
        raise _mapping_error("columns、values、defaults 都应为对象", "Sections must be objects.")
    mapped_columns = {}
    for source, target in columns.items():
        if target in (None, ""):
            mapped_columns[normalise(str(source))] = ""
        else:
            mapped_columns[normalise(str(source))] = _check_field(target, "columns")
    mapped_values: dict[str, dict[str, str]] = {}
    for name, table in values.items():
        _check_field(name, "values")
        if not isinstance(table, dict):
            raise _mapping_error(f"values.{name} 应为对象", f"values.{name} must be an object.")
        mapped_values[name] = {
            normalise(_text(k, f"values.{name}")): _text(v, f"values.{name}")
            for k, v in table.items()
        }
    mapped_defaults = {
        _check_field(name, "defaults"): _text(value, f"defaults.{name}")
        for name, value in defaults.items()
    }
    return ImportMapping(mapped_columns, mapped_values, mapped_defaults)


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem of one row, located as the spreadsheet shows it."""

    row: int
    column: str
    field: str
    value: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "value": self.value,
            "code": self.code,
            "message": self.message,
        }


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    filename: str
    format: str = ""
    encoding: str = ""
    sheet: str = ""
    dry_run: bool = False
    header_row: int = 0
    rows: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    batches: int = 0
    departments_created: list[str] = field(default_factory=list)
    departments_matched: int = 0
    change_request: int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    errors_truncated: bool = False
    seconds: float = 0.0

    def add_errors(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            if len(self.errors) >= MAX_REPORTED_ERRORS:
                self.errors_truncated = True
                return
            self.errors.append(error)

    def summary(self) -> str:
        """One line in Chinese: 新增 / 更新 / 未变 / 拒绝."""
        verb = "（试运行，未写入）" if self.dry_run else ""
        return (
            f"共{self.rows}行：新增{self.created}，更新{self.updated}，"
            f"未变{self.unchanged}，拒绝{self.rejected}{verb}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "format": self.format,
            "encoding": self.encoding,
            "sheet": self.sheet,
            "dry_run": self.dry_run,
            "header_row": self.header_row,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "batches": self.batches,
            "departments_created": self.departments_created,
            "departments_matched": self.departments_matched,
            "change_request": self.change_request,
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "errors": [e.as_dict() for e in self.errors],
            "errors_truncated": self.errors_truncated,
            "seconds": round(self.seconds, 3),
            "summary": self.summary(),
        }


# --- binding columns -------------------------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    """Where each field's text comes from: a column position, or a mapping default."""

    positions: Mapping[str, int]
    sources: Mapping[str, str]  # field → header as written in the file, or DEFAULT_SOURCE
    defaults: Mapping[str, str]
    values: Mapping[str, Mapping[str, str]]
    ignored: Sequence[str]

    def column_of(self, field_name: str) -> str:
        """The header to show for a field (the template's header when the file has none)."""
        return self.sources.get(field_name) or COLUMNS_BY_FIELD[field_name].header


def bind_columns(headers: Sequence[str], mapping: ImportMapping) -> Binding:
    """Bind the file's headers to fields; raises for two columns on one field or missing
    required columns (``catalog_import.duplicate_column``, ``catalog_import.missing_columns``)."""
    lookup = spreadsheet.header_lookup()
    positions: dict[str, int] = {}
    sources: dict[str, str] = {}
    ignored: list[str] = []
    for position, header in enumerate(headers):
        key = normalise(header)
        if not key:
            continue
        name = mapping.columns[key] if key in mapping.columns else lookup.get(key)
        if not name:
            ignored.append(header)
            continue
        if name in positions:
            raise ValidationError(
                "catalog_import.duplicate_column",
                f"列“{sources[name]}”和列“{header}”都对应字段{name}，请在映射文件中只保留一列。",
                f"Two columns map to field {name}.",
                details={"field": name, "columns": [sources[name], header]},
            )
        positions[name] = position
        sources[name] = header
    for name in mapping.defaults:
        sources.setdefault(name, DEFAULT_SOURCE)
    missing = [
        name
        for name in spreadsheet.REQUIRED_FIELDS
        if name not in positions and name not in mapping.defaults
    ]
    if missing:
        names = "、".join(f"{COLUMNS_BY_FIELD[n].header}（{n}）" for n in missing)
        raise ValidationError(
            "catalog_import.missing_columns",
            f"缺少必填列：{names}。请使用导入模板的列名，或在映射文件中对照。",
            "Required columns are missing: " + ", ".join(missing),
            details={"missing": missing, "headers": [h for h in headers if h][:200]},
        )
    return Binding(positions, sources, dict(mapping.defaults), mapping.values, ignored)


# --- reading one row -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreparedRow:
    """A row that passed validation, reduced to what writing it needs (cheap to pickle)."""

    row: int
    code: str  # implementation code
    text: str  # canonical JSON of the validated content (stored as the version's content)
    digest: str  # SM3 of ``text`` = content_hash(content)
    division_code: str
    name: str
    basic_code: str
    basic: tuple[str, str, str, list[dict[str, Any]]]  # for BasicItem: name, type, level, bases
    body_name: str
    body_uscc: str
    columns: dict[str, Any]  # item_columns(content)
    facets: list[tuple[str, str]]  # facet_values(content), without repeats


def canonical_json(data: Mapping[str, Any]) -> str:
    """The canonical JSON that :func:`zwfw.catalog.content.content_hash` hashes."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_digest(data: Mapping[str, Any]) -> str:
    """:func:`zwfw.catalog.content.content_hash` of an already dumped document (no re-dump)."""
    return sm3_hex(canonical_json(data).encode())


def _prepared(number: int, code: str, content: ItemContent, division_code: str) -> PreparedRow:
    data = content.model_dump(mode="json")
    text = canonical_json(data)
    return PreparedRow(
        row=number,
        code=code,
        text=text,
        digest=sm3_hex(text.encode()),
        division_code=division_code,
        name=content.name,
        basic_code=content.basic_code,
        basic=(
            content.name,
            content.item_type,
            content.level,
            data["legal_bases"],
        ),
        body_name=content.implementing_body.name,
        body_uscc=content.implementing_body.uscc,
        columns=item_columns(content),
        facets=list(dict.fromkeys(facet_values(content))),
    )


_SPECIAL = frozenset(
    {
        "division_code",
        "legal_time_limit",
        "legal_time_limit_unit",
        "promised_time_limit",
        "promised_time_limit_unit",
        "time_limit_unit",
        "theme",
        "online_depth",
        "charges_fee",
    }
)
_MULTI = frozenset(
    {"target", "person_theme", "legal_theme", "channel", "special_procedures", "online_depth"}
)


def _set(data: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for key in path[:-1]:
        data = data.setdefault(key, {})
    data[path[-1]] = value


class RowReader:
    """Turns one row's cells into validated content, or into a list of :class:`RowError`."""

    def __init__(self, binding: Binding) -> None:
        self.binding = binding
        # (field, column position or None, default text, value table) of every bound field.
        self.plan = [
            (
                name,
                binding.positions.get(name),
                binding.defaults.get(name, ""),
                binding.values.get(name),
            )
            for name in spreadsheet.FIELDS
            if name in binding.positions or name in binding.defaults
        ]

    def _texts(self, cells: Sequence[str]) -> dict[str, str]:
        texts: dict[str, str] = {}
        width = len(cells)
        for name, position, default, table in self.plan:
            text = cells[position] if position is not None and position < width else ""
            if not text:
                if not default:
                    continue
                text = default
            if table:
                text = self._translate(name, text, table)
            texts[name] = text
        return texts

    @staticmethod
    def _translate(name: str, text: str, table: Mapping[str, str]) -> str:
        whole = table.get(normalise(text))
        if whole is not None:
            return whole
        if name in _MULTI:
            tokens = spreadsheet.split_tokens(text)
            if any(normalise(t) in table for t in tokens):
                return "、".join(table.get(normalise(t), t) for t in tokens)
        return text

    def read(self, number: int, cells: Sequence[str]) -> PreparedRow | list[RowError]:
        """Validate one row; returns the prepared row or every problem found in it."""
        texts = self._texts(cells)
        errors: list[RowError] = []
        parsed: dict[str, Any] = {}

        def fail(name: str, code: str, message: str) -> None:
            value = texts.get(name, "")
            errors.append(
                RowError(number, self.binding.column_of(name), name, value[:200], code, message)
            )

        for name, text in texts.items():
            if "\x00" in text:
                fail(name, "catalog_import.nul", "包含非法的空字符（NUL）")
                continue
            try:
                parsed[name] = COLUMNS_BY_FIELD[name].codec.parse(text)
            except CellError as exc:
                fail(name, exc.code, exc.message)
        failed = {e.field for e in errors}
        data = self._assemble(parsed, texts, fail)
        failed |= {e.field for e in errors}
        division_code = self._division(parsed, texts, fail)
        content: ItemContent | None = None
        try:
            content = validate_content(data)
        except ValidationError as exc:
            for problem in exc.details.get("errors", []):
                name = self._field_of(problem["field"], texts)
                if name in failed:
                    continue  # already reported as unreadable
                fail(name, problem["code"], _message(problem))
        code = ""
        if content is not None:
            try:
                code = parse_implementation_code(content.implementation_code).code
            except ValidationError as exc:
                fail("implementation_code", exc.code, exc.message)
        if content is not None:
            for event in content.life_events:
                if len(event) > FACET_VALUE_LENGTH:
                    # The facet table keeps 64 characters; the content allows 200.
                    fail(
                        "life_events",
                        "catalog_import.facet_length",
                        f"人生事件“{event[:20]}…”过长：最多{FACET_VALUE_LENGTH}个字符",
                    )
        if errors or content is None or division_code is None:
            return errors
        return _prepared(number, code, content, division_code)

    def _field_of(self, path: str, texts: Mapping[str, str]) -> str:
        name = spreadsheet.field_for_content_path(path) or "name"
        # Themes given through the generic 服务主题 column are reported there.
        if name in {"person_theme", "legal_theme"} and name not in texts and "theme" in texts:
            return "theme"
        if name == "charges_fee" and "charges_fee" not in texts and "fees" in texts:
            return "fees"
        for which in ("legal_time_limit", "promised_time_limit"):
            if name == f"{which}_unit" and name not in texts and "time_limit_unit" in texts:
                return "time_limit_unit"
        return name

    def _assemble(
        self,
        parsed: Mapping[str, Any],
        texts: Mapping[str, str],
        fail: Callable[[str, str, str], None],
    ) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, value in parsed.items():
            column = COLUMNS_BY_FIELD[name]
            if name not in _SPECIAL and column.path is not None:
                _set(data, column.path, value)
        for which in ("legal_time_limit", "promised_time_limit"):
            self._time_limit(which, parsed, data, fail)
        if "charges_fee" in parsed:
            data["charges_fee"] = parsed["charges_fee"]
        elif "fees" in parsed:
            data["charges_fee"] = bool(parsed["fees"])
        if "online_depth" in parsed:
            steps, level = parsed["online_depth"]
            if level == "IV" and data.get("result_type") == codes.ResultType.LICENCE:
                steps = [*steps, codes.OnlineStep.LICENCE_FEEDBACK.value]
            data["online_steps"] = steps
        if "theme" in parsed:
            self._themes(parsed["theme"], data, fail)
        return data

    @staticmethod
    def _time_limit(
        which: str,
        parsed: Mapping[str, Any],
        data: dict[str, Any],
        fail: Callable[[str, str, str], None],
    ) -> None:
        unit = parsed.get(f"{which}_unit") or parsed.get("time_limit_unit")
        if which in parsed:
            value, embedded = parsed[which]
            data.setdefault(which, {})["value"] = value
            if embedded and unit and embedded != unit:
                fail(
                    which,
                    "catalog_import.time_limit_unit",
                    f"时限中的单位（{codes.TimeLimitUnit(embedded).label}）与时限单位列"
                    f"（{codes.TimeLimitUnit(unit).label}）不一致",
                )
            unit = unit or embedded
        if unit and which in data:
            data[which]["unit"] = unit

    def _themes(
        self, tokens: Sequence[str], data: dict[str, Any], fail: Callable[[str, str, str], None]
    ) -> None:
        targets = set(data.get("targets") or [])
        natural = codes.ServiceTarget.NATURAL_PERSON.value
        person = COLUMNS_BY_FIELD["person_theme"].codec
        legal = COLUMNS_BY_FIELD["legal_theme"].codec
        assert isinstance(person, spreadsheet.Code)
        assert isinstance(legal, spreadsheet.Code)
        found = {
            "person_themes": list(data.get("person_themes") or []),
            "legal_themes": list(data.get("legal_themes") or []),
        }
        for token in (t for raw in tokens for t in spreadsheet.split_tokens(raw)):
            scope, _, name = token.replace("：", ":").rpartition(":")
            if scope in {"自然人", "个人"}:
                wanted = {"person_themes"}
            elif scope in {"法人", "企业"}:
                wanted = {"legal_themes"}
            else:
                # No scope: the theme lists that the item's service targets call for.
                wanted = {"person_themes"} if natural in targets else set()
                if targets - {natural}:
                    wanted.add("legal_themes")
            matched = False
            for key, codec in (("person_themes", person), ("legal_themes", legal)):
                code = codec.lookup.get(normalise(name)) if key in wanted else None
                if code is not None:
                    matched = True
                    if code not in found[key]:
                        found[key].append(code)
            if not matched:
                fail(
                    "theme",
                    "catalog_import.theme_unknown",
                    f"“{token}”不是与服务对象相符的自然人主题或法人主题",
                )
        for key, values in found.items():
            if values:
                data[key] = values

    @staticmethod
    def _division(
        parsed: Mapping[str, Any],
        texts: Mapping[str, str],
        fail: Callable[[str, str, str], None],
    ) -> str | None:
        text = parsed.get("division_code")
        if not text:
            fail("division_code", "catalog_import.required", "必填项未填写")
            return None
        from zwfw.core.validators import validate_division_code

        try:
            return validate_division_code(str(text)).code
        except ValidationError as exc:
            fail("division_code", exc.code, exc.message)
            return None


def _message(problem: Mapping[str, Any]) -> str:
    message = str(problem["message"])
    if message == "必填":
        message = "必填项未填写"
    parts = str(problem["field"]).split(".")
    for position, part in enumerate(parts):
        if part.isdigit() and position > 0:
            detail = ".".join(parts[position + 1 :])
            return f"第{int(part) + 1}项{'（' + detail + '）' if detail else ''}：{message}"
    return message


# --- departments -----------------------------------------------------------------------------


class _Problem(Exception):
    def __init__(self, field_name: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.code = code
        self.message = message


_DEPARTMENT_LEVEL_OF_DIVISION = {1: 2, 2: 3, 3: 4, 4: 5, 5: 6}


class Departments:
    """Departments by USCC and by (division, name), loaded once; missing ones are created."""

    def __init__(self) -> None:
        self.by_uscc: dict[str, Department] = {}
        self.by_name: dict[tuple[str, str], Department] = {}
        for department in Department.objects.only("id", "name", "uscc", "division_id"):
            self._remember(department)
        self.division_levels = dict(Division.objects.values_list("code", "level"))
        self.created: list[Department] = []
        self.matched: set[int] = set()

    def _remember(self, department: Department) -> None:
        if department.uscc:
            self.by_uscc[department.uscc] = department
        self.by_name[(department.division_id, department.name)] = department

    def resolve(self, name: str, uscc: str, division_code: str, *, create: bool) -> Department:
        """The department of a row; creates it when ``create`` (else an unsaved stand-in).

        Raises :class:`_Problem` when the division is unknown or name and USCC disagree.
        """
        if uscc and uscc in self.by_uscc:
            return self._matched(self.by_uscc[uscc])
        found = self.by_name.get((division_code, name))
        if found is not None:
            if uscc and found.uscc and found.uscc != uscc:
                raise _Problem(
                    "department_code",
                    "catalog_import.department_uscc",
                    f"{found.name}已登记的统一社会信用代码为{found.uscc}，与本行不一致",
                )
            return self._matched(found)
        level = self.division_levels.get(division_code)
        if level is None:
            raise _Problem(
                "division_code",
                "catalog_import.division_missing",
                f"行政区划{division_code}未在本节点登记（请先运行 zwfw load_divisions），"
                "无法新建实施主体",
            )
        department_level = _DEPARTMENT_LEVEL_OF_DIVISION.get(level, 4)
        if create:
            from zwfw.organisations.services import create_department

            try:
                department = create_department(
                    name=name, division_code=division_code, level=department_level, uscc=uscc
                )
            except ZwfwError as exc:
                raise _Problem("department_name", exc.code, exc.message) from None
        else:
            department = Department(
                name=name, uscc=uscc or None, division_id=division_code, level=department_level
            )
        self.created.append(department)
        self._remember(department)
        return department

    def _matched(self, department: Department) -> Department:
        if department.pk is not None:
            self.matched.add(department.pk)
        return department


# --- reading rows in worker processes ------------------------------------------------------


def _read_batches(
    rows: Sequence[tuple[int, list[str]]], binding: Binding, batch_size: int, workers: int
) -> Iterator[tuple[Sequence[tuple[int, list[str]]], list[PreparedRow | list[RowError]]]]:
    """Each batch of rows with what :class:`RowReader` made of them, in file order.

    With ``workers`` > 0, rows are read and validated in that many separate processes while
    this one writes the previous batches: validation is pure CPU work and needs no database.
    Worker processes are started fresh (``spawn``), never forked from a process holding
    database connections.
    """
    batches = [rows[start : start + batch_size] for start in range(0, len(rows), batch_size)]
    if workers <= 0 or len(batches) < 2:
        reader = RowReader(binding)
        for batch in batches:
            yield batch, [reader.read(number, cells) for number, cells in batch]
        return
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from zwfw.catalog import import_worker

    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=import_worker.start,
        initargs=(dataclasses.asdict(binding),),
    )
    pending: deque[tuple[Sequence[tuple[int, list[str]]], Future[Any]]] = deque()

    def oldest() -> tuple[Sequence[tuple[int, list[str]]], list[PreparedRow | list[RowError]]]:
        done, future = pending.popleft()
        try:
            return done, future.result()
        except BrokenProcessPool:
            raise Conflict(
                "catalog_import.worker_failed",
                f"校验进程意外退出（第{done[0][0]}行起的批次未处理，此前的批次已提交）；"
                "请用 --workers 0 重新导入。",
                "A validation worker process died; import again with --workers 0.",
            ) from None

    try:
        for batch in batches:
            pending.append((batch, pool.submit(import_worker.read, batch)))
            # A few batches ahead keep the workers busy without holding the whole file.
            if len(pending) > 2 * workers:
                yield oldest()
        while pending:
            yield oldest()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --- writing ---------------------------------------------------------------------------------


class _Insert:
    """``INSERT`` of many rows of one model: ``COPY`` on PostgreSQL, ``executemany`` on SQLite.

    Raw SQL on purpose, as in the audit log: Django's ``bulk_create`` builds a model instance
    and prepares every value through its field per row, which was two thirds of the writing
    time of an import (see ``bench/bench_catalog_import.py``). Columns not given take their
    field's default; JSON is given as text (the canonical JSON already made for the hash).
    """

    def __init__(self, model: type[models.Model], given: Sequence[str]) -> None:
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.postgres = connection.vendor == "postgresql"
        quote = connection.ops.quote_name
        self.layout: list[tuple[int | None, Any]] = []
        for f in fields:
            if f.attname in given:
                self.layout.append((given.index(f.attname), None))
            else:
                self.layout.append((None, f.get_db_prep_save(f.get_default(), connection)))
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        self.sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (model meta)
        self.copy = f"COPY {table} ({columns}) FROM STDIN"

    def run(self, rows: Iterable[Sequence[Any]]) -> None:
        params = [
            tuple(row[i] if i is not None else fixed for i, fixed in self.layout) for row in rows
        ]
        if not params:
            return
        with connection.cursor() as cursor:
            if self.postgres:
                # COPY: one stream instead of one statement per row (psycopg 3).
                with cursor.cursor.copy(self.copy) as copy:
                    for values in params:
                        copy.write_row(values)
            else:
                cursor.executemany(self.sql, params)


_ITEM_COLUMNS = (
    "name",
    "basic_code",
    "item_type",
    "level",
    "case_type",
    "online_depth",
    "targets",
    "person_themes",
    "legal_themes",
    "promised_days",
    "charges_fee",
    "site_visits",
)
_ITEM_GIVEN = (
    "implementation_code",
    "basic_item_id",
    "department_id",
    "division_id",
    "status",
    "version_count",
    *_ITEM_COLUMNS,
    "created_at",
    "updated_at",
)
_VERSION_GIVEN = (
    "item_id",
    "number",
    "content",
    "content_hash",
    "name",
    "change_request_id",
    "created_by",
    "created_at",
    "published_at",
)
_FACET_GIVEN = ("item_id", "facet", "value")


def _update_items(rows: Sequence[Sequence[Any]]) -> None:
    """``UPDATE`` changed items (columns of ``_ITEM_COLUMNS`` + ownership, status, count)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    names = []
    for name in (*_ITEM_COLUMNS, "department", "basic_item", "status"):
        item_field = Item._meta.get_field(name)
        assert isinstance(item_field, models.Field)
        names.append(str(item_field.column))
    assignments = ", ".join(f"{quote(n)} = %s" for n in names)
    sql = (
        f"UPDATE {quote(Item._meta.db_table)} SET {assignments}, "  # noqa: S608
        f"{quote('version_count')} = %s, {quote('updated_at')} = %s WHERE {quote('id')} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, list(rows))


@dataclass
class _Planned:
    row: PreparedRow
    item_id: int | None  # existing item (None: new)
    version_count: int
    department: Department


class _Run:
    def __init__(
        self,
        table: spreadsheet.Table,
        binding: Binding,
        report: ImportReport,
        *,
        user: Any,
        write: bool,
        batch_size: int,
        workers: int,
        progress: Progress | None,
    ) -> None:
        self.table = table
        self.binding = binding
        self.report = report
        self.user = user
        self.write = write
        self.batch_size = batch_size
        self.workers = workers
        self.progress = progress
        self.departments = Departments()
        self.seen: dict[str, int] = {}
        self.change_request: ChangeRequest | None = None
        self.actor = f"user:{user.pk}" if user is not None and user.pk else "system"
        #: Departments the user must be allowed to edit (permission check).
        self.touched: set[int] = set()

    def run(self) -> None:
        rows = self.table.rows
        batches = _read_batches(rows, self.binding, self.batch_size, self.workers)
        for batch, results in batches:
            self._batch(batch, results)
            self.report.processed += len(batch)
            if self.progress is not None:
                self.progress(self.report.processed, len(rows), self.report)

    def _reject(self, errors: list[RowError]) -> None:
        self.report.rejected += 1
        self.report.add_errors(errors)

    def _good(self, results: Sequence[PreparedRow | list[RowError]]) -> list[PreparedRow]:
        good = []
        for result in results:
            if isinstance(result, list):
                self._reject(result)
                continue
            first = self.seen.get(result.code)
            if first is not None:
                self._reject(
                    [
                        RowError(
                            result.row,
                            self.binding.column_of("implementation_code"),
                            "implementation_code",
                            result.code,
                            "catalog_import.duplicate_code",
                            f"实施编码与第{first}行重复",
                        )
                    ]
                )
                continue
            self.seen[result.code] = result.row
            good.append(result)
        return good

    def _batch(
        self,
        rows: Sequence[tuple[int, list[str]]],
        results: Sequence[PreparedRow | list[RowError]],
    ) -> None:
        good = self._good(results)
        if not self.write:
            self._plan(good, create=False)
            return
        report = self.report
        before = (report.created, report.updated, report.unchanged, report.rejected)
        errors_before = len(report.errors)
        try:
            with transaction.atomic():
                planned = self._plan(good, create=True)
                if planned:
                    self._publish(planned, rows[0][0], rows[-1][0])
        except DatabaseError as exc:
            # Nothing of this batch stayed: the report says so too.
            report.created, report.updated, report.unchanged, report.rejected = before
            del report.errors[errors_before:]
            if report.batches == 0:
                self.change_request, report.change_request = None, None
            raise Conflict(
                "catalog_import.aborted",
                f"导入在第{rows[0][0]}–{rows[-1][0]}行所在批次中断，该批次未写入任何内容；"
                f"此前的批次已完整提交（{self.report.summary()}）。重新导入同一文件即可继续。",
                f"The import stopped in the batch of rows {rows[0][0]}–{rows[-1][0]}: "
                f"{type(exc).__name__}. Earlier batches are committed.",
                details={"report": self.report.as_dict()},
            ) from exc

    def _plan(self, good: Sequence[PreparedRow], *, create: bool) -> list[_Planned]:
        """Sort a batch's good rows into unchanged and to-write; resolve their departments."""
        if not good:
            return []
        queryset = Item.objects.filter(implementation_code__in=[r.code for r in good])
        if create:
            # publish_content locks the item it replaces; so does the import, batch-wise.
            queryset = queryset.select_for_update(of=("self",))
        existing = {
            code: (pk, status, digest, department_id, count)
            for code, pk, status, digest, department_id, count in queryset.values_list(
                "implementation_code",
                "pk",
                "status",
                "current_version__content_hash",
                "department_id",
                "version_count",
            )
        }
        planned: list[_Planned] = []
        for row in good:
            found = existing.get(row.code)
            if found is not None:
                _item_id, status, digest, department_id, _count = found
                self.touched.add(department_id)
                if status == ItemStatus.PUBLISHED and digest == row.digest:
                    self.report.unchanged += 1
                    continue
            try:
                department = self.departments.resolve(
                    row.body_name, row.body_uscc, row.division_code, create=create
                )
            except _Problem as problem:
                value = {"department_code": row.body_uscc, "division_code": row.division_code}
                self._reject(
                    [
                        RowError(
                            row.row,
                            self.binding.column_of(problem.field),
                            problem.field,
                            value.get(problem.field, row.body_name),
                            problem.code,
                            problem.message,
                        )
                    ]
                )
                continue
            if department.pk is not None:
                self.touched.add(department.pk)
            if found is None:
                planned.append(_Planned(row, None, 0, department))
                self.report.created += 1
            else:
                planned.append(_Planned(row, found[0], found[4], department))
                self.report.updated += 1
        return planned

    def _basic_items(self, planned: Sequence[_Planned]) -> dict[str, int]:
        wanted: dict[str, tuple[str, str, str, list[dict[str, Any]]]] = {}
        for plan in planned:
            if plan.row.basic_code:
                wanted.setdefault(plan.row.basic_code, plan.row.basic)
        if not wanted:
            return {}
        found = dict(
            BasicItem.objects.filter(basic_code__in=list(wanted)).values_list("basic_code", "pk")
        )
        missing = [code for code in wanted if code not in found]
        if missing:
            # get_or_create semantics in bulk: an existing basic item is never changed.
            BasicItem.objects.bulk_create(
                [
                    BasicItem(
                        basic_code=code,
                        name=wanted[code][0],
                        item_type=wanted[code][1],
                        level=wanted[code][2],
                        legal_bases=wanted[code][3],
                    )
                    for code in missing
                ],
                ignore_conflicts=True,
            )
            found.update(
                BasicItem.objects.filter(basic_code__in=missing).values_list("basic_code", "pk")
            )
        return found

    def _ensure_change_request(self, department: Department) -> ChangeRequest:
        if self.change_request is None:
            now = timezone.now()
            self.change_request = ChangeRequest.objects.create(
                kind=ChangeKind.IMPORT,
                status=ChangeStatus.APPROVED,
                department=department,
                reason=self._reason(),
                created_by=self.user,
                submitted_at=now,
                decided_at=now,
            )
            self.report.change_request = self.change_request.pk
        return self.change_request

    def _reason(self) -> str:
        return f"批量导入《{self.report.filename[:200]}》：{self.report.summary()}"

    def _publish(self, planned: Sequence[_Planned], first_row: int, last_row: int) -> None:
        """Write one batch as ``publish_content`` writes one item, in bulk: the item (new or
        updated columns, department, basic item, status published), a new immutable version,
        the current-version pointer, the facets, the search entries."""
        change_request = self._ensure_change_request(planned[0].department)
        now = timezone.now()
        stamp = Item._meta.get_field("updated_at").get_db_prep_save(now, connection)
        basic = self._basic_items(planned)
        published = ItemStatus.PUBLISHED.value
        new = [p for p in planned if p.item_id is None]
        changed = [p for p in planned if p.item_id is not None]
        _Insert(Item, _ITEM_GIVEN).run(
            (
                p.row.code,
                basic.get(p.row.basic_code),
                p.department.pk,
                p.department.division_id,
                published,
                1,
                *(p.row.columns[name] for name in _ITEM_COLUMNS),
                stamp,
                stamp,
            )
            for p in new
        )
        if new:
            ids = dict(
                Item.objects.filter(implementation_code__in=[p.row.code for p in new]).values_list(
                    "implementation_code", "pk"
                )
            )
            for plan in new:
                plan.item_id = ids[plan.row.code]
        _update_items(
            [
                (
                    *(p.row.columns[name] for name in _ITEM_COLUMNS),
                    p.department.pk,
                    basic.get(p.row.basic_code),
                    published,
                    p.version_count + 1,
                    stamp,
                    p.item_id,
                )
                for p in changed
            ]
        )
        _Insert(ItemVersion, _VERSION_GIVEN).run(
            (
                p.item_id,
                p.version_count + 1,
                p.row.text,
                p.row.digest,
                p.row.name,
                change_request.pk,
                self.actor,
                stamp,
                stamp,
            )
            for p in planned
        )
        item_ids = [p.item_id for p in planned]
        Item.objects.filter(pk__in=item_ids).update(
            current_version=Subquery(
                ItemVersion.objects.filter(
                    item_id=OuterRef("pk"), number=OuterRef("version_count")
                ).values("pk")[:1]
            )
        )
        if changed:
            ItemFacet.objects.filter(item_id__in=[p.item_id for p in changed]).delete()
        _Insert(ItemFacet, _FACET_GIVEN).run(
            (p.item_id, facet, value) for p in planned for facet, value in p.row.facets
        )
        search.index_items([Item(pk=item_id) for item_id in item_ids])
        self.report.batches += 1
        ChangeRequest.objects.filter(pk=change_request.pk).update(reason=self._reason())
        audit.record(
            "catalog:import:batch",
            "catalog.change_request",
            change_request.pk,
            after={
                "rows": [first_row, last_row],
                "created": [p.item_id for p in new],
                "updated": [p.item_id for p in changed],
                "totals": {
                    "created": self.report.created,
                    "updated": self.report.updated,
                    "unchanged": self.report.unchanged,
                    "rejected": self.report.rejected,
                },
            },
        )

    def finish(self) -> None:
        """Record the final counts on the change request (rows rejected after the last write)."""
        if self.change_request is None:
            return
        with transaction.atomic():
            ChangeRequest.objects.filter(pk=self.change_request.pk).update(reason=self._reason())
            audit.record(
                "catalog:import:finish",
                "catalog.change_request",
                self.change_request.pk,
                after={
                    "file": self.report.filename[:200],
                    "rows": self.report.rows,
                    "created": self.report.created,
                    "updated": self.report.updated,
                    "unchanged": self.report.unchanged,
                    "rejected": self.report.rejected,
                    "departments_created": list(self.report.departments_created),
                },
            )


def _authorise(user: Any, run: _Run) -> None:
    """The user must be a catalogue officer of every department the file touches (or an
    administrator of the node); creating departments is for administrators only."""
    if has_role(user, Role.NODE_ADMIN):
        return
    new = [d for d in run.departments.created if d.pk is None]
    if new:
        names = "、".join(d.name for d in new[:10])
        raise PermissionDenied(
            "catalog_import.department_create",
            f"文件中的实施主体在本节点不存在（{names}），只有平台管理员可以在导入时新建部门。",
            "Only node administrators may create departments through an import.",
            details={"departments": [d.name for d in new[:100]]},
        )
    departments = Department.objects.in_bulk(sorted(run.touched))
    denied = [d for d in departments.values() if not can_edit(user, d)]
    if denied:
        names = "、".join(d.name for d in denied[:10])
        raise PermissionDenied(
            "catalog.not_department_officer",
            f"您不是以下部门的事项管理员，不能导入其事项：{names}。",
            "You are not a catalogue officer of every department in the file.",
            details={"departments": [{"id": d.pk, "name": d.name} for d in denied[:100]]},
        )


def import_file(
    data: bytes,
    filename: str,
    *,
    user: Any,
    mapping: ImportMapping | None = None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int = 0,
    max_rows: int | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a catalogue file (``.xlsx`` or ``.csv``); returns the report.

    ``user`` is the acting staff user: the import's change request is theirs, and unless they
    administer the node they must be a catalogue officer of every department the file names
    (checked on the whole file before anything is written). ``workers`` > 0 validates rows in
    that many extra processes (worth it only where cores are free); ``max_rows`` refuses
    longer files. Raises ``ValidationError`` for a file that cannot be read, is too long, has
    no header row or misses required columns, or a bad mapping (nothing written);
    ``PermissionDenied`` (not a catalogue officer or node administrator, or not of every
    department in the file; nothing written);
    ``Conflict`` (``catalog_import.aborted``) when writing a batch failed — earlier batches
    stay committed. Row problems do not raise: they are in ``report.errors``.
    """
    started = time.perf_counter()
    mapping = mapping or ImportMapping()
    needs_check = not has_role(user, Role.NODE_ADMIN)
    if needs_check and not has_role(user, Role.CATALOG_OFFICER):
        raise PermissionDenied(
            "catalog_import.not_officer",
            "只有事项管理员或平台管理员可以导入事项。",
            "Only catalogue officers and node administrators may import items.",
        )
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValidationError(
            "catalog_import.batch_size",
            f"批次大小应为1–{MAX_BATCH_SIZE}。",
            f"Batch size must be 1–{MAX_BATCH_SIZE}.",
        )
    known = [*spreadsheet.header_lookup(), *mapping.columns]
    table = spreadsheet.read_table(data, filename, known)
    if max_rows is not None and len(table.rows) > max_rows:
        raise ValidationError(
            "catalog_import.too_many_rows",
            f"文件有{len(table.rows)}行，此处最多导入{max_rows}行；"
            "更长的清单请在服务器上用 zwfw import_items 导入。",
            f"The file has {len(table.rows)} rows; at most {max_rows} here.",
            details={"rows": len(table.rows), "max_rows": max_rows},
        )
    binding = bind_columns(table.headers, mapping)
    report = _new_report(filename, table, binding, dry_run)
    if needs_check and not dry_run:
        # A whole dry pass first, so that a file naming a department the user may not edit
        # is refused before its first batch is written.
        rehearsal = _Run(
            table,
            binding,
            _new_report(filename, table, binding, True),
            user=user,
            write=False,
            batch_size=batch_size,
            workers=workers,
            progress=None,
        )
        rehearsal.run()
        _authorise(user, rehearsal)
    run = _Run(
        table,
        binding,
        report,
        user=user,
        write=not dry_run,
        batch_size=batch_size,
        workers=workers,
        progress=progress,
    )
    run.run()
    if needs_check and dry_run:
        _authorise(user, run)
    report.departments_created = [d.name for d in run.departments.created]
    report.departments_matched = len(run.departments.matched)
    if not dry_run:
        run.finish()
    report.seconds = time.perf_counter() - started
    return report


def _new_report(
    filename: str, table: spreadsheet.Table, binding: Binding, dry_run: bool
) -> ImportReport:
    return ImportReport(
        filename=filename,
        format=table.format,
        encoding=table.encoding,
        sheet=table.sheet,
        dry_run=dry_run,
        header_row=table.header_row,
        rows=len(table.rows),
        columns={name: binding.sources[name] for name in binding.sources},
        ignored_columns=list(binding.ignored),
    )
