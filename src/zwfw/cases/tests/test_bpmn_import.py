"""Importing BPMN files: the check, the registry, item bindings and ``zwfw import_process``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from zwfw.cases import bpmn_import, engine, processes
from zwfw.cases.bpmn_import import Problem, check_bpmn, inspect_bpmn
from zwfw.cases.models import ItemProcess, ProcessDefinition
from zwfw.cases.processes import ProcessImportError
from zwfw.catalog.content import validate_content
from zwfw.catalog.models import Item
from zwfw.catalog.services import publish_content
from zwfw.catalog.tests import factories
from zwfw.core.errors import ValidationError
from zwfw.core.models import AuditRecord

SAMPLES = Path(__file__).resolve().parent / "bpmn_samples"
REPO = Path(__file__).resolve().parents[4]
ITEM_CODE = "XK00012000-3-511600-11511600511600040M-01"

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:zwfw="https://zwfw.example.org/bpmn" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:flowable="http://flowable.org/bpmn" '
    'id="defs" targetNamespace="https://zwfw.example.org/tests">\n'
)


@pytest.fixture(autouse=True)
def _clean_spec_cache() -> Iterator[None]:
    """The engine caches specs by definition pk, and test databases reuse pks: start clean and
    leave nothing behind for the next test."""
    engine._spec_cache.clear()
    yield
    engine._spec_cache.clear()


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def process(body: str, *, attributes: str = 'isExecutable="true"', extra: str = "") -> bytes:
    """A one-process file around ``body`` (flow nodes and flows)."""
    return (
        f'{HEAD}  <bpmn:process id="p" name="测试流程" {attributes}>\n{body}\n  </bpmn:process>\n'
        f"{extra}</bpmn:definitions>\n"
    ).encode()


#: start → 受理 (accept) → 审查 (review) → end, with ``{middle}`` between review and end.
LINEAR = """
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="accept" />
    <bpmn:userTask id="accept" name="受理" />
    <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="review" />
    <bpmn:userTask id="review" name="审查" />
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="{after_review}" />
    {middle}
    <bpmn:endEvent id="end" />
"""


def linear(middle: str = "", after_review: str = "end") -> bytes:
    return process(LINEAR.format(middle=middle, after_review=after_review))


def codes(problems: list[Problem], severity: str = "error") -> set[str]:
    return {p.code for p in problems if p.severity == severity}


def run_to_end(
    definition: Any, data: dict[str, Any] | None = None
) -> tuple[engine.Runner, list[str]]:
    """Start a workflow like a case does and complete every user task; the tasks in order."""
    runner = engine.start(definition, data or dict(bpmn_import.DRY_RUN_DATA))
    done: list[str] = []
    for _ in range(50):
        ready = runner.ready_user_tasks()
        if not ready:
            break
        task = ready[0]
        done.append(task.task_spec.bpmn_id)
        runner.complete(task.id, {"outcome": "pass", "decision": "approve"})
    assert runner.is_completed()
    return runner, done


# --- files from each modeller ------------------------------------------------------------------

SUPPORTED = {
    "bpmnio-parallel.bpmn": ("bpmn.io", set()),
    "camunda7-review.bpmn": ("Camunda", {"bpmn.role_unknown", "bpmn.assignee_ignored"}),
    "camunda8-joint.bpmn": ("Camunda", set()),
    "flowable-joint.bpmn": ("Flowable", set()),
    "signavio-permit.bpmn": ("Signavio", {"bpmn.executable_assumed"}),
    "bonita-licence.bpmn": ("Bonita", set()),
}


@pytest.mark.parametrize("name", sorted(SUPPORTED))
def test_files_of_each_modeller_import(name: str) -> None:
    modeller, warnings = SUPPORTED[name]
    inspection = inspect_bpmn(sample(name), name)
    assert inspection.errors == [], [p.describe() for p in inspection.errors]
    assert codes(inspection.problems, "warning") == warnings
    assert inspection.ok
    assert inspection.modeller == modeller
    assert inspection.parsed is not None
    assert any(m["type"] == "user" for m in inspection.parsed.task_meta.values())
    assert check_bpmn(sample(name), name) == inspection.problems


def test_builtin_processes_pass_the_check() -> None:
    for key, filename in processes.BUILTIN.items():
        problems = check_bpmn((processes.PROCESS_DIR / filename).read_bytes(), filename)
        assert problems == [], (key, [p.describe() for p in problems])


def test_bpmnio_parallel_gateway_runs_both_reviews_before_the_decision() -> None:
    parsed = inspect_bpmn(sample("bpmnio-parallel.bpmn"), "x.bpmn").parsed
    assert parsed is not None
    kinds = {m["name"]: m["kind"] for m in parsed.task_meta.values()}
    assert kinds == {
        "窗口受理": "accept",
        "消防设计审查": "review",
        "规划条件核实": "review",
        "审批决定": "decide",
    }
    assert all(m["role"] == "" for m in parsed.task_meta.values())  # default roles apply
    assert parsed.has_accept_task
    definition = engine_definition(parsed, -7001)
    runner = engine.start(definition, dict(bpmn_import.DRY_RUN_DATA))
    first = runner.ready_user_tasks()
    assert [t.task_spec.bpmn_id for t in first] == ["Activity_1b4kz0w"]
    runner.complete(first[0].id, {"outcome": "accept"})
    parallel = sorted(t.task_spec.bpmn_id for t in runner.ready_user_tasks())
    assert parallel == ["Activity_0f1wm3n", "Activity_1u9hc6s"]
    runner.complete(runner.ready_user_tasks()[0].id, {"outcome": "pass"})
    assert len(runner.ready_user_tasks()) == 1  # the join waits for the other review
    runner.complete(runner.ready_user_tasks()[0].id, {"outcome": "pass"})
    assert [t.task_spec.bpmn_id for t in runner.ready_user_tasks()] == ["Activity_0lq2t8b"]
    engine._spec_cache.pop(-7001, None)


def engine_definition(parsed: engine.ParsedProcess, pk: int) -> Any:
    from types import SimpleNamespace

    engine._spec_cache.pop(pk, None)
    return SimpleNamespace(pk=pk, spec=engine.stored_spec(parsed), task_meta=parsed.task_meta)


def test_camunda7_candidate_groups_condition_and_return_flow() -> None:
    inspection = inspect_bpmn(sample("camunda7-review.bpmn"), "camunda7-review.bpmn")
    parsed = inspection.parsed
    assert parsed is not None
    meta = parsed.task_meta
    assert (meta["accept"]["role"], meta["review"]["role"]) == ("clerk", "reviewer")
    assert meta["accept"]["time_limit"] == 1
    assert meta["decide"]["kind"] == "decide"
    assert meta["remind"] == {
        "type": "service",
        "name": "提醒办理人",
        "operation": "remind_handlers",
    }
    unknown = next(p for p in inspection.warnings if p.code == "bpmn.role_unknown")
    assert (unknown.id, unknown.element) == ("decide", "userTask")
    assert "section_chief" in unknown.reason
    assert "decider" in unknown.reason
    definition = engine_definition(parsed, -7002)
    runner = engine.start(definition, dict(bpmn_import.DRY_RUN_DATA))
    for outcome in ("accept", "return"):  # 审查退回: the default flow goes back to 受理
        task = runner.ready_user_tasks()[0]
        runner.complete(task.id, {"outcome": outcome})
    assert [t.task_spec.bpmn_id for t in runner.ready_user_tasks()] == ["accept"]
    runner.complete(runner.ready_user_tasks()[0].id, {"outcome": "accept"})
    runner.complete(runner.ready_user_tasks()[0].id, {"outcome": "pass"})  # ${outcome == "pass"}
    assert [t.task_spec.bpmn_id for t in runner.ready_user_tasks()] == ["decide"]
    engine._spec_cache.pop(-7002, None)


def test_flowable_and_camunda8_multi_instance_run_once_per_joint_department() -> None:
    for name, task_id in (
        ("flowable-joint.bpmn", "sid-5A4B3C2D-1E0F-4A9B-8C7D-6E5F4A3B2C1D"),
        ("camunda8-joint.bpmn", "Activity_joint"),
    ):
        parsed = inspect_bpmn(sample(name), name).parsed
        assert parsed is not None
        meta = parsed.task_meta[task_id]
        assert meta["multi_instance_item"] == "department"
        assert meta["department"] == "$department"  # each instance is its department's task
        assert meta["role"] == "reviewer"
        definition = engine_definition(parsed, -7003)
        runner = engine.start(definition, {"joint_departments": ["公安局", "民政局", "卫健委"]})
        runner.complete(runner.ready_user_tasks()[0].id, {"outcome": "accept"})
        instances = runner.ready_user_tasks()
        assert sorted(t.data["department"] for t in instances) == ["公安局", "卫健委", "民政局"]
        engine._spec_cache.pop(-7003, None)


def test_camunda8_feel_condition_and_zeebe_candidate_groups() -> None:
    parsed = inspect_bpmn(sample("camunda8-joint.bpmn"), "c8.bpmn").parsed
    assert parsed is not None
    roles = {key: meta["role"] for key, meta in parsed.task_meta.items()}
    assert roles == {
        "Activity_accept": "clerk",
        "Activity_joint": "reviewer",
        "Activity_coordinate": "decider",  # =["decider"]
        "Activity_decide": "decider",
    }
    definition = engine_definition(parsed, -7004)
    _runner, done = run_to_end(definition)
    assert done[-1] == "Activity_decide"  # =outcome = "pass" took the 通过 flow
    engine._spec_cache.pop(-7004, None)


def test_signavio_lanes_manual_and_plain_tasks_become_user_tasks() -> None:
    parsed = inspect_bpmn(sample("signavio-permit.bpmn"), "s.bpmn").parsed
    assert parsed is not None
    by_name = {m["name"]: m for m in parsed.task_meta.values()}
    assert by_name["受理申请"]["department"] == "综合受理窗口"
    assert by_name["现场核查"]["department"] == "审批二科"  # a <manualTask>
    assert by_name["作出准予许可决定"]["kind"] == "decide"  # a plain <task>
    definition = engine_definition(parsed, -7005)
    _runner, done = run_to_end(definition)
    names = [parsed.task_meta[d]["name"] for d in done]
    assert names == ["受理申请", "现场核查", "作出准予许可决定"]
    engine._spec_cache.pop(-7005, None)


def test_bonita_terminate_end_event_and_default_flow() -> None:
    parsed = inspect_bpmn(sample("bonita-licence.bpmn"), "b.bpmn").parsed
    assert parsed is not None
    definition = engine_definition(parsed, -7006)
    runner = engine.start(definition, {})
    runner.complete(runner.ready_user_tasks()[0].id, {"outcome": "accept"})
    runner.complete(runner.ready_user_tasks()[0].id, {"outcome": "return"})  # 不通过: default
    assert runner.is_completed()  # terminated at 不予核发
    engine._spec_cache.pop(-7006, None)


# --- refused files ---------------------------------------------------------------------------

REFUSED = {
    "refused-script-task.bpmn": {"bpmn.script_refused"},
    "refused-camunda-class.bpmn": {"bpmn.code_refused", "bpmn.service_operation_missing"},
    "refused-call-activity.bpmn": {"bpmn.unsupported_element"},
    "refused-message-event.bpmn": {"bpmn.unsupported_event"},
    "refused-event-gateway.bpmn": {"bpmn.unsupported_element", "bpmn.unsupported_event"},
    "refused-timer-cycle.bpmn": {"bpmn.timer_unsupported"},
    "refused-import-condition.bpmn": {"bpmn.condition_refused"},
    "refused-unreachable.bpmn": {"bpmn.unreachable"},
    "refused-two-processes.bpmn": {"bpmn.executable_count"},
    "refused-xxe.bpmn": {"bpmn.doctype_refused"},
    "refused-billion-laughs.bpmn": {"bpmn.doctype_refused"},
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_files_name_every_problem(name: str) -> None:
    inspection = inspect_bpmn(sample(name), name)
    assert codes(inspection.problems) == REFUSED[name]
    assert inspection.parsed is None
    assert not inspection.ok
    for problem in inspection.errors:
        assert problem.reason
        assert problem.reason_en
        assert problem.reason != problem.reason_en


def test_script_task_problem_names_its_element_and_line() -> None:
    [problem] = check_bpmn(sample("refused-script-task.bpmn"), "x.bpmn")
    assert problem.as_dict() == {
        "code": "bpmn.script_refused",
        "severity": "error",
        "element": "scriptTask",
        "id": "Activity_0script",
        "name": "自动计算收费",
        "line": 12,
        "reason": "脚本任务不受支持：平台不执行上传的代码",
        "reason_en": "script tasks are not supported: the platform never runs uploaded code",
    }
    assert problem.describe() == (
        'line 12: <scriptTask id="Activity_0script" name="自动计算收费">: '
        "脚本任务不受支持：平台不执行上传的代码"
    )


def test_import_condition_is_refused_with_its_flow() -> None:
    [problem] = check_bpmn(sample("refused-import-condition.bpmn"), "x.bpmn")
    assert (problem.element, problem.id, problem.name) == ("sequenceFlow", "Flow_3", "通过")
    assert "__import__" in problem.reason


def test_unreachable_and_message_problems_point_at_the_node() -> None:
    [unreachable] = check_bpmn(sample("refused-unreachable.bpmn"), "x.bpmn")
    assert (unreachable.id, unreachable.name, unreachable.line) == (
        "Activity_orphan",
        "专家评审",
        17,
    )
    [message] = check_bpmn(sample("refused-message-event.bpmn"), "x.bpmn")
    assert (message.element, message.id) == ("intermediateCatchEvent", "Event_report")


def bad(body: str, **kwargs: str) -> set[str]:
    return codes(check_bpmn(process(body, **kwargs), "t.bpmn"))


START_TASK_END = """
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t" />
    {task}
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end" />
    <bpmn:endEvent id="end" />
"""


def with_task(task: str) -> str:
    return START_TASK_END.format(task=task)


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ('<bpmn:sendTask id="t" name="发送通知" />', "bpmn.unsupported_element"),
        ('<bpmn:receiveTask id="t" name="等待回执" />', "bpmn.unsupported_element"),
        (
            '<bpmn:businessRuleTask id="t" camunda:decisionRef="fee_table" />',
            "bpmn.unsupported_element",
        ),
        ('<bpmn:subProcess id="t"><bpmn:startEvent id="s2" /></bpmn:subProcess>', None),
        ('<bpmn:transaction id="t" />', "bpmn.unsupported_element"),
        ('<bpmn:adHocSubProcess id="t" />', "bpmn.unsupported_element"),
        ('<bpmn:complexGateway id="t" />', "bpmn.unsupported_element"),
        ('<bpmn:intermediateThrowEvent id="t" />', "bpmn.unsupported_event"),
        ('<bpmn:scriptTask id="t" scriptFormat="groovy" />', "bpmn.script_refused"),
        ('<bpmn:fancyTask id="t" />', "bpmn.unsupported_element"),
        (
            '<bpmn:userTask id="t"><bpmn:standardLoopCharacteristics /></bpmn:userTask>',
            "bpmn.unsupported_element",
        ),
    ],
)
def test_unsupported_elements(task: str, expected: str | None) -> None:
    found = bad(with_task(task))
    assert (expected or "bpmn.unsupported_element") in found
    if "subProcess" in task:  # one problem for the sub-process, nothing inside it
        assert found == {"bpmn.unsupported_element", "bpmn.no_user_task"}


@pytest.mark.parametrize(
    "service",
    [
        '<bpmn:serviceTask id="t" camunda:class="com.example.Run" />',
        '<bpmn:serviceTask id="t" camunda:expression="${bean.run()}" />',
        '<bpmn:serviceTask id="t" camunda:delegateExpression="${runner}" />',
        '<bpmn:serviceTask id="t" camunda:type="external" camunda:topic="x" />',
        '<bpmn:serviceTask id="t" flowable:class="com.example.Run" />',
        '<bpmn:serviceTask id="t" zwfw:operation="notify_applicant" implementation="Java" />',
        """<bpmn:serviceTask id="t" zwfw:operation="notify_applicant"><bpmn:extensionElements>
             <zeebe:taskDefinition xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" type="run" />
           </bpmn:extensionElements></bpmn:serviceTask>""",
    ],
)
def test_service_tasks_that_call_code_are_refused(service: str) -> None:
    body = with_task(service).replace(
        '<bpmn:endEvent id="end" />',
        '<bpmn:endEvent id="end" />\n<bpmn:userTask id="u" />'
        '<bpmn:sequenceFlow id="fu" sourceRef="start" targetRef="u" />'
        '<bpmn:sequenceFlow id="fu2" sourceRef="u" targetRef="end" />',
    )
    problems = check_bpmn(process(body), "t.bpmn")
    refused = [p for p in problems if p.code == "bpmn.code_refused"]
    assert len(refused) == 1
    assert "不执行任意代码" in refused[0].reason or "不执行外部连接器" in refused[0].reason
    assert "code" in refused[0].reason_en


def test_listeners_in_extension_elements_are_refused() -> None:
    task = """<bpmn:userTask id="t" name="审查"><bpmn:extensionElements>
        <camunda:taskListener class="com.example.OnCreate" event="create" />
        </bpmn:extensionElements></bpmn:userTask>"""
    problems = check_bpmn(process(with_task(task)), "t.bpmn")
    assert [(p.code, p.element, p.id) for p in problems] == [("bpmn.code_refused", "userTask", "t")]
    script = """<bpmn:userTask id="t"><bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="x"><camunda:script scriptFormat="groovy">1</camunda:script>
        </camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements></bpmn:userTask>"""
    assert bad(with_task(script)) == {"bpmn.code_refused"}


def test_service_operations_must_be_registered() -> None:
    body = with_task('<bpmn:serviceTask id="t" zwfw:operation="rm_rf" />').replace(
        '<bpmn:startEvent id="start" />',
        '<bpmn:startEvent id="start" /><bpmn:userTask id="u" />'
        '<bpmn:sequenceFlow id="fu" sourceRef="start" targetRef="u" />'
        '<bpmn:sequenceFlow id="fu2" sourceRef="u" targetRef="end" />',
    )
    [problem] = check_bpmn(process(body), "t.bpmn")
    assert problem.code == "bpmn.service_operation_unknown"
    assert "notify_applicant" in problem.reason  # lists what exists
    assert bad(body.replace(' zwfw:operation="rm_rf"', "")) == {"bpmn.service_operation_missing"}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            '<bpmn:startEvent id="start"><bpmn:messageEventDefinition /></bpmn:startEvent>',
            "bpmn.unsupported_event",
        ),
        (
            '<bpmn:startEvent id="start"><bpmn:timerEventDefinition><bpmn:timeDate>'
            "2030-01-01T00:00:00</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:startEvent>",
            "bpmn.unsupported_event",
        ),
        (
            '<bpmn:startEvent id="start"><bpmn:signalEventDefinition /></bpmn:startEvent>',
            "bpmn.unsupported_event",
        ),
        (
            '<bpmn:startEvent id="start"><bpmn:conditionalEventDefinition /></bpmn:startEvent>',
            "bpmn.unsupported_event",
        ),
    ],
)
def test_only_none_start_events(event: str, expected: str) -> None:
    body = LINEAR.format(middle="", after_review="end").replace(
        '<bpmn:startEvent id="start" />', event
    )
    assert bad(body) == {expected}


@pytest.mark.parametrize(
    "definition",
    [
        "<bpmn:errorEventDefinition />",
        "<bpmn:escalationEventDefinition />",
        "<bpmn:messageEventDefinition />",
        "<bpmn:signalEventDefinition />",
        "<bpmn:compensateEventDefinition />",
        "<bpmn:cancelEventDefinition />",
    ],
)
def test_end_events_are_none_or_terminate(definition: str) -> None:
    body = LINEAR.format(middle="", after_review="end")
    plain = '<bpmn:endEvent id="end" />'
    refused = f'<bpmn:endEvent id="end">{definition}</bpmn:endEvent>'
    assert bad(body.replace(plain, refused)) == {"bpmn.unsupported_event"}
    terminate = '<bpmn:endEvent id="end"><bpmn:terminateEventDefinition /></bpmn:endEvent>'
    assert bad(body.replace(plain, terminate)) == set()


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ("<bpmn:errorEventDefinition />", {"bpmn.unsupported_event"}),
        ("<bpmn:messageEventDefinition />", {"bpmn.unsupported_event"}),
        ("<bpmn:escalationEventDefinition />", {"bpmn.unsupported_event"}),
        ("<bpmn:conditionalEventDefinition />", {"bpmn.unsupported_event"}),
        ("<bpmn:linkEventDefinition />", {"bpmn.unsupported_event"}),
        ("", {"bpmn.unsupported_event"}),
        (
            "<bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT1H</bpmn:timeCycle>"
            "</bpmn:timerEventDefinition>",
            {"bpmn.timer_unsupported"},
        ),
        (
            "<bpmn:timerEventDefinition><bpmn:timeDuration>three days</bpmn:timeDuration>"
            "</bpmn:timerEventDefinition>",
            {"bpmn.timer_unsupported"},
        ),
        (
            "<bpmn:timerEventDefinition><bpmn:timeDuration>${timeout}</bpmn:timeDuration>"
            "</bpmn:timerEventDefinition>",
            {"bpmn.timer_unsupported"},
        ),
        (
            "<bpmn:timerEventDefinition><bpmn:timeDate>next monday</bpmn:timeDate>"
            "</bpmn:timerEventDefinition>",
            {"bpmn.timer_unsupported"},
        ),
        ("<bpmn:timerEventDefinition />", {"bpmn.timer_unsupported"}),
        (
            "<bpmn:timerEventDefinition><bpmn:timeDuration>P3D</bpmn:timeDuration>"
            "</bpmn:timerEventDefinition>",
            set(),
        ),
        (
            '<bpmn:timerEventDefinition><bpmn:timeDuration>"PT2H30M"</bpmn:timeDuration>'
            "</bpmn:timerEventDefinition>",
            set(),
        ),
        (
            "<bpmn:timerEventDefinition><bpmn:timeDate>2030-06-30T17:00:00+08:00</bpmn:timeDate>"
            "</bpmn:timerEventDefinition>",
            set(),
        ),
    ],
)
def test_boundary_events_are_timers_with_a_duration_or_date(
    definition: str, expected: set[str]
) -> None:
    boundary = f"""
    <bpmn:boundaryEvent id="b" name="超期" attachedToRef="review">{definition}</bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="fb" sourceRef="b" targetRef="end" />"""
    assert bad(LINEAR.format(middle=boundary, after_review="end")) == expected


def test_intermediate_timer_on_the_path_runs_in_the_dry_run() -> None:
    middle = """
    <bpmn:intermediateCatchEvent id="wait" name="公示5日">
      <bpmn:timerEventDefinition><bpmn:timeDuration>P5D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="wait" targetRef="decide" />
    <bpmn:userTask id="decide" name="决定" />
    <bpmn:sequenceFlow id="f5" sourceRef="decide" targetRef="end" />"""
    inspection = inspect_bpmn(linear(middle, after_review="wait"), "t.bpmn")
    assert inspection.problems == []
    assert b'"P5D"' in inspection.engine_xml  # quoted for the engine, not in the stored file


@pytest.mark.parametrize(
    ("flows", "expected"),
    [
        (
            '<bpmn:sequenceFlow id="x" sourceRef="review" targetRef="nowhere" />',
            {"bpmn.flow_ref_invalid"},
        ),
        (
            '<bpmn:sequenceFlow id="x" sourceRef="ghost" targetRef="end" />',
            {"bpmn.flow_ref_invalid"},
        ),
        (
            '<bpmn:boundaryEvent id="b" attachedToRef="ghost"><bpmn:timerEventDefinition>'
            "<bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition>"
            '</bpmn:boundaryEvent><bpmn:sequenceFlow id="fb" sourceRef="b" targetRef="end" />',
            {"bpmn.flow_ref_invalid", "bpmn.unreachable"},
        ),
        ('<bpmn:userTask id="review" />', {"bpmn.duplicate_id"}),
        ('<bpmn:startEvent id="start2" />', {"bpmn.multiple_start"}),
    ],
)
def test_structure_problems(flows: str, expected: set[str]) -> None:
    assert bad(LINEAR.format(middle=flows, after_review="end")) == expected


def test_missing_start_end_and_user_task() -> None:
    assert bad('<bpmn:userTask id="u" /><bpmn:endEvent id="e" />') == {"bpmn.no_start"}
    assert bad(
        '<bpmn:startEvent id="s" /><bpmn:userTask id="u" />'
        '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="u" />'
    ) == {"bpmn.no_end"}
    assert bad(
        '<bpmn:startEvent id="s" /><bpmn:endEvent id="e" />'
        '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e" />'
    ) == {"bpmn.no_user_task"}


GATEWAY = """
    <bpmn:exclusiveGateway id="g" {default} />
    <bpmn:sequenceFlow id="yes" sourceRef="g" targetRef="decide">{yes}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="no" sourceRef="g" targetRef="end">{no}</bpmn:sequenceFlow>
    <bpmn:userTask id="decide" name="决定" />
    <bpmn:sequenceFlow id="f9" sourceRef="decide" targetRef="end" />
"""


def gateway(yes: str = "", no: str = "", default: str = "") -> bytes:
    def condition(text: str) -> str:
        return f"<bpmn:conditionExpression>{text}</bpmn:conditionExpression>" if text else ""

    middle = GATEWAY.format(
        default=f'default="{default}"' if default else "", yes=condition(yes), no=condition(no)
    )
    return linear(middle, after_review="g")


def test_gateway_flows_need_conditions_except_the_default() -> None:
    assert codes(check_bpmn(gateway(), "t")) == {"bpmn.condition_missing"}
    assert codes(check_bpmn(gateway(yes='outcome == "pass"', default="no"), "t")) == set()
    assert codes(check_bpmn(gateway(yes="a", no="b", default="ghost"), "t")) == {
        "bpmn.flow_ref_invalid"
    }


@pytest.mark.parametrize(
    "condition",
    [
        "${__import__('os').system('id')}",
        "().__class__.__bases__",
        "open('/etc/passwd')",
        "${execution.getVariable('x')}",
        "x.y",
        "   ",
        "a" * 600,
    ],
)
def test_refused_conditions(condition: str) -> None:
    assert codes(check_bpmn(gateway(yes=condition, default="no"), "t")) == {
        "bpmn.condition_refused"
    }


def test_condition_with_external_script_resource_is_refused() -> None:
    file = gateway(yes="x", default="no").replace(
        b"<bpmn:conditionExpression>",
        b'<bpmn:conditionExpression language="groovy" camunda:resource="deployment://x.groovy">',
    )
    assert codes(check_bpmn(file, "t")) == {"bpmn.code_refused"}


def test_conditions_on_flows_leaving_a_task_are_refused() -> None:
    middle = (
        '<bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="end">'
        "<bpmn:conditionExpression>x == 1</bpmn:conditionExpression></bpmn:sequenceFlow>"
    )
    assert bad(LINEAR.format(middle=middle, after_review="end")) == {"bpmn.condition_misplaced"}


def test_dry_run_catches_a_gateway_no_outcome_of_the_platform_satisfies() -> None:
    file = gateway(yes='outcome == "approved"', no='outcome == "rejected"')
    [problem] = check_bpmn(file, "t.bpmn")
    assert problem.code == "bpmn.dry_run_failed"
    assert "g" in problem.reason
    assert problem.reason_en.startswith("the dry run failed")


def test_dry_run_catches_an_endless_loop() -> None:
    # 审查 "pass" goes back to 审查 again; only another outcome would reach 决定.
    looping = gateway(yes='outcome == "pass"', default="no").replace(
        b'sourceRef="g" targetRef="decide"', b'sourceRef="g" targetRef="review"'
    )
    looping = looping.replace(b'sourceRef="g" targetRef="end"', b'sourceRef="g" targetRef="decide"')
    [problem] = check_bpmn(looping, "t.bpmn")
    assert problem.code == "bpmn.dry_run_failed"
    assert str(bpmn_import.DRY_RUN_STEPS) in problem.reason


def test_dry_run_uses_the_outcome_each_kind_gets_on_the_platform() -> None:
    # 受理 completes with outcome "accept" on the platform: a "pass" check after it never holds.
    middle = GATEWAY.format(
        default="",
        yes='<bpmn:conditionExpression>outcome == "pass"</bpmn:conditionExpression>',
        no='<bpmn:conditionExpression>outcome == "refuse"</bpmn:conditionExpression>',
    )
    body = f"""
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="accept" />
    <bpmn:userTask id="accept" name="受理" />
    <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="g" />
    {middle}
    <bpmn:endEvent id="end" />"""
    assert codes(check_bpmn(process(body), "t")) == {"bpmn.dry_run_failed"}
    assert check_bpmn(process(body.replace('"pass"', '"accept"')), "t") == []


def test_dry_run_leaves_no_throwaway_spec_in_the_engine_cache() -> None:
    inspect_bpmn(sample("bpmnio-parallel.bpmn"), "x.bpmn")
    inspect_bpmn(gateway(yes='outcome == "x"', no='outcome == "y"'), "x.bpmn")
    assert not [pk for pk in engine._spec_cache if pk <= -(10**9)]


def test_multi_instance_variants() -> None:
    def mi(loop: str) -> set[str]:
        task = f'<bpmn:userTask id="t" name="会签">{loop}</bpmn:userTask>'
        return codes(check_bpmn(process(with_task(task)), "t"), "error")

    assert mi("<bpmn:multiInstanceLoopCharacteristics />") == {"bpmn.multi_instance_invalid"}
    assert (
        mi(
            '<bpmn:multiInstanceLoopCharacteristics isSequential="true">'
            "<bpmn:loopCardinality>3</bpmn:loopCardinality>"
            "<bpmn:completionCondition>outcome == 'pass'</bpmn:completionCondition>"
            "</bpmn:multiInstanceLoopCharacteristics>"
        )
        == set()
    )
    assert mi(
        "<bpmn:multiInstanceLoopCharacteristics>"
        "<bpmn:loopCardinality>__import__('os')</bpmn:loopCardinality>"
        "</bpmn:multiInstanceLoopCharacteristics>"
    ) == {"bpmn.condition_refused"}
    assert mi(
        "<bpmn:multiInstanceLoopCharacteristics>"
        "<bpmn:loopDataInputRef>joint_departments</bpmn:loopDataInputRef>"
        '<bpmn:inputDataItem id="d" name="department" />'
        "<bpmn:completionCondition>open('x')</bpmn:completionCondition>"
        "</bpmn:multiInstanceLoopCharacteristics>"
    ) == {"bpmn.condition_refused"}
    assert mi(
        "<bpmn:multiInstanceLoopCharacteristics>"
        "<bpmn:loopDataInputRef>__class__</bpmn:loopDataInputRef>"
        "</bpmn:multiInstanceLoopCharacteristics>"
    ) == {"bpmn.multi_instance_invalid"}
    assert mi(
        '<bpmn:multiInstanceLoopCharacteristics camunda:collection="${items.stream()}" />'
    ) == {"bpmn.multi_instance_invalid"}


def test_multi_instance_over_other_data_warns_and_still_runs() -> None:
    task = (
        '<bpmn:userTask id="t" name="专家评审"><bpmn:multiInstanceLoopCharacteristics '
        'camunda:collection="${experts}" camunda:elementVariable="expert" /></bpmn:userTask>'
    )
    inspection = inspect_bpmn(process(with_task(task)), "t.bpmn")
    assert codes(inspection.problems, "warning") == {"bpmn.collection_unknown"}
    assert inspection.ok


def test_task_attributes_are_checked() -> None:
    assert bad(with_task('<bpmn:userTask id="t" zwfw:kind="approve" />')) == {"bpmn.kind_unknown"}
    assert bad(with_task('<bpmn:userTask id="t" zwfw:timeLimit="3天" />')) == {
        "bpmn.time_limit_invalid"
    }
    warnings = check_bpmn(process(with_task('<bpmn:userTask id="t" zwfw:role="boss" />')), "t")
    assert [(p.code, p.severity) for p in warnings] == [("bpmn.role_unknown", "warning")]
    performer = """<bpmn:userTask id="t"><bpmn:potentialOwner><bpmn:resourceAssignmentExpression>
        <bpmn:formalExpression>科长</bpmn:formalExpression></bpmn:resourceAssignmentExpression>
        </bpmn:potentialOwner></bpmn:userTask>"""
    assert codes(check_bpmn(process(with_task(performer)), "t"), "warning") == {
        "bpmn.performer_ignored"
    }


@pytest.mark.parametrize(
    ("group_attribute", "role"),
    [
        ('zwfw:role="decider"', "decider"),
        ('camunda:candidateGroups="reviewer,decider"', "reviewer"),
        ('flowable:candidateGroups="clerk"', "clerk"),
        (
            'activiti:candidateGroups="reviewer" xmlns:activiti="http://activiti.org/bpmn"',
            "reviewer",
        ),
    ],
)
def test_candidate_groups_of_each_dialect(group_attribute: str, role: str) -> None:
    task = f'<bpmn:userTask id="t" name="审查" {group_attribute} />'
    inspection = inspect_bpmn(process(with_task(task)), "t")
    assert inspection.problems == []
    assert inspection.parsed is not None
    assert inspection.parsed.task_meta["t"]["role"] == role


def test_executable_process_selection() -> None:
    body = with_task('<bpmn:userTask id="t" />')
    assert check_bpmn(process(body, attributes=""), "t") == []  # isExecutable missing: fine
    other = '<bpmn:process id="doc" isExecutable="false"><bpmn:scriptTask id="x" /></bpmn:process>'
    assert check_bpmn(process(body, extra=other), "t") == []  # only the executable one runs
    assert bad(body, attributes="", extra=other.replace("false", "true")) == {
        "bpmn.executable_count"
    }
    assert bad(body, attributes='isExecutable="false"', extra=other) == {"bpmn.executable_count"}
    assert codes(check_bpmn(f"{HEAD}</bpmn:definitions>".encode(), "t")) == {
        "bpmn.executable_count"
    }


def test_collaboration_parts() -> None:
    body = with_task('<bpmn:userTask id="t" />')
    collaboration = """<bpmn:collaboration id="c">
      <bpmn:participant id="p1" name="审批局" processRef="p" />
      <bpmn:participant id="p2" name="申请人" />
      <bpmn:messageFlow id="m1" sourceRef="p2" targetRef="t" />
    </bpmn:collaboration>"""
    [problem] = check_bpmn(process(body, extra=collaboration), "t")
    assert (problem.code, problem.element, problem.id) == (
        "bpmn.unsupported_element",
        "messageFlow",
        "m1",
    )
    allowed = collaboration.replace('<bpmn:messageFlow id="m1" sourceRef="p2" targetRef="t" />', "")
    declarations = '<bpmn:message id="m" name="x" /><bpmn:signal id="s" name="y" />'
    assert check_bpmn(process(body, extra=allowed + declarations), "t") == []
    assert bad(body, extra='<bpmn:choreography id="ch" />') == {"bpmn.unsupported_element"}
    assert bad(body, extra='<bpmn:dataStore id="ds" />') == {"bpmn.unsupported_element"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "bpmn.xml_invalid"),
        (b"   \n", "bpmn.xml_invalid"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xfe", "bpmn.xml_invalid"),
        (bytes(range(256)) * 4, "bpmn.xml_invalid"),
        (b"<definitions><process>", "bpmn.xml_invalid"),
        (b'<?xml version="1.0"?><html><body>hello</body></html>', "bpmn.not_bpmn"),
        (
            b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/DI"><process/></definitions>',
            "bpmn.not_bpmn",
        ),
        (
            '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x><a/>'.encode("utf-16"),
            "bpmn.doctype_refused",
        ),
        (b'<!DOCTYPE x SYSTEM "http://evil.example/x.dtd"><a/>', "bpmn.doctype_refused"),
        (b"<a>" + b"x" * (bpmn_import.MAX_BYTES + 1) + b"</a>", "bpmn.too_large"),
    ],
)
def test_files_that_are_not_safe_bpmn(content: bytes, expected: str) -> None:
    problems = check_bpmn(content, "upload.bpmn")
    assert [p.code for p in problems] == [expected]
    assert problems[0].reason
    assert problems[0].reason_en


def test_utf16_and_gbk_files_are_read() -> None:
    text = process(with_task('<bpmn:userTask id="t" name="审查" />')).decode()
    for codec in ("utf-16", "gbk"):
        data = text.replace('encoding="UTF-8"', f'encoding="{codec.upper()}"').encode(codec)
        assert check_bpmn(data, "t") == []


def test_condition_source_dialects() -> None:
    assert bpmn_import.condition_source('=outcome = "pass"') == 'outcome == "pass"'
    assert bpmn_import.condition_source("=a >= 1 and b != 2") == "a >= 1 and b != 2"
    assert bpmn_import.condition_source('=note = "a=b"') == 'note == "a=b"'
    assert bpmn_import.condition_source("${!rejected}") == "not rejected"
    assert bpmn_import.condition_source("a == 1") == "a == 1"


# --- the registry ----------------------------------------------------------------------------


@pytest.fixture
def item(db: None) -> Item:
    content = validate_content(factories.content())
    with transaction.atomic():
        found, _version = publish_content(content, department=factories.department(), actor="test")
    return Item.objects.get(pk=found.pk)


@pytest.fixture
def fresh_builtins(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """Forget the in-process built-in check; optionally read the files from another folder."""
    processes._reset_builtin_cache()

    def use(folder: Path) -> None:
        processes._reset_builtin_cache()
        monkeypatch.setattr(processes, "PROCESS_DIR", folder)

    yield use
    processes._reset_builtin_cache()


def audits(action: str) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(action=action).order_by("id"))


@pytest.mark.django_db
def test_ensure_builtin_registers_each_file_once(
    fresh_builtins: Callable[[Path], None], django_assert_max_num_queries: Any
) -> None:
    processes.ensure_builtin()
    rows = ProcessDefinition.objects.order_by("key")
    assert [(r.key, r.version, r.builtin) for r in rows] == [
        ("zwfw.any_sign", 1, True),
        ("zwfw.immediate", 1, True),
        ("zwfw.parallel", 1, True),
        ("zwfw.promised", 1, True),
    ]
    promised = rows.get(key="zwfw.promised")
    assert promised.source == "zwfw"
    assert promised.has_accept_task
    assert promised.sha == processes._builtin_sources()["zwfw.promised"][2]
    assert set(promised.task_meta) == {"accept", "review", "decide", "notify"}
    assert len(audits("cases:process:register")) == 4
    with django_assert_max_num_queries(1):
        processes.ensure_builtin()  # up to date: one query, nothing written
    assert ProcessDefinition.objects.count() == 4
    assert len(audits("cases:process:register")) == 4


@pytest.mark.django_db
def test_a_changed_builtin_file_becomes_a_new_version(
    fresh_builtins: Callable[[Path], None], tmp_path: Path
) -> None:
    processes.ensure_builtin()
    for filename in processes.BUILTIN.values():
        (tmp_path / filename).write_bytes((processes.PROCESS_DIR / filename).read_bytes())
    changed = tmp_path / processes.BUILTIN["zwfw.promised"]
    changed.write_bytes(changed.read_bytes().replace("审查".encode(), "技术审查".encode()))
    fresh_builtins(tmp_path)
    processes.ensure_builtin()
    versions = list(
        ProcessDefinition.objects.filter(key="zwfw.promised").values_list("version", flat=True)
    )
    assert sorted(versions) == [1, 2]
    assert ProcessDefinition.objects.count() == 5
    assert processes.latest("zwfw.promised").task_meta["review"]["name"] == "技术审查"


@pytest.mark.django_db
def test_ensure_builtin_after_commit_costs_nothing(
    fresh_builtins: Callable[[Path], None],
    django_assert_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        processes.ensure_builtin()
    with django_assert_num_queries(0):
        processes.ensure_builtin()
    ProcessDefinition.objects.all().delete()  # e.g. a database reset under a running process
    assert processes.builtin("zwfw.immediate").version == 1  # re-registered on demand


@pytest.mark.django_db
def test_register_process_versions_and_audit() -> None:
    first = processes.register_process(
        sample("camunda7-review.bpmn"), key="food.review", filename="a.bpmn", actor="user:1"
    )
    assert (first.key, first.version, first.builtin) == ("food.review", 1, False)
    assert first.process_id == "food_licence_review"
    assert first.name == "食品经营许可（审查可退回）"
    assert first.source == "Camunda"
    assert first.created_by == "user:1"
    assert first.bpmn_xml == sample("camunda7-review.bpmn").decode()  # stored unchanged
    [entry] = audits("cases:process:register")
    assert entry.actor == "user:1"
    assert entry.object_type == "cases.process"
    assert entry.object_id == str(first.pk)
    assert entry.before is None
    assert entry.after["version"] == 1
    assert set(entry.after["warnings"]) == {"bpmn.role_unknown", "bpmn.assignee_ignored"}

    again = processes.register_process(
        sample("camunda7-review.bpmn"), key="food.review", filename="b.bpmn", actor="user:2"
    )
    assert again.pk == first.pk  # same SM3: the same version
    assert len(audits("cases:process:register")) == 1

    second = processes.register_process(
        sample("bpmnio-parallel.bpmn"), key="food.review", filename="c.bpmn", actor="user:1"
    )
    assert second.version == 2
    assert processes.latest("food.review") == second
    assert audits("cases:process:register")[-1].before["version"] == 1


@pytest.mark.django_db
def test_register_process_refuses_bad_files_and_keys() -> None:
    with pytest.raises(ProcessImportError) as caught:
        processes.register_process(
            sample("refused-script-task.bpmn"), key="x", filename="s.bpmn", actor="user:1"
        )
    error = caught.value
    assert isinstance(error, ValidationError)
    assert error.code == "cases.process_invalid"
    assert error.details["filename"] == "s.bpmn"
    assert [p["code"] for p in error.details["problems"]] == ["bpmn.script_refused"]
    assert error.details["problems"][0]["line"] == 12
    assert "脚本任务" in error.message
    assert ProcessDefinition.objects.count() == 0
    for key, code in (
        ("zwfw.promised", "cases.process_key_reserved"),
        ("", "cases.process_key_invalid"),
        ("has space", "cases.process_key_invalid"),
        ("x" * 129, "cases.process_key_invalid"),
    ):
        with pytest.raises(ValidationError) as refused:
            processes.register_process(
                sample("bpmnio-parallel.bpmn"), key=key, filename="p.bpmn", actor="user:1"
            )
        assert refused.value.code == code
    assert ProcessDefinition.objects.count() == 0


@pytest.mark.django_db
def test_utf16_file_is_stored_as_utf8_text() -> None:
    text = sample("bpmnio-parallel.bpmn").decode()
    data = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    definition = processes.register_process(data, key="utf16", filename="u.bpmn", actor="t")
    assert definition.bpmn_xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert 'isExecutable="true"' in definition.bpmn_xml
    assert "建设工程消防验收" in definition.bpmn_xml


@pytest.mark.django_db
def test_bind_item_and_resolve_process(item: Item, fresh_builtins: Callable[[Path], None]) -> None:
    assert processes.resolve_process(item, {"case_type": "2"}).key == "zwfw.promised"
    assert processes.resolve_process(item, {"case_type": "1"}).key == "zwfw.immediate"
    joint = {"case_type": "2", "joint_departments": ["广安市公安局"]}
    assert processes.resolve_process(item, joint).key == "zwfw.parallel"
    assert processes.resolve_process(item, {"joint_departments": []}).key == "zwfw.promised"

    v1 = processes.register_process(
        sample("flowable-joint.bpmn"), key="joint", filename="f.bpmn", actor="user:1"
    )
    binding = processes.bind_item(item, v1, "user:1")
    assert (binding.item_id, binding.process_id, binding.bound_by) == (item.pk, v1.pk, "user:1")
    [entry] = audits("cases:process:bind")
    assert (entry.object_type, entry.object_id, entry.before) == (
        "catalog.item",
        str(item.pk),
        None,
    )
    assert entry.after == {"process": v1.pk, "key": "joint", "version": 1}
    assert processes.resolve_process(item, {"case_type": "1"}) == v1  # the binding wins

    assert processes.bind_item(item, v1, "user:2").bound_by == "user:1"  # unchanged: no-op
    assert len(audits("cases:process:bind")) == 1
    v2 = processes.register_process(
        sample("bonita-licence.bpmn"), key="joint", filename="b.bpmn", actor="user:1"
    )
    processes.bind_item(item, v2, "user:2")
    assert ItemProcess.objects.get(item=item).process == v2
    assert audits("cases:process:bind")[-1].before == {
        "process": v1.pk,
        "key": "joint",
        "version": 1,
    }
    assert processes.resolve_process(item, {}) == v2


@pytest.mark.django_db
def test_running_workflows_keep_the_version_they_started_with() -> None:
    v1 = processes.register_process(
        sample("camunda7-review.bpmn"), key="food", filename="v1.bpmn", actor="user:1"
    )
    runner = engine.start(v1, dict(bpmn_import.DRY_RUN_DATA))
    runner.complete(runner.ready_user_tasks()[0].id, {"outcome": "accept"})
    state = runner.dump()
    assert "spec" not in state  # the state is small; the spec lives on the definition

    v2 = processes.register_process(
        sample("bpmnio-parallel.bpmn"), key="food", filename="v2.bpmn", actor="user:1"
    )
    assert processes.latest("food") == v2

    engine._spec_cache.clear()  # as in a fresh worker process
    stored_v1 = ProcessDefinition.objects.get(key="food", version=1)
    resumed = engine.restore(stored_v1, state)
    assert [t.task_spec.bpmn_id for t in resumed.ready_user_tasks()] == ["review"]
    resumed.complete(resumed.ready_user_tasks()[0].id, {"outcome": "pass"})
    assert [t.task_spec.bpmn_id for t in resumed.ready_user_tasks()] == ["decide"]

    fresh = engine.start(ProcessDefinition.objects.get(pk=v2.pk), {})
    assert [t.task_spec.bpmn_id for t in fresh.ready_user_tasks()] == ["Activity_1b4kz0w"]
    # the stored definitions are untouched by running them
    assert ProcessDefinition.objects.get(pk=v1.pk).spec == stored_v1.spec


# --- zwfw import_process -----------------------------------------------------------------------


def run_command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_process", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def command_error(*args: str) -> tuple[CommandError, str]:
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_process", *args, stdout=StringIO(), stderr=err)
    return caught.value, err.getvalue()


def test_command_check_only_prints_the_tasks(db: None) -> None:
    out, _err = run_command(str(SAMPLES / "camunda7-review.bpmn"), "--check-only")
    assert "食品经营许可（审查可退回） (food_licence_review，Camunda)" in out
    assert "accept  受理  kind=accept role=clerk" in out
    assert "decide  许可决定  kind=decide role=decider（默认 default）" in out
    assert "remind  提醒办理人  → remind_handlers" in out
    assert "[bpmn.role_unknown] (警告 warning)" in out
    assert "检查通过 check passed" in out
    assert ProcessDefinition.objects.count() == 0


def test_command_imports_and_binds(item: Item) -> None:
    path = str(SAMPLES / "flowable-joint.bpmn")
    out, _err = run_command(path, "--item", ITEM_CODE)
    assert f"流程 process item.{ITEM_CODE} 第 1 版" in out
    assert "已登记 (registered)" in out
    assert "department=$department（多实例 each department）" in out
    definition = ProcessDefinition.objects.get()
    assert definition.key == f"item.{ITEM_CODE}"
    assert ItemProcess.objects.get(item=item).process == definition
    assert audits("cases:process:register")[0].actor == "system:import_process"

    out, _err = run_command(path, "--item", ITEM_CODE)
    assert "与已登记的版本相同 (unchanged)" in out
    out, _err = run_command(
        str(SAMPLES / "bpmnio-parallel.bpmn"), "--item", ITEM_CODE, "--key", "fire"
    )
    assert "流程 process fire 第 1 版" in out
    assert ItemProcess.objects.get(item=item).process.key == "fire"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "script.bpmn",
            sample("refused-script-task.bpmn"),
            'line 12: <scriptTask id="Activity_0script" name="自动计算收费">: '
            "脚本任务不受支持：平台不执行上传的代码 [bpmn.script_refused]",
        ),
        ("xxe.bpmn", sample("refused-xxe.bpmn"), "[bpmn.doctype_refused]"),
        ("lol.bpmn", sample("refused-billion-laughs.bpmn"), "[bpmn.doctype_refused]"),
        ("empty.bpmn", b"", "文件为空 [bpmn.xml_invalid]"),
        ("garbage.bpmn", bytes(range(256)), "[bpmn.xml_invalid]"),
        ("page.bpmn", b"<html><body/></html>", "[bpmn.not_bpmn]"),
    ],
)
def test_command_reports_problems_and_exits_1(
    db: None, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    for args in ((str(path), "--check-only"), (str(path), "--check-only", "--key", "k")):
        error, err = command_error(*args)
        assert error.returncode == 1
        assert expected in err
        assert "未导入" in str(error)
    assert ProcessDefinition.objects.count() == 0


def test_command_with_item_does_not_import_a_bad_file(item: Item) -> None:
    error, err = command_error(str(SAMPLES / "refused-unreachable.bpmn"), "--item", ITEM_CODE)
    assert error.returncode == 1
    assert 'line 17: <userTask id="Activity_orphan" name="专家评审">' in err
    assert not ItemProcess.objects.exists()


def test_command_usage_errors(db: None, tmp_path: Path) -> None:
    good = str(SAMPLES / "bpmnio-parallel.bpmn")
    error, _err = command_error(good, "--item", "NO-SUCH-ITEM")
    assert error.returncode == 2
    assert "NO-SUCH-ITEM" in str(error)
    error, _err = command_error(good)
    assert error.returncode == 2
    assert "--item" in str(error)
    error, _err = command_error(str(tmp_path / "missing.bpmn"), "--check-only")
    assert error.returncode == 1
    assert "无法读取文件 cannot read" in str(error)
    error, _err = command_error(str(tmp_path), "--check-only")  # a directory
    assert error.returncode == 1


def test_command_refuses_a_reserved_key(item: Item) -> None:
    error, _err = command_error(
        str(SAMPLES / "bpmnio-parallel.bpmn"), "--item", ITEM_CODE, "--key", "zwfw.promised"
    )
    assert error.returncode == 2
    assert "cases.process_key_reserved" in str(error)


def zwfw(*args: str, var_dir: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("zwfw")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "zwfw.settings.test",
        "ZWFW_VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{var_dir / 'cli.sqlite3'}",
    }
    return subprocess.run(
        [str(script), "import_process", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_console_script_exit_codes(tmp_path: Path) -> None:
    """The installed ``zwfw`` script: 0, 1 or 2 and never a traceback (each run starts Django)."""
    cases = [
        ((str(SAMPLES / "bonita-licence.bpmn"), "--check-only"), 0, "检查通过"),
        ((str(SAMPLES / "refused-billion-laughs.bpmn"), "--check-only"), 1, "doctype_refused"),
        ((str(SAMPLES / "bonita-licence.bpmn"),), 2, "--item"),
    ]
    for args, status, text in cases:
        result = zwfw(*args, var_dir=tmp_path)
        assert result.returncode == status, (args, result.stdout, result.stderr)
        assert text in result.stdout + result.stderr
        assert "Traceback" not in result.stderr
