"""GB/T 39046 exchange datasets of a case: every element of a case walked through submission,
acceptance, correction, a special procedure, a parallel review and the decision."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from zwfw.cases import dataset, services
from zwfw.cases.models import Case, CaseStatus, CaseTask, Notice, TaskKind
from zwfw.cases.tests.conftest import (
    ECOLOGY,
    HOUSING,
    ITEM_IMMEDIATE,
    ITEM_PARALLEL,
    ITEM_PROMISED,
    MARKET,
    PDF,
    PLANNING,
    publish,
)
from zwfw.core import codes
from zwfw.organisations.models import Department

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARKET_USCC = "11511600511600040M"
PLANNING_USCC = "11511600008700001K"
HOUSING_USCC = "115116000087000022"
ECOLOGY_USCC = "11511600MB1530001A"


class Clock:
    """``timezone.now()`` under the test's control (every write in a step gets its time)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def at(self, local: dt.datetime) -> str:
        """Set the time to ``local`` (Asia/Shanghai); returns its wire form."""
        self.now = local.astimezone(dt.UTC)
        return local.strftime("%Y%m%d%H%M%S")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", lambda: fake.now)
    return fake


def local(day: dt.date, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI)


def departments() -> dict[str, Department]:
    """The four departments by name, with their USCC."""
    usccs = {
        MARKET: MARKET_USCC,
        PLANNING: PLANNING_USCC,
        HOUSING: HOUSING_USCC,
        ECOLOGY: ECOLOGY_USCC,
    }
    for name, uscc in usccs.items():
        Department.objects.filter(name=name).update(uscc=uscc)
    return {d.name: d for d in Department.objects.filter(name__in=usccs)}


def upload_all(user: Any, case: Case, acting_uscc: str | None = None) -> None:
    for index, entry in enumerate(case.item_version.content.get("materials", [])):
        if entry.get("required", True):
            services.add_material_upload(
                user,
                case,
                checklist_index=index,
                name=f"m{index}.pdf",
                data=PDF + str(index).encode(),
                acting_uscc=acting_uscc,
            )


def open_task(case: Case, department: Any = None, kind: str | None = None) -> CaseTask:
    tasks = case.tasks.filter(status=CaseTask.Status.OPEN)
    if department is not None:
        tasks = tasks.filter(department=department)
    if kind is not None:
        tasks = tasks.filter(kind=kind)
    found = tasks.order_by("id").first()
    assert found is not None, list(case.tasks.values_list("name", "status", "department__name"))
    return found


def test_wire_formats() -> None:
    moment = dt.datetime(2026, 11, 27, 16, 30, 5, tzinfo=dt.UTC)
    assert dataset.wire_datetime(moment) == "20261128003005"  # Asia/Shanghai, past midnight
    assert dataset.wire_datetime(None) == ""
    assert dataset.wire_date(dt.date(2026, 1, 2)) == "20260102"
    assert dataset.wire_date(None) == ""


def test_field_tables_name_the_standard_elements() -> None:
    assert dataset.APPLY_FIELDS["applicant_id_type"].name == "申请者证件类型代码"
    assert dataset.APPLY_FIELDS["submitted_at"].format == "YYYYMMDDhhmmss"
    assert dataset.APPLY_FIELDS["division_code"].format == "n..9"
    assert dataset.ACCEPT_FIELDS["notice_number"][:3] == (
        "受理文书编号",
        "an..30",
        "受理通知书的文书编号",
    )
    assert dataset.PROCESS_FIELDS["status"].name == "环节办理状态代码"
    assert dataset.SPECIAL_FIELDS["kind"].name == "特别程序种类代码"
    assert dataset.CLOSE_FIELDS["by_post"].name == "是否快递寄送结果"
    assert list(dataset.FIELDS) == [
        "apply",
        "apply.materials",
        "accept",
        "process",
        "special",
        "close",
    ]
    # Element counts of GB/T 39046 表5 (items 1–19 + materials 21–26), 表6, 表7, 表8.
    assert len(dataset.APPLY_FIELDS) == 20
    assert len(dataset.MATERIAL_FIELDS) == 6
    assert len(dataset.ACCEPT_FIELDS) == 13
    assert len(dataset.PROCESS_FIELDS) == 10
    assert len(dataset.SPECIAL_FIELDS) == 12
    assert len(dataset.CLOSE_FIELDS) == 11


def test_problems_reports_values_off_format() -> None:
    record = dict.fromkeys(dataset.CLOSE_FIELDS, "")
    record.update(closed_at="2026-11-27", by_post="是", division_code="5116001234567", extra="x")
    found = dataset.problems({"apply": None, "process": [], "special": [], "close": record})
    assert sorted(found) == [
        "close.by_post: not digits",
        "close.closed_at: not YYYYMMDDhhmmss",
        "close.division_code: longer than 9 characters",
        "close.extra: not an element of the dataset",
    ]
    assert dataset.problems({"close": {"case_number": "1"}})[0] == "close.handler: missing"


def test_dataset_of_a_case_walked_to_its_decision(world: dict[str, Any], clock: Clock) -> None:
    dept = departments()
    person, clerk, reviewer = world["person"], world["clerk"], world["reviewer"]
    day = timezone.localdate() + dt.timedelta(days=1)

    uploaded = clock.at(local(day, 7, 5, 9))
    case = services.create_draft(person, ITEM_PARALLEL)
    services.update_draft(
        person, case, {"address": "四川省广安市广安区建设路1号", "postcode": "638000"}
    )
    upload_all(person, case)
    submitted = clock.at(local(day, 7, 30, 0))
    number = services.submit(person, case).case.number or ""
    assert number.startswith(f"511600{day:%Y%m%d}")  # the Shanghai day, not the UTC one

    draft_view = dataset.case_dataset(case)
    assert draft_view["accept"] is None
    assert draft_view["close"] is None
    assert [s["status"] for s in draft_view["process"]] == ["2", "1"]  # 申请 done, 受理 to do

    accepted = clock.at(local(day, 9, 0, 0))
    services.accept(clerk, case, opinion="材料齐全，予以受理")
    corrected = clock.at(local(day, 10, 0, 0))
    services.request_correction(
        reviewer,
        case,
        [{"checklist_index": 2, "problem": "平面图未标明面积"}],
        "请补正经营场所平面图",
    )
    reuploaded = clock.at(local(day, 11, 0, 0))
    services.add_material_upload(
        person, case, checklist_index=2, name="plan-v2.pdf", data=PDF + b"v2"
    )
    resubmitted = clock.at(local(day, 11, 5, 0))
    services.resubmit(person, case)
    special_start = clock.at(local(day, 14, 0, 0))
    services.start_special_procedure(
        reviewer,
        case,
        kind=codes.SpecialProcedureKind.ON_SITE_VERIFICATION,
        reason="需实地核查经营场所",
        expected_end=day + dt.timedelta(days=10),
    )
    special_end = clock.at(local(day + dt.timedelta(days=1), 16, 0, 0))
    services.end_special_procedure(reviewer, case, result="核查通过", opinion="同意继续办理")

    planning_done = clock.at(local(day + dt.timedelta(days=1), 16, 30, 0))
    services.act(
        world["planning_reviewer"], open_task(case, dept[PLANNING]), "pass", opinion="符合规划"
    )
    housing_done = clock.at(local(day + dt.timedelta(days=1), 16, 45, 0))
    services.act(world["housing_reviewer"], open_task(case, dept[HOUSING]), "pass", opinion="同意")

    # Two reviews still open: reported as 待办 steps whose end is their start.
    halfway = dataset.case_dataset(case)
    pending = [s for s in halfway["process"] if s["status"] == "1"]
    assert [(s["department_name"], s["department_uscc"]) for s in pending] == [
        (MARKET, MARKET_USCC),
        (ECOLOGY, ECOLOGY_USCC),
    ]
    assert {(s["action"], s["handler"], s["opinion"]) for s in pending} == {("9", "", "")}
    assert all(s["ended_at"] == s["started_at"] == accepted for s in pending)
    assert halfway["close"] is None

    services.claim(reviewer, open_task(case, dept[MARKET]))
    claimed = [s for s in dataset.case_dataset(case)["process"] if s["status"] == "1"]
    assert [s["handler"] for s in claimed] == ["刘洋", ""]
    market_done = clock.at(local(day + dt.timedelta(days=2), 9, 0, 0))
    services.act(reviewer, open_task(case, dept[MARKET]), "pass", opinion="符合条件")
    ecology_done = clock.at(local(day + dt.timedelta(days=2), 9, 30, 0))
    services.act(
        world["ecology_reviewer"], open_task(case, dept[ECOLOGY]), "pass", opinion="无异议"
    )
    services.choose_delivery(person, case, "post", "四川省广安市广安区建设路1号")
    decided = clock.at(local(day + dt.timedelta(days=2), 10, 0, 0))
    services.act(
        world["decider"], open_task(case, kind=TaskKind.DECIDE), "approve", opinion="准予许可"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED

    data = dataset.case_dataset(case)
    assert dataset.problems(data) == []
    assert set(data) == {"apply", "accept", "process", "special", "close"}

    apply = data["apply"]
    materials = apply.pop("materials")
    assert apply == {
        "case_number": number,
        "implementation_code": ITEM_PARALLEL,
        "item_name": "建设工程规划许可",
        "case_type_name": "承诺件",
        "case_type": "2",
        "applicant_name": "李娜",
        "applicant_id_type": "111",
        "applicant_id_number": "511602199201200023",
        "contact_name": "李娜",
        "contact_id_type": "111",
        "contact_id_number": "511602199201200023",
        "contact_phone": "13800138000",
        "postcode": "638000",
        "address": "四川省广安市广安区建设路1号",
        "legal_representative": "",
        "channel": "2",
        "submitted_at": submitted,
        "project_code": "",
        "division_code": "511600",
    }
    files = {m.checklist_index: m.file for m in case.materials.exclude(status="superseded")}
    assert [
        (m["name"], m["collected"], m["method"], m["count"], m["collected_at"]) for m in materials
    ] == [
        ("食品经营许可申请书", "1", "电子上传", "1", uploaded),
        ("营业执照", "1", "电子上传", "1", uploaded),
        ("经营场所平面图", "1", "电子上传", "1", reuploaded),
    ]
    plan = files[2]
    assert plan is not None
    assert materials[2]["attachment"] == {
        "file_id": plan.pk,
        "sha": plan.sha,
        "media_type": "application/pdf",
        "size": len(PDF + b"v2"),
        "name": "plan-v2.pdf",
    }

    notice = case.notices.get(kind=Notice.Kind.ACCEPTANCE)
    assert data["accept"] == {
        "case_number": number,
        "basic_code": "XK00012001",
        "implementation_code": ITEM_PARALLEL,
        "item_name": "建设工程规划许可",
        "department_name": MARKET,
        "department_uscc": MARKET_USCC,
        "accepted_by": "张敏",
        "accepted_at": accepted,
        "notice_number": notice.number,
        "promised_end": f"{case.due_date:%Y%m%d}",
        "case_type_name": "承诺件",
        "case_type": "2",
        "division_code": "511600",
    }
    assert notice.number == f"SL-{number}-01"

    usccs = {
        MARKET: MARKET_USCC,
        PLANNING: PLANNING_USCC,
        HOUSING: HOUSING_USCC,
        ECOLOGY: ECOLOGY_USCC,
    }
    keys = ("action", "step_name", "handler", "opinion", "started_at", "ended_at")
    review_names = dict(
        case.tasks.filter(kind=TaskKind.REVIEW).values_list("department__name", "name")
    )
    assert review_names[MARKET] == "牵头部门审查"
    rows = [
        ("1", "申请", "李娜", "", submitted, submitted, MARKET),
        ("1", "受理", "张敏", "材料齐全，予以受理", accepted, accepted, MARKET),
        ("2", "补正告知", "刘洋", "请补正经营场所平面图", corrected, corrected, MARKET),
        ("1", "补正材料提交", "李娜", "", resubmitted, resubmitted, MARKET),
        (
            "9",
            "特别程序：实地核查",
            "刘洋",
            "需实地核查经营场所",
            special_start,
            special_start,
            MARKET,
        ),
        ("9", "特别程序结束：实地核查", "刘洋", "核查通过", special_end, special_end, MARKET),
        ("1", review_names[PLANNING], "规划审查员", "符合规划", accepted, planning_done, PLANNING),
        ("1", review_names[HOUSING], "住建审查员", "同意", accepted, housing_done, HOUSING),
        ("1", "牵头部门审查", "刘洋", "符合条件", accepted, market_done, MARKET),
        ("1", review_names[ECOLOGY], "环保审查员", "无异议", accepted, ecology_done, ECOLOGY),
        ("1", "决定", "陈局", "准予许可", ecology_done, decided, MARKET),
        ("1", "办结", "陈局", "", decided, decided, MARKET),
    ]
    assert data["process"] == [
        {
            "case_number": number,
            **dict(zip(keys, row[:6], strict=True)),
            "department_name": row[6],
            "department_uscc": usccs[row[6]],
            "status": "2",
        }
        for row in rows
    ]

    assert data["special"] == [
        {
            "case_number": number,
            "kind_name": "实地核查",
            "kind": "2",
            "started_at": special_start,
            "reason": "需实地核查经营场所",
            "requested_by": "刘洋",
            "ended_at": special_end,
            "result": "核查通过",
            "opinion": "同意继续办理",
            "department_name": MARKET,
            "department_uscc": MARKET_USCC,
            "handler": "刘洋",
        }
    ]

    assert data["close"] == {
        "case_number": number,
        "handler": "陈局",
        "closed_at": decided,
        "licence_name": "",
        "licence_number": "",
        "result_description": "准予：食品经营许可证",
        "validity": "",
        "issuer": MARKET,
        "division_code": "511600",
        "by_post": "1",
        "charges_fee": "0",
    }


def test_dataset_query_count_is_fixed(world: dict[str, Any], django_assert_num_queries) -> None:
    case = services.create_draft(world["person"], ITEM_PROMISED)
    upload_all(world["person"], case)
    services.submit(world["person"], case)
    services.accept(world["clerk"], case)
    with django_assert_num_queries(5):  # case, events, open tasks, procedures, materials
        dataset.case_dataset(case)
    services.act(world["reviewer"], open_task(case, kind=TaskKind.REVIEW), "pass")
    services.act(world["decider"], open_task(case, kind=TaskKind.DECIDE), "approve")
    with django_assert_num_queries(6):  # … and the decision document once closed
        closed = dataset.case_dataset(case)
    assert closed["close"] is not None
    assert len(closed["process"]) == 5


@pytest.mark.parametrize(("case_type", "label"), [("3", "上报件"), ("4", "联办件")])
def test_local_case_types_are_reported_as_other(
    world: dict[str, Any], case_type: str, label: str
) -> None:
    assert codes.label(codes.CaseType, case_type) == label
    code = f"XK0001210{case_type}-3-511600-11511600511600040M-01"
    publish(
        world["market"],
        basic_code=f"XK0001210{case_type}",
        implementation_code=code,
        case_type=case_type,
        targets=["1", "2", "6"],
    )
    case = services.create_draft(world["person"], code)
    assert case.case_type == case_type
    upload_all(world["person"], case)
    services.submit(world["person"], case)
    services.accept(world["clerk"], case)
    data = dataset.case_dataset(case)
    assert (data["apply"]["case_type"], data["apply"]["case_type_name"]) == ("9", "其他")
    assert data["accept"] is not None
    assert (data["accept"]["case_type"], data["accept"]["case_type_name"]) == ("9", "其他")
    assert dataset.problems(data) == []


def test_company_case_reports_the_agent_and_the_uscc(world: dict[str, Any]) -> None:
    uscc = world["company"].uscc
    agent = world["agent"]
    case = services.create_draft(agent, ITEM_PROMISED, acting_uscc=uscc)
    upload_all(agent, case, uscc)
    services.submit(agent, case, acting_uscc=uscc)
    apply = dataset.case_dataset(case)["apply"]
    assert apply["applicant_name"] == "示例餐饮管理有限公司"
    assert apply["applicant_id_type"] == codes.IdentityDocumentType.USCC == "901"
    assert apply["applicant_id_number"] == uscc
    assert apply["legal_representative"] == "张伟"
    assert (apply["contact_name"], apply["contact_id_type"], apply["contact_id_number"]) == (
        "王强",
        "111",
        agent.id_number,
    )
    assert apply["contact_phone"] == agent.phone


def test_refused_and_withdrawn_cases(world: dict[str, Any]) -> None:
    refused = services.create_draft(world["person"], ITEM_PROMISED)
    upload_all(world["person"], refused)
    services.submit(world["person"], refused)
    services.refuse(world["clerk"], refused, "不属于本机关职权范围")
    data = dataset.case_dataset(refused)
    assert data["accept"] is None
    assert data["close"] is not None
    assert data["close"]["result_description"] == "不予受理：不属于本机关职权范围"
    assert data["close"]["handler"] == "张敏"
    assert data["close"]["by_post"] == "0"
    assert [(s["step_name"], s["action"]) for s in data["process"]] == [
        ("申请", "1"),
        ("受理", "2"),
    ]

    withdrawn = services.create_draft(world["person"], ITEM_PROMISED)
    upload_all(world["person"], withdrawn)
    services.submit(world["person"], withdrawn)
    services.withdraw(world["person"], withdrawn, "不再需要")
    data = dataset.case_dataset(withdrawn)
    assert data["close"] is None
    assert [(s["step_name"], s["status"]) for s in data["process"]] == [
        ("申请", "2"),
        ("撤回", "2"),
    ]


def test_immediate_case_and_unprovided_materials(world: dict[str, Any]) -> None:
    case = services.create_draft(world["person"], ITEM_IMMEDIATE)
    services.submit(world["person"], case)
    services.act(
        world["clerk"], open_task(case, kind=TaskKind.HANDLE), "approve", opinion="当场办结"
    )
    data = dataset.case_dataset(case)
    assert data["apply"]["case_type"] == "1"
    assert data["apply"]["materials"] == []
    assert data["accept"] is not None
    assert data["accept"]["notice_number"] == ""
    assert data["close"] is not None
    assert data["close"]["handler"] == "张敏"
    assert dataset.problems(data) == []

    # An optional checklist entry left empty is reported as not collected.
    code = "XK00012110-3-511600-11511600511600040M-01"
    content_materials = [
        {"name": "申请书", "kinds": ["1"], "forms": ["2"], "source": "1", "required": True},
        {"name": "补充说明", "kinds": ["1"], "forms": ["2"], "source": "1", "required": False},
    ]
    publish(
        world["market"],
        basic_code="XK00012110",
        implementation_code=code,
        materials=content_materials,
        targets=["1", "2", "6"],
    )
    draft = services.create_draft(world["person"], code)
    upload_all(world["person"], draft)
    materials = dataset.case_dataset(draft)["apply"]["materials"]
    assert [(m["name"], m["collected"], m["method"], m["attachment"]) for m in materials][1] == (
        "补充说明",
        "0",
        "",
        None,
    )
    assert materials[0]["collected"] == "1"


def test_long_free_text_is_cut_to_the_element_length(world: dict[str, Any]) -> None:
    case = services.create_draft(world["person"], ITEM_PROMISED)
    upload_all(world["person"], case)
    services.submit(world["person"], case)
    services.accept(world["clerk"], case, opinion="意" * 1500)
    data = dataset.case_dataset(case)
    accept_step = data["process"][1]
    assert accept_step["opinion"] == "意" * 1000
    assert dataset.problems(data) == []
