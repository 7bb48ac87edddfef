"""Staff work on the licence library: licence types, item links, manual and bulk issuance.

- Licence types are defined by a department (code = its USCC + 3 digits, GB/T 36904) with
  their face fields (照面信息: name, label, type, required, optional format as a regular
  expression), validity and issuing departments; :func:`update_licence_type` changes them
  (existing licences keep the fields they were signed with).
- :func:`bind_item` links a catalogue item whose result is 出证办结 to the type its cases issue
  (by the type's code); ``services.issue_for_case`` looks there first.
- :func:`issue_manually` issues one licence outside a case (e.g. a correction), and
  :func:`import_paper_licences` brings in existing paper licences from a CSV or Excel sheet:
  every row is checked, good rows are issued (signed at once, rendered on first download) and
  bad ones are reported with row, column and reason; nothing half-written stays.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from zwfw.catalog.models import Item
from zwfw.core import audit
from zwfw.core.errors import NotFound, PermissionDenied, ValidationError, ZwfwError
from zwfw.core.validators import validate_resident_id, validate_uscc
from zwfw.licences import selectors, services
from zwfw.licences.models import HolderKind, ItemLicenceType, Licence, LicenceType
from zwfw.organisations.models import Department, Role
from zwfw.organisations.selectors import has_role

#: Roles that may issue, import, revoke and define licence types for their department.
ISSUING_ROLES = (Role.DECIDER, Role.DEPARTMENT_ADMIN)
#: Largest sheet :func:`import_paper_licences` takes, in rows.
IMPORT_MAX_ROWS = 20_000


def may_manage(user: Any, department: Department) -> bool:
    return any(has_role(user, role, department) for role in ISSUING_ROLES)


def require_manager(user: Any, department: Department) -> None:
    if not may_manage(user, department):
        raise PermissionDenied(
            "licences.not_manager",
            "只有该部门的审批决定人员或部门管理员可以办理此项。",
            "Only deciders or administrators of the department may do this.",
        )


def get_type(code: str) -> LicenceType:
    found = LicenceType.objects.filter(code=(code or "").strip().upper()).first()
    if found is None:
        raise NotFound("licences.type_unknown", "证照类型不存在。", "Unknown licence type.")
    return found


def define_type(
    user: Any,
    *,
    department: Department,
    name: str,
    holder_kind: str,
    face_fields: list[dict[str, Any]] | None,
    validity_years: int | None,
    issuers: list[int] | None = None,
) -> LicenceType:
    require_manager(user, department)
    if not (name or "").strip():
        raise ValidationError("licences.type_name", "请填写证照类型名称。", "Name required.")
    issuer_rows = _departments(issuers) if issuers else [department]
    return services.create_licence_type(
        name=name,
        defining_department=department,
        holder_kind=holder_kind,
        face_fields=face_fields,
        validity_years=validity_years,
        issuers=issuer_rows,
        actor=user,
    )


def _departments(ids: list[int]) -> list[Department]:
    found = list(Department.objects.filter(pk__in=ids))
    missing = sorted(set(ids) - {department.pk for department in found})
    if missing:
        raise ValidationError(
            "licences.issuers",
            f"发证部门不存在：{missing}。",
            f"Unknown departments {missing}.",
            field="issuers",
        )
    return found


def _defining_department(licence_type: LicenceType) -> Department | None:
    return Department.objects.filter(uscc=licence_type.code[:18]).first()


def update_licence_type(
    user: Any,
    licence_type: LicenceType,
    *,
    name: str | None = None,
    face_fields: list[dict[str, Any]] | None = None,
    validity_years: int | None = None,
    issuers: list[int] | None = None,
) -> LicenceType:
    """Change a type (its defining department's managers). Issued licences are not touched."""
    owner = _defining_department(licence_type)
    if owner is None or not may_manage(user, owner):
        raise PermissionDenied(
            "licences.not_type_owner",
            "只有定义该证照类型的部门可以修改它。",
            "Only the defining department may change a licence type.",
        )
    before = {
        "name": licence_type.name,
        "face_fields": licence_type.face_fields,
        "validity_years": licence_type.validity_years,
        "issuers": sorted(licence_type.departments.values_list("pk", flat=True)),
    }
    with transaction.atomic():
        if name is not None:
            if not name.strip():
                raise ValidationError(
                    "licences.type_name", "请填写证照类型名称。", "Name required."
                )
            licence_type.name = name.strip()[:200]
        if face_fields is not None:
            licence_type.face_fields = services.check_face_fields(face_fields)
        if validity_years is not None:
            licence_type.validity_years = validity_years or None
        licence_type.save()
        if issuers is not None:
            licence_type.departments.set(_departments(issuers))
        after = {
            "name": licence_type.name,
            "face_fields": licence_type.face_fields,
            "validity_years": licence_type.validity_years,
            "issuers": sorted(licence_type.departments.values_list("pk", flat=True)),
        }
        audit.record(
            "licences:type:update",
            "licences.licencetype",
            licence_type.pk,
            before=before,
            after=after,
            actor=services.actor_text(user),
        )
    return licence_type


def bind_item(user: Any, licence_type: LicenceType, implementation_code: str) -> ItemLicenceType:
    """Link an item whose result is 出证办结 to ``licence_type`` (the item's department manages)."""
    item = (
        Item.objects.select_related("department", "current_version")
        .filter(implementation_code=(implementation_code or "").strip())
        .first()
    )
    if item is None:
        raise NotFound("licences.item_unknown", "事项不存在。", "Unknown item.")
    require_manager(user, item.department)
    content = item.current_version.content if item.current_version else {}
    if str(content.get("result_type", "")) != "1":
        raise ValidationError(
            "licences.item_not_licence",
            "该事项的审批结果类型不是“出证办结”，不能关联证照类型。",
            "The item's result type is not 出证办结.",
            field="implementation_code",
        )
    if not licence_type.departments.filter(pk=item.department_id).exists():
        raise ValidationError(
            "licences.not_issuer",
            "事项的实施部门不是该证照类型的发证部门。",
            "The item's department does not issue this licence type.",
            field="implementation_code",
        )
    with transaction.atomic():
        binding, _ = ItemLicenceType.objects.update_or_create(
            item=item,
            defaults={"licence_type": licence_type, "bound_by": services.actor_text(user)},
        )
        audit.record(
            "licences:type:bind_item",
            "licences.itemlicencetype",
            binding.pk,
            after={"item": item.implementation_code, "type": licence_type.code},
            actor=services.actor_text(user),
        )
    return binding


def _check_holder(holder_kind: str, holder_id_number: str, field_name: str) -> str:
    number = (holder_id_number or "").strip().upper()
    if holder_kind == HolderKind.COMPANY:
        validate_uscc(number, field=field_name)
    else:
        validate_resident_id(number, field=field_name)
    return number


def issue_manually(
    user: Any,
    *,
    licence_type: LicenceType,
    issuer: Department,
    holder_kind: str,
    holder_name: str,
    holder_id_number: str,
    face: dict[str, Any],
    valid_from: dt.date | None = None,
) -> Licence:
    """Issue one licence outside a case (signed now; PDF and OFD rendered by the worker)."""
    require_manager(user, issuer)
    if holder_kind != licence_type.holder_kind:
        raise ValidationError(
            "licences.holder_kind",
            "持证主体类型与证照类型不符。",
            "The holder kind does not match the licence type.",
            field="holder_kind",
        )
    number = _check_holder(holder_kind, holder_id_number, "holder_id_number")
    # the holder's name and number are face fields of every type: filled from the holder
    face = {"holder_name": holder_name.strip(), "holder_id": number, **face}
    return services.issue_licence(
        licence_type=licence_type,
        holder_kind=holder_kind,
        holder_name=holder_name,
        holder_id_number=number,
        face=face,
        issuer=issuer,
        actor=user,
        valid_from=valid_from,
        defer_files=True,
    )


def change_licence(user: Any, identifier: str, *, face: dict[str, Any], reason: str) -> Licence:
    """变更: the next version with ``face`` changes (the holder's name and number stay)."""
    licence = selectors.issued_licence(identifier)
    require_manager(user, licence.issuer)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            "licences.change_reason", "请填写变更原因。", "A reason is required.", field="reason"
        )
    fixed = {"holder_name", "holder_id"} & set(face)
    if fixed:
        raise ValidationError(
            "licences.change_holder",
            "持证主体不能通过变更修改，请注销后重新发证。",
            "The holder cannot be changed.",
            field="face",
        )
    unknown = set(face) - {entry["name"] for entry in licence.licence_type.face_fields}
    if unknown:
        raise ValidationError(
            "licences.unknown_fields",
            f"证照类型没有这些照面字段：{'、'.join(sorted(unknown))}。",
            f"Unknown face fields {sorted(unknown)}.",
            field="face",
        )
    with transaction.atomic():
        new = services.renew(licence, actor=user, face=face)
        audit.record(
            "licences:licence:change",
            "licences.licence",
            new.pk,
            after={"previous": licence.identifier, "fields": sorted(face), "reason": reason},
            actor=services.actor_text(user),
        )
    return new


def history(user: Any, identifier: str) -> list[Licence]:
    """Every version of the licence, oldest first: for its holder or the issuer's staff."""
    from zwfw.licences.use import staff_departments

    licence = selectors.issued_licence(identifier)
    is_holder = selectors.licences_of(user).filter(pk=licence.pk).exists()
    if not is_holder and licence.issuer_id not in staff_departments(user):
        raise NotFound("licences.unknown", "证照不存在。", "Unknown licence.")
    return list(
        Licence.objects.filter(issuer_id=licence.issuer_id, serial=licence.serial).order_by(
            "version"
        )
    )


# --- bulk import of paper licences ---------------------------------------------------------------

COLUMN_TYPE = "证照类型代码"
COLUMN_HOLDER_KIND = "持证主体类型"
COLUMN_HOLDER_NAME = "持证主体名称"
COLUMN_HOLDER_ID = "持证主体证件号码"
COLUMN_ISSUED_ON = "发证日期"
COLUMN_VALID_UNTIL = "有效期至"
COLUMN_ORIGINAL = "原证照编号"
FIXED_COLUMNS = (
    COLUMN_TYPE,
    COLUMN_HOLDER_KIND,
    COLUMN_HOLDER_NAME,
    COLUMN_HOLDER_ID,
    COLUMN_ISSUED_ON,
)
_KINDS = {
    "自然人": HolderKind.PERSON,
    "person": HolderKind.PERSON,
    "个人": HolderKind.PERSON,
    "法人": HolderKind.COMPANY,
    "company": HolderKind.COMPANY,
    "法人或其他组织": HolderKind.COMPANY,
}


@dataclass
class RowError:
    row: int  # 1-based sheet row (the header is row 1)
    column: str
    code: str
    message: str


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)  # identifiers
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0


def _read_rows(content: bytes, filename: str) -> list[list[str]]:
    name = (filename or "").lower()
    if name.endswith((".xlsx", ".xlsm")):
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_filelike(io.BytesIO(content))
            sheet = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
        except Exception as exc:  # calamine raises its own error types for damaged files
            raise ValidationError(
                "licences.import_file", "无法读取该 Excel 文件。", f"Unreadable workbook: {exc}"
            ) from exc
        return [[_cell_text(cell) for cell in row] for row in sheet]
    if name.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = content.decode("gb18030")
            except UnicodeDecodeError as exc:
                raise ValidationError(
                    "licences.import_encoding",
                    "CSV 文件应为 UTF-8 或 GB18030 编码。",
                    "CSV must be UTF-8 or GB18030.",
                ) from exc
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    raise ValidationError(
        "licences.import_format",
        "请上传 .xlsx 或 .csv 文件。",
        "Upload an .xlsx or .csv file.",
        field="file",
    )


def _cell_text(cell: Any) -> str:
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell if cell is not None else "").strip()


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def _parse_date(text: str) -> dt.date | None:
    match = _DATE.match(text.strip())
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def import_paper_licences(
    user: Any, issuer: Department, content: bytes, filename: str
) -> ImportReport:
    """Issue electronic licences for existing paper ones listed in a sheet (see module doc)."""
    require_manager(user, issuer)
    rows = [row for row in _read_rows(content, filename) if any(cell for cell in row)]
    if not rows:
        raise ValidationError("licences.import_empty", "文件没有内容。", "The file is empty.")
    header = rows[0]
    missing = [column for column in FIXED_COLUMNS if column not in header]
    if missing:
        raise ValidationError(
            "licences.import_header",
            f"表头缺少列：{'、'.join(missing)}。",
            f"Missing columns {missing}.",
            details={"missing": missing},
        )
    if len(rows) - 1 > IMPORT_MAX_ROWS:
        raise ValidationError(
            "licences.import_too_many",
            f"一次最多导入 {IMPORT_MAX_ROWS} 行。",
            f"At most {IMPORT_MAX_ROWS} rows.",
        )
    position = {name: index for index, name in enumerate(header)}
    report = ImportReport(rows=len(rows) - 1)
    types: dict[str, LicenceType | None] = {}
    seen: set[tuple[str, str]] = set()
    planned: list[dict[str, Any]] = []
    for number, row in enumerate(rows[1:], start=2):
        cells = {name: (row[index] if index < len(row) else "") for name, index in position.items()}
        errors = _check_row(number, cells, issuer, types, seen)
        if errors:
            report.errors.extend(errors)
            continue
        planned.append(_planned(number, cells, types))
    with transaction.atomic():
        for entry in planned:
            try:
                licence = services.issue_licence(
                    licence_type=entry["type"],
                    holder_kind=entry["holder_kind"],
                    holder_name=entry["holder_name"],
                    holder_id_number=entry["holder_id"],
                    face=entry["face"],
                    issuer=issuer,
                    actor=user,
                    valid_from=entry["issued_on"],
                    valid_until=entry["valid_until"],
                    original_number=entry["original"],
                    defer_files=True,
                )
            except ZwfwError as error:  # a face field the type requires, checked last
                report.errors.append(
                    RowError(entry["row"], error.field or "", error.code, error.message)
                )
                continue
            report.imported.append(licence.identifier)
        audit.record(
            "licences:licence:import",
            "licences.licence",
            "",
            after={
                "issuer": issuer.pk,
                "rows": report.rows,
                "imported": len(report.imported),
                "errors": len(report.errors),
            },
            actor=services.actor_text(user),
        )
    report.errors.sort(key=lambda error: error.row)
    return report


def _check_row(
    number: int,
    cells: dict[str, str],
    issuer: Department,
    types: dict[str, LicenceType | None],
    seen: set[tuple[str, str]],
) -> list[RowError]:
    errors: list[RowError] = []

    def bad(column: str, code: str, message: str) -> None:
        errors.append(RowError(number, column, code, message))

    code = cells.get(COLUMN_TYPE, "").upper()
    if code not in types:
        licence_type = LicenceType.objects.filter(code=code).first()
        if licence_type is not None and not licence_type.departments.filter(pk=issuer.pk).exists():
            licence_type = None
        types[code] = licence_type
    licence_type = types[code]
    if licence_type is None:
        bad(COLUMN_TYPE, "licences.type_unknown", f"证照类型代码“{code}”不存在或本部门无权签发。")
    kind = _KINDS.get(cells.get(COLUMN_HOLDER_KIND, "").strip().lower())
    if kind is None:
        bad(COLUMN_HOLDER_KIND, "licences.holder_kind", "持证主体类型应为“自然人”或“法人”。")
    elif licence_type is not None and kind != licence_type.holder_kind:
        bad(COLUMN_HOLDER_KIND, "licences.holder_kind", "持证主体类型与证照类型不符。")
    if not cells.get(COLUMN_HOLDER_NAME, "").strip():
        bad(COLUMN_HOLDER_NAME, "licences.holder", "持证主体名称为空。")
    holder_id = cells.get(COLUMN_HOLDER_ID, "").strip().upper()
    if kind is not None:
        try:
            _check_holder(kind, holder_id, COLUMN_HOLDER_ID)
        except ValidationError as error:
            bad(COLUMN_HOLDER_ID, error.code, error.message)
    errors.extend(_check_dates(number, cells))
    original = cells.get(COLUMN_ORIGINAL, "")
    if original and licence_type is not None:
        key = (licence_type.code, original)
        if key in seen:
            bad(COLUMN_ORIGINAL, "licences.duplicate", f"原证照编号“{original}”在文件中重复。")
        seen.add(key)
    if licence_type is not None:
        errors.extend(_check_face_cells(number, cells, licence_type))
    return errors


def _check_dates(number: int, cells: dict[str, str]) -> list[RowError]:
    errors: list[RowError] = []

    def bad(column: str, code: str, message: str) -> None:
        errors.append(RowError(number, column, code, message))

    issued_on = _parse_date(cells.get(COLUMN_ISSUED_ON, ""))
    if issued_on is None:
        bad(COLUMN_ISSUED_ON, "licences.date", "发证日期应为日期，如 2024-03-01。")
    elif issued_on > timezone.localdate():
        bad(COLUMN_ISSUED_ON, "licences.date", "发证日期不能晚于今天。")
    until_text = cells.get(COLUMN_VALID_UNTIL, "")
    if until_text and until_text not in ("长期", "长期有效"):
        until = _parse_date(until_text)
        if until is None:
            bad(COLUMN_VALID_UNTIL, "licences.date", "有效期至应为日期或“长期”。")
        elif issued_on is not None and until < issued_on:
            bad(COLUMN_VALID_UNTIL, "licences.date", "有效期至早于发证日期。")
    return errors


def _face_column(entry: dict[str, Any], cells: dict[str, str]) -> str | None:
    for column in (entry.get("label"), entry["name"]):
        if column and column in cells:
            return str(column)
    return None


def _check_face_cells(
    number: int, cells: dict[str, str], licence_type: LicenceType
) -> list[RowError]:
    errors = []
    for entry in licence_type.face_fields:
        column = _face_column(entry, cells)
        value = cells.get(column, "") if column else ""
        label = str(entry.get("label") or entry["name"])
        if not value:
            if entry.get("required") and entry["name"] not in ("holder_name", "holder_id"):
                errors.append(
                    RowError(
                        number, label, "licences.face_required", f"照面信息“{label}”为必填项。"
                    )
                )
            continue
        problem = services.face_value_problem(entry, value)
        if problem:
            errors.append(RowError(number, label, "licences.face_format", problem))
    return errors


def _planned(
    number: int, cells: dict[str, str], types: dict[str, LicenceType | None]
) -> dict[str, Any]:
    licence_type = types[cells[COLUMN_TYPE].upper()]
    assert licence_type is not None  # rows with an unknown type were reported
    face: dict[str, Any] = {}
    for entry in licence_type.face_fields:
        column = _face_column(entry, cells)
        if column and cells.get(column):
            face[entry["name"]] = cells[column]
    holder_name = cells[COLUMN_HOLDER_NAME].strip()
    holder_id = cells[COLUMN_HOLDER_ID].strip().upper()
    face.setdefault("holder_name", holder_name)
    face.setdefault("holder_id", holder_id)
    until_text = cells.get(COLUMN_VALID_UNTIL, "")
    return {
        "type": licence_type,
        "holder_kind": _KINDS[cells[COLUMN_HOLDER_KIND].strip().lower()],
        "holder_name": holder_name,
        "holder_id": holder_id,
        "face": face,
        "issued_on": _parse_date(cells[COLUMN_ISSUED_ON]),
        "valid_until": _parse_date(until_text) if until_text else None,
        "original": cells.get(COLUMN_ORIGINAL, "").strip(),
        "row": number,
    }
