"""The GB/T 39046 exchange datasets of a case (SPEC §11.4): what the national node receives.

:func:`case_dataset` builds, from the stored case and its events, open tasks, special
procedures, materials and notices, the standard's datasets of one case::

    {
      "apply":   {…表5 办事申请…, "materials": [{…申请材料…}, …]},
      "accept":  {…表6 事项受理…} or null before acceptance,
      "process": [{…表7 事项办理 1–10, one per step…}, …],
      "special": [{…表7 事项办理 11–21, one per special procedure…}, …],
      "close":   {…表8 事项办结…} or null before the case ends,
    }

Keys are English snake_case; the tables :data:`APPLY_FIELDS`, :data:`MATERIAL_FIELDS`,
:data:`ACCEPT_FIELDS`, :data:`PROCESS_FIELDS`, :data:`SPECIAL_FIELDS` and
:data:`CLOSE_FIELDS` (all in :data:`FIELDS`) map each key to the standard's Chinese element
name (数据项名称) and its format (数据类型及格式). Values are wire values: codes as the
standard's code tables (办件类型 A.6, 特别程序种类 A.7, 申报来源 A.5, 证件类型 GA/T 2000.156),
dates ``YYYYMMDD`` and date-times ``YYYYMMDDhhmmss`` (GB/T 39046 表2) in Asia/Shanghai time,
an empty string for an element without a value. The standard's free-text elements are cut to
their maximum length; identifiers and codes are never cut (:func:`problems` reports any that
do not fit).

The data is complete and unmasked (names, ID numbers, phones, addresses): it is meant for the
exchange with the higher-level node, and the API serving it admits only staff who may see the
case and machine clients holding the ``cases.dataset`` scope; every read is audited.

Readings of the standard that are *our choice*:

- 行政区划 of the application (申报者所在地): the division where the application is filed
  (the item's division) — the platform does not hold the applicant's residence division.
- 办理 steps: every :class:`~zwfw.cases.models.CaseEvent` of the case (the timeline, which
  services write as the 办理 records) as 已办, then every open task as 待办 (its 环节结束时间 is
  its start, as 表7 item 7 asks when there is no end yet). A step without a department
  (applicant's own steps, notices) is reported with the case's department.
- 办结 is reported for a case that ended with a decision (已办结) or was refused (不予受理);
  结果证照名称/编号 stay empty until a licence number is recorded with the decision document.
- 附件实体 (binary in the standard) is a reference to the stored file (id, SM3, media type,
  size): the file itself travels separately.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from zwfw.cases.models import (
    ApplicantKind,
    Case,
    CaseEvent,
    CaseMaterial,
    CaseStatus,
    CaseTask,
    DeliveryMethod,
    MaterialSourceKind,
    Notice,
    SpecialProcedure,
)
from zwfw.core import codes
from zwfw.core.errors import NotFound
from zwfw.organisations.models import Department

WIRE_ZONE = ZoneInfo("Asia/Shanghai")
DATE = "YYYYMMDD"
DATETIME = "YYYYMMDDhhmmss"
BINARY = "二进制"


class Element(NamedTuple):
    """One data element (数据项) of a GB/T 39046 dataset."""

    name: str
    """数据项名称 as in the standard's table."""
    format: str
    """数据类型及格式: ``an..50``, ``n1``, ``a..30``, ``..ul``, ``YYYYMMDD``, ``YYYYMMDDhhmmss``."""
    note: str = ""
    text: bool = False
    """Free text: cut to the maximum length (identifiers and codes never are)."""


def _text(name: str, fmt: str, note: str = "") -> Element:
    return Element(name, fmt, note, text=True)


APPLY_FIELDS: dict[str, Element] = {
    "case_number": Element("办件编号", "an..50", "表5 item 1 (and item 20 of each material)"),
    "implementation_code": Element(
        "实施编码",
        "an..64",
        "表5 gives an..24, shorter than a GB/T 39554 实施编码 (41 characters); sent whole",
    ),
    "item_name": _text("事项名称", "an..200"),
    "case_type_name": Element("办件类型", "an..20", "label of 办件类型代码"),
    "case_type": Element("办件类型代码", "n1", "A.6: 1 即办件, 2 承诺件, 9 其他 (上报件, 联办件)"),
    "applicant_name": _text("申请者名称", "an..100", "姓名或机构名称"),
    "applicant_id_type": Element("申请者证件类型代码", "n3", "GA/T 2000.156; 901 USCC"),
    "applicant_id_number": Element("申请者证件号码", "an..18"),
    "contact_name": _text("联系人/代理人姓名", "a..30", "a company's agent, else the contact"),
    "contact_id_type": Element("联系人/代理人证件类型代码", "n3", "GA/T 2000.156"),
    "contact_id_number": Element("联系人/代理人证件号码", "an..18"),
    "contact_phone": Element("联系人手机号码", "an..18"),
    "postcode": Element("邮政编码", "n6"),
    "address": _text("通讯地址", "an..100"),
    "legal_representative": _text("法定代表人", "a..30", "企业申请人的法定代表人"),
    "channel": Element("申报来源代码", "n1", "A.5 办理形式: 1 窗口, 2 网上, 9 其他"),
    "submitted_at": Element("申请时间", DATETIME),
    "project_code": Element("投资项目编号", "an..24"),
    "division_code": Element("行政区划", "n..9", "where the application is filed"),
    "materials": Element("申请材料", "list", "表5 items 20–26, one per material"),
}

MATERIAL_FIELDS: dict[str, Element] = {
    "name": _text("材料名称", "an..200"),
    "collected": Element("是否收取", "n1", "0 否, 1 是"),
    "method": Element("收取方式", "an..20", "电子上传, 材料库复用, 电子证照, 纸质收取"),
    "count": Element("收取数量", "n..2"),
    "collected_at": Element("收取时间", DATETIME),
    "attachment": Element(
        "附件实体",
        BINARY,
        "reference {file_id, sha (SM3), media_type, size, name} or {licence_identifier}",
    ),
}

ACCEPT_FIELDS: dict[str, Element] = {
    "case_number": Element("办件编号", "an..50"),
    "basic_code": Element("基本编码", "an..10"),
    "implementation_code": APPLY_FIELDS["implementation_code"],
    "item_name": _text("事项名称", "an..200"),
    "department_name": _text("受理单位名称", "an..100"),
    "department_uscc": Element("受理单位统一社会信用代码", "an..18", "GB 32100"),
    "accepted_by": _text("受理人员", "an..30"),
    "accepted_at": Element("受理时间", DATETIME),
    "notice_number": Element("受理文书编号", "an..30", "受理通知书的文书编号"),
    "promised_end": Element("承诺办结时间", "an..20", "the due date, YYYYMMDD"),
    "case_type_name": Element("办件类型", "an..20"),
    "case_type": Element("办件类型代码", "n1", "A.6"),
    "division_code": Element("行政区划", "n..9", "受理地的行政区划代码"),
}

PROCESS_FIELDS: dict[str, Element] = {
    "case_number": Element("办件编号", "an..50"),
    "action": Element("业务动作", "an..20", "1 通过, 2 退回, 9 其他"),
    "step_name": _text("环节名称", "an..100"),
    "handler": _text("环节处理人", "a..30"),
    "opinion": _text("环节处理意见", "an..1000"),
    "started_at": Element("环节开始时间", DATETIME),
    "ended_at": Element("环节结束时间", DATETIME, "the start when the step has not ended"),
    "department_name": _text("处理单位名称", "an..100"),
    "department_uscc": Element("处理单位统一社会信用代码", "an..18", "GB 32100"),
    "status": Element("环节办理状态代码", "n1", "1 待办, 2 已办"),
}

SPECIAL_FIELDS: dict[str, Element] = {
    "case_number": Element("办件编号", "an..50"),
    "kind_name": _text("特别程序种类名称", "an..100", "the platform's kind, e.g. 实地核查"),
    "kind": Element("特别程序种类代码", "n1", "A.7: 1 延长审批, 2 除延长审批之外的情况"),
    "started_at": Element("特别程序开始时间", DATETIME),
    "reason": Element("特别程序启动理由或依据", "..ul"),
    "requested_by": _text("申请人", "a..30", "提出特别程序申请的人"),
    "ended_at": Element("特别程序结束时间", DATETIME),
    "result": Element("特别程序结果", "..ul"),
    "opinion": Element("特别程序办理意见", "..ul"),
    "department_name": _text("办理单位名称", "an..100"),
    "department_uscc": Element("办理单位统一社会信用代码", "an..18", "GB 32100"),
    "handler": _text("办理人", "a..30", "who ended it (who started it while it runs)"),
}

CLOSE_FIELDS: dict[str, Element] = {
    "case_number": Element("办件编号", "an..50"),
    "handler": _text("办理人姓名", "a..30"),
    "closed_at": Element("办结时间", DATETIME),
    "licence_name": _text("结果证照名称", "an..200"),
    "licence_number": Element("结果证照编号", "an..50"),
    "result_description": _text("办件结果描述", "an..1000"),
    "validity": Element("证照有效期限", "an..30"),
    "issuer": _text("发证/盖章单位", "an..100"),
    "division_code": Element("行政区划", "n..9", "办结地的行政区划代码"),
    "by_post": Element("是否快递寄送结果", "n1", "1 是, 0 否"),
    "charges_fee": Element("是否收费", "n1", "1 是, 0 否"),
}

FIELDS: dict[str, dict[str, Element]] = {
    "apply": APPLY_FIELDS,
    "apply.materials": MATERIAL_FIELDS,
    "accept": ACCEPT_FIELDS,
    "process": PROCESS_FIELDS,
    "special": SPECIAL_FIELDS,
    "close": CLOSE_FIELDS,
}

MATERIAL_METHODS = {
    MaterialSourceKind.UPLOAD: "电子上传",
    MaterialSourceKind.REUSE: "材料库复用",
    MaterialSourceKind.LICENCE: "电子证照",
    MaterialSourceKind.PAPER: "纸质收取",
}
CLOSED_FOR_EXCHANGE = (CaseStatus.CLOSED, CaseStatus.REFUSED)


# --- wire values ---------------------------------------------------------------------------------


def wire_datetime(moment: dt.datetime | None) -> str:
    """``YYYYMMDDhhmmss`` in Asia/Shanghai time ("" for None)."""
    if moment is None:
        return ""
    return moment.astimezone(WIRE_ZONE).strftime("%Y%m%d%H%M%S")


def wire_date(day: dt.date | None) -> str:
    """``YYYYMMDD`` ("" for None)."""
    return day.strftime("%Y%m%d") if day is not None else ""


def _flag(value: bool) -> str:
    return "1" if value else "0"


_LIMIT = re.compile(r"^(?:a|an|n)?\.\.(\d+)$")


def _fit(fields: Mapping[str, Element], values: dict[str, Any]) -> dict[str, Any]:
    """Cut free-text values to their element's maximum length."""
    for key, element in fields.items():
        value = values.get(key)
        if element.text and isinstance(value, str):
            match = _LIMIT.match(element.format)
            if match:
                values[key] = value[: int(match.group(1))]
    return values


def _department(department: Department | None) -> tuple[str, str]:
    if department is None:
        return "", ""
    return department.name, department.uscc or ""


def _division(code: str) -> str:
    return (code or "")[:9]


# --- the datasets --------------------------------------------------------------------------------


def _load(case: Case) -> Case:
    return Case.objects.select_related("department", "item_version", "agent").get(pk=case.pk)


def _case_type(case: Case) -> tuple[str, str]:
    code = codes.case_type_wire_code(case.case_type)
    return code, codes.label(codes.CaseType, code)


def _applicant_id_type(case: Case) -> str:
    if case.applicant_kind == ApplicantKind.COMPANY:
        return codes.IdentityDocumentType.USCC.value
    stored = case.applicant_id_type or codes.IdentityDocumentType.RESIDENT_ID_CARD.value
    if stored in codes.IdentityDocumentType.values:
        return stored
    return codes.IdentityDocumentType.OTHER.value


def _contact(case: Case) -> tuple[str, str, str]:
    """联系人/代理人: the agent who applied for a company, otherwise the form's contact (with
    the applicant's own document when the contact is the applicant)."""
    agent = case.agent if case.company_id else None
    if agent is not None:
        id_type = agent.id_type or codes.IdentityDocumentType.RESIDENT_ID_CARD.value
        number = agent.id_number or ""
        return agent.real_name or case.contact_name, id_type if number else "", number
    name = case.contact_name or case.applicant_name
    if name == case.applicant_name:
        return name, _applicant_id_type(case), case.applicant_id_number or ""
    return name, "", ""


def _material_row(material: CaseMaterial | None, name: str) -> dict[str, Any]:
    if material is None:
        return {
            "name": name,
            "collected": "0",
            "method": "",
            "count": "",
            "collected_at": "",
            "attachment": None,
        }
    attachment: dict[str, Any] | None = None
    stored = material.file
    if stored is not None:
        attachment = {
            "file_id": stored.pk,
            "sha": stored.sha,
            "media_type": stored.media_type,
            "size": stored.size,
            "name": stored.original_name,
        }
    elif material.licence_identifier:
        attachment = {"licence_identifier": material.licence_identifier}
    return {
        "name": material.name or name,
        "collected": "1",
        "method": MATERIAL_METHODS.get(MaterialSourceKind(material.source), ""),
        "count": str(min(material.copies, 99)),
        "collected_at": wire_datetime(material.added_at),
        "attachment": attachment,
    }


def _materials(case: Case, rows: Iterable[CaseMaterial]) -> list[dict[str, Any]]:
    """One row per entry of the item version's checklist (是否收取 0 when nothing was given
    for it), then the materials given outside the checklist."""
    by_index: dict[int, CaseMaterial] = {}
    extra: list[CaseMaterial] = []
    for row in rows:
        if row.checklist_index is None:
            extra.append(row)
        else:
            by_index[row.checklist_index] = row  # the latest, should two be current
    checklist = case.item_version.content.get("materials", [])
    out = [
        _material_row(by_index.get(index), str(entry.get("name", "")))
        for index, entry in enumerate(checklist)
    ]
    out.extend(_material_row(row, row.name) for row in extra)
    return [_fit(MATERIAL_FIELDS, row) for row in out]


def apply_dataset(case: Case, materials: Iterable[CaseMaterial]) -> dict[str, Any]:
    """表5 办事申请."""
    case_type, case_type_name = _case_type(case)
    contact_name, contact_id_type, contact_id_number = _contact(case)
    values = {
        "case_number": case.number or "",
        "implementation_code": case.implementation_code,
        "item_name": case.item_name,
        "case_type_name": case_type_name,
        "case_type": case_type,
        "applicant_name": case.applicant_name,
        "applicant_id_type": _applicant_id_type(case),
        "applicant_id_number": case.applicant_id_number or "",
        "contact_name": contact_name,
        "contact_id_type": contact_id_type,
        "contact_id_number": contact_id_number,
        "contact_phone": case.contact_phone or "",
        "postcode": case.postcode,
        "address": case.address or "",
        "legal_representative": case.legal_representative,
        "channel": case.channel,
        "submitted_at": wire_datetime(case.submitted_at),
        "project_code": case.project_code,
        "division_code": _division(case.division_code),
        "materials": _materials(case, materials),
    }
    return _fit(APPLY_FIELDS, values)


def accept_dataset(case: Case, events: list[CaseEvent]) -> dict[str, Any] | None:
    """表6 事项受理 (None before the case is accepted)."""
    if case.accepted_at is None:
        return None
    accepting = next((e for e in events if e.kind == "accept"), None)
    department = (accepting.department if accepting else None) or case.department
    name, uscc = _department(department)
    case_type, case_type_name = _case_type(case)
    values = {
        "case_number": case.number or "",
        "basic_code": str(case.item_version.content.get("basic_code", "")),
        "implementation_code": case.implementation_code,
        "item_name": case.item_name,
        "department_name": name,
        "department_uscc": uscc,
        "accepted_by": case.accepted_by,
        "accepted_at": wire_datetime(case.accepted_at),
        "notice_number": case.acceptance_notice_no,
        "promised_end": wire_date(case.due_date),
        "case_type_name": case_type_name,
        "case_type": case_type,
        "division_code": _division(department.division_id if department else case.division_code),
    }
    return _fit(ACCEPT_FIELDS, values)


def _step(case: Case, **values: Any) -> dict[str, Any]:
    department = values.pop("department") or case.department
    name, uscc = _department(department)
    return _fit(
        PROCESS_FIELDS,
        {
            "case_number": case.number or "",
            **values,
            "department_name": name,
            "department_uscc": uscc,
        },
    )


def process_dataset(
    case: Case, events: list[CaseEvent], open_tasks: list[CaseTask]
) -> list[dict[str, Any]]:
    """表7 items 1–10: every recorded step (已办), then the open tasks (待办)."""
    steps = []
    for event in events:
        started = wire_datetime(event.started_at)
        steps.append(
            _step(
                case,
                action=event.action,
                step_name=event.step_name,
                handler=event.actor_name,
                opinion=event.opinion,
                started_at=started,
                ended_at=wire_datetime(event.ended_at) or started,
                department=event.department,
                status=codes.StepStatus.DONE.value,
            )
        )
    for task in open_tasks:
        started = wire_datetime(task.created_at)
        assignee = task.assignee
        steps.append(
            _step(
                case,
                action=CaseEvent.Action.OTHER.value,
                step_name=task.name,
                handler=(assignee.real_name or assignee.username) if assignee else "",
                opinion="",
                started_at=started,
                ended_at=started,
                department=task.department,
                status=codes.StepStatus.PENDING.value,
            )
        )
    return steps


def special_dataset(
    case: Case, procedures: list[SpecialProcedure], events: list[CaseEvent]
) -> list[dict[str, Any]]:
    """表7 items 11–21: one record per special procedure."""
    name, uscc = _department(case.department)
    # Each procedure ends before the next can start: the n-th end event ends the n-th one.
    enders = [e.actor_name for e in events if e.kind == "special_end"]
    out = []
    for position, procedure in enumerate(procedures):
        kind = procedure.kind
        ended = procedure.ended_at is not None
        handler = enders[position] if ended and position < len(enders) else ""
        out.append(
            _fit(
                SPECIAL_FIELDS,
                {
                    "case_number": case.number or "",
                    "kind_name": codes.label(codes.SpecialProcedureKind, kind, kind),
                    "kind": codes.special_procedure_wire_code(kind),
                    "started_at": wire_datetime(procedure.started_at),
                    "reason": procedure.reason,
                    "requested_by": procedure.requested_by,
                    "ended_at": wire_datetime(procedure.ended_at),
                    "result": procedure.result,
                    "opinion": procedure.opinion,
                    "department_name": name,
                    "department_uscc": uscc,
                    "handler": handler or procedure.requested_by,
                },
            )
        )
    return out


def _validity(facts: Mapping[str, Any]) -> str:
    if facts.get("validity"):
        return str(facts["validity"])
    start, end = facts.get("valid_from"), facts.get("valid_until")
    if start or end:
        return f"{_compact(start)}-{_compact(end)}"
    return ""


def _compact(value: Any) -> str:
    """An ISO date (``2026-11-27``) as ``YYYYMMDD``; anything else as given."""
    text = str(value or "")
    try:
        return wire_date(dt.date.fromisoformat(text))
    except ValueError:
        return text


def close_dataset(case: Case, decision_notice: Notice | None) -> dict[str, Any] | None:
    """表8 事项办结 (None while the case has not ended with a decision or a refusal)."""
    if case.status not in CLOSED_FOR_EXCHANGE or case.closed_at is None:
        return None
    facts = decision_notice.data if decision_notice is not None else {}
    licence_number = str(facts.get("result_number") or "")
    if case.status == CaseStatus.REFUSED:
        description = f"不予受理：{case.refusal_reason}"
    else:
        description = case.result_description
    content = case.item_version.content
    values = {
        "case_number": case.number or "",
        "handler": case.closed_by,
        "closed_at": wire_datetime(case.closed_at),
        "licence_name": str(facts.get("result_name") or "") if licence_number else "",
        "licence_number": licence_number,
        "result_description": description,
        "validity": _validity(facts) if licence_number else "",
        "issuer": case.department.name,
        "division_code": _division(case.department.division_id or case.division_code),
        "by_post": _flag(case.delivery_method == DeliveryMethod.POST),
        "charges_fee": _flag(bool(content.get("charges_fee"))),
    }
    return _fit(CLOSE_FIELDS, values)


DECISION_NOTICES = (Notice.Kind.APPROVAL, Notice.Kind.REJECTION, Notice.Kind.REFUSAL)


def case_dataset(case: Case) -> dict[str, Any]:
    """The GB/T 39046 datasets of a submitted case (see the module docstring).

    Six queries at most whatever the case's size: the case, its events, open tasks, special
    procedures, current materials and (once ended) its decision document.
    """
    case = _load(case)
    events = list(case.events.select_related("department").order_by("id"))
    open_tasks = list(
        case.tasks.filter(status=CaseTask.Status.OPEN)
        .select_related("department", "assignee")
        .order_by("id")
    )
    procedures = list(case.special_procedures.order_by("id"))
    materials = list(
        case.materials.exclude(status=CaseMaterial.Status.SUPERSEDED)
        .select_related("file")
        .order_by("id")
    )
    decision_notice = None
    if case.status in CLOSED_FOR_EXCHANGE:
        decision_notice = case.notices.filter(kind__in=DECISION_NOTICES).order_by("-id").first()
    return {
        "apply": apply_dataset(case, materials),
        "accept": accept_dataset(case, events),
        "process": process_dataset(case, events, open_tasks),
        "special": special_dataset(case, procedures, events),
        "close": close_dataset(case, decision_notice),
    }


def case_for_exchange(ref: str) -> Case:
    """A submitted case by 办件编号 or id, for a machine client of the exchange (no
    department restriction: the client's scope is the restriction). Audits the read.

    Raises NotFound (``cases.case_unknown``) for an unknown reference and for drafts.
    """
    from zwfw.core import audit

    text = str(ref).strip()
    case = None
    if text.isascii() and text.isdigit():
        cases = Case.objects.exclude(status=CaseStatus.DRAFT)
        if len(text) >= 14:
            case = cases.filter(number=text).first()
        else:
            case = cases.filter(pk=int(text)).first()
    if case is None:
        raise NotFound("cases.case_unknown", "办件不存在。", "Unknown case.")
    audit.record_read(
        "cases.case", case.pk, purpose="dataset", fields=["applicant", "contact", "materials"]
    )
    return case


# --- checking ------------------------------------------------------------------------------------

_FORMAT = re.compile(r"^(a|an|n)(?:(\d+)|\.\.(\d+))$")


_TIME_FORMATS = {DATE: "%Y%m%d", DATETIME: "%Y%m%d%H%M%S"}


def _time_problem(fmt: str, value: str) -> str | None:
    try:
        dt.datetime.strptime(value, _TIME_FORMATS[fmt])
    except ValueError:
        return f"not {fmt}"
    return None if value.isascii() and value.isdigit() and len(value) == len(fmt) else f"not {fmt}"


def _problem(element: Element, value: Any) -> str | None:
    fmt = element.format
    if value is None or value == "" or fmt in (BINARY, "list", "..ul"):
        return None
    if not isinstance(value, str):
        return "not a string"
    if fmt in _TIME_FORMATS:
        return _time_problem(fmt, value)
    match = _FORMAT.match(fmt)
    if match is None:  # pragma: no cover - a table entry with a format this does not know
        return f"unknown format {fmt}"
    kind, exact, most = match.groups()
    why = None
    if kind == "n" and not (value.isascii() and value.isdigit()):
        why = "not digits"
    elif exact is not None and len(value) != int(exact):
        why = f"not {exact} characters"
    elif most is not None and len(value) > int(most):
        why = f"longer than {most} characters"
    return why


def problems(dataset: Mapping[str, Any]) -> list[str]:
    """Values of ``dataset`` that do not fit their element's format (``section.key: why``)."""
    found: list[str] = []

    def check(section: str, record: Mapping[str, Any] | None) -> None:
        if record is None:
            return
        for key, element in FIELDS[section].items():
            if key not in record:
                found.append(f"{section}.{key}: missing")
                continue
            why = _problem(element, record[key])
            if why:
                found.append(f"{section}.{key}: {why}")
        for key in record:
            if key not in FIELDS[section]:
                found.append(f"{section}.{key}: not an element of the dataset")

    apply = dataset.get("apply")
    check("apply", apply)
    for material in (apply or {}).get("materials", []):
        check("apply.materials", material)
    check("accept", dataset.get("accept"))
    for step in dataset.get("process", []):
        check("process", step)
    for record in dataset.get("special", []):
        check("special", record)
    check("close", dataset.get("close"))
    return found
