"""J3: three departments review at once (parallel gateway); one sends its part back."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest

from zwfw.cases import processes, selectors, services
from zwfw.cases.models import CaseStatus, CaseTask, TaskKind
from zwfw.cases.tests.conftest import ITEM_PARALLEL, PDF
from zwfw.core.errors import Conflict, PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture
def j3(world: dict[str, Any]) -> dict[str, Any]:
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
    assert case.process == definition
    services.accept(world["clerk"], case)
    return {**world, "case": case}


def review_of(case: Any, department: Any) -> CaseTask:
    return case.tasks.get(kind=TaskKind.REVIEW, department=department, status="open")


def test_three_departments_review_at_once_and_the_case_waits_for_all(j3: dict[str, Any]) -> None:
    case = j3["case"]
    holders = {d["department"]: d["holding"] for d in selectors.department_days(case)}
    assert holders["广安市自然资源和规划局"] == ["规划审查"]
    assert holders["广安市住房和城乡建设局"] == ["建设工程设计审查"]
    assert holders["广安市生态环境局"] == ["环境影响审查"]
    # Each reviewer can act only on their own department's part.
    with pytest.raises(PermissionDenied):
        services.act(j3["housing_reviewer"], review_of(case, j3["planning"]), "pass")
    services.act(j3["planning_reviewer"], review_of(case, j3["planning"]), "pass")
    services.act(j3["ecology_reviewer"], review_of(case, j3["ecology"]), "pass")
    assert not case.tasks.filter(kind=TaskKind.DECIDE).exists()
    holders = {d["department"]: d["holding"] for d in selectors.department_days(case)}
    assert holders["广安市自然资源和规划局"] == []
    assert holders["广安市住房和城乡建设局"] == ["建设工程设计审查"]
    services.act(j3["housing_reviewer"], review_of(case, j3["housing"]), "pass")
    decide = case.tasks.get(kind=TaskKind.DECIDE, status="open")
    assert decide.department == j3["market"]  # the item's own department decides


def test_one_department_sent_back_the_others_keep_their_results(j3: dict[str, Any]) -> None:
    case = j3["case"]
    planning = review_of(case, j3["planning"])
    services.act(j3["planning_reviewer"], planning, "pass", opinion="符合规划条件")
    services.act(j3["housing_reviewer"], review_of(case, j3["housing"]), "pass")
    ecology = review_of(case, j3["ecology"])
    services.act(j3["ecology_reviewer"], ecology, "pass")
    decide = case.tasks.get(kind=TaskKind.DECIDE, status="open")
    housing_done = case.tasks.get(kind=TaskKind.REVIEW, department=j3["housing"], status="done")
    services.act(
        j3["decider"],
        decide,
        "return",
        reason="设计方案缺少消防审查意见",
        send_back_to=housing_done.pk,
    )
    open_tasks = list(case.tasks.filter(status="open").values_list("department__name", "kind"))
    assert open_tasks == [("广安市住房和城乡建设局", "review")]
    planning.refresh_from_db()
    ecology.refresh_from_db()
    assert planning.status == CaseTask.Status.DONE
    assert planning.opinion == "符合规划条件"
    assert ecology.status == CaseTask.Status.DONE
    # Nothing to decide until 住建 has reviewed again.
    with pytest.raises(Conflict):
        services.act(j3["decider"], decide, "approve")
    services.act(j3["housing_reviewer"], review_of(case, j3["housing"]), "pass", opinion="已补充")
    decide = case.tasks.get(kind=TaskKind.DECIDE, status="open")
    case = services.act(j3["decider"], decide, "approve", opinion="准予许可")
    assert case.status == CaseStatus.CLOSED
    assert case.tasks.filter(kind=TaskKind.REVIEW, status="done").count() == 4
