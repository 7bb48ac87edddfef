"""Catalogue import and export over the API: the blank template, imports, exports.

The template is public (it holds no data). Importing needs a signed-in catalogue officer (of
every department the file names) or node administrator — decided by
:func:`zwfw.catalog.importing.import_file`; exporting needs a signed-in staff member. Files
are processed within the request, so the API takes at most ``API_MAX_ROWS`` rows; larger
lists go through ``zwfw import_items`` on the server.
"""

from __future__ import annotations

import io
import tempfile
from typing import Any, Literal
from urllib.parse import quote

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.security import django_auth

from zwfw.api.schemas import ErrorOut
from zwfw.catalog import exporting, importing
from zwfw.core.errors import PermissionDenied, ValidationError

router = Router(tags=["catalog import"])

#: Largest upload accepted (bytes) and most rows imported in one request.
API_MAX_BYTES = 20 * 1024 * 1024
API_MAX_ROWS = 20_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportErrorOut(Schema):
    row: int
    column: str
    field: str
    value: str
    code: str
    message: str


class ImportReportOut(Schema):
    filename: str
    format: str
    encoding: str
    sheet: str
    dry_run: bool
    header_row: int
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    batches: int
    departments_created: list[str]
    departments_matched: int
    change_request: int | None
    columns: dict[str, str]
    ignored_columns: list[str]
    errors: list[ImportErrorOut]
    errors_truncated: bool
    seconds: float
    summary: str


def _attachment(response: HttpResponseBase, filename: str) -> HttpResponseBase:
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@router.get(
    "/import-template",
    summary="The blank catalogue import template (.xlsx)",
    response={200: None},
)
def import_template(request: HttpRequest) -> HttpResponseBase:
    out = io.BytesIO()
    exporting.write_template(out)
    return _attachment(HttpResponse(out.getvalue(), content_type=XLSX), "事项导入模板.xlsx")


@router.post(
    "/imports",
    auth=django_auth,
    response={200: ImportReportOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut},
    summary="Import items from an .xlsx or .csv file (report with per-row errors)",
)
def create_import(
    request: HttpRequest,
    file: File[UploadedFile],
    mapping: Form[str] = "",
    dry_run: Form[bool] = False,
) -> dict[str, Any]:
    if file.size is not None and file.size > API_MAX_BYTES:
        raise ValidationError(
            "catalog_import.file_too_large",
            f"文件超过{API_MAX_BYTES // 1024 // 1024} MB，请在服务器上用 zwfw import_items 导入。",
            "The file is too large for the API; use zwfw import_items.",
            details={"max_bytes": API_MAX_BYTES},
        )
    parsed_mapping = importing.parse_mapping(mapping) if mapping.strip() else None
    report = importing.import_file(
        file.read(),
        file.name or "upload",
        user=request.user,
        mapping=parsed_mapping,
        dry_run=dry_run,
        max_rows=API_MAX_ROWS,
    )
    return report.as_dict()


class ExportFilter(Schema):
    department: str | None = None
    division: str | None = None
    format: Literal["xlsx", "csv"] = "xlsx"


@router.get(
    "/export",
    auth=django_auth,
    response={200: None, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut},
    summary="Published items in the import template (.xlsx or .csv)",
)
def export_items(request: HttpRequest, filters: Query[ExportFilter]) -> HttpResponseBase:
    if not getattr(request.user, "is_staff", False):
        raise PermissionDenied(
            "catalog_export.staff_only",
            "只有工作人员可以导出事项清单。",
            "Only staff may export the catalogue.",
        )
    department = exporting.resolve_department(filters.department) if filters.department else None
    division = (filters.division or "").strip() or None
    if division is not None and not (division.isascii() and division.isdigit()):
        raise ValidationError(
            "catalog_export.division",
            "行政区划代码应为数字。",
            "The division code must be digits.",
            field="division",
        )
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (response closes it)
    exporting.export_file(out, filters.format, department=department, division=division)
    out.seek(0)
    content_type = XLSX if filters.format == "xlsx" else "text/csv; charset=utf-8"
    response = FileResponse(out, content_type=content_type)
    return _attachment(response, f"事项清单.{filters.format}")
