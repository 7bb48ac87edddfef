"""Export of published items to the import template (``zwfw export_items``, ``GET …/export``).

Each published item is one row: its current version's content through the template's columns
(:func:`zwfw.catalog.spreadsheet.cells_from_content`), so importing the file again changes
nothing. Items are read in keyset pages of 2,000 with their versions in one query per page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from zwfw.catalog import spreadsheet
from zwfw.catalog.models import Item, ItemStatus, ItemVersion
from zwfw.core.errors import ValidationError
from zwfw.organisations.models import Department
from zwfw.organisations.selectors import division_prefix

PAGE = 2000


def resolve_department(value: str) -> Department:
    """A department given by id, USCC or exact name; raises ``catalog_export.department``."""
    value = value.strip()
    queryset = Department.objects.all()
    if value.isdigit() and len(value) < 18:
        found = list(queryset.filter(pk=int(value))[:2])
    elif len(value) == 18:
        found = list(queryset.filter(uscc=value.upper())[:2])
    else:
        found = list(queryset.filter(name=value)[:2])
    if len(found) != 1:
        reason = "不唯一（请改用部门编号或统一社会信用代码）" if found else "不存在"
        raise ValidationError(
            "catalog_export.department",
            f"部门“{value[:100]}”{reason}。",
            "No single department matches.",
            field="department",
        )
    return found[0]


def export_rows(
    *, department: Department | None = None, division: str | None = None
) -> Iterator[list[str]]:
    """Template rows of the published items (of a department, or of a division and below)."""
    queryset = Item.objects.filter(status=ItemStatus.PUBLISHED, current_version__isnull=False)
    if department is not None:
        queryset = queryset.filter(department=department)
    if division:
        queryset = queryset.filter(division__code__startswith=division_prefix(division))
    last = 0
    while True:
        page = list(
            queryset.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "division_id", "current_version_id")[:PAGE]
        )
        if not page:
            return
        contents = dict(
            ItemVersion.objects.filter(pk__in=[version for _, _, version in page]).values_list(
                "pk", "content"
            )
        )
        for _pk, division_code, version in page:
            cells = spreadsheet.cells_from_content(contents[version], division_code=division_code)
            yield [cells.get(c.field, "") for c in spreadsheet.TEMPLATE_COLUMNS]
        last = page[-1][0]


def export_file(
    out: IO[bytes],
    fmt: str,
    *,
    department: Department | None = None,
    division: str | None = None,
) -> int:
    """Write published items to ``out`` as ``xlsx`` or ``csv``; returns the number of rows."""
    count = 0

    def counted() -> Iterator[list[str]]:
        nonlocal count
        for row in export_rows(department=department, division=division):
            count += 1
            yield row

    if fmt == "xlsx":
        spreadsheet.write_xlsx(out, counted())
    elif fmt == "csv":
        spreadsheet.write_csv(out, counted())
    else:
        raise ValidationError(
            "catalog_export.format",
            f"不支持的导出格式“{fmt[:20]}”：请使用xlsx或csv。",
            "Export formats are xlsx and csv.",
        )
    return count


def write_template(out: IO[bytes]) -> None:
    """The blank import template (.xlsx): headers, notes, drop-downs, the help sheet."""
    spreadsheet.write_xlsx(out, [], template=True)
