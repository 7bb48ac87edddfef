"""Portal pages through the Django test client: status, content, who sees what, bounded
queries, CSRF and the Content-Security-Policy header."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from zwfw.cases import services
from zwfw.cases.models import Case, CaseStatus
from zwfw.cases.tests.conftest import ITEM_IMMEDIATE, ITEM_PROMISED, PDF
from zwfw.core.models import AuditRecord

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def submitted(world: dict[str, Any], user: Any = None, acting_uscc: str | None = None) -> Case:
    user = user or world["person"]
    case = services.create_draft(user, ITEM_PROMISED, acting_uscc=acting_uscc)
    for index in range(3):
        services.add_material_upload(
            user,
            case,
            checklist_index=index,
            name=f"m{index}.pdf",
            data=PDF + str(index).encode(),
            acting_uscc=acting_uscc,
        )
    return services.submit(user, case, acting_uscc=acting_uscc).case


def text(response: Any) -> str:
    return response.content.decode()


# --- public pages ------------------------------------------------------------------------------


def test_home_has_search_themes_and_popular_items(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(8):
        response = Client().get(reverse("home"))
    assert response.status_code == 200
    body = text(response)
    assert 'lang="zh-CN"' in body
    assert 'role="search"' in body
    assert 'class="skip-link" href="#main"' in body
    # the published items serve companies (theme 010) and are fully online (Ⅳ): both show
    assert "?theme_legal=010" in body
    assert "食品经营许可（新办）" in body  # popular: first fully-online items on a quiet node
    for label in ("我要查", "我要办", "我要看", "我要问", "我要评", "我的"):
        assert f">{label}</a>" in body


def test_home_counts_are_cached(world: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    Client().get(reverse("home"))
    with django_assert_max_num_queries(2):  # session-less: only the life events are cached too
        response = Client().get(reverse("home"))
    assert response.status_code == 200


def test_search_highlights_and_facets(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(10):
        response = Client().get(reverse("portal:search"), {"q": "食品经营"})
    assert response.status_code == 200
    body = text(response)
    assert "<mark>食品经营</mark>许可（新办）" in body
    # the three items share guide text: all match, the one named so comes first
    assert "共找到 3 个事项" in body
    first = body.index('<ol class="list">')
    assert body.index(reverse("catalog:guide", args=[ITEM_PROMISED]), first) < body.index(
        reverse("catalog:guide", args=[ITEM_IMMEDIATE]), first
    )
    assert "网办深度" in body  # facet panel heading
    # a facet link keeps the query and adds its filter
    assert re.search(
        r'href="/search/\?q=%E9%A3%9F%E5%93%81%E7%BB%8F%E8%90%A5&amp;online_depth=IV"', body
    )


def test_search_filter_narrows_and_bad_filter_is_400(world: dict[str, Any]) -> None:
    response = Client().get(reverse("portal:search"), {"item_type": "20"})
    assert response.status_code == 200
    body = text(response)
    assert "个体工商户名称查询" in body
    assert "食品经营许可（新办）" not in body
    response = Client().get(reverse("portal:search"), {"level": "nope"})
    assert response.status_code == 400
    assert "筛选条件" in text(response)


def test_search_with_htmx_returns_only_the_results(world: dict[str, Any]) -> None:
    response = Client().get(reverse("portal:search"), {"q": "食品"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body
    assert "<mark>食品</mark>" in body


def test_search_pages_with_a_cursor(world: dict[str, Any]) -> None:
    from zwfw.catalog import search

    original = search.PAGE_SIZE
    search.PAGE_SIZE = 2
    try:
        first = text(Client().get(reverse("portal:search")))
        match = re.search(r'href="/search/\?cursor=([^"]+)" rel="next"', first)
        assert match, "three items at two a page need a next link"
        second = Client().get("/search/?cursor=" + match.group(1).replace("&amp;", "&"))
    finally:
        search.PAGE_SIZE = original
    assert second.status_code == 200
    assert 'rel="next"' not in text(second)
    assert "第一页" in text(second)


@pytest.mark.parametrize(
    ("dimension", "expected"),
    [
        ("department", "广安市市场监督管理局"),
        ("theme_legal", "准营准办"),
        ("level", "市级"),
        ("division", "广安市"),
        ("target", "企业法人"),
    ],
)
def test_browse_lists_values_with_counts(
    world: dict[str, Any], dimension: str, expected: str
) -> None:
    response = Client().get(reverse("portal:browse", args=[dimension]))
    assert response.status_code == 200
    body = text(response)
    assert expected in body
    assert f"/search/?{dimension}=" in body


def test_browse_unknown_dimension_is_404(world: dict[str, Any]) -> None:
    assert Client().get("/browse/colour/").status_code == 404


def test_progress_lookup_by_number_and_password(world: dict[str, Any]) -> None:
    case = services.create_draft(world["person"], ITEM_PROMISED)
    for index in range(3):
        services.add_material_upload(
            world["person"], case, checklist_index=index, name="a.pdf", data=PDF + bytes([index])
        )
    submission = services.submit(world["person"], case)
    client = Client()
    assert client.get(reverse("portal:progress")).status_code == 200
    response = client.post(
        reverse("portal:progress"),
        {"number": submission.case.number, "password": submission.query_password},
    )
    assert response.status_code == 200
    body = text(response)
    assert submission.case.number in body
    assert "待受理" in body
    assert "李*" in body  # the applicant's name masked
    assert "李娜" not in body
    wrong = client.post(
        reverse("portal:progress"), {"number": submission.case.number, "password": "000000"}
    )
    assert wrong.status_code == 400
    assert "办件编号或查询密码不正确" in text(wrong)
    unknown = client.post(reverse("portal:progress"), {"number": "x" * 40, "password": "1"})
    assert unknown.status_code == 400


def test_progress_form_needs_csrf(world: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("portal:progress"), {"number": "1", "password": "2"})
    assert response.status_code == 403


@pytest.mark.parametrize("name", ["portal:news", "portal:ask", "portal:rate", "portal:apply_index"])
def test_information_pages(world: dict[str, Any], name: str) -> None:
    response = Client().get(reverse(name))
    assert response.status_code == 200
    assert "<h1>" in text(response)


def test_guide_has_every_element_and_the_apply_button(world: dict[str, Any]) -> None:
    response = Client().get(reverse("catalog:guide", args=[ITEM_PROMISED]))
    assert response.status_code == 200
    body = text(response)
    for expected in (
        "申请材料清单",
        "经营场所平面图",
        "承诺办结时限",
        "不收费",
        "办理流程",
        "常见问题",
    ):
        assert expected in body, expected
    assert f'href="{reverse("portal:apply", args=[ITEM_PROMISED])}"' in body


def test_content_security_policy_on_pages_not_on_the_api(world: dict[str, Any]) -> None:
    page = Client().get(reverse("home"))
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    api = Client().get("/api/v1/docs")
    assert "Content-Security-Policy" not in api


def test_pages_have_no_inline_script_or_style(world: dict[str, Any]) -> None:
    client = client_for(world["person"])
    for url in (
        reverse("home"),
        reverse("portal:search") + "?q=食品",
        reverse("catalog:guide", args=[ITEM_PROMISED]),
        reverse("portal:my"),
        reverse("portal:apply", args=[ITEM_PROMISED]),
        reverse("identity:profile"),
    ):
        body = text(client.get(url))
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), url
        assert "<style" not in body, url
        assert not re.search(r'\sstyle="', body), url


# --- 我要办 ------------------------------------------------------------


def test_apply_needs_login(world: dict[str, Any]) -> None:
    response = Client().get(reverse("portal:apply", args=[ITEM_PROMISED]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/apply/")


def test_guided_application_from_start_to_submission(world: dict[str, Any]) -> None:
    person = world["person"]
    client = client_for(person)
    start = client.get(reverse("portal:apply", args=[ITEM_PROMISED]))
    assert start.status_code == 200
    assert "受理条件" in text(start)
    # the conditions must be confirmed
    refused = client.post(reverse("portal:apply", args=[ITEM_PROMISED]), {})
    assert refused.status_code == 400
    assert not Case.objects.filter(applicant_user=person).exists()
    response = client.post(reverse("portal:apply", args=[ITEM_PROMISED]), {"conditions_met": "yes"})
    case = Case.objects.get(applicant_user=person)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:draft", args=[case.pk])
    # the form is prefilled from the profile
    page = text(client.get(response["Location"]))
    assert 'value="李娜"' in page
    assert 'value="13800138000"' in page
    # save the form, upload each material
    saved = client.post(
        reverse("portal:draft", args=[case.pk]),
        {
            "action": "save",
            "applicant_name": "李娜",
            "contact_name": "李娜",
            "contact_phone": "13800138000",
            "address": "广安区建设路12号",
            "reason": "开店",
        },
    )
    assert saved.status_code == 302
    case.refresh_from_db()
    assert services.form_values(case)["address"] == "广安区建设路12号"
    from django.core.files.uploadedfile import SimpleUploadedFile

    for index in range(3):
        uploaded = client.post(
            reverse("portal:draft", args=[case.pk]),
            {
                "action": "upload",
                "checklist_index": str(index),
                "file": SimpleUploadedFile(
                    f"m{index}.pdf", PDF + bytes([index]), "application/pdf"
                ),
            },
        )
        assert uploaded.status_code == 302, text(uploaded)
    review = client.get(reverse("portal:review", args=[case.pk]))
    assert review.status_code == 200
    assert "缺少" not in text(review)
    assert 'value="post"' in text(review)  # the item supports delivery by post
    no_address = client.post(reverse("portal:review", args=[case.pk]), {"delivery_method": "post"})
    assert no_address.status_code == 400
    assert 'id="form-error"' in text(no_address)
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT
    done = client.post(
        reverse("portal:review", args=[case.pk]),
        {"delivery_method": "post", "delivery_address": "广安区建设路12号"},
    )
    assert done.status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    assert case.delivery_method == "post"
    assert case.delivery_address == "广安区建设路12号"
    body = text(done)
    assert case.number in body
    password = re.search(r'id="query-password"><strong>(\w+)</strong>', body)
    assert password
    assert services.check_query_password(case.number, password.group(1)).pk == case.pk
    # the draft page now leads to the case
    assert client.get(reverse("portal:draft", args=[case.pk]))["Location"] == reverse(
        "portal:my_case", args=[case.pk]
    )


def test_submit_with_missing_materials_says_which(world: dict[str, Any]) -> None:
    client = client_for(world["person"])
    case = services.create_draft(world["person"], ITEM_PROMISED)
    response = client.post(reverse("portal:review", args=[case.pk]))
    assert response.status_code == 400
    assert "还缺少必要材料" in text(response)
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT


def test_bad_form_value_shows_the_field_error(world: dict[str, Any]) -> None:
    client = client_for(world["person"])
    case = services.create_draft(world["person"], ITEM_PROMISED)
    response = client.post(
        reverse("portal:draft", args=[case.pk]), {"action": "save", "contact_phone": "12"}
    )
    assert response.status_code == 400
    body = text(response)
    assert 'aria-invalid="true"' in body
    assert 'value="12"' in body  # what was typed stays


def test_upload_without_a_file_is_a_clear_error(world: dict[str, Any]) -> None:
    client = client_for(world["person"])
    case = services.create_draft(world["person"], ITEM_PROMISED)
    response = client.post(
        reverse("portal:draft", args=[case.pk]), {"action": "upload", "checklist_index": "0"}
    )
    assert response.status_code == 400
    assert "请选择要上传的文件" in text(response)


def test_reuse_from_the_material_library(world: dict[str, Any]) -> None:
    first = submitted(world)
    stored = first.materials.get(checklist_index=2).file
    client = client_for(world["person"])
    case = services.create_draft(world["person"], ITEM_PROMISED)
    page = text(client.get(reverse("portal:draft", args=[case.pk])))
    assert f'<option value="{stored.pk}">' in page
    response = client.post(
        reverse("portal:draft", args=[case.pk]),
        {"action": "reuse", "checklist_index": "2", "stored_file_id": str(stored.pk)},
    )
    assert response.status_code == 302
    assert case.materials.get(checklist_index=2).file_id == stored.pk


def test_licence_reference_is_checked(world: dict[str, Any]) -> None:
    client = client_for(world["person"])
    case = services.create_draft(world["person"], ITEM_PROMISED)
    response = client.post(
        reverse("portal:draft", args=[case.pk]),
        {"action": "licence", "checklist_index": "1", "licence_identifier": "not-an-id"},
    )
    assert response.status_code == 400
    assert not case.materials.exists()


def test_company_only_item_asks_to_act_for_the_company(world: dict[str, Any]) -> None:
    from zwfw.cases.tests.conftest import publish

    publish(
        world["market"],
        name="企业年报",
        basic_code="XK00012009",
        implementation_code="XK00012009-3-511600-11511600511600040M-01",
        targets=["2"],
    )
    client = client_for(world["person"])
    response = client.get("/apply/XK00012009-3-511600-11511600511600040M-01/")
    assert "切换到“代表单位办理”" in text(response)
    refused = client.post(
        "/apply/XK00012009-3-511600-11511600511600040M-01/", {"conditions_met": "yes"}
    )
    assert refused.status_code == 403
    assert not Case.objects.exists()


def test_agent_acting_for_the_company_applies_on_its_behalf(world: dict[str, Any]) -> None:
    client = client_for(world["agent"])
    switched = client.post(
        reverse("identity:agents"), {"action": "switch", "uscc": world["company"].uscc}
    )
    assert switched.status_code in (200, 302)
    header = text(client.get(reverse("portal:my")))
    assert "代表：示例餐饮管理有限公司" in header
    response = client.post(reverse("portal:apply", args=[ITEM_PROMISED]), {"conditions_met": "yes"})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.company_id == world["company"].pk
    assert case.agent_id == world["agent"].pk
    assert case.applicant_name == "示例餐饮管理有限公司"
    # the draft belongs to the company: the agent, as himself, does not see it
    client.post(reverse("identity:agents"), {"action": "switch", "uscc": ""})
    assert client.get(reverse("portal:draft", args=[case.pk])).status_code == 404


def test_unknown_or_unpublished_item_is_404(world: dict[str, Any]) -> None:
    client = client_for(world["person"])
    assert client.get("/apply/NOPE/").status_code == 404


def test_discard_a_draft(world: dict[str, Any]) -> None:
    client = client_for(world["person"])
    case = services.create_draft(world["person"], ITEM_PROMISED)
    listing = text(client.get(reverse("portal:apply_index")))
    assert reverse("portal:draft", args=[case.pk]) in listing
    response = client.post(reverse("portal:discard", args=[case.pk]))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert reverse("portal:draft", args=[case.pk]) not in text(
        client.get(reverse("portal:apply_index"))
    )


# --- 我的 ------------------------------------------------------------


def test_my_pages_need_login(world: dict[str, Any]) -> None:
    for name in (
        "portal:my",
        "portal:my_cases",
        "portal:my_materials",
        "portal:my_messages",
        "portal:my_licences",
        "portal:my_consultations",
        "portal:my_ratings",
    ):
        response = Client().get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"].startswith("/accounts/login/")


def test_my_cases_lists_mine_only(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    mine = submitted(world)
    theirs = submitted(world, user=world["rep"])
    client = client_for(world["person"])
    with django_assert_max_num_queries(8):
        response = client.get(reverse("portal:my_cases"))
    body = text(response)
    assert mine.number in body
    assert theirs.number not in body
    assert "待受理" in body
    filtered = text(client.get(reverse("portal:my_cases"), {"status": "closed"}))
    assert mine.number not in filtered


def test_my_case_list_queries_do_not_grow(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for _ in range(6):
        services.create_draft(world["person"], ITEM_IMMEDIATE)
    client = client_for(world["person"])
    with django_assert_max_num_queries(8):
        client.get(reverse("portal:my_cases"))


def test_someone_elses_case_is_404_and_unchanged(world: dict[str, Any]) -> None:
    case = submitted(world)
    client = client_for(world["stranger"])
    assert client.get(reverse("portal:my_case", args=[case.pk])).status_code == 404
    response = client.post(
        reverse("portal:my_case", args=[case.pk]), {"action": "withdraw", "reason": "x"}
    )
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    draft = services.create_draft(world["person"], ITEM_PROMISED)
    assert client.get(reverse("portal:draft", args=[draft.pk])).status_code == 404
    assert client.post(reverse("portal:discard", args=[draft.pk])).status_code == 404
    draft.refresh_from_db()
    assert draft.status == CaseStatus.DRAFT


def test_case_detail_correction_and_resubmit(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    case = submitted(world)
    services.request_correction(
        world["clerk"], case, [{"checklist_index": 2, "problem": "平面图不清晰"}], "请补正"
    )
    client = client_for(world["person"])
    with django_assert_max_num_queries(14):
        page = client.get(reverse("portal:my_case", args=[case.pk]))
    body = text(page)
    assert "补正告知" in body
    assert "平面图不清晰" in body
    assert "待补正" in body
    early = client.post(reverse("portal:my_case", args=[case.pk]), {"action": "resubmit"})
    assert early.status_code == 400
    assert "以下材料尚未补正" in text(early)
    from django.core.files.uploadedfile import SimpleUploadedFile

    uploaded = client.post(
        reverse("portal:my_case", args=[case.pk]),
        {
            "action": "upload",
            "checklist_index": "2",
            "file": SimpleUploadedFile("plan.pdf", PDF + b"clear", "application/pdf"),
        },
    )
    assert uploaded.status_code == 302
    assert "已补正" in text(client.get(reverse("portal:my_case", args=[case.pk])))
    done = client.post(reverse("portal:my_case", args=[case.pk]), {"action": "resubmit"})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    body = text(client.get(done["Location"]))
    assert "补正材料提交" in body  # the timeline
    assert AuditRecord.objects.filter(action__contains="resubmit").exists()


def test_withdraw_from_case_detail(world: dict[str, Any]) -> None:
    case = submitted(world)
    client = client_for(world["person"])
    missing_reason = client.post(
        reverse("portal:my_case", args=[case.pk]), {"action": "withdraw", "reason": ""}
    )
    assert missing_reason.status_code == 400
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    client.post(
        reverse("portal:my_case", args=[case.pk]), {"action": "withdraw", "reason": "不办了"}
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN


def test_my_materials_messages_and_placeholders(world: dict[str, Any]) -> None:
    submitted(world)
    client = client_for(world["person"])
    materials = text(client.get(reverse("portal:my_materials")))
    assert "经营场所平面图" in materials
    assert "m2.pdf" in materials
    stranger = text(client_for(world["stranger"]).get(reverse("portal:my_materials")))
    assert "m2.pdf" not in stranger
    messages = client.get(reverse("portal:my_messages"))
    assert messages.status_code == 200
    assert "食品经营许可（新办）" in text(messages)  # the submission notice names the item
    for name in ("portal:my_consultations", "portal:my_ratings", "portal:my_licences"):
        assert client.get(reverse(name)).status_code == 200


def test_my_overview_shows_cases_needing_action(world: dict[str, Any]) -> None:
    draft = services.create_draft(world["person"], ITEM_PROMISED)
    body = text(client_for(world["person"]).get(reverse("portal:my")))
    assert reverse("portal:draft", args=[draft.pk]) in body
    assert "草稿" in body


def _forget_static_storage() -> None:
    """Drop the static storage made under the override: Django's storage handler keeps it,
    with its /zwfw/static/ base URL, for every later test of this process (and the browser
    tests' live server then asks for /zwfw/static/… and gets 404s)."""
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.core.files.storage import storages
    from django.utils.functional import empty

    storages._storages.pop("staticfiles", None)
    staticfiles_storage._wrapped = empty


def test_pages_work_behind_a_path_prefix(world: dict[str, Any]) -> None:
    """Deployed under /zwfw/ (SCRIPT_NAME), every link, form and asset keeps the prefix.

    The test client does not set the script prefix as the WSGI handler does, so the test sets
    it; the static URL is the one Django derives from a relative STATIC_URL under /zwfw/.
    """
    from django.test import override_settings
    from django.urls import set_script_prefix

    client = client_for(world["person"])
    with override_settings(STATIC_URL="/zwfw/static/"):
        set_script_prefix("/zwfw/")
        try:
            responses = {
                path: client.get(path, SCRIPT_NAME="/zwfw")
                for path in (
                    "/",
                    "/search/?q=食品",
                    f"/items/{ITEM_PROMISED}/",
                    "/my/",
                    "/progress/",
                )
            }
        finally:
            # back to "/" before the override ends: leaving it re-reads STATIC_URL, and
            # Django's settings cache the prefixed value for the rest of the process
            set_script_prefix("/")
    _forget_static_storage()
    for path, response in responses.items():
        assert response.status_code == 200, path
        body = text(response)
        targets = re.findall(r'(?:href|src|action)="(/[^"]*)"', body)
        assert targets, path
        outside = [t for t in targets if not t.startswith("/zwfw/")]
        assert outside == [], (path, outside)
        assert 'aria-current="page"' in body or path == "/", path
        assert response["Content-Security-Policy"]


def test_my_licences_lists_the_issued_licence_with_downloads(world: dict[str, Any]) -> None:
    from zwfw.licences.tests.test_issue import closed_case_licence

    licence = closed_case_licence(world)
    client = client_for(world["person"])
    body = text(client.get(reverse("portal:my_licences")))
    assert licence.identifier in body
    pdf = reverse("api-v1:my_licence_file", kwargs={"identifier": licence.identifier, "fmt": "pdf"})
    assert f'href="{pdf}"' in body
    assert client.get(pdf).status_code == 200
    detail = reverse("licences:mine_detail", kwargs={"identifier": licence.identifier})
    assert f'href="{detail}"' in body  # 亮证与用证授权
    assert client.get(detail).status_code == 200
    # the case page shows the decision and the notices
    case_page = text(client.get(reverse("portal:my_case", args=[licence.case_id])))
    assert "已办结" in case_page
    assert "准予" in case_page
    assert "/notices/" in case_page
    # somebody else has no licence
    assert licence.identifier not in text(
        client_for(world["stranger"]).get(reverse("portal:my_licences"))
    )


def test_language_switch_sets_the_page_language(world: dict[str, Any]) -> None:
    client = Client()
    assert 'lang="zh-CN"' in text(client.get(reverse("home")))
    switched = client.post(reverse("set_language"), {"language": "en", "next": "/search/"})
    assert switched.status_code == 302
    assert switched["Location"] == "/search/"
    english = text(client.get(reverse("portal:search")))
    assert '<html lang="en">' in english
    assert ">My space</a>" in english  # the navigation is translated
    assert "Skip to main content" in english


def test_popular_items_are_the_most_applied_then_one_per_family(world: dict[str, Any]) -> None:
    from zwfw.portal.home import popular_items

    quiet = [p.name for p in popular_items()]
    # no cases yet: fully online items in id order, one per name family
    assert quiet == ["食品经营许可（新办）", "建设工程规划许可", "个体工商户名称查询"]
    services.create_draft(world["person"], ITEM_IMMEDIATE)
    services.create_draft(world["rep"], ITEM_IMMEDIATE)
    services.create_draft(world["person"], ITEM_PROMISED)
    from django.core.cache import cache

    cache.clear()
    assert [p.name for p in popular_items()] == [
        "个体工商户名称查询",
        "食品经营许可（新办）",
        "建设工程规划许可",
    ]


def test_rate_a_closed_case_once_and_see_it_in_my_ratings(world: dict[str, Any]) -> None:
    from zwfw.licences.tests.test_issue import closed_case_licence
    from zwfw.ratings.models import Rating

    open_case = submitted(world)
    client = client_for(world["person"])
    assert 'name="level"' not in text(client.get(reverse("portal:my_case", args=[open_case.pk])))
    case_id = closed_case_licence(world).case_id
    url = reverse("portal:my_case", args=[case_id])
    assert 'name="level"' in text(client.get(url))
    # a bad rating must say why; a missing level is refused
    assert client.post(url, {"action": "rate", "level": "9"}).status_code == 400
    bad = client.post(url, {"action": "rate", "level": "5", "text": ""})
    assert bad.status_code == 400
    assert not Rating.objects.exists()
    assert (
        client_for(world["stranger"]).post(url, {"action": "rate", "level": "1"}).status_code == 404
    )
    done = client.post(url, {"action": "rate", "level": "1", "text": "很快"})
    assert done.status_code == 302
    rating = Rating.objects.get()
    assert (rating.case_id, rating.level, rating.rater_id) == (case_id, 1, world["person"].pk)
    page = text(client.get(done["Location"]))
    assert "非常满意" in page
    assert 'name="level"' not in page  # 一事一评: once
    again = client.post(url, {"action": "rate", "level": "2"})
    assert again.status_code == 409
    assert Rating.objects.count() == 1
    mine = text(client.get(reverse("portal:my_ratings")))
    assert "非常满意" in mine
    assert "很快" in mine
