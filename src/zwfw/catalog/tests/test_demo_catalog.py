"""The demo catalogue: big and varied enough for the journeys, valid, and loaded idempotently."""

from __future__ import annotations

from collections import Counter

import pytest

from zwfw.catalog import demo as catalog_demo
from zwfw.catalog.content import ItemContent, validate_content
from zwfw.catalog.guide import get_guide
from zwfw.catalog.identifiers import parse_implementation_code
from zwfw.catalog.models import BasicItem, Item, ItemStatus, ItemVersion, LifeEvent
from zwfw.core import codes
from zwfw.core import demo as core_demo
from zwfw.core.models import AuditRecord
from zwfw.organisations.models import Department, Division

pytestmark = pytest.mark.django_db


@pytest.fixture
def departments() -> None:
    """The demo departments (and only the three divisions they need, for speed)."""
    province = Division.objects.create(code="510000", name="四川省", level=1, full_name="四川省")
    city = Division.objects.create(
        code="511600", name="广安市", level=2, parent=province, full_name="四川省广安市"
    )
    Division.objects.create(
        code="511602", name="广安区", level=3, parent=city, full_name="四川省广安市广安区"
    )
    core_demo.load_departments()


@pytest.fixture
def contents(departments: None) -> list[ItemContent]:
    return [validate_content(entry.data) for entry in catalog_demo.plan()]


def _one(contents: list[ItemContent], name: str, division: str = "") -> ItemContent:
    found = [
        c
        for c in contents
        if c.name == name and (not division or f"-{division}-" in c.implementation_code)
    ]
    assert len(found) == 1, (name, division, len(found))
    return found[0]


def test_catalogue_is_large_varied_and_valid(contents: list[ItemContent]) -> None:
    assert len(contents) >= 200
    assert {c.item_type for c in contents} == set(codes.ItemType.values)
    bodies = Counter(c.implementing_body.name for c in contents)
    assert len(bodies) >= 8
    demo_names = {name for name, *_ in core_demo.DEPARTMENTS}
    assert set(bodies) <= demo_names
    usccs = dict(Department.objects.values_list("name", "uscc"))
    for content in contents:
        assert content.implementing_body.uscc == usccs[content.implementing_body.name]
        parsed = parse_implementation_code(content.implementation_code)
        assert parsed.layout == "platform"
        assert parsed.basic_code == content.basic_code
        assert parsed.uscc == content.implementing_body.uscc
    assert len({c.implementation_code for c in contents}) == len(contents)
    # Ⅳ means no visit; every depth appears; fees only where real items charge.
    assert {c.online_depth for c in contents} == {"I", "II", "III", "IV"}
    assert all(c.site_visits == 0 for c in contents if c.online_depth == "IV")
    charging = [c for c in contents if c.charges_fee]
    assert 0 < len(charging) < len(contents) // 5
    # Both levels implement the same basic item (SPEC §3.2).
    by_basic: dict[str, set[str]] = {}
    for content in contents:
        by_basic.setdefault(content.basic_code, set()).add(content.level)
    assert any(levels == {"3", "4"} for levels in by_basic.values())
    # Sub-items (子项) and handling variants (业务办理项).
    assert any(not c.basic_code.endswith("000") for c in contents)
    variants = [c for c in contents if c.handling_variant_code]
    assert variants
    for variant in variants:
        main_code = variant.handling_variant_code[:-3]
        assert variant.handling_variant_code[-3] == "-"
        main = next(c for c in contents if c.implementation_code == main_code)
        assert main.basic_code == variant.basic_code
        assert variant.name.startswith(main.name + "（")
    # Every power item names a legal basis; every life event is a seeded one.
    events = {code for code, _name, _audience in catalog_demo.LIFE_EVENTS}
    assert all(set(c.life_events) <= events for c in contents)
    assert all(c.legal_bases for c in contents if c.item_type != "20")


def test_journey_items_have_the_stated_attributes(contents: list[ItemContent]) -> None:
    # J1: 户口迁移 of 广安区, fully online, 5 working days, no fee, 户口簿 from the licence library.
    hukou = [c for c in contents if c.name.startswith("户口迁移")]
    assert len(hukou) >= 5
    assert all(c.implementing_body.name == "广安市公安局广安区分局" for c in hukou)
    purchase = _one(contents, "户口迁移（购房迁入）")
    assert purchase.online_depth == "IV"
    assert purchase.site_visits == 0
    assert (purchase.promised_time_limit.value, purchase.promised_time_limit.unit) == (5, "1")
    assert purchase.charges_fee is False
    materials = {m.name: m for m in purchase.materials}
    assert materials["申请人居民户口簿"].licence_type == "居民户口簿"
    assert materials["房屋产权证明"].forms == ["2"]
    assert materials["房屋产权证明"].source == "1"
    # J2/J6: 食品经营许可 of the city 市场监督管理局, for legal persons, 15 working days.
    food = _one(contents, "食品经营许可", "511600")
    assert food.implementing_body.name == "广安市市场监督管理局"
    assert food.item_type == "01"
    assert "1" not in food.targets
    assert "2" in food.targets
    assert food.promised_time_limit.value == 15
    assert food.legal_time_limit.value == 20
    assert food.result_type == "1"
    assert "从业人员健康证明" in {m.name for m in food.materials}
    assert _one(contents, "食品经营许可", "511602").promised_time_limit.value == 10
    # J3: three departments review the planning permit.
    permit = _one(contents, "建设工程规划许可证核发")
    assert permit.implementing_body.name == "广安市自然资源和规划局"
    assert permit.joint_departments == ["广安市住房和城乡建设局", "广安市生态环境局"]
    # J4: promised-limit cases; J5: items issuing a licence.
    assert sum(c.case_type == "2" for c in contents) >= 50
    assert any(c.licence_types for c in contents)
    # J7: 高龄津贴 at the 民政局, a 行政给付 one can apply for at the window.
    allowance = _one(contents, "高龄津贴申领")
    assert allowance.implementing_body.name == "广安区民政局"
    assert allowance.item_type == "05"
    assert "1" in allowance.channels
    # Short searches find something.
    for word in ("社保", "医保", "公积金", "身份证", "驾驶证"):
        assert any(word in c.name or word in c.keywords for c in contents), word


def test_load_publishes_everything_once(departments: None) -> None:
    planned = len(catalog_demo.plan())
    assert catalog_demo.load_demo_catalog() == planned
    assert Item.objects.filter(status=ItemStatus.PUBLISHED).count() == planned
    assert ItemVersion.objects.count() == planned
    assert set(LifeEvent.objects.values_list("code", flat=True)) == {
        code for code, _n, _a in catalog_demo.LIFE_EVENTS
    }
    sub = Item.objects.get(name="户口迁移（购房迁入）")
    assert sub.parent is not None
    assert sub.parent.name == "户口迁移"
    assert sub.basic_item is not None
    assert sub.basic_item.parent == BasicItem.objects.get(basic_code=sub.parent.basic_code)
    variant = Item.objects.get(name="食品经营许可（变更）", division_id="511600")
    assert variant.parent == Item.objects.get(name="食品经营许可", division_id="511600")
    assert variant.basic_item == variant.parent.basic_item
    for version in ItemVersion.objects.all():
        validate_content(version.content)
    for code in Item.objects.values_list("implementation_code", flat=True):
        guide = get_guide(code)  # every demo item has a complete guide
        assert len(guide.sections) == 12

    audits, versions = AuditRecord.objects.count(), ItemVersion.objects.count()
    assert catalog_demo.load_demo_catalog() == 0
    assert ItemVersion.objects.count() == versions
    assert AuditRecord.objects.count() == audits
