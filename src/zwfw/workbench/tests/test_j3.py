"""J3 through the workbench: three departments review at once; each sees and acts on its own
part only; the decider sends one part back and the others keep their results."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest

from zwfw.cases import processes, services
from zwfw.cases.models import Case, CaseTask, TaskKind
from zwfw.cases.tests.conftest import ITEM_PARALLEL, PDF
from zwfw.organisations import services as organisations
from zwfw.organisations.models import Role
from zwfw.workbench.tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def j3(world: dict[str, Any]) -> Case:
    xml = (
        resources.files("zwfw.cases")
        .joinpath("demo_data/building-planning-permit.bpmn")
        .read_bytes()
    )
    definition = processes.register_process(
        xml, key="test.building", filename="building.bpmn", actor="test"
    )
    processes.bind_item(world["parallel"], definition, "test")
    case = services.create_draft(world["person"], ITEM_PARALLEL)
    for index in range(3):
        services.add_material_upload(
            world["person"], case, checklist_index=index, name="a.pdf", data=PDF + bytes([index])
        )
    case = services.submit(world["person"], case).case
    services.accept(world["clerk"], case)
    organisations.grant_role(user=world["decider"], department=world["planning"], role=Role.DECIDER)
    return case


def review(case: Case, department: Any) -> CaseTask:
    return case.tasks.get(kind=TaskKind.REVIEW, department=department, status="open")


def test_parallel_review_decision_waits_and_one_part_goes_back(
    world: dict[str, Any], j3: Case
) -> None:
    case = j3
    page = client_for(world["housing_reviewer"]).get(f"/workbench/cases/{case.number}/")
    assert page.status_code == 200
    held = {d["department"]: d["holding"] for d in page.context["department_days"]}
    assert held == {
        "广安市市场监督管理局": [],  # accepted it
        "广安市自然资源和规划局": ["规划审查"],
        "广安市住房和城乡建设局": ["建设工程设计审查"],
        "广安市生态环境局": ["环境影响审查"],
    }
    actable = [t.name for t in page.context["open_tasks"] if t.may_act]
    assert actable == ["建设工程设计审查"]
    inbox = client_for(world["housing_reviewer"]).get("/workbench/").context["rows"]
    assert [t.name for t in inbox] == ["建设工程设计审查"]

    # 住建 cannot pass 规划's part: refused, nothing changed.
    planning_task = review(case, world["planning"])
    denied = client_for(world["housing_reviewer"]).post(
        f"/workbench/tasks/{planning_task.pk}/act/", {"action": "pass"}
    )
    assert denied.status_code == 403
    planning_task.refresh_from_db()
    assert planning_task.status == CaseTask.Status.OPEN

    for user, department in (
        ("planning_reviewer", "planning"),
        ("ecology_reviewer", "ecology"),
        ("housing_reviewer", "housing"),
    ):
        task = review(case, world[department])
        response = client_for(world[user]).post(
            f"/workbench/tasks/{task.pk}/act/", {"action": "pass", "opinion": "同意"}
        )
        assert response.status_code == 302, (user, response.content.decode()[:500])
    decide = case.tasks.get(kind=TaskKind.DECIDE, status="open")
    decider = client_for(world["decider"])
    detail = decider.get(f"/workbench/cases/{case.number}/")
    targets = {t.name: t.pk for t in detail.context["done_tasks"]}
    assert set(targets) == {"规划审查", "建设工程设计审查", "环境影响审查"}
    response = decider.post(
        f"/workbench/tasks/{decide.pk}/act/",
        {
            "action": "return",
            "opinion": "环评意见需补充",
            "send_back_to": targets["环境影响审查"],
        },
    )
    assert response.status_code == 302
    open_now = sorted(case.tasks.filter(status="open").values_list("name", flat=True))
    assert open_now == ["环境影响审查"]
    inbox = client_for(world["ecology_reviewer"]).get("/workbench/").context["rows"]
    assert [t.name for t in inbox] == ["环境影响审查"]
