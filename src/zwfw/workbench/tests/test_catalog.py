"""Catalogue pages: edit → change request → two review steps → new version → diff (J6), the
review separation rules, and the import page's row-error report."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from zwfw.catalog.content import validate_content
from zwfw.catalog.models import ChangeRequest, ChangeReview, ChangeStatus, Item, ItemVersion
from zwfw.catalog.services import publish_content
from zwfw.catalog.tests import factories
from zwfw.catalog.tests import import_fixtures as fx
from zwfw.identity.models import User
from zwfw.organisations import services as organisations
from zwfw.organisations.models import Department, Role
from zwfw.workbench.tests.conftest import client_for

pytestmark = pytest.mark.django_db

CODE = "XK00012000-3-511600-11511600511600040M-01"
AFTER = (
    "材料名称：从业人员健康证明；材料类型：复印件；材料形式：电子；"
    "来源渠道：申请人自备；是否必要：是"
)


def person(username: str, role: str, department: Department, name: str) -> User:
    user = User.objects.create_user(username, password="x" * 12, kind="staff", real_name=name)
    organisations.grant_role(user=user, department=department, role=role)
    return user


@pytest.fixture
def catalogue(db: None) -> dict[str, Any]:
    market = factories.department("广安市市场监督管理局")
    other = factories.department("广安市生态环境局")
    content = validate_content(
        factories.content(
            promised_time_limit={"value": 15, "unit": "1", "note": ""},
            review_points=["申请人主体资格"],
        )
    )
    with transaction.atomic():
        item, _ = publish_content(content, department=market, actor="test")
    return {
        "market": market,
        "item": Item.objects.get(pk=item.pk),
        "officer": person("officer", Role.CATALOG_OFFICER, market, "陈静"),
        "other_officer": person("other", Role.CATALOG_OFFICER, other, "外部门"),
        "staffing": person("staffing", Role.CATALOG_REVIEWER, market, "王磊"),
        "legal": person("legal", Role.CATALOG_REVIEWER, market, "李法"),
        "clerk": person("clerk", Role.CLERK, market, "张敏"),
    }


def edit_form(item: Item, **changes: Any) -> dict[str, Any]:
    content = item.current_version.content  # type: ignore[union-attr]
    form = {
        "promised_value": str(content["promised_time_limit"]["value"]),
        "promised_unit": content["promised_time_limit"]["unit"],
        "legal_value": str(content["legal_time_limit"]["value"]),
        "legal_unit": content["legal_time_limit"]["unit"],
        # Browsers send CRLF in textareas: must not count as a change.
        "conditions": content.get("conditions", "").replace("\n", "\r\n"),
        "place": content.get("place", ""),
        "hours": content.get("hours", ""),
        "consult_phone": content.get("consult_phone", ""),
        "review_points": "\r\n".join(content.get("review_points", [])),
        "action": "submit",
    }
    form.update(changes)
    return form


def test_items_list_shows_the_officers_items(catalogue: dict[str, Any]) -> None:
    response = client_for(catalogue["officer"]).get("/workbench/catalog/")
    assert response.status_code == 200
    assert [i.pk for i in response.context["rows"]] == [catalogue["item"].pk]
    assert f"/workbench/catalog/items/{CODE}/edit/" in response.content.decode()
    other = client_for(catalogue["other_officer"]).get("/workbench/catalog/")
    assert other.context["rows"] == []
    assert client_for(catalogue["clerk"]).get("/workbench/catalog/").status_code == 403


def test_j6_edit_two_reviews_new_version_and_the_diff(catalogue: dict[str, Any]) -> None:
    item = catalogue["item"]
    officer = client_for(catalogue["officer"])
    assert officer.get(f"/workbench/catalog/items/{CODE}/edit/").status_code == 200
    form = edit_form(
        item,
        promised_value="10",
        new_name="从业人员健康证明",
        new_required="1",
        new_kinds=["2"],
        reason="压缩承诺时限",
    )
    response = officer.post(f"/workbench/catalog/items/{CODE}/edit/", form)
    assert response.status_code == 302, response.content.decode()
    change = ChangeRequest.objects.get()
    assert response["Location"] == f"/workbench/catalog/changes/{change.pk}/"
    assert change.status == ChangeStatus.IN_REVIEW
    assert change.created_by == catalogue["officer"]
    detail = officer.get(f"/workbench/catalog/changes/{change.pk}/")
    rows = detail.context["comparisons"][0]["rows"]
    assert [(r["path"], r["kind"]) for r in rows] == [
        ("promised_time_limit.value", "changed"),
        ("materials[从业人员健康证明]", "added"),
    ]
    assert detail.context["may_review"] is False  # the author never reviews

    # The author cannot approve: refused, nothing recorded.
    denied = officer.post(f"/workbench/catalog/changes/{change.pk}/act/", {"action": "approve"})
    assert denied.status_code == 403
    assert not ChangeReview.objects.exists()

    staffing = client_for(catalogue["staffing"])
    queue = staffing.get("/workbench/catalog/changes/")
    assert [c.pk for c in queue.context["rows"]] == [change.pk]
    page = staffing.get(f"/workbench/catalog/changes/{change.pk}/").content.decode()
    assert "编制审核" in page
    approved = staffing.post(
        f"/workbench/catalog/changes/{change.pk}/act/", {"action": "approve", "opinion": "同意"}
    )
    assert approved.status_code == 302
    change.refresh_from_db()
    assert (change.status, change.current_step) == (ChangeStatus.IN_REVIEW, 1)
    # The same reviewer cannot take the second step.
    again = staffing.post(f"/workbench/catalog/changes/{change.pk}/act/", {"action": "approve"})
    assert again.status_code == 403
    assert ChangeReview.objects.count() == 1

    legal = client_for(catalogue["legal"])
    legal.post(f"/workbench/catalog/changes/{change.pk}/act/", {"action": "approve"})
    change.refresh_from_db()
    assert change.status == ChangeStatus.APPROVED
    item.refresh_from_db()
    assert item.version_count == 2
    assert item.promised_days == 10
    version = ItemVersion.objects.get(item=item, number=2)
    assert version.content["materials"][-1]["name"] == "从业人员健康证明"

    history = officer.get(f"/workbench/catalog/items/{CODE}/versions/")
    assert [v.number for v in history.context["versions"]] == [2, 1]
    diff = officer.get(f"/workbench/catalog/items/{CODE}/diff/")
    assert diff.status_code == 200
    assert [(r["label"], r["kind"], r["before"], r["after"]) for r in diff.context["rows"]] == [
        ("承诺办结时限 · 时限数值", "changed", "15", "10"),
        ("申请材料「从业人员健康证明」", "added", "—", AFTER),
    ]
    html = diff.content.decode()
    assert 'id="diff-count">2<' in html
    assert "<ins>10</ins>" in html
    assert "<del>15</del>" in html


def test_reject_needs_an_opinion_and_ends_the_request(catalogue: dict[str, Any]) -> None:
    officer = client_for(catalogue["officer"])
    officer.post(
        f"/workbench/catalog/items/{CODE}/edit/", edit_form(catalogue["item"], place="新地点")
    )
    change = ChangeRequest.objects.get()
    staffing = client_for(catalogue["staffing"])
    bare = staffing.post(f"/workbench/catalog/changes/{change.pk}/act/", {"action": "reject"})
    assert bare.status_code == 400
    assert not ChangeReview.objects.exists()
    staffing.post(
        f"/workbench/catalog/changes/{change.pk}/act/",
        {"action": "reject", "opinion": "地点不准确"},
    )
    change.refresh_from_db()
    assert change.status == ChangeStatus.REJECTED
    catalogue["item"].refresh_from_db()
    assert catalogue["item"].version_count == 1


def test_draft_then_submit_and_withdraw(catalogue: dict[str, Any]) -> None:
    officer = client_for(catalogue["officer"])
    officer.post(
        f"/workbench/catalog/items/{CODE}/edit/",
        edit_form(catalogue["item"], hours="全天", action="draft"),
    )
    change = ChangeRequest.objects.get()
    assert change.status == ChangeStatus.DRAFT
    # A reviewer does not see drafts.
    response = client_for(catalogue["staffing"]).get(f"/workbench/catalog/changes/{change.pk}/")
    assert response.status_code == 404
    officer.post(f"/workbench/catalog/changes/{change.pk}/act/", {"action": "submit"})
    change.refresh_from_db()
    assert change.status == ChangeStatus.IN_REVIEW
    officer.post(f"/workbench/catalog/changes/{change.pk}/act/", {"action": "withdraw"})
    change.refresh_from_db()
    assert change.status == ChangeStatus.WITHDRAWN


@pytest.mark.parametrize(
    ("changes", "code_fragment"),
    [
        ({}, "未作任何修改"),
        ({"promised_value": "十五天"}, "承诺办结时限应为"),
        ({"promised_value": "99999"}, "事项内容有"),
    ],
)
def test_bad_edits_are_refused_with_a_message_and_write_nothing(
    catalogue: dict[str, Any], changes: dict[str, str], code_fragment: str
) -> None:
    response = client_for(catalogue["officer"]).post(
        f"/workbench/catalog/items/{CODE}/edit/", edit_form(catalogue["item"], **changes)
    )
    assert response.status_code == 400
    assert code_fragment in response.content.decode()
    assert not ChangeRequest.objects.exists()


def test_officer_of_another_department_cannot_edit(catalogue: dict[str, Any]) -> None:
    other = client_for(catalogue["other_officer"])
    # The item is not among theirs: not found, nothing written.
    response = other.post(
        f"/workbench/catalog/items/{CODE}/edit/", edit_form(catalogue["item"], place="x")
    )
    assert response.status_code == 404
    assert not ChangeRequest.objects.exists()
    assert (
        client_for(catalogue["staffing"]).get(f"/workbench/catalog/items/{CODE}/edit/").status_code
        == 403
    )


def test_diff_of_unknown_versions_is_404(catalogue: dict[str, Any]) -> None:
    officer = client_for(catalogue["officer"])
    assert officer.get(f"/workbench/catalog/items/{CODE}/diff/?from=1&to=9").status_code == 404
    same = officer.get(f"/workbench/catalog/items/{CODE}/diff/?from=1&to=1")
    assert same.context["rows"] == []
    assert officer.get("/workbench/catalog/items/NOPE/versions/").status_code == 404


def test_lists_have_bounded_queries(catalogue: dict[str, Any], count_queries: Any) -> None:
    officer = client_for(catalogue["officer"])
    for place in ("甲", "乙", "丙"):
        officer.post(
            f"/workbench/catalog/items/{CODE}/edit/",
            edit_form(catalogue["item"], place=place, action="draft"),
        )
    officer.get("/workbench/catalog/changes/")
    with count_queries(20) as counted:
        officer.get("/workbench/catalog/changes/")
        officer.get("/workbench/catalog/")
    first = len(counted)
    for place in ("丁", "戊", "己", "庚"):
        officer.post(
            f"/workbench/catalog/items/{CODE}/edit/",
            edit_form(catalogue["item"], place=place, action="draft"),
        )
    with count_queries(first):
        response = officer.get("/workbench/catalog/changes/")
        officer.get("/workbench/catalog/")
    assert len(response.context["rows"]) == 7


def test_import_page_reports_row_errors(db: None) -> None:
    city = fx.city_bureau()
    officer = person("officer", Role.CATALOG_OFFICER, city, "陈静")
    rows = [fx.row(1), fx.row(2, promised_time_limit="十五天"), fx.row(3)]
    data = fx.xlsx_bytes(fx.table(rows))
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(officer)
    assert client.get("/workbench/catalog/import/").status_code == 200
    response = client.post(
        "/workbench/catalog/import/", {"file": SimpleUploadedFile("county.xlsx", data)}
    )
    assert response.status_code == 200
    report = response.context["report"]
    assert (report["created"], report["rejected"]) == (2, 1)
    html = response.content.decode()
    assert '<td class="num">3</td><td>承诺办结时限</td><td>十五天</td>' in html
    assert Item.objects.count() == 2


def test_import_refusals_write_nothing(db: None) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    city = fx.city_bureau()
    officer = person("officer", Role.CATALOG_OFFICER, city, "陈静")
    county = Department.objects.create(name="岳池县民政局", division_id="511621", level=4)
    stranger = person("county", Role.CATALOG_OFFICER, county, "县")
    data = fx.xlsx_bytes(fx.table([fx.row(1)]))
    denied = client_for(stranger).post(
        "/workbench/catalog/import/", {"file": SimpleUploadedFile("a.xlsx", data)}
    )
    assert denied.status_code == 403
    missing = client_for(officer).post("/workbench/catalog/import/", {})
    assert missing.status_code == 400
    garbage = client_for(officer).post(
        "/workbench/catalog/import/", {"file": SimpleUploadedFile("a.xlsx", b"not a workbook")}
    )
    assert garbage.status_code == 400
    dry = client_for(officer).post(
        "/workbench/catalog/import/",
        {"file": SimpleUploadedFile("a.xlsx", data), "dry_run": "1"},
    )
    assert dry.status_code == 200
    assert dry.context["report"]["created"] == 1
    assert Item.objects.count() == 0
    assert ChangeRequest.objects.count() == 0


def test_suspend_then_resume_through_review(catalogue: dict[str, Any]) -> None:
    from zwfw.catalog.models import ChangeKind, ItemStatus

    officer = client_for(catalogue["officer"])
    item = catalogue["item"]
    page = officer.get(f"/workbench/catalog/items/{CODE}/versions/")
    assert [k for k, _ in page.context["status_changes"]] == ["suspend", "cancel"]
    no_reason = officer.post(f"/workbench/catalog/items/{CODE}/status/", {"kind": "suspend"})
    assert no_reason.status_code == 400
    wrong = officer.post(
        f"/workbench/catalog/items/{CODE}/status/", {"kind": "resume", "reason": "x"}
    )
    assert wrong.status_code == 400
    assert not ChangeRequest.objects.exists()
    denied = client_for(catalogue["staffing"]).post(
        f"/workbench/catalog/items/{CODE}/status/", {"kind": "suspend", "reason": "x"}
    )
    assert denied.status_code == 403
    assert not ChangeRequest.objects.exists()

    officer.post(
        f"/workbench/catalog/items/{CODE}/status/", {"kind": "suspend", "reason": "系统升级"}
    )
    change = ChangeRequest.objects.get()
    assert (change.kind, change.status) == (ChangeKind.SUSPEND, ChangeStatus.IN_REVIEW)
    for reviewer in ("staffing", "legal"):
        client_for(catalogue[reviewer]).post(
            f"/workbench/catalog/changes/{change.pk}/act/", {"action": "approve"}
        )
    item.refresh_from_db()
    assert item.status == ItemStatus.SUSPENDED
    page = officer.get(f"/workbench/catalog/items/{CODE}/versions/")
    assert [k for k, _ in page.context["status_changes"]] == ["resume", "cancel"]


@pytest.mark.parametrize(
    "url",
    [
        "/workbench/catalog/?cursor=%25%25%25",
        "/workbench/catalog/?cursor=WzFd",
        "/workbench/catalog/changes/?cursor=zzz",
        "/workbench/catalog/?status=bogus&department=x",
        f"/workbench/catalog/items/{CODE}/diff/?from=abc&to=-1",
        "/workbench/catalog/changes/99999999999999999999/",
    ],
)
def test_damaged_parameters_never_give_a_500(catalogue: dict[str, Any], url: str) -> None:
    response = client_for(catalogue["officer"]).get(url)
    assert response.status_code in (200, 400, 404), response.status_code
