"""The BPMN engine behind case handling: SpiffWorkflow with the platform's restrictions.

- **Parsing** (:func:`parse_bpmn`): a BPMN 2.0 file becomes a serialised SpiffWorkflow spec plus
  ``task_meta`` — what the platform needs to know per task (kind, role, department, time limit,
  service operation). :mod:`zwfw.cases.bpmn_import` checks a file first and names every element
  the platform does not support.
- **Running**: a case's workflow state is SpiffWorkflow's serialisation *without* the process
  spec (stored once on :class:`~zwfw.cases.models.ProcessDefinition`), so a case costs a few KB.
  Restored specs are cached per process version.
- **Conditions** run through :mod:`zwfw.cases.expressions` (no ``eval``); script tasks are
  refused at import and cannot run.
- **Service tasks** call a whitelisted platform operation (:data:`SERVICE_OPERATIONS`) named
  by the task's ``zwfw:operation`` attribute; nothing else can be called.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask, UserTask
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from zwfw.cases import expressions

# SpiffWorkflow logs every task state change at INFO: a dozen JSON lines per step, and a
# tenth of the cost of a case transition. Its warnings and errors still get through.
logging.getLogger("spiff").setLevel(logging.WARNING)

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ZWFW_NS = "https://zwfw.example.org/bpmn"
#: Attributes modellers use for candidate groups, in order of preference.
GROUP_ATTRIBUTES = (
    f"{{{ZWFW_NS}}}role",
    "{http://camunda.org/schema/1.0/bpmn}candidateGroups",
    "{http://flowable.org/bpmn}candidateGroups",
    "{http://activiti.org/bpmn}candidateGroups",
)
KIND_ATTRIBUTE = f"{{{ZWFW_NS}}}kind"
DEPARTMENT_ATTRIBUTE = f"{{{ZWFW_NS}}}department"
TIME_LIMIT_ATTRIBUTE = f"{{{ZWFW_NS}}}timeLimit"
OPERATION_ATTRIBUTE = f"{{{ZWFW_NS}}}operation"

DEFAULT_ROLE = {"accept": "clerk", "review": "reviewer", "decide": "decider", "handle": "clerk"}


class ProcessInvalid(Exception):
    """A BPMN file cannot run on the platform; ``problems`` names each reason."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.get('element', '')}: {p['reason']}" for p in problems))


# --- restricted script environment ------------------------------------------------------------


class RestrictedEnvironment(TaskDataEnvironment):
    """Conditions through the restricted evaluator; scripts never run."""

    def evaluate(self, expression: str, context: dict, external_context: Any = None) -> Any:
        merged = dict(external_context or {})
        merged.update(context)
        return expressions.evaluate(expression, merged)

    def execute(self, script: str, context: dict, external_context: Any = None) -> bool:
        raise expressions.ExpressionRefused(script[:60], "script tasks are not supported")


class _Engine(PythonScriptEngine):
    def validate(self, expression: str) -> None:
        expressions.compile_expression(expression)


SCRIPT_ENGINE = _Engine(environment=RestrictedEnvironment())


# --- service tasks -----------------------------------------------------------------------------

#: operation name → function(case, task_data) -> dict of data to merge (or None).
SERVICE_OPERATIONS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any] | None]] = {}


def service_operation(
    name: str,
) -> Callable[[Callable[[Any, dict[str, Any]], dict[str, Any] | None]], Any]:
    """Register a platform function that BPMN service tasks may call by ``name``."""

    def register(func: Callable[[Any, dict[str, Any]], dict[str, Any] | None]) -> Any:
        SERVICE_OPERATIONS[name] = func
        return func

    return register


# --- parsing -----------------------------------------------------------------------------------


@dataclass
class ParsedProcess:
    process_id: str
    name: str
    spec: dict[str, Any]
    subprocess_specs: dict[str, Any]
    task_meta: dict[str, dict[str, Any]]
    has_accept_task: bool
    source: str = ""


def _serializer() -> BpmnWorkflowSerializer:
    # SpiffWorkflow's default configuration has no converter for the plain BPMN service task
    # (its "spiff" package brings its own); the base converter is enough for ours.
    config = dict(DEFAULT_CONFIG)
    config[ServiceTask] = BpmnTaskSpecConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


SERIALIZER = _serializer()


def infer_kind(name: str) -> str:
    """Task kind from its name when the file does not say (``zwfw:kind``)."""
    if "受理" in name or "accept" in name.lower():
        return "accept"
    if any(word in name for word in ("决定", "批准", "签发")) or "decid" in name.lower():
        return "decide"
    return "review"


def detect_modeller(root: etree._Element) -> str:
    exporter = (root.get("exporter") or "").strip()
    nsmap = " ".join(str(v) for v in (root.nsmap or {}).values())
    for needle, label in (
        ("camunda", "Camunda"),
        ("flowable", "Flowable"),
        ("activiti", "Activiti"),
        ("signavio", "Signavio"),
        ("bonita", "Bonita"),
        ("bpmn.io", "bpmn.io"),
        ("bpmn-js", "bpmn.io"),
    ):
        if needle in exporter.lower() or needle in nsmap.lower():
            return label
    return exporter[:64]


def _task_meta(root: etree._Element, process_id: str) -> dict[str, dict[str, Any]]:
    ns = {"b": BPMN_NS}
    process = root.find(f"b:process[@id='{process_id}']", ns)
    if process is None:
        return {}
    lanes: dict[str, str] = {}
    for lane in process.iterfind(".//b:lane", ns):
        for ref in lane.iterfind("b:flowNodeRef", ns):
            lanes[(ref.text or "").strip()] = (lane.get("name") or "").strip()
    meta: dict[str, dict[str, Any]] = {}
    for node in process.iter(f"{{{BPMN_NS}}}userTask", f"{{{BPMN_NS}}}manualTask"):
        bpmn_id = node.get("id") or ""
        name = (node.get("name") or bpmn_id).strip()
        kind = (node.get(KIND_ATTRIBUTE) or "").strip() or infer_kind(name)
        role = ""
        for attribute in GROUP_ATTRIBUTES:
            if node.get(attribute):
                role = node.get(attribute, "").split(",")[0].strip()
                break
        time_limit = node.get(TIME_LIMIT_ATTRIBUTE)
        loop = node.find("b:multiInstanceLoopCharacteristics", ns)
        input_item = ""
        if loop is not None:
            item = loop.find("b:inputDataItem", ns)
            input_item = (item.get("name") or item.get("id") or "") if item is not None else ""
        meta[bpmn_id] = {
            "type": "user",
            "name": name,
            "kind": kind,
            "role": role,
            "department": (node.get(DEPARTMENT_ATTRIBUTE) or "").strip() or lanes.get(bpmn_id, ""),
            "time_limit": int(time_limit) if time_limit and time_limit.isdigit() else None,
            "multi_instance_item": input_item,
        }
    for node in process.iter(f"{{{BPMN_NS}}}serviceTask"):
        bpmn_id = node.get("id") or ""
        meta[bpmn_id] = {
            "type": "service",
            "name": (node.get("name") or bpmn_id).strip(),
            "operation": (node.get(OPERATION_ATTRIBUTE) or "").strip(),
        }
    return meta


def parse_bpmn(xml: bytes, filename: str = "process.bpmn") -> ParsedProcess:
    """Parse a BPMN file (already checked by :mod:`zwfw.cases.bpmn_import`)."""
    try:
        safe = etree.XMLParser(resolve_entities=False, no_network=True)
        root = etree.fromstring(xml, parser=safe)
    except etree.XMLSyntaxError as exc:
        raise ProcessInvalid([{"element": filename, "reason": f"XML 格式错误：{exc}"}]) from None
    parser = BpmnParser()
    try:
        parser.add_bpmn_xml(root, filename=filename)
        ids = parser.get_process_ids()
        if len(ids) != 1:
            raise ProcessInvalid(
                [
                    {
                        "element": "process",
                        "reason": f"须恰有一个可执行流程（isExecutable），实际 {len(ids)} 个",
                    }
                ]
            )
        spec = parser.get_spec(ids[0])
        subprocess_specs = parser.get_subprocess_specs(ids[0])
    except ValidationException as exc:
        raise ProcessInvalid([{"element": filename, "reason": str(exc)}]) from None
    except SpiffWorkflowException as exc:
        raise ProcessInvalid([{"element": filename, "reason": str(exc)}]) from None
    meta = _task_meta(root, ids[0])
    return ParsedProcess(
        process_id=ids[0],
        name=spec.description or ids[0],
        spec=SERIALIZER.to_dict(spec),
        subprocess_specs={k: SERIALIZER.to_dict(v) for k, v in subprocess_specs.items()},
        task_meta=meta,
        has_accept_task=any(m.get("kind") in ("accept", "handle") for m in meta.values()),
        source=detect_modeller(root),
    )


# --- running -----------------------------------------------------------------------------------

_spec_cache: dict[int, tuple[str, Any, dict[str, Any]]] = {}
_spec_lock = threading.Lock()


def _specs(definition: Any) -> tuple[Any, dict[str, Any]]:
    """Restored (spec, subprocess specs) of a process definition, cached by its id.

    A process definition row never changes (new files make new versions), so the cache needs
    no invalidation — but the entry also holds the file's hash, because SQLite may give a
    rolled-back row's id to the next row.
    """
    sha = getattr(definition, "sha", "")
    cached = _spec_cache.get(definition.pk)
    if cached is None or cached[0] != sha:
        # SpiffWorkflow's converters write restored objects into the dict they are given:
        # restore from a copy, or the stored (and JSON-saved) definition is spoiled.
        raw = definition.spec
        stored = json.loads(raw) if isinstance(raw, str) else copy.deepcopy(raw)
        spec = SERIALIZER.from_dict(stored["spec"])
        subs = {k: SERIALIZER.from_dict(v) for k, v in stored.get("subprocess_specs", {}).items()}
        cached = (sha, spec, subs)
        with _spec_lock:
            _spec_cache[definition.pk] = cached
    return cached[1], cached[2]


def stored_spec(parsed: ParsedProcess) -> str:
    """The spec as stored on a process definition: JSON *text*.

    Not a JSON column: PostgreSQL's jsonb reorders object keys, and SpiffWorkflow's restore
    depends on their order (a parallel multi-instance task came back broken).
    """
    return dump_json({"spec": parsed.spec, "subprocess_specs": parsed.subprocess_specs})


def dump_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Runner:
    """A case's workflow, loaded for one service call."""

    definition: Any
    workflow: BpmnWorkflow
    service_context: Any = None
    completed_services: list[str] = field(default_factory=list)

    @property
    def meta(self) -> Mapping[str, dict[str, Any]]:
        return self.definition.task_meta

    def run_engine(self) -> None:
        self.workflow.do_engine_steps(did_complete_task=self._after_task)

    def _after_task(self, task: Any) -> None:
        # SpiffWorkflow leaves a plain service task STARTED (it expects an asynchronous
        # implementation); ours run synchronously, so they complete here.
        if not isinstance(task.task_spec, ServiceTask) or task.state != TaskState.STARTED:
            return
        meta = self.meta.get(task.task_spec.bpmn_id) or {}
        name = meta.get("operation", "")
        operation = SERVICE_OPERATIONS.get(name)
        if operation is not None:
            result = operation(self.service_context, dict(task.data))
            if result:
                task.data.update(result)
            self.completed_services.append(name)
        task.complete()

    def ready_user_tasks(self) -> list[Any]:
        return [
            t
            for t in self.workflow.get_tasks(state=TaskState.READY)
            if isinstance(t.task_spec, UserTask) and not isinstance(t.task_spec, MultiInstanceTask)
        ]

    def task(self, spiff_id: UUID) -> Any:
        return self.workflow.get_task_from_id(spiff_id)

    def complete(self, spiff_id: UUID, data: Mapping[str, Any]) -> None:
        task = self.task(spiff_id)
        task.data.update(data)
        task.run()
        self.run_engine()

    def reset_to(self, spiff_id: UUID) -> None:
        """Re-open a finished task (退回); sibling parallel branches keep their results."""
        self.workflow.reset_from_task_id(spiff_id)
        self.run_engine()

    def is_completed(self) -> bool:
        return bool(self.workflow.is_completed())

    def data(self) -> dict[str, Any]:
        return dict(self.workflow.data)

    def dump_text(self) -> str:
        """The state as stored on a case (JSON text, keys in SpiffWorkflow's order)."""
        return dump_json(self.dump())

    def dump(self) -> dict[str, Any]:
        state = SERIALIZER.to_dict(self.workflow)
        state.pop("spec", None)
        state.pop("subprocess_specs", None)
        return state


def start(definition: Any, data: Mapping[str, Any], service_context: Any = None) -> Runner:
    spec, subs = _specs(definition)
    workflow = BpmnWorkflow(spec, subs, script_engine=SCRIPT_ENGINE)
    workflow.set_data(**dict(data))
    # The start event's data is what every task inherits.
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(dict(data))
    runner = Runner(definition, workflow, service_context)
    runner.run_engine()
    return runner


def restore(definition: Any, state: Mapping[str, Any] | str, service_context: Any = None) -> Runner:
    spec, subs = _specs(definition)
    loaded: dict[str, Any] = json.loads(state) if isinstance(state, str) else dict(state)
    workflow = _restore_with_specs(loaded, spec, subs)
    workflow.script_engine = SCRIPT_ENGINE
    return Runner(definition, workflow, service_context)


def _restore_with_specs(state: dict[str, Any], spec: Any, subs: dict[str, Any]) -> BpmnWorkflow:
    """Rebuild a workflow from a state without its spec, reusing already restored specs.

    Mirrors ``BpmnWorkflowConverter.from_dict`` (SpiffWorkflow 3.x) except that the specs come
    from the cache instead of being rebuilt from JSON on every load (the costliest part).
    """
    registry = SERIALIZER.registry
    # The registry keeps converters as partials over their bound from_dict methods.
    converter = registry.convert_from_dict[registry.typenames[BpmnWorkflow]].args[0].__self__
    dct = dict(state)
    workflow = BpmnWorkflow(spec, subs, deserializing=True)
    workflow.tasks = converter.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
    workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
    converter.set_default_attributes(workflow, dct)
    converter.subprocesses_from_dict(dict(dct.get("subprocesses", {})), workflow)
    workflow.bpmn_events = registry.restore(dct.get("bpmn_events", []))
    return workflow
