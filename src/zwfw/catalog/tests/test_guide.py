"""The guide (办事指南): sections and labels, the public API, the page and the catalogue index."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from zwfw.catalog import guide as guides
from zwfw.catalog.content import ItemContent, validate_content
from zwfw.catalog.models import Item, ItemStatus
from zwfw.catalog.services import publish_content
from zwfw.catalog.tests import factories
from zwfw.organisations.models import Department

pytestmark = pytest.mark.django_db

CODE = "XK00012000-3-511600-11511600511600040M-01"
TITLES = [
    "基本信息",
    "实施主体",
    "办理时限",
    "受理条件",
    "申请材料",
    "办理流程",
    "收费",
    "结果",
    "办理地点和时间",
    "咨询投诉",
    "常见问题",
    "权利义务与救济",
]


@pytest.fixture
def department() -> Department:
    return factories.department()


def _publish(department: Department, **overrides: Any) -> Item:
    item, _version = publish_content(
        validate_content(factories.content(**overrides)), department=department
    )
    return item


@pytest.fixture
def item(department: Department) -> Item:
    return _publish(department)


def _rows(guide: guides.ItemGuide, key: str) -> dict[str, guides.GuideRow]:
    return {row.key: row for row in guide.section(key).rows}


def test_guide_has_every_section_in_order_with_resolved_labels(item: Item) -> None:
    guide = guides.get_guide(CODE)
    assert [s.title for s in guide.sections] == TITLES
    assert guide.name == "食品经营许可（新办）"
    assert guide.version == 1
    assert guide.is_current_version is True
    assert guide.status.model_dump() == {"code": "published", "label": "已发布"}
    assert guide.item_type.model_dump() == {"code": "01", "label": "行政许可"}
    assert guide.online_depth.model_dump() == {"code": "IV", "label": "Ⅳ 全程网办"}
    assert guide.can_apply_online is True
    assert guide.apply_url == f"/apply/{CODE}/"
    assert guide.department.name == "广安市市场监督管理局"
    assert guide.legal_time_limit.text == "20个工作日"
    assert guide.legal_time_limit.unit.model_dump() == {"code": "1", "label": "工作日"}
    assert guide.promised_time_limit.text == "10个工作日"

    basic = _rows(guide, "basic")
    assert basic["item_type"].value == "行政许可"
    assert basic["item_type"].codes == ["01"]
    assert basic["level"].value == "市级"
    assert basic["targets"].value == "企业法人、其他组织"
    assert basic["targets"].codes == ["2", "6"]
    assert basic["legal_themes"].value == "准营准办"
    assert basic["person_themes"].value == ""
    assert basic["channels"].value == "窗口办理、网上办理（电脑端）"
    assert basic["tongban_scope"].value == "属地办理"
    assert basic["version"].value == "第1版"
    assert [b.article for b in guide.section("basic").legal_bases] == ["第三十五条"]

    bodies = _rows(guide, "bodies")
    assert bodies["implementing_body"].value == "广安市市场监督管理局"
    assert bodies["body_nature"].value == "法定机关"
    assert bodies["handling_unit"].value == "广安市市场监督管理局食品经营监管科"

    times = _rows(guide, "time_limits")
    assert times["legal_time_limit"].value == "20个工作日（自受理之日起20个工作日）"
    assert times["promised_time_limit"].value == "10个工作日"
    assert times["case_type"].value == "承诺件"

    materials = guide.section("materials").materials
    assert [m.name for m in materials] == ["食品经营许可申请书", "营业执照", "经营场所平面图"]
    assert [m.number for m in materials] == [1, 2, 3]
    assert [k.label for k in materials[0].kinds] == ["原件"]
    assert [f.label for f in materials[0].forms] == ["纸质", "电子"]
    assert materials[0].source.label == "申请人自备"
    assert (materials[0].paper_copies, materials[0].paper_spec) == (1, "A4")
    assert materials[0].required_label == "必要"
    assert materials[1].source.label == "政府部门核发"
    assert materials[1].issuer == "市场监督管理部门"
    assert materials[1].licence_type == "营业执照"
    assert [k.label for k in materials[2].kinds] == ["复印件"]

    process = guide.section("process")
    assert [(s.number, s.name) for s in process.steps] == [
        (1, "申请"),
        (2, "受理"),
        (3, "审查"),
        (4, "决定"),
    ]
    steps = _rows(guide, "process")
    assert steps["review_type"].value == "前审后批"
    assert steps["special_procedures"].value == "实地核查"
    assert steps["site_visits"].value == "0次"
    assert steps["online_depth"].value == "Ⅳ 全程网办"
    assert steps["online_steps"].value == (
        "互联网咨询、互联网收件、互联网预审、互联网受理、互联网办理、互联网办理结果信息反馈、"
        "互联网电子证照反馈"
    )
    assert steps["online"].value == "是"
    assert steps["online_url"].url == "https://zwfw.example.gov.cn/apply/XK00012000"
    assert steps["supports_delivery"].value == "是"
    assert steps["supports_appointment"].value == "否"

    assert _rows(guide, "fees")["charges_fee"].value == "不收费"
    assert guide.section("fees").fees == []
    result = _rows(guide, "result")
    assert result["result_type"].value == "出证办结"
    assert result["licence_types"].value == "食品经营许可证"
    assert _rows(guide, "place")["place"].value == "广安市政务服务中心二楼市场监管窗口"
    contact = _rows(guide, "contact")
    assert (contact["consult_phone"].value, contact["complaint_phone"].value) == (
        "0826-2300004",
        "12345",
    )
    assert [f.question for f in guide.section("faq").faqs] == ["办理需要多长时间？"]
    assert [(r.kind, r.label) for r in guide.section("rights").remedies] == [
        ("reconsideration", "行政复议"),
        ("litigation", "行政诉讼"),
    ]


def test_guide_shows_every_element_of_the_content(item: Item) -> None:
    guide = guides.get_guide(CODE)
    shown = {row.key for section in guide.sections for row in section.rows}
    # List elements have their own typed lists; the body is shown as name and USCC rows.
    shown |= {
        "legal_bases",
        "materials",
        "process_steps",
        "fees",
        "faqs",
        "reconsideration",
        "litigation",
        "implementing_body",
    }
    assert set(ItemContent.model_fields) <= shown


def test_fees_unsafe_links_and_a_guide_without_online_application(department: Department) -> None:
    _publish(
        department,
        charges_fee=True,
        fees=[
            {"name": "工本费", "standard": "每证10元", "amount": "10", "basis": "某文件"},
            {"name": "考试费", "formula": "按科目计收", "reducible": True},
        ],
        online_steps=["1"],
        online_url="",
        site_visits=1,
        site_visit_reason="需现场核验",
        flow_chart="javascript:alert(1)",
        tongban_scope="1",
        promised_time_limit={"value": 0, "unit": "1"},
        case_type="1",
        review_type="1",
    )
    guide = guides.get_guide(CODE)
    assert guide.can_apply_online is False
    assert guide.apply_url is None
    assert guide.online_depth.label == "Ⅰ 信息公开"
    fees = guide.section("fees").fees
    assert [(f.name, f.amount, f.reducible) for f in fees] == [
        ("工本费", "10.00", False),
        ("考试费", None, True),
    ]
    assert _rows(guide, "fees")["charges_fee"].value == "收费"
    assert _rows(guide, "process")["flow_chart"].url is None
    assert _rows(guide, "basic")["tongban_scope"].value == "全国通办"
    assert guide.promised_time_limit.text == "当场办结"
    assert _rows(guide, "time_limits")["case_type"].value == "即办件"


def test_api_serves_published_items_only(client: Client, item: Item) -> None:
    response = client.get(f"/api/v1/catalog/items/{CODE}/guide")
    assert response.status_code == 200
    body = response.json()
    assert body["implementation_code"] == CODE
    assert [s["title"] for s in body["sections"]] == TITLES
    assert body["can_apply_online"] is True

    unknown = client.get("/api/v1/catalog/items/XK99999000-3-511600-X/guide")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "catalog.item_unknown"
    for status in (ItemStatus.SUSPENDED, ItemStatus.CANCELLED, ItemStatus.DRAFT):
        Item.objects.filter(pk=item.pk).update(status=status)
        hidden = client.get(f"/api/v1/catalog/items/{CODE}/guide")
        assert hidden.status_code == 404, status
        assert hidden.json()["code"] == "catalog.item_unknown"
        assert client.get(f"/api/v1/catalog/items/{CODE}/guide?version=1").status_code == 404
        assert client.get(f"/items/{CODE}/").status_code == 404


def test_older_versions_are_public_history(client: Client, department: Department) -> None:
    _publish(department)
    _publish(department, promised_time_limit={"value": 8, "unit": "1"})
    current = client.get(f"/api/v1/catalog/items/{CODE}/guide").json()
    assert (current["version"], current["latest_version"]) == (2, 2)
    assert current["promised_time_limit"]["value"] == 8
    old = client.get(f"/api/v1/catalog/items/{CODE}/guide?version=1").json()
    assert old["version"] == 1
    assert old["is_current_version"] is False
    assert old["promised_time_limit"]["value"] == 10
    assert old["can_apply_online"] is False
    missing = client.get(f"/api/v1/catalog/items/{CODE}/guide?version=3")
    assert missing.status_code == 404
    assert missing.json()["code"] == "catalog.item_unknown"
    assert missing.json()["details"]["version"] == 3
    invalid = client.get(f"/api/v1/catalog/items/{CODE}/guide?version=0")
    assert invalid.status_code == 422
    assert invalid.json()["code"] == "request.invalid"

    page = client.get(f"/items/{CODE}/?version=1")
    assert page.status_code == 200
    text = page.content.decode()
    assert "您正在查看历史版本（第1版）" in text
    assert "在线办理" not in text
    assert client.get(f"/items/{CODE}/?version=x").status_code == 404
    assert client.get(f"/items/{CODE}/?version=7").status_code == 404


def test_guide_api_needs_few_queries(
    client: Client, item: Item, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(3):
        assert client.get(f"/api/v1/catalog/items/{CODE}/guide").status_code == 200
    with django_assert_max_num_queries(3):
        assert client.get(f"/api/v1/catalog/items/{CODE}/guide?version=1").status_code == 200


def test_page_renders_the_guide(client: Client, item: Item) -> None:
    response = client.get(f"/items/{CODE}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "<h1>食品经营许可（新办）</h1>" in text
    for title in TITLES:
        assert f">{title}</h2>" in text
    assert f'<a class="apply" href="/apply/{CODE}/">在线办理</a>' in text
    assert '<th scope="col">材料名称</th>' in text
    assert '<th scope="row">营业执照</th>' in text
    assert '<ol class="steps">' in text
    assert "<details><summary>办理需要多长时间？</summary>" in text
    assert "第1版（共1版）" in text
    assert "更新于" in text
    assert "可用电子证照替代：营业执照" in text


def test_page_escapes_content(client: Client, department: Department) -> None:
    _publish(
        department,
        name="<script>alert(1)</script>食品经营许可",
        conditions='"><img src=x onerror=alert(2)>',
        flow_chart="javascript:alert(3)",
    )
    text = client.get(f"/items/{CODE}/").content.decode()
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;食品经营许可" in text
    assert "<img src=x" not in text
    assert 'href="javascript:' not in text


def test_index_lists_published_items_by_department_with_paging(
    client: Client, department: Department, django_assert_max_num_queries: Any
) -> None:
    for number in range(1, 53):
        code = f"XK{number:05d}000-3-511600-11511600511600040M-01"
        _publish(department, basic_code=code[:10], implementation_code=code, name=f"事项{number}")
    hidden = Item.objects.get(name="事项51")
    Item.objects.filter(pk=hidden.pk).update(status=ItemStatus.SUSPENDED)
    with django_assert_max_num_queries(3):
        first = client.get("/items/")
    assert first.status_code == 200
    text = first.content.decode()
    assert ">广安市市场监督管理局</h2>" in text
    assert text.count('<li><a href="/items/') == 50
    assert 'rel="next"' in text
    next_link = text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(next_link.replace("&amp;", "&")).content.decode()
    assert second.count('<li><a href="/items/') == 1
    assert "事项52<" in second
    assert "事项51<" not in text + second
    assert 'rel="next"' not in second
    only = client.get(f"/items/?department={department.pk}").content.decode()
    assert "事项1<" in only
    other = client.get("/items/?department=999999").content.decode()
    assert "暂无已发布的事项" in other
    assert client.get("/items/?cursor=garbage").status_code == 200
