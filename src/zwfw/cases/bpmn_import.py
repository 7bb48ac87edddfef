"""Checking an uploaded BPMN 2.0 file before the platform runs it (流程文件导入检查).

A process file comes from a modeller (bpmn.io, Camunda Modeler 7/8, Flowable, Signavio,
Bonita …) and is data that officers upload, so it is checked in three stages and every reason
it cannot run is reported at once, each with its element, line and a stable code:

1. **Static check** (:func:`check_bpmn` runs all stages; the static part never runs the
   engine): safe XML (no DOCTYPE or entity declarations, no network, at most
   :data:`MAX_BYTES`), exactly one executable process, and only the elements the platform
   supports (:data:`FLOW_NODES` and their decorations). Anything that would run code — script
   tasks, Camunda/Flowable ``class``/``expression``/``delegateExpression``/external service
   tasks, listeners, connectors — is refused; service tasks may only name a platform operation
   (``zwfw:operation``, see :data:`zwfw.cases.engine.SERVICE_OPERATIONS`). Conditions go
   through :func:`zwfw.cases.expressions.compile_expression`. The structure must make sense:
   one none start event, an end event, a user task, every node reachable, every flow's ends
   present.
2. **Parsing** by :func:`zwfw.cases.engine.parse_bpmn` of the *engine copy* of the file
   (:func:`engine_copy`): the same file with modeller dialects turned into what the engine
   reads — ``isExecutable`` set, plain and manual tasks as user tasks, timer literals quoted,
   Camunda 8 FEEL conditions, Camunda/Flowable/Zeebe multi-instance collections and Zeebe
   candidate groups in the standard or ``zwfw:`` form.
3. **Dry run**: the parsed process is started on sample data and walked by completing every
   ready user task with ``outcome=pass`` / ``decision=approve`` (the outcome being the
   favourable one of the task's kind, as the platform sets it; waiting timers are fired), so
   a file that imports never fails on the first real case.

Warnings (``severity="warning"``) do not stop an import: an unknown candidate group falls back
to the default role of the task's kind (:data:`zwfw.cases.engine.DEFAULT_ROLE`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import keyword
import re
from collections.abc import Iterable, Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from zwfw.cases import engine, expressions
from zwfw.cases.models import TaskKind
from zwfw.organisations.models import Role

MAX_BYTES = 2 * 1024 * 1024
DRY_RUN_STEPS = 200
#: Completion data of every user task in the dry run ...
DRY_RUN_COMPLETION = {"outcome": "pass", "decision": "approve"}
#: ... with the favourable outcome each kind of task gets on the platform (see
#: ``zwfw.cases.services.act``: accept → ``accept``, review → ``pass``, decide → ``approve``).
DRY_RUN_OUTCOMES: dict[str, dict[str, Any]] = {
    "accept": {"outcome": "accept", "accepted": True},
    "review": {},
    "decide": {"outcome": "approve"},
    "handle": {"outcome": "approve"},
}
#: Case data the platform starts a workflow with (sample values for the dry run).
DRY_RUN_DATA: dict[str, Any] = {
    "case_type": "2",
    "applicant_kind": "person",
    "channel": "2",
    "joint_departments": ["dry-run-department-1", "dry-run-department-2"],
}
#: Collections the platform puts into a case's data (multi-instance over anything else warns).
PLATFORM_COLLECTIONS = frozenset({"joint_departments"})

BPMN_NS = engine.BPMN_NS
ZWFW_NS = engine.ZWFW_NS
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
FLOWABLE_NS = "http://flowable.org/bpmn"
ACTIVITI_NS = "http://activiti.org/bpmn"
#: Namespaces of engines whose extensions can make a process run code.
ENGINE_NAMESPACES = {
    CAMUNDA_NS: "Camunda",
    ZEEBE_NS: "Camunda 8 (Zeebe)",
    FLOWABLE_NS: "Flowable",
    ACTIVITI_NS: "Activiti",
}

SEVERITY_ERROR = "error"
SEVERITY_WARNING = "warning"

USER_TASKS = frozenset({"userTask", "manualTask", "task"})
ACTIVITIES = USER_TASKS | {"serviceTask"}
GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway"})
EVENTS = frozenset({"startEvent", "endEvent", "boundaryEvent", "intermediateCatchEvent"})
FLOW_NODES = ACTIVITIES | GATEWAYS | EVENTS

#: Everything else that may appear inside the executable process.
PROCESS_PARTS = frozenset(
    {
        "sequenceFlow",
        "conditionExpression",
        "incoming",
        "outgoing",
        "documentation",
        "extensionElements",
        "laneSet",
        "lane",
        "flowNodeRef",
        "childLaneSet",
        "textAnnotation",
        "text",
        "association",
        "group",
        "dataObject",
        "dataObjectReference",
        "dataState",
        "dataInputAssociation",
        "dataOutputAssociation",
        "sourceRef",
        "targetRef",
        "ioSpecification",
        "dataInput",
        "dataOutput",
        "inputSet",
        "outputSet",
        "dataInputRefs",
        "dataOutputRefs",
        "multiInstanceLoopCharacteristics",
        "loopCardinality",
        "loopDataInputRef",
        "loopDataOutputRef",
        "inputDataItem",
        "outputDataItem",
        "completionCondition",
        "timerEventDefinition",
        "timeDuration",
        "timeDate",
        "timeCycle",
        "terminateEventDefinition",
        "potentialOwner",
        "humanPerformer",
        "performer",
        "resourceAssignmentExpression",
        "formalExpression",
        "resourceRef",
    }
)
#: Allowed directly under <definitions> (declarations without behaviour, or diagrams).
ROOT_PARTS = frozenset(
    {
        "process",
        "collaboration",
        "documentation",
        "extensionElements",
        "import",
        "itemDefinition",
        "message",
        "signal",
        "error",
        "escalation",
        "resource",
        "category",
        "categoryValue",
    }
)
#: Allowed inside a <collaboration>.
COLLABORATION_PARTS = frozenset(
    {
        "participant",
        "documentation",
        "extensionElements",
        "textAnnotation",
        "text",
        "association",
        "group",
    }
)

EVENT_DEFINITIONS = {
    "messageEventDefinition": ("消息事件", "message events"),
    "signalEventDefinition": ("信号事件", "signal events"),
    "errorEventDefinition": ("错误事件", "error events"),
    "escalationEventDefinition": ("升级事件", "escalation events"),
    "compensateEventDefinition": ("补偿事件", "compensation events"),
    "conditionalEventDefinition": ("条件事件", "conditional events"),
    "linkEventDefinition": ("链接事件", "link events"),
    "cancelEventDefinition": ("取消事件", "cancel events"),
    "timerEventDefinition": ("定时事件", "timer events"),
    "terminateEventDefinition": ("终止事件", "terminate events"),
    "eventDefinitionRef": ("引用式事件定义", "referenced event definitions"),
}

#: Elements refused with a specific reason: local name -> (code, Chinese, English).
REFUSED: dict[str, tuple[str, str, str]] = {
    "scriptTask": (
        "bpmn.script_refused",
        "脚本任务不受支持：平台不执行上传的代码",
        "script tasks are not supported: the platform never runs uploaded code",
    ),
    "sendTask": (
        "bpmn.unsupported_element",
        "发送任务不受支持：平台不收发 BPMN 消息，通知申请人请用服务任务 zwfw:operation",
        "send tasks are not supported: the platform sends no BPMN messages "
        "(use a service task with zwfw:operation to notify)",
    ),
    "receiveTask": (
        "bpmn.unsupported_element",
        "接收任务不受支持：平台不接收 BPMN 消息",
        "receive tasks are not supported: the platform receives no BPMN messages",
    ),
    "businessRuleTask": (
        "bpmn.unsupported_element",
        "业务规则任务（DMN 决策表）不受支持：请用排他网关和条件表达",
        "business rule tasks (DMN) are not supported: use an exclusive gateway with conditions",
    ),
    "callActivity": (
        "bpmn.unsupported_element",
        "调用活动不受支持：请把被调用流程的环节画进本流程",
        "call activities are not supported: draw the called process's steps into this one",
    ),
    "subProcess": (
        "bpmn.unsupported_element",
        "子流程不受支持：请把子流程的环节展开到主流程",
        "sub-processes are not supported: draw their steps in the main process",
    ),
    "transaction": (
        "bpmn.unsupported_element",
        "事务子流程不受支持",
        "transaction sub-processes are not supported",
    ),
    "adHocSubProcess": (
        "bpmn.unsupported_element",
        "自由子流程不受支持",
        "ad-hoc sub-processes are not supported",
    ),
    "complexGateway": (
        "bpmn.unsupported_element",
        "复杂网关不受支持：请改用排他、并行或包容网关",
        "complex gateways are not supported: use exclusive, parallel or inclusive gateways",
    ),
    "eventBasedGateway": (
        "bpmn.unsupported_element",
        "事件网关不受支持：平台不等待外部事件",
        "event-based gateways are not supported: the platform waits for no external events",
    ),
    "intermediateThrowEvent": (
        "bpmn.unsupported_event",
        "中间抛出事件不受支持",
        "intermediate throw events are not supported",
    ),
    "standardLoopCharacteristics": (
        "bpmn.unsupported_element",
        "标准循环任务不受支持：请用多实例或连线退回",
        "standard loops are not supported: use multi-instance or a flow back",
    ),
    "messageFlow": (
        "bpmn.unsupported_element",
        "消息流不受支持：平台不收发 BPMN 消息",
        "message flows are not supported: the platform sends and receives no BPMN messages",
    ),
    "dataStoreReference": (
        "bpmn.unsupported_element",
        "数据存储不受支持：办件数据由平台保存",
        "data stores are not supported: the platform keeps the case data",
    ),
    "dataStore": (
        "bpmn.unsupported_element",
        "数据存储不受支持：办件数据由平台保存",
        "data stores are not supported: the platform keeps the case data",
    ),
    "assignment": (
        "bpmn.unsupported_element",
        "数据映射表达式（assignment）不受支持",
        "data assignments are not supported",
    ),
    "choreography": (
        "bpmn.unsupported_element",
        "编排图不受支持",
        "choreographies are not supported",
    ),
    "conversation": (
        "bpmn.unsupported_element",
        "会话图不受支持",
        "conversations are not supported",
    ),
}

#: Engine attributes on a service task that name code to run.
CODE_ATTRIBUTES = frozenset(
    {"class", "expression", "delegateExpression", "type", "topic", "resultVariable"}
)
#: Engine extension elements that run code (listeners, scripts, connectors, job workers).
CODE_ELEMENTS = frozenset(
    {
        "executionListener",
        "taskListener",
        "script",
        "connector",
        "taskDefinition",
        "field",
        "eventListener",
    }
)
#: Attributes naming people directly (the platform assigns by role and department).
ASSIGNEE_ATTRIBUTES = tuple(
    f"{{{ns}}}{name}"
    for ns in (CAMUNDA_NS, FLOWABLE_NS, ACTIVITI_NS)
    for name in ("assignee", "candidateUsers")
)

_ISO_DURATION = re.compile(
    r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?", re.IGNORECASE
)
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_DRY_RUN_IDS = itertools.count(1)
CASE_ROLES = "、".join(
    f"{role.value} {role.label}" for role in (Role.CLERK, Role.REVIEWER, Role.DECIDER)
)


@dataclass(frozen=True)
class Problem:
    """One reason a BPMN file cannot run (or, as a warning, runs differently than drawn)."""

    code: str
    reason: str
    reason_en: str
    element: str = ""
    id: str = ""
    name: str = ""
    line: int | None = None
    severity: str = SEVERITY_ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == SEVERITY_ERROR

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "element": self.element,
            "id": self.id,
            "name": self.name,
            "line": self.line,
            "reason": self.reason,
            "reason_en": self.reason_en,
        }

    def describe(self) -> str:
        """``line N: <userTask id="review" name="审查">: reason`` (for terminals and logs)."""
        parts = []
        if self.line:
            parts.append(f"line {self.line}")
        if self.element:
            attributes = "".join(
                f' {label}="{value}"'
                for label, value in (("id", self.id), ("name", self.name))
                if value
            )
            parts.append(f"<{self.element}{attributes}>")
        parts.append(self.reason)
        return ": ".join(parts)


@dataclass
class Inspection:
    """What :func:`inspect_bpmn` found: the problems, and the parsed process when it runs."""

    filename: str
    problems: list[Problem] = field(default_factory=list)
    parsed: engine.ParsedProcess | None = None
    #: The file as the engine reads it (see :func:`engine_copy`); empty when not reached.
    engine_xml: bytes = b""
    #: The file as text (UTF-8 files unchanged, others re-encoded); empty when not reached.
    text: str = ""
    modeller: str = ""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return self.parsed is not None and not self.errors


def check_bpmn(xml: bytes, filename: str) -> list[Problem]:
    """Every problem of a BPMN file: errors (it cannot be imported) and warnings.

    Runs the static checks first; only a file without errors is parsed by the engine and
    dry-run (see the module documentation). An empty list, or warnings only, means the file
    imports and runs.
    """
    return inspect_bpmn(xml, filename).problems


def inspect_bpmn(xml: bytes, filename: str) -> Inspection:
    """Check, parse and dry-run a BPMN file (:func:`check_bpmn` with the parsed result)."""
    result = Inspection(filename=filename)
    checker = _Checker(filename)
    root = checker.run(xml)
    result.problems = checker.problems
    if root is None or checker.process is None or any(p.is_error for p in checker.problems):
        return result
    result.modeller = engine.detect_modeller(root)
    result.text = _as_text(xml, root)
    result.engine_xml = engine_copy(root, checker.process)
    try:
        parsed = engine.parse_bpmn(result.engine_xml, filename)
    except engine.ProcessInvalid as exc:
        result.problems.extend(_parse_problem(p, filename) for p in exc.problems)
        return result
    except Exception as exc:  # the parser must never turn a bad file into a crash
        result.problems.append(_parse_problem({"reason": str(exc)}, filename))
        return result
    failure = dry_run(parsed, collections=checker.collections)
    if failure is not None:
        result.problems.append(failure)
        return result
    result.parsed = parsed
    return result


def _as_text(xml: bytes, root: etree._Element) -> str:
    try:
        return xml.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:  # UTF-16, GB 18030 …: the same document, in UTF-8
        body = etree.tostring(root, encoding="unicode")
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _parse_problem(problem: dict[str, str], filename: str) -> Problem:
    reason = str(problem.get("reason", "")).strip() or "parse failed"
    element = str(problem.get("element", ""))
    return Problem(
        code="bpmn.parse_failed",
        reason=f"流程引擎无法解析：{reason}",
        reason_en=f"the process engine cannot parse the file: {reason}",
        element="" if element == filename else element,
    )


# --- the static check ------------------------------------------------------------------------


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _namespace(element: etree._Element) -> str:
    return etree.QName(element).namespace or ""


def _is_bpmn(element: etree._Element) -> bool:
    return isinstance(element.tag, str) and _namespace(element) == BPMN_NS


def _children(element: etree._Element) -> Iterator[etree._Element]:
    """Element children (no comments or processing instructions)."""
    return (child for child in element if isinstance(child.tag, str))


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


def _bpmn_child(element: etree._Element, name: str) -> etree._Element | None:
    return element.find(f"{{{BPMN_NS}}}{name}")


def condition_source(text: str) -> str:
    """The condition as :mod:`zwfw.cases.expressions` reads it.

    Camunda 8 writes FEEL with a leading ``=`` and ``=`` for equality (``=outcome = "pass"``);
    that becomes ``outcome == "pass"``. Other dialects (``${…}``, ``&&``, ``!``) go through
    :func:`zwfw.cases.expressions.normalise`.
    """
    source = text.strip()
    if source.startswith("=") and not source.startswith("=="):
        pieces = re.split(r"(\"[^\"]*\"|'[^']*')", source[1:])
        for index in range(0, len(pieces), 2):  # outside string literals
            pieces[index] = re.sub(r"(?<![=!<>])=(?!=)", "==", pieces[index])
        source = "".join(pieces)
    # Stripped: a leading "!a" becomes " not a", and ast.parse refuses a leading indent.
    return expressions.normalise(source).strip()


def timer_literal(text: str) -> str:
    """The ISO 8601 value of a timer definition, without the quotes some modellers add."""
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


def _valid_duration(value: str) -> bool:
    if not _ISO_DURATION.fullmatch(value):
        return False
    try:
        TimerEventDefinition.parse_iso_duration(value)
    except Exception:
        return False
    return True


def _valid_date(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _identifier(value: str) -> bool:
    return bool(_IDENTIFIER.fullmatch(value)) and not keyword.iskeyword(value)


def _collection_name(value: str) -> str:
    """``departments`` from ``${departments}``, ``=departments`` or ``departments``."""
    text = value.strip()
    match = re.fullmatch(r"[$#]\{\s*(.*?)\s*\}", text)
    if match:
        text = match.group(1)
    return text.removeprefix("=").strip()


class _Checker:
    """The static check of one file; collects :class:`Problem` objects."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []
        self.process: etree._Element | None = None
        self.collections: set[str] = set()

    # --- reporting ---

    def add(
        self,
        code: str,
        reason: str,
        reason_en: str,
        element: etree._Element | None = None,
        *,
        severity: str = SEVERITY_ERROR,
        name: str | None = None,
    ) -> None:
        if element is None:
            self.problems.append(Problem(code, reason, reason_en, severity=severity))
            return
        label = (element.get("name") or "").strip() if name is None else name
        self.problems.append(
            Problem(
                code=code,
                reason=reason,
                reason_en=reason_en,
                element=_local(element),
                id=element.get("id") or "",
                name=label[:100],
                line=element.sourceline,
                severity=severity,
            )
        )

    # --- stages ---

    def run(self, xml: bytes) -> etree._Element | None:
        root = self._parse(xml)
        if root is None:
            return None
        process = self._select_process(root)
        if process is None:
            return root
        self.process = process
        self._check_root(root)
        self._check_process(process)
        self._check_structure(process)
        return root

    def _parse(self, xml: bytes) -> etree._Element | None:  # noqa: PLR0911
        if isinstance(xml, str):  # tolerate text from careless callers
            xml = xml.encode("utf-8")
        if len(xml) > MAX_BYTES:
            self.add(
                "bpmn.too_large",
                f"文件超过 {MAX_BYTES // (1024 * 1024)} MB（{len(xml)} 字节）",
                f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB ({len(xml)} bytes)",
            )
            return None
        if not xml.strip():
            self.add("bpmn.xml_invalid", "文件为空", "the file is empty")
            return None
        if _declares_dtd(xml):
            self.add(
                "bpmn.doctype_refused",
                "文件含 DOCTYPE 或实体声明（<!DOCTYPE、<!ENTITY），出于安全原因拒绝",
                "the file declares a DOCTYPE or entities (<!DOCTYPE, <!ENTITY); refused for safety",
            )
            return None
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_pis=False,
        )
        try:
            tree = etree.ElementTree(etree.fromstring(xml, parser=parser))
        except (etree.XMLSyntaxError, ValueError) as exc:
            message = str(exc) or type(exc).__name__
            problem = Problem(
                code="bpmn.xml_invalid",
                reason=f"不是格式正确的 XML：{message}",
                reason_en=f"not well-formed XML: {message}",
                line=getattr(exc, "lineno", None) or None,
            )
            self.problems.append(problem)
            return None
        if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
            self.add(
                "bpmn.doctype_refused",
                "文件含 DOCTYPE 或实体声明，出于安全原因拒绝",
                "the file declares a DOCTYPE or entities; refused for safety",
            )
            return None
        root = tree.getroot()
        if not _is_bpmn(root) or _local(root) != "definitions":
            self.add(
                "bpmn.not_bpmn",
                "不是 BPMN 2.0 文件：根元素须为 "
                "{http://www.omg.org/spec/BPMN/20100524/MODEL}definitions",
                "not a BPMN 2.0 file: the root element must be BPMN 2.0 <definitions>",
                root,
            )
            return None
        return root

    def _select_process(self, root: etree._Element) -> etree._Element | None:
        processes = [child for child in _children(root) if _is_bpmn(child)]
        processes = [child for child in processes if _local(child) == "process"]
        if not processes:
            self.add(
                "bpmn.executable_count",
                "文件中没有流程（<process>）",
                "the file holds no <process>",
                root,
            )
            return None
        if len(processes) == 1:
            process = processes[0]
            if process.get("isExecutable", "true").strip().lower() != "true":
                self.add(
                    "bpmn.executable_assumed",
                    "唯一的流程标为不可执行（isExecutable=false），按可执行导入",
                    "the only process is marked isExecutable=false; imported as executable",
                    process,
                    severity=SEVERITY_WARNING,
                )
            return process
        executable = [
            p for p in processes if p.get("isExecutable", "true").strip().lower() == "true"
        ]
        if len(executable) != 1:
            ids = "、".join(p.get("id") or "?" for p in executable or processes)
            self.add(
                "bpmn.executable_count",
                f"须恰有一个可执行流程（isExecutable=true），实际 {len(executable)} 个：{ids}",
                f"exactly one executable process (isExecutable=true) is needed, "
                f"found {len(executable)}: {ids}",
                root,
            )
            return None
        return executable[0]

    def _check_root(self, root: etree._Element) -> None:
        """Declarations beside the process; other (non-executable) processes never run."""
        for child in _children(root):
            if not _is_bpmn(child):
                continue  # diagrams (BPMNDiagram) and vendor elements
            local = _local(child)
            if local == "extensionElements":
                self._check_extensions(child)
            elif local == "collaboration":
                self._check_collaboration(child)
            elif local not in ROOT_PARTS:
                self._refuse(child)

    def _check_collaboration(self, element: etree._Element) -> None:
        for child in _children(element):
            if not _is_bpmn(child):
                continue
            if _local(child) == "extensionElements":
                self._check_extensions(child)
            elif _local(child) not in COLLABORATION_PARTS:
                self._refuse(child)
            else:
                self._check_collaboration(child)

    def _refuse(self, element: etree._Element) -> None:
        local = _local(element)
        if local in REFUSED:
            code, reason, reason_en = REFUSED[local]
            self.add(code, reason, reason_en, element)
            return
        if local in EVENT_DEFINITIONS:
            zh, en = EVENT_DEFINITIONS[local]
            self.add(
                "bpmn.unsupported_event",
                f"{zh}不受支持",
                f"{en} are not supported",
                element.getparent() if element.getparent() is not None else element,
            )
            return
        self.add(
            "bpmn.unsupported_element",
            f"平台不支持 BPMN 元素 <{local}>",
            f"the platform does not support the BPMN element <{local}>",
            element,
        )

    def _check_process(self, process: etree._Element) -> None:
        self._walk(process)
        seen: dict[str, etree._Element] = {}
        for element in process.iter():
            if not _is_bpmn(element) or not element.get("id"):
                continue
            bpmn_id = element.get("id", "")
            if bpmn_id in seen:
                self.add(
                    "bpmn.duplicate_id",
                    f"标识 {bpmn_id} 重复（另见第 {seen[bpmn_id].sourceline} 行）",
                    f"the id {bpmn_id} is used twice (also line {seen[bpmn_id].sourceline})",
                    element,
                )
            else:
                seen[bpmn_id] = element

    def _walk(self, element: etree._Element) -> None:
        for child in _children(element):
            if not _is_bpmn(child):
                self._check_extensions(child)  # vendor elements outside extensionElements
                continue
            local = _local(child)
            if local == "extensionElements":
                self._check_extensions(child)
                continue
            if local in REFUSED:
                self._refuse(child)
                continue
            if local in EVENT_DEFINITIONS:
                if local == "timerEventDefinition":
                    self._timer(child)
                continue  # the others are checked with their event
            if local not in FLOW_NODES and local not in PROCESS_PARTS:
                self._refuse(child)
                continue
            checker = getattr(self, f"_check_{local}", None)
            if checker is not None:
                checker(child)
            self._walk(child)

    # --- vendor extensions ---

    def _check_extensions(self, element: etree._Element) -> None:
        for part in element.iter():
            if not isinstance(part.tag, str):
                continue
            namespace = _namespace(part)
            if namespace in ENGINE_NAMESPACES and _local(part) in CODE_ELEMENTS:
                owner = element.getparent() if _local(element) == "extensionElements" else element
                vendor = ENGINE_NAMESPACES[namespace]
                self.add(
                    "bpmn.code_refused",
                    f"{vendor} 扩展 <{_local(part)}> 会执行代码，平台不执行任意代码",
                    f"the {vendor} extension <{_local(part)}> runs code; "
                    "the platform runs no arbitrary code",
                    owner if owner is not None else part,
                )

    # --- per element ---

    def _check_startEvent(self, element: etree._Element) -> None:  # noqa: N802
        self._event_definitions(element, allowed=(), what=("启动事件", "start events"))

    def _check_endEvent(self, element: etree._Element) -> None:  # noqa: N802
        self._event_definitions(
            element, allowed=("terminateEventDefinition",), what=("结束事件", "end events")
        )

    def _check_intermediateCatchEvent(self, element: etree._Element) -> None:  # noqa: N802
        self._event_definitions(
            element,
            allowed=("timerEventDefinition",),
            what=("中间捕获事件", "intermediate catch events"),
            required=True,
        )

    def _check_boundaryEvent(self, element: etree._Element) -> None:  # noqa: N802
        self._event_definitions(
            element,
            allowed=("timerEventDefinition",),
            what=("边界事件", "boundary events"),
            required=True,
        )

    def _event_definitions(
        self,
        element: etree._Element,
        *,
        allowed: tuple[str, ...],
        what: tuple[str, str],
        required: bool = False,
    ) -> None:
        definitions = [
            child
            for child in _children(element)
            if _is_bpmn(child) and _local(child) in EVENT_DEFINITIONS
        ]
        for definition in definitions:
            local = _local(definition)
            if local in allowed:
                continue
            zh, en = EVENT_DEFINITIONS[local]
            only = "、".join(EVENT_DEFINITIONS[a][0] for a in allowed) or "空（none）事件"
            only_en = ", ".join(EVENT_DEFINITIONS[a][1] for a in allowed) or "none events"
            self.add(
                "bpmn.unsupported_event",
                f"{zh}不受支持：{what[0]}只支持{only}",
                f"{en} are not supported: {what[1]} may only be {only_en}",
                element,
            )
        if len(definitions) > 1:
            self.add(
                "bpmn.unsupported_event",
                "一个事件只能有一个事件定义",
                "an event may have only one event definition",
                element,
            )
        if required and not definitions:
            self.add(
                "bpmn.unsupported_event",
                f"{what[0]}须带定时器定义（timerEventDefinition）",
                f"{what[1]} need a timer definition (timerEventDefinition)",
                element,
            )

    def _timer(self, element: etree._Element) -> None:
        event = element.getparent()
        owner = event if event is not None else element
        if event is None or _local(event) not in ("intermediateCatchEvent", "boundaryEvent"):
            return  # reported with the event
        cycle = _bpmn_child(element, "timeCycle")
        duration = _bpmn_child(element, "timeDuration")
        date = _bpmn_child(element, "timeDate")
        if cycle is not None:
            self.add(
                "bpmn.timer_unsupported",
                "循环定时器（timeCycle）不受支持：请用时长（timeDuration）或日期（timeDate）",
                "cycle timers (timeCycle) are not supported: use timeDuration or timeDate",
                owner,
            )
            return
        if (duration is None) == (date is None):
            self.add(
                "bpmn.timer_unsupported",
                "定时器须恰有一个时长（timeDuration）或日期（timeDate）",
                "a timer needs exactly one timeDuration or timeDate",
                owner,
            )
            return
        value = timer_literal(_text(duration if duration is not None else date))
        if duration is not None and not _valid_duration(value):
            self.add(
                "bpmn.timer_unsupported",
                f"定时器时长“{value[:60]}”不是 ISO 8601 时长（如 P3D、PT2H）",
                f"the timer duration {value[:60]!r} is not an ISO 8601 duration (P3D, PT2H)",
                owner,
            )
        if date is not None and not _valid_date(value):
            self.add(
                "bpmn.timer_unsupported",
                f"定时器日期“{value[:60]}”不是 ISO 8601 日期时间（如 2025-06-30T17:00:00+08:00）",
                f"the timer date {value[:60]!r} is not an ISO 8601 date-time",
                owner,
            )

    def _check_serviceTask(self, element: etree._Element) -> None:  # noqa: N802
        code: dict[str, list[str]] = {}
        for attribute, value in element.attrib.items():
            qname = etree.QName(attribute)
            if qname.namespace in ENGINE_NAMESPACES and qname.localname in CODE_ATTRIBUTES:
                code.setdefault(qname.namespace, []).append(f"{qname.localname}={value}")
        for namespace, settings in code.items():
            vendor = ENGINE_NAMESPACES[namespace]
            listed = "、".join(settings)
            self.add(
                "bpmn.code_refused",
                f"服务任务的 {vendor} 设置 {listed[:120]} 会调用代码或外部作业：平台不执行任意"
                "代码，服务任务只能用 zwfw:operation 调用平台登记的操作",
                f"the service task's {vendor} setting {listed[:120]} calls code or an external "
                "worker: the platform runs no arbitrary code; use zwfw:operation to call a "
                "platform operation",
                element,
            )
        implementation = (element.get("implementation") or "").strip()
        if implementation and implementation not in ("##WebService", "##unspecified"):
            self.add(
                "bpmn.code_refused",
                f"服务任务的实现“{implementation[:60]}”不受支持：平台不执行外部连接器或代码",
                f"the service task implementation {implementation[:60]!r} is not supported: "
                "the platform runs no connectors or code",
                element,
            )
        operation = (element.get(engine.OPERATION_ATTRIBUTE) or "").strip()
        known = "、".join(sorted(engine.SERVICE_OPERATIONS)) or "（无）"
        if not operation:
            self.add(
                "bpmn.service_operation_missing",
                f"服务任务须用 zwfw:operation 指定平台操作（可用：{known}）",
                f"a service task must name a platform operation with zwfw:operation "
                f"(available: {', '.join(sorted(engine.SERVICE_OPERATIONS))})",
                element,
            )
        elif operation not in engine.SERVICE_OPERATIONS:
            self.add(
                "bpmn.service_operation_unknown",
                f"平台没有名为“{operation[:60]}”的操作（可用：{known}）",
                f"the platform has no operation named {operation[:60]!r} "
                f"(available: {', '.join(sorted(engine.SERVICE_OPERATIONS))})",
                element,
            )

    def _check_userTask(self, element: etree._Element) -> None:  # noqa: N802
        kind = (element.get(engine.KIND_ATTRIBUTE) or "").strip()
        if kind and kind not in TaskKind.values:
            self.add(
                "bpmn.kind_unknown",
                f"zwfw:kind“{kind[:40]}”不是环节类型（{'、'.join(TaskKind.values)}）",
                f"zwfw:kind {kind[:40]!r} is not a task kind ({', '.join(TaskKind.values)})",
                element,
            )
        limit = (element.get(engine.TIME_LIMIT_ATTRIBUTE) or "").strip()
        if limit and not limit.isdigit():
            self.add(
                "bpmn.time_limit_invalid",
                f"zwfw:timeLimit“{limit[:20]}”须为非负整数（工作日）",
                f"zwfw:timeLimit {limit[:20]!r} must be a whole number of working days",
                element,
            )
        role = task_role(element)
        if role and role not in Role.values:
            name = (element.get("name") or element.get("id") or "").strip()
            effective = engine.DEFAULT_ROLE.get(kind or engine.infer_kind(name), "reviewer")
            self.add(
                "bpmn.role_unknown",
                f"候选组“{role[:40]}”不是平台角色（办件角色：{CASE_ROLES}），"
                f"按该环节类型的默认角色 {effective} 分派",
                f"the candidate group {role[:40]!r} is not a platform role; the task goes to "
                f"the default role of its kind ({effective})",
                element,
                severity=SEVERITY_WARNING,
            )
        if any(element.get(attribute) for attribute in ASSIGNEE_ATTRIBUTES) or (
            _zeebe_assignment(element).get("assignee")
        ):
            self.add(
                "bpmn.assignee_ignored",
                "指定的办理人（assignee、candidateUsers）被忽略：平台按部门和角色分派待办",
                "assignees and candidate users are ignored: the platform assigns tasks by "
                "department and role",
                element,
                severity=SEVERITY_WARNING,
            )
        for performer in ("potentialOwner", "humanPerformer", "performer"):
            if _bpmn_child(element, performer) is not None:
                self.add(
                    "bpmn.performer_ignored",
                    f"<{performer}> 被忽略：请用 zwfw:role 或 candidateGroups 指定平台角色",
                    f"<{performer}> is ignored: name a platform role with zwfw:role or "
                    "candidateGroups",
                    element,
                    severity=SEVERITY_WARNING,
                )
                break

    _check_manualTask = _check_userTask  # noqa: N815
    _check_task = _check_userTask

    def _check_multiInstanceLoopCharacteristics(  # noqa: N802
        self, element: etree._Element
    ) -> None:
        task = element.getparent()
        owner = task if task is not None else element
        if task is None or _local(task) not in USER_TASKS:
            self.add(
                "bpmn.multi_instance_invalid",
                "多实例只支持人工环节（用户任务）",
                "multi-instance is supported on user tasks only",
                owner,
            )
            return
        cardinality = _bpmn_child(element, "loopCardinality")
        if cardinality is not None:
            self._expression(_text(cardinality), owner, "loopCardinality")
        has_collection = self._mi_collection(element, owner)
        if cardinality is None and not has_collection:
            self.add(
                "bpmn.multi_instance_invalid",
                "多实例须指定次数（loopCardinality）或集合（loopDataInputRef）",
                "multi-instance needs a loopCardinality or a loopDataInputRef",
                owner,
            )
        for item_name in ("inputDataItem", "outputDataItem"):
            item = _bpmn_child(element, item_name)
            if item is None:
                continue
            label = item.get("name") or item.get("id") or ""
            if not _identifier(label):
                self.add(
                    "bpmn.multi_instance_invalid",
                    f"多实例 {item_name} 的名称“{label[:60]}”须为名称",
                    f"the multi-instance {item_name} {label[:60]!r} must be a name",
                    owner,
                )
        output_ref = _bpmn_child(element, "loopDataOutputRef")
        if output_ref is not None and not _identifier(_text(output_ref)):
            self.add(
                "bpmn.multi_instance_invalid",
                "多实例 loopDataOutputRef 须为名称",
                "the multi-instance loopDataOutputRef must be a name",
                owner,
            )
        condition = _bpmn_child(element, "completionCondition")
        if condition is not None:
            self._expression(_text(condition), owner, "completionCondition")

    def _mi_collection(self, element: etree._Element, owner: etree._Element) -> bool:
        """Check the collection a multi-instance task runs over; False when it names none."""
        input_ref = _bpmn_child(element, "loopDataInputRef")
        collection = _vendor_collection(element)
        if input_ref is not None:
            name = _text(input_ref)
            if not _identifier(name):
                self.add(
                    "bpmn.multi_instance_invalid",
                    f"多实例集合 loopDataInputRef“{name[:60]}”须为办件数据的名称",
                    f"the multi-instance collection {name[:60]!r} must be the name of case data",
                    owner,
                )
            else:
                self._collection(name, owner)
        elif collection is not None:
            name = _collection_name(collection[0])
            if not _identifier(name):
                self.add(
                    "bpmn.multi_instance_invalid",
                    f"多实例集合“{collection[0][:60]}”须为办件数据的名称（不支持表达式）",
                    f"the multi-instance collection {collection[0][:60]!r} must be the name of "
                    "case data (no expressions)",
                    owner,
                )
            else:
                self._collection(name, owner)
            if collection[1] and not _identifier(collection[1]):
                self.add(
                    "bpmn.multi_instance_invalid",
                    f"多实例元素变量“{collection[1][:60]}”须为名称",
                    f"the multi-instance element variable {collection[1][:60]!r} must be a name",
                    owner,
                )
        return input_ref is not None or collection is not None

    def _collection(self, name: str, owner: etree._Element) -> None:
        self.collections.add(name)
        if name not in PLATFORM_COLLECTIONS:
            self.add(
                "bpmn.collection_unknown",
                f"多实例集合“{name}”须由办件数据提供；平台提供的集合：{'、'.join(PLATFORM_COLLECTIONS)}"
                "（共同实施部门）",
                f"the multi-instance collection {name!r} must be in the case data; the platform "
                f"provides: {', '.join(PLATFORM_COLLECTIONS)}",
                owner,
                severity=SEVERITY_WARNING,
            )

    def _expression(self, text: str, owner: etree._Element, what: str) -> None:
        if not text:
            self.add(
                "bpmn.condition_refused",
                f"{what} 为空",
                f"the {what} is empty",
                owner,
            )
            return
        try:
            expressions.compile_expression(condition_source(text))
        except expressions.ExpressionRefused as exc:
            self.add(
                "bpmn.condition_refused",
                f"表达式“{text[:80]}”不被接受：{exc.reason}（只允许比较、与或非、算术和少数函数）",
                f"the expression {text[:80]!r} is refused: {exc.reason}",
                owner,
            )

    def _check_conditionExpression(self, element: etree._Element) -> None:  # noqa: N802
        flow = element.getparent()
        owner = flow if flow is not None else element
        for attribute in element.attrib:
            qname = etree.QName(attribute)
            if qname.namespace in ENGINE_NAMESPACES and qname.localname == "resource":
                self.add(
                    "bpmn.code_refused",
                    "条件引用外部脚本文件：平台不执行任意代码",
                    "the condition refers to an external script: the platform runs no code",
                    owner,
                )
                return
        self._expression(_text(element), owner, "conditionExpression")

    # --- structure ---

    def _check_structure(self, process: etree._Element) -> None:  # noqa: PLR0912
        nodes: dict[str, etree._Element] = {}
        for child in _children(process):
            if _is_bpmn(child) and _local(child) not in PROCESS_PARTS:
                nodes.setdefault(child.get("id") or "", child)  # incl. unsupported ones
        flows = [c for c in _children(process) if _is_bpmn(c) and _local(c) == "sequenceFlow"]
        outgoing: dict[str, list[etree._Element]] = {}
        for flow in flows:
            source, target = (flow.get("sourceRef") or ""), (flow.get("targetRef") or "")
            for end, ref in (("sourceRef", source), ("targetRef", target)):
                if ref not in nodes:
                    self.add(
                        "bpmn.flow_ref_invalid",
                        f"连线的 {end}“{ref[:60]}”不是本流程中的环节",
                        f"the flow's {end} {ref[:60]!r} is not a node of this process",
                        flow,
                    )
            outgoing.setdefault(source, []).append(flow)
            condition = _bpmn_child(flow, "conditionExpression")
            source_node = nodes.get(source)
            if (
                condition is not None
                and source_node is not None
                and _local(source_node) not in ("exclusiveGateway", "inclusiveGateway")
            ):
                self.add(
                    "bpmn.condition_misplaced",
                    "只有排他网关和包容网关之后的连线可以带条件：请在环节后加一个排他网关",
                    "only flows leaving an exclusive or inclusive gateway may have conditions: "
                    "add an exclusive gateway after the step",
                    flow,
                )
        for node in nodes.values():
            if _local(node) in ("exclusiveGateway", "inclusiveGateway"):
                self._check_gateway(node, outgoing.get(node.get("id") or "", []))
            if _local(node) == "boundaryEvent":
                attached = node.get("attachedToRef") or ""
                if attached not in nodes or _local(nodes[attached]) not in ACTIVITIES:
                    self.add(
                        "bpmn.flow_ref_invalid",
                        f"边界事件附着的环节“{attached[:60]}”不存在",
                        f"the boundary event's activity {attached[:60]!r} does not exist",
                        node,
                    )
        starts = [n for n in nodes.values() if _local(n) == "startEvent"]
        if not starts:
            self.add("bpmn.no_start", "流程没有开始事件", "the process has no start event", process)
        elif len(starts) > 1:
            for extra in starts[1:]:
                self.add(
                    "bpmn.multiple_start",
                    "流程只能有一个开始事件",
                    "the process may have only one start event",
                    extra,
                )
        if not any(_local(n) == "endEvent" for n in nodes.values()):
            self.add("bpmn.no_end", "流程没有结束事件", "the process has no end event", process)
        if not any(_local(n) in USER_TASKS for n in nodes.values()):
            self.add(
                "bpmn.no_user_task",
                "流程至少要有一个人工环节（用户任务）",
                "the process needs at least one user task",
                process,
            )
        if starts:
            self._check_reachable(starts[0], nodes, outgoing)

    def _check_gateway(self, gateway: etree._Element, leaving: list[etree._Element]) -> None:
        if len(leaving) < 2:
            return
        default = gateway.get("default") or ""
        flow_ids = {flow.get("id") or "" for flow in leaving}
        if default and default not in flow_ids:
            self.add(
                "bpmn.flow_ref_invalid",
                f"网关的默认连线“{default[:60]}”不是从该网关出发的连线",
                f"the gateway's default flow {default[:60]!r} does not leave the gateway",
                gateway,
            )
        for flow in leaving:
            if (flow.get("id") or "") == default:
                continue
            if _bpmn_child(flow, "conditionExpression") is None:
                self.add(
                    "bpmn.condition_missing",
                    "网关的多条出口连线中，非默认连线须带条件",
                    "a gateway's outgoing flows need conditions (except the default flow)",
                    flow,
                )

    def _check_reachable(
        self,
        start: etree._Element,
        nodes: dict[str, etree._Element],
        outgoing: dict[str, list[etree._Element]],
    ) -> None:
        boundary: dict[str, list[str]] = {}
        for bpmn_id, node in nodes.items():
            if _local(node) == "boundaryEvent":
                boundary.setdefault(node.get("attachedToRef") or "", []).append(bpmn_id)
        reached = {start.get("id") or ""}
        pending = [start.get("id") or ""]
        while pending:
            current = pending.pop()
            following = [flow.get("targetRef") or "" for flow in outgoing.get(current, [])]
            following += boundary.get(current, [])
            for target in following:
                if target in nodes and target not in reached:
                    reached.add(target)
                    pending.append(target)
        for bpmn_id, node in nodes.items():
            if bpmn_id not in reached and _local(node) in FLOW_NODES - {"startEvent"}:
                self.add(
                    "bpmn.unreachable",
                    "从开始事件无法到达该环节",
                    "the node cannot be reached from the start event",
                    node,
                )


def _declares_dtd(xml: bytes) -> bool:
    """True when the raw file declares a DOCTYPE or an entity (checked before parsing)."""
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        return True
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if xml.startswith(bom):
            text = xml[len(bom) :].decode(codec, errors="ignore")
            return "<!DOCTYPE" in text or "<!ENTITY" in text
    return False


def task_role(element: etree._Element) -> str:
    """The candidate group a user task names (the first one), as the engine reads it."""
    for attribute in engine.GROUP_ATTRIBUTES:
        value = element.get(attribute)
        if value:
            return value.split(",")[0].strip()
    groups = _zeebe_assignment(element).get("candidateGroups", "")
    return groups.removeprefix("=").split(",")[0].strip().strip("\"'[]")


def _zeebe_assignment(element: etree._Element) -> dict[str, str]:
    extensions = _bpmn_child(element, "extensionElements")
    if extensions is None:
        return {}
    found = extensions.find(f"{{{ZEEBE_NS}}}assignmentDefinition")
    return dict(found.attrib) if found is not None else {}


def _vendor_collection(loop: etree._Element) -> tuple[str, str] | None:
    """(collection, element variable) of Camunda 7, Flowable, Activiti or Zeebe multi-instance."""
    for ns in (CAMUNDA_NS, FLOWABLE_NS, ACTIVITI_NS):
        collection = loop.get(f"{{{ns}}}collection")
        if collection:
            return collection, (loop.get(f"{{{ns}}}elementVariable") or "").strip()
    extensions = _bpmn_child(loop, "extensionElements")
    if extensions is not None:
        zeebe = extensions.find(f"{{{ZEEBE_NS}}}loopCharacteristics")
        if zeebe is not None and zeebe.get("inputCollection"):
            return zeebe.get("inputCollection", ""), (zeebe.get("inputElement") or "").strip()
    return None


# --- the engine copy -------------------------------------------------------------------------


def engine_copy(root: etree._Element, process: etree._Element) -> bytes:
    """The checked file rewritten into the BPMN the engine reads (the stored file is unchanged).

    - the executable process gets ``isExecutable="true"`` (a single process may omit it);
    - plain tasks (``task``) and manual tasks become user tasks: people do them on the platform;
    - timer literals are quoted (the engine evaluates ``PT5M`` as an expression);
    - Camunda 8 FEEL conditions (``=a = "x"``) become ``a == "x"``;
    - Camunda/Flowable/Activiti ``collection``/``elementVariable`` and Zeebe
      ``loopCharacteristics`` become ``loopDataInputRef``/``inputDataItem``;
    - Zeebe ``assignmentDefinition`` candidate groups become ``zwfw:role``;
    - a multi-instance task over ``joint_departments`` without ``zwfw:department`` gets
      ``zwfw:department="$<item>"``: each instance belongs to its department.
    """
    index = list(root.iter()).index(process)
    copy = deepcopy(root)
    target = list(copy.iter())[index]
    target.set("isExecutable", "true")
    for element in list(target.iter()):
        if not _is_bpmn(element):
            continue
        local = _local(element)
        if local in ("task", "manualTask"):
            element.tag = f"{{{BPMN_NS}}}userTask"
            local = "userTask"
        if local == "userTask" and not any(element.get(a) for a in engine.GROUP_ATTRIBUTES):
            role = task_role(element)
            if role:
                element.set(f"{{{ZWFW_NS}}}role", role)
        if local in ("timeDuration", "timeDate"):
            element.text = '"' + timer_literal(_text(element)) + '"'
        if local in ("conditionExpression", "completionCondition", "loopCardinality"):
            source = condition_source(_text(element))
            for child in list(element):
                element.remove(child)
            element.text = source
        if local == "multiInstanceLoopCharacteristics":
            _standard_collection(element)
            _department_per_instance(element)
    return etree.tostring(copy, xml_declaration=True, encoding="UTF-8")


def _standard_collection(loop: etree._Element) -> None:
    if _bpmn_child(loop, "loopDataInputRef") is not None:
        return
    vendor = _vendor_collection(loop)
    if vendor is None:
        return
    collection, item = vendor
    position = 0
    for position, child in enumerate(_children(loop), start=1):  # noqa: B007
        if _is_bpmn(child) and _local(child) in ("loopCardinality",):
            break
    else:
        position = 0
    ref = etree.Element(f"{{{BPMN_NS}}}loopDataInputRef")
    ref.text = _collection_name(collection)
    loop.insert(position, ref)
    if item:
        data_item = etree.Element(f"{{{BPMN_NS}}}inputDataItem", id=item, name=item)
        loop.insert(position + 1, data_item)


def _department_per_instance(loop: etree._Element) -> None:
    """A task run once per 共同实施部门 is each department's own (unless it says otherwise)."""
    task = loop.getparent()
    ref = _bpmn_child(loop, "loopDataInputRef")
    item = _bpmn_child(loop, "inputDataItem")
    if task is None or ref is None or item is None or task.get(engine.DEPARTMENT_ATTRIBUTE):
        return
    name = item.get("name") or item.get("id") or ""
    if _text(ref) in PLATFORM_COLLECTIONS and _identifier(name):
        task.set(engine.DEPARTMENT_ATTRIBUTE, f"${name}")


# --- the dry run -----------------------------------------------------------------------------


def dry_run(parsed: engine.ParsedProcess, *, collections: Iterable[str] = ()) -> Problem | None:
    """Run the parsed process once on sample data; the problem that stops it, if any.

    Every ready user task is completed with :data:`DRY_RUN_COMPLETION`; when none is ready
    and timers are waiting, they are fired. The throw-away definition's cached spec is evicted
    afterwards.
    """
    pk = -(10**9 + next(_DRY_RUN_IDS))
    # A copy: restoring a spec may write into the dict it reads (the parsed spec is stored).
    spec = deepcopy(engine.stored_spec(parsed))
    definition = SimpleNamespace(pk=pk, spec=spec, task_meta=parsed.task_meta)
    data = dict(DRY_RUN_DATA)
    for name in collections:
        data.setdefault(name, ["dry-run-1", "dry-run-2"])
    current = ""
    try:
        runner = engine.start(definition, data)
        for _step in range(DRY_RUN_STEPS):
            if runner.is_completed():
                return None
            ready = runner.ready_user_tasks()
            if not ready:
                if _fire_timers(runner):
                    continue
                return _stuck(runner)
            task = ready[0]
            current = task.task_spec.bpmn_id or ""
            kind = str((parsed.task_meta.get(current) or {}).get("kind", ""))
            runner.complete(task.id, {**DRY_RUN_COMPLETION, **DRY_RUN_OUTCOMES.get(kind, {})})
        if runner.is_completed():
            return None
        return Problem(
            code="bpmn.dry_run_failed",
            reason=f"试运行 {DRY_RUN_STEPS} 步后流程仍未结束（是否有无出口的循环？）",
            reason_en=f"the dry run did not finish after {DRY_RUN_STEPS} steps (an endless loop?)",
        )
    except Exception as exc:  # every failure of the engine is a problem of the file
        return _run_failure(exc, current, parsed)
    finally:
        with engine._spec_lock:
            engine._spec_cache.pop(pk, None)


def _fire_timers(runner: engine.Runner) -> bool:
    fired = False
    for task in runner.workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            task._set_internal_data(event_value="2000-01-01T00:00:00+00:00")
            fired = True
    if fired:
        runner.workflow.refresh_timers()
        runner.run_engine()
    return fired


def _stuck(runner: engine.Runner) -> Problem:
    waiting = [
        task.task_spec.bpmn_id or task.task_spec.name
        for task in runner.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
        if getattr(task.task_spec, "bpmn_id", None)
    ]
    where = "、".join(dict.fromkeys(waiting)) or "?"
    return Problem(
        code="bpmn.dry_run_failed",
        reason=f"试运行停在 {where}：流程未结束，但没有可办理的人工环节",
        reason_en=f"the dry run stopped at {where}: the process is not finished and no user "
        "task is ready",
    )


def _run_failure(exc: Exception, current: str, parsed: engine.ParsedProcess) -> Problem:
    spec = getattr(exc, "task_spec", None)
    bpmn_id = getattr(spec, "bpmn_id", None) or current
    meta = parsed.task_meta.get(bpmn_id) or {}
    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, expressions.ExpressionRefused):
        message = f"{exc.expression!r}: {exc.reason}"
    return Problem(
        code="bpmn.dry_run_failed",
        reason=f"试运行失败（所有环节均按“通过/准予”办理）：{message[:300]}",
        reason_en=f"the dry run failed (every task completed with pass/approve): {message[:300]}",
        element="userTask" if meta.get("type") == "user" else "",
        id=bpmn_id or "",
        name=str(meta.get("name", "")),
    )
