"""Builders of import files for the import/export tests: valid template rows, CSV, Excel."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from zwfw.catalog import spreadsheet
from zwfw.catalog.content import validate_content
from zwfw.catalog.tests import factories
from zwfw.core.demo import government_uscc
from zwfw.organisations.models import Department, Division

CITY_BUREAU = "广安市市场监督管理局"
CITY_USCC = government_uscc("511600", 4)
COUNTY_USCC = government_uscc("511621", 30)


def divisions() -> dict[str, Division]:
    """四川省, 广安市 and two of its counties."""
    province, _ = Division.objects.get_or_create(
        code="510000", defaults={"name": "四川省", "level": 1, "full_name": "四川省"}
    )
    city, _ = Division.objects.get_or_create(
        code="511600",
        defaults={"name": "广安市", "level": 2, "parent": province, "full_name": "四川省广安市"},
    )
    found = {"510000": province, "511600": city}
    for code, name in (("511602", "广安区"), ("511621", "岳池县")):
        found[code], _ = Division.objects.get_or_create(
            code=code,
            defaults={"name": name, "level": 3, "parent": city, "full_name": f"四川省广安市{name}"},
        )
    return found


def city_bureau(uscc: str | None = CITY_USCC) -> Department:
    """广安市市场监督管理局 (with its USCC unless ``uscc`` is None)."""
    divisions()
    department = factories.department(CITY_BUREAU)
    if uscc and department.uscc != uscc:
        department.uscc = uscc
        department.save(update_fields=["uscc"])
    return department


def content(number: int = 1, **overrides: Any) -> dict[str, Any]:
    """A valid content document of item ``number`` (own basic and implementation code)."""
    basic = f"XK{number:05d}000"
    data = factories.content(
        basic_code=basic,
        implementation_code=f"{basic}-3-511600-{CITY_USCC}-01",
        implementing_body={"name": CITY_BUREAU, "uscc": CITY_USCC},
    )
    data["name"] = f"{data['name']}{number}" if number > 1 else data["name"]
    data.update(overrides)
    return data


def row(number: int = 1, division_code: str = "511600", **cells: str) -> dict[str, str]:
    """The template cells (by field) of item ``number``; ``cells`` override single cells."""
    dumped = validate_content(content(number)).model_dump(mode="json")
    found = spreadsheet.cells_from_content(dumped, division_code=division_code)
    found.update(cells)
    return found


def table(
    rows: Iterable[Mapping[str, str]], fields: Sequence[str] | None = None
) -> list[list[str]]:
    """Header (template headers, or the given fields' headers) and the rows, as lists."""
    columns = (
        [spreadsheet.COLUMNS_BY_FIELD[f] for f in fields]
        if fields is not None
        else list(spreadsheet.TEMPLATE_COLUMNS)
    )
    return [[c.header for c in columns]] + [[r.get(c.field, "") for c in columns] for r in rows]


def csv_bytes(lines: Sequence[Sequence[str]], encoding: str = "utf-8") -> bytes:
    """CSV text of ``lines`` (``utf-8``, ``utf-8-sig`` or ``gb18030``)."""
    out = io.StringIO(newline="")
    csv.writer(out).writerows(lines)
    return out.getvalue().encode(encoding)


def xlsx_bytes(lines: Sequence[Sequence[Any]], sheet: str = "事项") -> bytes:
    """An Excel workbook with ``lines`` on one sheet (values written as given)."""
    from openpyxl import Workbook

    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    for line in lines:
        worksheet.append([value if value != "" else None for value in line])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


COUNTY_BUREAU = "岳池县市场监督管理局"


def county_row(number: int, **cells: str) -> dict[str, str]:
    """Item ``number`` of 岳池县's list (county level, 岳池县市场监督管理局)."""
    basic = f"XK{number:05d}000"
    data = content(
        number,
        implementation_code=f"{basic}-4-511621-{COUNTY_USCC}-01",
        implementing_body={"name": COUNTY_BUREAU, "uscc": COUNTY_USCC},
        level="4",
        place="岳池县政务服务中心一楼市场监管窗口",
    )
    dumped = validate_content(data).model_dump(mode="json")
    found = spreadsheet.cells_from_content(dumped, division_code="511621")
    found.update(cells)
    return found
