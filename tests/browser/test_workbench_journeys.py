"""Browser journeys of the staff workbench (工作台), on the demo node:

- J2, staff side: the clerk 张敏 accepts 王强's food-licence application for the company; the
  reviewer 刘洋 sends one correction notice (一次性告知) built on the page, the clock pauses; after
  the company's upload the reviewer passes the review with the review points ticked and the
  decider 何军 approves.
- J7, clerk side: 张敏 applies at the window for 刘德福, scans his paper materials (copy level
  B), submits and accepts.
- J6: the catalogue officer 陈静 changes 食品经营许可 (promised time limit 15 → 10 working days and
  a new material); 王磊 (编制审核) and 孙红 (法制审核) approve; the new version is published and
  the version diff shows exactly those two changes.

axe-core finds no serious or critical violation on the inbox, the case detail, the correction
builder, the edit form, the review page and the diff page; the inbox and the case detail are
saved as 1280 px screenshots.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import no_horizontal_scroll, off_the_loop, overflowing

PHONE_WIDTH = {"width": 360, "height": 740}
DESKTOP_WIDTH = {"width": 1280, "height": 900}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # Until demo_world loads off Playwright's event loop, the notices it renders in the test's
    # thread fail in pyHanko's asyncio.run and leave un-awaited coroutines (rendered again on
    # first download); their warnings are not this module's subject.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

J2_ITEM = "XK00201000-3-511600-11511600511600040H-01"  # 食品经营许可 (city)
J7_ITEM = "JF00151000-4-511602-115116025116002358-01"  # 高龄津贴申领
J7_PERSON_ID = "511602194601080056"  # 刘德福, registered at the window (zwfw.identity.demo)
NEW_MATERIAL = "食品安全管理人员培训考核合格证明"


def _as(page: Any, login: Any, username: str, next_url: str) -> None:
    page.context.clear_cookies()
    login(page, username, next=next_url)


def _no_serious_violations(axe: Any, page: Any) -> None:
    violations = axe(page)
    assert violations == [], violations


def _fits_a_phone(page: Any) -> None:
    page.set_viewport_size(PHONE_WIDTH)
    try:
        assert no_horizontal_scroll(page), (page.url, overflowing(page))
    finally:
        page.set_viewport_size(DESKTOP_WIDTH)


def test_workbench_journeys_j2_j7_clerk_side_and_j6(
    page: Any, demo_world: Any, login: Any, axe: Any, screenshot: Any
) -> None:
    """One demo load (about 20 s on two busy cores) for the three journeys: J2's case, once closed,
    also shows that a case keeps the item version it was opened under when J6 publishes a new
    one."""
    case = _j2_staff_side(page, login, axe, screenshot)
    _j6_catalogue_change(page, login, axe, screenshot)
    case.refresh_from_db()
    assert case.item_version.number == 1


def _j2_staff_side(page: Any, login: Any, axe: Any, screenshot: Any) -> Any:
    from zwfw.cases import services
    from zwfw.cases.demo import SAMPLE_PDF
    from zwfw.cases.models import Case, CaseStatus, CorrectionRequest
    from zwfw.registries.demo import JOURNEY_COMPANY

    # 王强's application for the company, waiting for acceptance (zwfw.cases.demo)
    case = Case.objects.get(
        implementation_code=J2_ITEM,
        status=CaseStatus.SUBMITTED,
        company__uscc=JOURNEY_COMPANY.uscc,
        agent__real_name="王强",
    )

    # 张敏 accepts at the window's workbench.
    _as(page, login, "clerk", "/workbench/")
    assert page.url.endswith("/workbench/")
    row = page.locator("table.wb-inbox tr", has_text=case.number)
    assert row.count() == 1
    _no_serious_violations(axe, page)
    screenshot(page, "workbench-inbox")
    _fits_a_phone(page)
    row.get_by_role("link", name=f"办理 {case.number}").click()
    page.wait_for_url(f"**/workbench/cases/{case.number}/")
    page.get_by_label("意见 / 理由").fill("材料齐全，予以受理")
    page.get_by_role("button", name="受理", exact=True).click()
    page.get_by_text("已受理。").wait_for()
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    _j7_window_intake(page)

    # 刘洋 finds one employee's health certificate missing: one notice listing it.
    _as(page, login, "reviewer", f"/workbench/cases/{case.number}/")
    _no_serious_violations(axe, page)
    screenshot(page, "workbench-case")
    _fits_a_phone(page)
    page.get_by_role("link", name="补正告知（一次性告知）…").click()
    page.get_by_label("从业人员健康证明", exact=True).check()
    page.get_by_label("从业人员健康证明的问题").fill("缺少从业人员李四的健康证明")
    page.get_by_role("button", name="预览").click()
    preview = page.locator(".wb-notice-preview")
    assert "缺少从业人员李四的健康证明" in preview.inner_text()
    _no_serious_violations(axe, page)
    screenshot(page, "workbench-correction")
    assert not CorrectionRequest.objects.filter(case=case).exists()
    page.get_by_role("button", name="发出补正告知").click()
    page.get_by_text("补正告知书已发出（共1项）").wait_for()
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION
    assert case.paused_since is not None
    assert [i["material"] for i in CorrectionRequest.objects.get(case=case).items] == [
        "从业人员健康证明"
    ]

    # 王强 uploads it for the company (the portal's journey covers his pages) and resubmits.
    agent = case.agent
    off_the_loop(
        services.add_material_upload,
        agent,
        case,
        checklist_index=4,
        name="李四健康证明.pdf",
        data=SAMPLE_PDF + b"% lisi\n%%EOF\n",
        acting_uscc=JOURNEY_COMPANY.uscc,
    )
    off_the_loop(services.resubmit, agent, case, acting_uscc=JOURNEY_COMPANY.uscc)

    page.reload()
    boxes = page.locator("fieldset:has(legend:text('审查要点')) input[type=checkbox]")
    for index in range(boxes.count()):
        boxes.nth(index).check()
    page.get_by_label("意见 / 理由").fill("经审查，符合许可条件")
    page.get_by_role("button", name="审查通过").click()
    page.get_by_text("已审查通过。").wait_for()

    # 何军 decides.
    _as(page, login, "decider", f"/workbench/cases/{case.number}/")
    page.get_by_label("意见 / 理由").fill("准予许可")
    page.get_by_role("button", name="准予许可").click()
    page.get_by_text("已准予许可。").wait_for()
    case.refresh_from_db()
    assert (case.status, case.decision) == (CaseStatus.CLOSED, "approve")
    timeline = page.locator(".timeline").inner_text()
    for step in ("补正告知", "补正材料提交"):
        assert step in timeline
    return case


def _j7_window_intake(page: Any) -> None:
    """J7, clerk side: 张敏 applies for 刘德福 at the window, scans his paper materials and
    accepts; the acceptance notice (with the QR code for 一次一评) is linked for printing."""
    from zwfw.cases.models import Case, CaseStatus, SubmitChannel

    page.goto("/workbench/window/")
    page.get_by_label("申请人身份证号码").fill(J7_PERSON_ID)
    page.get_by_label("事项").select_option(J7_ITEM)
    page.get_by_role("button", name="查找").click()
    page.get_by_role("heading", name="申请表").wait_for()
    page.get_by_role("button", name="创建申请").click()
    page.get_by_text("请扫描申请人的纸质材料").wait_for()
    for index in range(page.locator("input[type=file]").count()):
        row = page.locator("table.data tbody tr").nth(index)
        if row.locator(".tag", has_text="必要").count() == 0:
            continue
        row.locator("input[type=file]").set_input_files(
            {"name": f"scan-{index}.pdf", "mimeType": "application/pdf", "buffer": _scan(index)}
        )
        row.locator("button[type=submit]").click()
        page.get_by_text("材料已上传。").wait_for()
    page.get_by_role("button", name="提交并受理").click()
    page.get_by_text("已提交并受理。查询密码").wait_for()
    case = Case.objects.get(implementation_code=J7_ITEM, channel=SubmitChannel.WINDOW)
    assert case.status == CaseStatus.IN_PROGRESS
    assert case.applicant_name == "刘德福"
    assert {m.file.copy_level for m in case.materials.select_related("file")} == {"B"}
    assert page.get_by_role("link", name="受理通知书").count() == 1


def _scan(index: int) -> bytes:
    from zwfw.cases.demo import SAMPLE_PDF

    return SAMPLE_PDF + f"% scan {index}\n%%EOF\n".encode()


def _j6_catalogue_change(page: Any, login: Any, axe: Any, screenshot: Any) -> None:
    from zwfw.catalog.models import Item
    from zwfw.workbench.demo import load_demo as load_workbench_demo

    off_the_loop(load_workbench_demo)  # the second catalogue reviewer (until the loader does)
    item = Item.objects.get(implementation_code=J2_ITEM)
    assert (item.promised_days, item.version_count) == (15, 1)

    _as(page, login, "officer", f"/workbench/catalog/items/{J2_ITEM}/edit/")
    _no_serious_violations(axe, page)
    page.get_by_label("承诺办结时限（天）").fill("10")
    page.get_by_label("材料名称").fill(NEW_MATERIAL)
    page.get_by_label("必要材料").check()
    page.get_by_label("复印件").check()
    page.get_by_label("变更理由").fill("压缩承诺时限，补充管理人员材料")
    page.get_by_role("button", name="提交审核").click()
    page.get_by_text("已提交审核").wait_for()
    change_url = page.url

    for reviewer, step in (("catalog_reviewer", "编制审核"), ("legal_reviewer", "法制审核")):
        _as(page, login, reviewer, "/workbench/catalog/changes/")
        change_id = change_url.rstrip("/").rsplit("/", 1)[1]
        page.get_by_role("link", name=f"#{change_id}", exact=True).click()
        page.wait_for_url(change_url)
        page.get_by_role("heading", name=step).wait_for()
        if step == "编制审核":
            _no_serious_violations(axe, page)
        page.get_by_label("审核意见").fill("同意")
        page.get_by_role("button", name="同意").click()
        page.get_by_text(f"{step}：同意").wait_for()
    page.get_by_text("新版本已发布").wait_for()

    item.refresh_from_db()
    assert (item.promised_days, item.version_count) == (10, 2)

    page.goto(f"/workbench/catalog/items/{J2_ITEM}/diff/?from=1&to=2")
    rows = page.locator("table.wb-diff tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).inner_text().split("\t")[:1] == ["承诺办结时限 · 时限数值"]
    assert "15" in rows.nth(0).locator("del").inner_text()
    assert rows.nth(0).locator("ins").inner_text() == "10"
    assert NEW_MATERIAL in rows.nth(1).inner_text()
    _no_serious_violations(axe, page)
    screenshot(page, "workbench-diff")
    _fits_a_phone(page)
