"""The portal journeys of JOURNEYS.md in Chromium: J1 (李娜 registers online, finds 户口迁移,
applies with uploads, corrects, sees the case closed and rates it), J2 (王强 applies for the
company he is agent of) and J7's portal part (progress lookup by case number + query password).

Staff steps (acceptance, correction notice, review, decision) go through the case services in
the test, as the workbench is tested on its own. Each journey also checks the main pages with
axe-core (no serious or critical violations), that they fit a 360 px screen, and saves their
screenshots at 360 and 1280 px.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import no_horizontal_scroll, off_the_loop, overflowing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def pdf_file(tmp_path: Path, name: str, salt: str) -> str:
    path = tmp_path / name
    path.write_bytes(PDF + f"% {salt}\n".encode())
    return str(path)


def check_page(page: Any, axe: Any, screenshot: Any, name: str) -> None:
    """axe (serious/critical), no horizontal scroll from 360 to 1920 px, screenshots at 360
    and 1280."""
    violations = axe(page)
    assert violations == [], f"{name}: {violations}"
    original = page.viewport_size
    try:
        for width in (360, 768, 1920):
            page.set_viewport_size({"width": width, "height": 800})
            assert no_horizontal_scroll(page), f"{name} breaks at {width} px: {overflowing(page)}"
    finally:
        page.set_viewport_size(original)
    screenshot.widths(page, name)


def staff(username: str) -> Any:
    from zwfw.identity.models import User

    return User.objects.get(username=username)


def accept_and_review_correction(case: Any, items: list[dict[str, Any]]) -> None:
    """The demo clerk accepts; the demo reviewer sends one correction notice (一次性告知)."""
    from zwfw.cases import services
    from zwfw.cases.models import CaseTask, TaskKind

    services.accept(staff("clerk"), case, opinion="材料齐全，予以受理")
    review = case.tasks.get(status=CaseTask.Status.OPEN, kind=TaskKind.REVIEW)
    services.claim(staff("reviewer"), review)
    services.request_correction(staff("reviewer"), case, items, "请一次性补正以下材料")


def finish(case: Any) -> None:
    """Review passes and the decider approves: the case closes."""
    from zwfw.cases import services
    from zwfw.cases.models import CaseStatus, CaseTask, TaskKind

    for _ in range(5):
        case.refresh_from_db()
        task = case.tasks.filter(status=CaseTask.Status.OPEN).order_by("id").first()
        if task is None:
            break
        if task.kind == TaskKind.REVIEW:
            services.act(staff("reviewer"), task, "pass", opinion="符合条件")
        elif task.kind == TaskKind.DECIDE:
            services.act(staff("decider"), task, "approve", opinion="准予办理")
        else:  # pragma: no cover — the demo items' process has review and decide only
            raise AssertionError(f"unexpected task {task.kind}")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


def sms_code(phone: str) -> str:
    from zwfw.notifications.services import messages_for_recipient

    message = messages_for_recipient(phone, "sms").order_by("-created_at").first()
    assert message is not None, "no SMS sent"
    found = re.search(r"\d{6}", message.body)
    assert found, message.body
    return found.group(0)


def test_j1_register_search_apply_correct_and_see_the_case_closed(
    demo_node: None, page: Any, axe: Any, screenshot: Any, tmp_path: Path
) -> None:
    from zwfw.cases.demo import J1_ITEM
    from zwfw.cases.models import Case, CaseStatus
    from zwfw.registries.demo import JOURNEY_PEOPLE

    li_na = JOURNEY_PEOPLE["li_na"]

    # The home page, before anything else.
    page.goto("/")
    assert page.title().startswith("示例")
    check_page(page, axe, screenshot, "home")

    # She registers online: ID number, name, phone + SMS code, her social-security card.
    page.click(".account-bar a:has-text('注册')")
    page.fill("#id_number", li_na.id_number)
    page.fill("#name", li_na.name)
    page.fill("#phone", li_na.phone)
    page.click("button[value=send_code]")
    page.wait_for_selector("text=验证码已发送")
    page.fill("#code", sms_code(li_na.phone))
    page.fill("#f-social_security_card", li_na.social_security_card)
    page.fill("#password", "Lina-2026-secure!")
    page.check("input[name=agreement_version]")
    page.click("button[value=register]")
    page.wait_for_url("**/accounts/profile/")
    assert "L3" in page.inner_text("main")

    # She types 户口 in the search box: the 户口迁移 items of her county come first.
    page.goto("/")
    page.fill("#home-q", "户口")
    page.press("#home-q", "Enter")
    page.wait_for_url("**/search/?q=*")
    first = page.locator("ol.list h3 a").first
    assert first.inner_text().startswith("户口迁移"), first.inner_text()
    assert page.locator("mark", has_text="户口").count() > 0
    check_page(page, axe, screenshot, "search")

    # The guide: materials, 5 working days, no fee, Ⅳ 全程网办, apply online.
    page.click(f"a[href*='{J1_ITEM}']")
    page.wait_for_url(f"**/items/{J1_ITEM}/")
    main = page.inner_text("main")
    for expected in ("居民户口簿", "不收费", "全程网办", "常见问题", "申请材料清单"):
        assert expected in main, expected
    assert re.search(r"承诺办结时限\s*5\s*个工作日", main)
    check_page(page, axe, screenshot, "guide")

    # Eligibility, then the form prefilled from her profile.
    page.click("a.apply")
    page.wait_for_url(f"**/apply/{J1_ITEM}/")
    if page.locator("#conditions_met").count():
        page.check("#conditions_met")
    page.click("button:has-text('开始申请')")
    page.wait_for_url("**/drafts/*/")
    assert page.input_value("[name=applicant_name]") == li_na.name
    from zwfw.identity.services import user_by_id_number

    case = Case.objects.get(applicant_user=user_by_id_number(li_na.id_number))
    required = [
        i for i, m in enumerate(case.item_version.content["materials"]) if m.get("required", True)
    ]
    assert required
    for index in required:
        page.set_input_files(f"#file-{index}", pdf_file(tmp_path, f"m{index}.pdf", f"j1-{index}"))
        page.click(f"form:has(#file-{index}) button[type=submit]")
        page.wait_for_url("**/drafts/*/?saved=1*")
    check_page(page, axe, screenshot, "apply")
    page.click("button[value=next]")
    page.wait_for_url("**/review/")
    page.click("button:has-text('确认提交')")
    page.wait_for_selector("#case-number")
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    assert page.inner_text("#case-number") == case.number

    # The reviewer finds a material wanting: one correction notice.
    named = required[-1]
    off_the_loop(
        accept_and_review_correction,
        case,
        [{"checklist_index": named, "problem": "证明材料不清晰，请重新上传"}],
    )

    # 我的办件: the case waits for her correction; she uploads and resubmits.
    page.goto("/my/cases/")
    assert "待补正" in page.inner_text("#case-list")
    check_page(page, axe, screenshot, "my-cases")
    page.click(f"#case-list a:has-text('{case.item_name}')")
    page.wait_for_selector("#correction")
    assert "证明材料不清晰" in page.inner_text("#correction-section")
    page.set_input_files(f"#file-{named}", pdf_file(tmp_path, "clear.pdf", "j1-clear"))
    page.click(f"#correction-section form:has(#file-{named}) button[type=submit]")
    page.wait_for_url("**/?saved=1*")
    page.click("button:has-text('提交补正材料')")
    page.wait_for_url("**/?resubmitted=1")
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS

    # The department decides; she sees the case closed, with its history.
    off_the_loop(finish, case)
    page.goto("/my/cases/")
    assert "已办结" in page.inner_text("#case-list")
    page.click(f"#case-list a:has-text('{case.item_name}')")
    assert page.inner_text("#case-status") == "已办结"
    timeline = page.inner_text("#timeline")
    for step in ("申请", "补正材料提交", "办结"):
        assert step in timeline, step

    # She rates the case 非常满意 (一事一评).
    page.check("#level-1")
    page.click("button:has-text('提交评价')")
    page.wait_for_url("**/?rated=1*")
    assert "非常满意" in page.inner_text("#rating-section")
    from zwfw.ratings.models import Rating

    assert Rating.objects.get(case=case).level == 1


def test_j2_agent_acts_for_the_company_and_applies(
    demo_people: None, page: Any, login: Any, tmp_path: Path
) -> None:
    from zwfw.cases.demo import J2_ITEM
    from zwfw.cases.models import Case, CaseStatus
    from zwfw.core.models import AuditRecord
    from zwfw.registries.demo import JOURNEY_COMPANY, JOURNEY_PEOPLE

    wang = JOURNEY_PEOPLE["wang_qiang"]
    login(page, wang.id_number, next="/my/")
    page.goto("/accounts/agents/")
    page.click(
        f"form:has(input[value='{JOURNEY_COMPANY.uscc}']) button:has-text('以该单位身份办理')"
    )
    page.wait_for_selector(".acting")
    assert JOURNEY_COMPANY.name in page.inner_text(".acting")

    page.goto(f"/items/{J2_ITEM}/")
    page.click("a.apply")
    if page.locator("#conditions_met").count():
        page.check("#conditions_met")
    page.click("button:has-text('开始申请')")
    page.wait_for_url("**/drafts/*/")
    assert page.input_value("[name=applicant_name]") == JOURNEY_COMPANY.name
    draft = Case.objects.filter(status=CaseStatus.DRAFT, implementation_code=J2_ITEM).latest("id")
    assert draft.company is not None
    assert draft.company.uscc == JOURNEY_COMPANY.uscc
    materials = draft.item_version.content["materials"]
    for index, entry in enumerate(materials):
        if entry.get("required", True):
            page.set_input_files(
                f"#file-{index}", pdf_file(tmp_path, f"c{index}.pdf", f"j2-{index}")
            )
            page.click(f"form:has(#file-{index}) button[type=submit]")
            page.wait_for_url("**/drafts/*/?saved=1*")
    page.click("button[value=next]")
    page.wait_for_url("**/review/")
    page.click("button:has-text('确认提交')")
    page.wait_for_selector("#case-number")
    draft.refresh_from_db()
    assert draft.status == CaseStatus.SUBMITTED
    assert draft.agent is not None
    assert draft.agent.id_number == wang.id_number
    assert draft.applicant_name == JOURNEY_COMPANY.name
    submitted = AuditRecord.objects.filter(
        object_type="cases.case", object_id=str(draft.pk), action="cases:case:submit"
    ).get()
    assert submitted.on_behalf_of == f"company:{JOURNEY_COMPANY.uscc}"
    # As himself again, the company's case is not among his.
    page.goto("/accounts/agents/")
    page.click("button:has-text('切换回个人身份')")
    page.goto("/my/cases/")
    assert draft.number not in page.inner_text("main")


def test_j7_progress_lookup_on_a_phone(demo_people: None, phone_page: Any) -> None:
    """The window clerk applied for the elderly man; his daughter looks the case up on her
    phone with the number and the query password printed on the acceptance notice."""
    from zwfw.cases import services
    from zwfw.cases.demo import J7_ITEM, SAMPLE_PDF
    from zwfw.identity.services import user_by_id_number
    from zwfw.registries.demo import JOURNEY_PEOPLE

    elder = user_by_id_number(JOURNEY_PEOPLE["elderly_man"].id_number)
    assert elder is not None
    clerk = staff("clerk")
    case = services.create_draft(elder, J7_ITEM, clerk=clerk, channel="1")
    for index, entry in enumerate(case.item_version.content["materials"]):
        if entry.get("required", True):
            services.add_material_upload(
                clerk,
                case,
                checklist_index=index,
                name=f"scan{index}.pdf",
                data=SAMPLE_PDF + str(index).encode(),
                copy_level="B",
            )
    submission = off_the_loop(services.submit, clerk, case)

    phone_page.goto("/")
    phone_page.click("text=办件进度查询")
    phone_page.fill("#number", submission.case.number)
    phone_page.fill("#password", "wrong-password")
    phone_page.click("button:has-text('查询')")
    assert "办件编号或查询密码不正确" in phone_page.inner_text("[role=alert]")
    phone_page.fill("#password", submission.query_password)
    phone_page.click("button:has-text('查询')")
    result = phone_page.inner_text("main")
    assert submission.case.item_name in result
    assert "待受理" in result
    assert elder.real_name not in result  # masked
    assert no_horizontal_scroll(phone_page)
