"""The packaged division index and ``load_divisions`` (upsert into the Division table)."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command

from zwfw.core.models import AuditRecord
from zwfw.core.validators import PROVINCE_PREFIXES
from zwfw.organisations.divisions import (
    DATA_DIR,
    DivisionRecord,
    build_index,
    division_index,
    load_divisions,
    lookup,
)
from zwfw.organisations.models import Division

TOTAL = 3358  # 3214 in the 2026 list + 144 codes only in the 2023 list


# --- the index (no database) ------------------------------------------------------------


def test_index_counts() -> None:
    index = division_index()
    assert len(index) == TOTAL
    assert Counter((r.level, r.is_current) for r in index.values()) == {
        (1, True): 34,
        (2, True): 333,
        (3, True): 2847,
        (2, False): 9,  # the 2023 placeholders 110100 市辖区, 419000 省直辖县级行政区划 …
        (3, False): 135,  # development zones and counties merged away since 2023
    }
    assert len(index.current()) == 3214
    assert len(index.province_prefixes) == 34
    assert index.province_prefixes == PROVINCE_PREFIXES  # the validators' own list
    assert division_index() is index  # loaded once


def test_index_records() -> None:
    assert lookup("511602") == DivisionRecord(
        code="511602",
        name="广安区",
        level=3,
        parent_code="511600",
        full_name="四川省广安市广安区",
        is_current=True,
        source="mca2026",
    )
    assert lookup("110101").parent_code == "110000"  # municipal districts hang off the province
    assert lookup("110101").full_name == "北京市东城区"
    assert lookup("419001").full_name == "河南省济源市"
    placeholder = lookup("419000")
    assert placeholder is not None
    assert placeholder.is_placeholder
    assert (placeholder.full_name, placeholder.is_current, placeholder.source) == (
        "河南省省直辖县级行政区划",
        False,
        "nbs2023",
    )
    # 2023-only county under a placeholder: the placeholder is kept as parent, not in the name.
    assert (lookup("500105").parent_code, lookup("500105").full_name) == ("500100", "重庆市江北区")
    assert lookup("441900").level == 2  # 东莞 is a county in the 2023 area list, a city in 2026
    assert lookup("440524") is None  # 潮阳县, abolished before both lists
    assert not any(r.is_placeholder for r in division_index().values() if r.is_current)


def test_every_parent_exists_and_sits_one_level_up() -> None:
    index = build_index()
    for record in index.values():
        if record.level == 1:
            assert record.parent_code is None
            continue
        parent = index[record.parent_code]
        assert parent.level < record.level
        assert record.code[:2] == parent.code[:2]
        assert record.full_name.startswith(index[record.code[:2] + "0000"].full_name)


def test_data_files_and_attribution_ship_with_the_package() -> None:
    names = sorted(p.name for p in DATA_DIR.iterdir())
    assert names == [
        "README.md",
        "mca2026_real-china-division_counties.csv",
        "nbs2023_modood_areas.csv",
        "nbs2023_modood_cities.csv",
        "nbs2023_modood_provinces.csv",
    ]
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert "CC-BY-4.0" in readme
    assert "nbsetsail/real-china-division" in readme
    assert "modood/Administrative-divisions-of-China" in readme


# --- loading into the database ------------------------------------------------------------


@pytest.mark.django_db
def test_load_creates_every_division_in_few_queries(django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(40):
        result = load_divisions()
    assert (result.created, result.updated, result.retired, result.unchanged) == (TOTAL, 0, 0, 0)
    assert result.seconds < 5
    assert Division.objects.count() == TOTAL
    assert Division.objects.filter(is_current=True).count() == 3214
    guang_an = Division.objects.select_related("parent__parent").get(code="511602")
    assert (guang_an.name, guang_an.level, guang_an.full_name, guang_an.source) == (
        "广安区",
        3,
        "四川省广安市广安区",
        "mca2026",
    )
    assert (guang_an.parent.code, guang_an.parent.parent.code) == ("511600", "510000")
    assert guang_an.parent.parent.parent_id is None
    old = Division.objects.get(code="130171")
    assert (old.parent_id, old.is_current, old.source) == ("130100", False, "nbs2023")
    assert Division.objects.get(code="110105").parent_id == "110000"
    assert Division.objects.get(code="110100").is_current is False
    audit = AuditRecord.objects.get(action="organisations:division:load")
    assert audit.object_type == "organisations.Division"
    assert audit.after == {
        "created": TOTAL,
        "updated": 0,
        "retired": 0,
        "unchanged": 0,
        "total": TOTAL,
        "sources": ["mca2026", "nbs2023"],
    }


@pytest.mark.django_db
def test_load_is_idempotent(django_assert_max_num_queries) -> None:
    load_divisions()
    before = list(Division.objects.order_by("code").values_list())
    with django_assert_max_num_queries(3):
        again = load_divisions()
    assert (again.created, again.updated, again.retired, again.unchanged) == (0, 0, 0, TOTAL)
    assert list(Division.objects.order_by("code").values_list()) == before
    assert AuditRecord.objects.filter(action="organisations:division:load").count() == 1


@pytest.mark.django_db
def test_load_repairs_changed_rows_and_retires_vanished_ones() -> None:
    load_divisions()
    Division.objects.filter(code="511602").update(name="改名区", full_name="错误")
    Division.objects.filter(code="130171").update(is_current=True)
    gone = Division.objects.create(
        code="511698", name="已撤销县", level=3, parent_id="511600", source="mca2026"
    )
    by_hand = Division.objects.create(
        code="511602001", name="浓洄街道", level=4, parent_id="511602", source="manual"
    )
    result = load_divisions()
    assert (result.created, result.updated, result.retired) == (0, 2, 1)
    assert Division.objects.get(code="511602").full_name == "四川省广安市广安区"
    assert Division.objects.get(code="130171").is_current is False
    gone.refresh_from_db()
    assert gone.is_current is False  # kept (records may point at it), no longer current
    by_hand.refresh_from_db()
    assert (by_hand.name, by_hand.is_current) == ("浓洄街道", True)  # other sources untouched
    assert AuditRecord.objects.filter(action="organisations:division:load").count() == 2


@pytest.mark.django_db
def test_management_command() -> None:
    out = io.StringIO()
    call_command("load_divisions", stdout=out)
    assert out.getvalue().startswith(
        f"divisions: {TOTAL} created, 0 updated, 0 retired, 0 unchanged ({TOTAL} in the data) in "
    )
    out = io.StringIO()
    call_command("load_divisions", stdout=out)
    assert f"0 created, 0 updated, 0 retired, {TOTAL} unchanged" in out.getvalue()
