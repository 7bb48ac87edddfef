"""Journey J6: an officer imports a county's Excel list of 1,000 items; 20 rows are bad."""

from __future__ import annotations

import pytest

from zwfw.catalog import importing
from zwfw.catalog.models import ChangeRequest, Item, ItemFacet, ItemVersion
from zwfw.catalog.tests import import_fixtures as fx
from zwfw.core.models import AuditRecord
from zwfw.organisations.models import Department, Role
from zwfw.organisations.services import create_department, grant_role

pytestmark = pytest.mark.django_db

BAD_USCC_ROWS = range(50, 1000, 140)  # 7 rows
BAD_TYPE_ROWS = range(90, 1000, 140)  # 7 rows
BAD_DAYS_ROWS = range(130, 900, 140)  # 6 rows


def county_list() -> bytes:
    bad_uscc = fx.COUNTY_USCC[:-1] + ("0" if fx.COUNTY_USCC[-1] != "0" else "1")
    rows = []
    for number in range(1, 1001):
        cells: dict[str, str] = {}
        if number in BAD_USCC_ROWS:
            cells["department_code"] = bad_uscc
        elif number in BAD_TYPE_ROWS:
            cells["item_type"] = "内部审批"
        elif number in BAD_DAYS_ROWS:
            cells["promised_time_limit"] = "十五天"
        rows.append(fx.county_row(number, **cells))
    title = ["岳池县政务服务事项实施清单（2026年版）"]
    return fx.xlsx_bytes([title, *fx.table(rows)])


def test_j6_county_list_980_imported_20_reported_nothing_half_written(django_user_model) -> None:
    fx.divisions()
    bureau = create_department(
        name=fx.COUNTY_BUREAU, division_code="511621", level=4, uscc=fx.COUNTY_USCC
    )
    officer = django_user_model.objects.create_user("chen", password="x" * 12)
    grant_role(user=officer, department=bureau, role=Role.CATALOG_OFFICER)

    report = importing.import_file(county_list(), "岳池县实施清单.xlsx", user=officer)

    assert (report.rows, report.created, report.rejected) == (1000, 980, 20)
    assert report.header_row == 2  # below the title row
    by_row = {error.row: error for error in report.errors}
    assert len(report.errors) == 20
    # Spreadsheet row = item number + 2 (title row, header row).
    for number in BAD_USCC_ROWS:
        error = by_row[number + 2]
        assert (error.column, error.code) == ("实施主体统一社会信用代码", "uscc.check_digit")
        assert "第18位校验码应为" in error.message
    for number in BAD_TYPE_ROWS:
        error = by_row[number + 2]
        assert (error.column, error.value) == ("事项类型", "内部审批")
        assert "不是事项类型的代码或名称" in error.message
    for number in BAD_DAYS_ROWS:
        error = by_row[number + 2]
        assert (error.column, error.value) == ("承诺办结时限", "十五天")
        assert "应填写天数（阿拉伯数字，如15）" in error.message

    # Nothing half-written: 980 whole items, each with its version, pointer and facets.
    assert Item.objects.count() == 980
    assert ItemVersion.objects.count() == 980
    assert not Item.objects.filter(current_version__isnull=True).exists()
    assert ItemFacet.objects.values("item").distinct().count() == 980
    bad_codes = {
        f"XK{n:05d}000-4-511621-{fx.COUNTY_USCC}-01"
        for n in (*BAD_USCC_ROWS, *BAD_TYPE_ROWS, *BAD_DAYS_ROWS)
    }
    assert not Item.objects.filter(implementation_code__in=bad_codes).exists()
    assert set(Item.objects.values_list("department", flat=True)) == {bureau.pk}
    assert Department.objects.count() == 1
    change = ChangeRequest.objects.get()
    assert change.created_by == officer
    assert "新增980" in change.reason
    assert "拒绝20" in change.reason
    assert AuditRecord.objects.filter(action="catalog:import:batch").count() == 1
    # Fixing the 20 rows and importing again adds them and leaves the 980 alone.
    fixed = importing.import_file(
        fx.xlsx_bytes(fx.table([fx.county_row(n) for n in range(1, 1001)])),
        "岳池县实施清单（修正）.xlsx",
        user=officer,
    )
    assert (fixed.created, fixed.unchanged, fixed.rejected) == (20, 980, 0)
    assert ItemVersion.objects.count() == 1000
