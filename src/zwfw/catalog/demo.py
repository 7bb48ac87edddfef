"""The demo catalogue: a realistic implementation list of 广安市 and 广安区 for `make run`.

The curated specs in :mod:`zwfw.catalog.demo_data` describe basic items; this module expands
each into complete content documents — one per implementing department (市级 and/or 区级),
sub-item (子项) and handling variant (业务办理项) — filling in what follows from the item type
(process, case type, rights, generic FAQ), the online depth (steps, visits, channels) and the
department (place, hours, phones, remedies), and publishes them through
:func:`zwfw.catalog.services.publish_content`. Codes come from :mod:`zwfw.catalog.identifiers`,
so they are stable from one run to the next, and a second run publishes nothing because the
content is unchanged.

Handling variants get their own implementation code (sequence 02, 03, …) and, as
``handling_variant_code``, the main item's implementation code followed by a two-digit variant
number — the way the Sichuan layout appends its 业务办理项 digits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from zwfw.catalog.content import validate_content
from zwfw.catalog.demo_data import SPECS
from zwfw.catalog.demo_data.departments import (
    CITY_HALL,
    DISTRICT_HALL,
    HOURS,
    PROFILES,
)
from zwfw.catalog.demo_data.parts import BOTH, CITY, DISTRICT, LIFE_EVENTS, Data, Spec
from zwfw.catalog.identifiers import make_basic_code, make_implementation_code
from zwfw.catalog.models import BasicItem, Item, LifeEvent
from zwfw.core import audit, codes
from zwfw.organisations.models import Department

ACTOR = "system:load_demo"
EFFECTIVE_DATE = "2025-01-01"
SYSTEM_LEVEL = "省级（四川省一体化政务服务平台）"

_ENFORCEMENT = {"02", "03", "06"}

# Process steps by item type: (name, description, time limit).
_STEPS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "01": (
        ("申请", "申请人通过网上办事大厅或窗口提交申请材料", ""),
        ("受理", "材料齐全、符合法定形式的当场受理；不齐全的一次性告知需要补正的全部内容", "即时"),
        ("审查", "对申请材料进行审查，需要核实的组织现场核查", ""),
        ("决定", "作出准予或者不予许可的书面决定；不予许可的说明理由并告知救济途径", ""),
        ("送达", "颁发许可证件，可选择窗口领取、邮寄送达或电子证照", "决定之日起10日内"),
    ),
    "02": (
        ("立案", "发现违法线索，经核查符合立案条件的予以立案", "7个工作日"),
        ("调查取证", "两名以上执法人员调查取证，制作笔录", ""),
        ("审查", "法制审核并集体讨论（重大案件）", ""),
        ("告知", "告知拟作出的处罚内容及事实、理由、依据和陈述、申辩、要求听证的权利", ""),
        ("决定", "作出行政处罚决定", "立案之日起90日内"),
        ("送达", "依法送达行政处罚决定书", "7日内"),
        ("执行", "当事人履行处罚决定；逾期不履行的依法强制执行", ""),
    ),
    "03": (
        ("审批", "实施前向行政机关负责人报告并经批准", ""),
        ("通知当事人", "通知当事人到场，告知采取措施的理由、依据和救济途径", ""),
        ("实施", "两名以上执法人员出示证件实施，听取当事人陈述和申辩", ""),
        ("制作现场笔录和清单", "制作现场笔录，当场交付决定书和清单", "当场"),
        ("处理", "在期限内查明事实，作出处理决定或解除措施", "30日内"),
    ),
    "04": (
        ("申报", "缴费义务人申报应缴纳的费用", ""),
        ("审核", "审核申报内容和计费依据", "5个工作日"),
        ("核定", "核定应缴金额并出具缴款通知书", ""),
        ("缴款", "缴费义务人通过网上支付或银行缴纳", ""),
        ("开具票据", "开具财政电子票据", "即时"),
    ),
    "05": (
        ("申请", "申请人提交申请材料", ""),
        ("受理", "对符合条件的予以受理，材料不全的一次性告知", "即时"),
        ("审核", "核对申请人信息，必要时入户调查、信息比对", ""),
        ("审批", "作出给付或不予给付的决定", ""),
        ("发放", "按月或一次性发放至申请人社会保障卡或银行账户", ""),
    ),
    "06": (
        ("制定计划", "按照“双随机、一公开”要求制定检查计划", ""),
        ("实施检查", "执法人员出示证件，对检查对象进行现场检查", ""),
        ("出具意见", "形成检查记录，告知检查结果", ""),
        ("处理", "发现问题的责令改正，涉嫌违法的依法立案查处", ""),
        ("公示", "检查结果依法向社会公示", "20个工作日内"),
    ),
    "07": (
        ("申请", "申请人通过网上办事大厅或窗口提交申请", ""),
        ("受理", "材料齐全的予以受理，不齐全的一次性告知", "即时"),
        ("审核", "核实申请内容，进行信息比对", ""),
        ("办结", "作出确认决定，出具证件或证明", ""),
    ),
    "08": (
        ("推荐申报", "单位或个人推荐、申报", ""),
        ("审核", "对事迹材料进行审核", ""),
        ("公示", "拟奖励对象向社会公示", "不少于5个工作日"),
        ("决定", "作出奖励决定", ""),
        ("颁发", "颁发奖金、证书", ""),
    ),
    "09": (
        ("申请", "当事人提交书面裁决申请", ""),
        ("受理", "符合条件的受理，并通知被申请人", "5个工作日"),
        ("答辩", "被申请人提交答辩材料", "10个工作日"),
        ("调查和调解", "调查核实，组织双方调解", ""),
        ("裁决", "调解不成的作出裁决", ""),
        ("送达", "送达裁决书", ""),
    ),
    "10": (
        ("提交", "申请人提交备案材料", ""),
        ("核对", "核对材料是否齐全", "即时"),
        ("备案", "材料齐全的予以备案，出具备案回执", ""),
    ),
    "20": (
        ("申请", "申请人通过网上办事大厅、手机端或窗口提出申请", ""),
        ("受理", "对材料齐全的予以受理", "即时"),
        ("办理", "审核信息并办理", ""),
        ("办结", "告知办理结果", ""),
    ),
}

# (legal, promised) time limits by item type where specs usually leave them out.
_TIMES: dict[str, tuple[tuple[int, str], tuple[int, str], str]] = {
    "02": ((90, "2"), (90, "2"), "自立案之日起90日内作出处罚决定；案情复杂的经批准可延长"),
    "03": ((30, "2"), (30, "2"), "查封、扣押期限不超过30日，情况复杂的经批准可延长30日"),
    "06": ((20, "1"), (20, "1"), "按年度检查计划实施，自检查结束之日起20个工作日内公示结果"),
}

_DEPTH_STEPS = {
    "I": ["1"],
    "II": ["1", "3"],
    "III": ["1", "2", "3", "4"],
    "IV": ["1", "2", "3", "4", "5", "6"],
}
_DEPTH_CHANNELS = {"I": ["1"], "II": ["1", "2"], "III": ["1", "2", "3"], "IV": ["1", "2", "3"]}

_RIGHTS_APPLICANT = (
    "申请人享有依法提出申请、了解办理进度和结果、陈述和申辩的权利；对办理结果不服的，享有依法"
    "申请行政复议或者提起行政诉讼的权利；对工作人员的违法违纪行为享有投诉举报的权利。申请人"
    "应当如实提交有关材料、反映真实情况，并对申请材料实质内容的真实性负责。"
)
_RIGHTS_ENFORCEMENT = (
    "当事人享有知情、陈述和申辩的权利，符合法定条件的有权要求听证；对决定不服的，可以依法申请"
    "行政复议或者提起行政诉讼。当事人应当配合调查、检查，如实提供有关资料，并按期履行决定。"
)


@dataclass(frozen=True)
class Planned:
    """One content document to publish, with the department and the parent it belongs under."""

    key: str
    data: Data
    department: Department
    parent_key: str | None


def _time_limit(value: tuple[int, str] | int, note: str) -> Data:
    number, unit = (value, "1") if isinstance(value, int) else value
    return {"value": number, "unit": unit, "note": note}


def _unit_text(value: tuple[int, str] | int) -> str:
    number, unit = (value, "1") if isinstance(value, int) else value
    return f"{number}个{codes.label(codes.TimeLimitUnit, unit)}"


def _with(spec: Spec, fields: Data, **more: Any) -> Spec:
    """``spec`` with ``fields`` applied; ``extra`` merges and ``extra_bases`` appends."""
    changes = {**fields, **more}
    extra_bases = changes.pop("extra_bases", ())
    if extra_bases:
        changes["bases"] = (*changes.get("bases", spec.bases), *extra_bases)
    if "extra" in changes:
        changes["extra"] = {**spec.extra, **changes["extra"]}
    return dataclasses.replace(spec, subs=(), variants=(), district={}, **changes)


class _Context:
    """Departments by name (one query) and the remedies that depend on them."""

    def __init__(self) -> None:
        names = {p.city for p in PROFILES.values()} | {
            p.district for p in PROFILES.values() if p.district
        }
        names |= {"广安市司法局", "广安区司法局"}
        found = {
            d.name: d for d in Department.objects.filter(name__in=names).select_related("division")
        }
        missing = sorted(names - set(found))
        if missing:
            raise LookupError(f"demo departments missing (run load_departments first): {missing}")
        self.departments = found

    def remedy(self, department: Department) -> Data:
        """行政复议: the people's government one level up from a government, else the same level."""
        if department.name == "广安市人民政府":
            return {
                "body": "四川省人民政府（行政复议机构设在四川省司法厅）",
                "address": "四川省成都市",
            }
        if department.name == "广安市广安区人民政府" or department.division_id != "511602":
            justice = self.departments["广安市司法局"]
            return {
                "body": "广安市人民政府（行政复议机构设在广安市司法局）",
                "address": justice.address,
                "phone": justice.phone,
            }
        justice = self.departments["广安区司法局"]
        return {
            "body": "广安市广安区人民政府（行政复议机构设在广安区司法局）",
            "address": justice.address,
            "phone": justice.phone,
        }


def _generated_faqs(spec: Spec, depth: str, content: Data) -> list[Data]:
    """Questions every applicant asks, answered from the item's own elements."""
    if spec.item_type in _ENFORCEMENT:
        body = content["reconsideration"]["body"].split("（")[0]
        return [
            {
                "question": "对处理决定不服怎么办？",
                "answer": f"可以自知道该行政行为之日起六十日内向{body}申请行政复议，也可以自知道"
                "或者应当知道作出行政行为之日起六个月内依法向人民法院提起行政诉讼。",
            }
        ]
    legal, promised = content["legal_time_limit"], content["promised_time_limit"]
    if content["case_type"] == "1":
        timing = "本事项为即办件，材料齐全、符合条件的当场办结。"
    else:
        timing = (
            f"承诺办结时限为{_unit_text((promised['value'], promised['unit']))}，"
            f"法定办结时限为{_unit_text((legal['value'], legal['unit']))}，自受理之日起计算。"
        )
    if content["fees"]:
        fee_text = "收费：" + "；".join(
            f"{f['name']}，{f.get('standard') or f.get('formula')}" for f in content["fees"]
        )
        fee_text += "。支持网上支付。" if content["supports_online_payment"] else "。"
    else:
        fee_text = "不收费。"
    online = {
        "IV": "可以全程网上办理，无需到现场。",
        "III": "可以在网上提交申请并受理"
        + (f"；{spec.visit_reason}。" if spec.visit_reason else "。"),
        "II": "可以在网上预约或预审，审核通过后" + (spec.visit_reason or "需到窗口办理") + "。",
        "I": "本事项暂不支持网上申请，请携带材料到窗口办理，可先通过电话或“我要问”咨询。",
    }[depth]
    return [
        {"question": "办理需要多长时间？", "answer": timing},
        {"question": "办理是否收费？", "answer": fee_text},
        {"question": "可以在网上办理吗？", "answer": online},
    ]


def _content(
    spec: Spec,
    ctx: _Context,
    *,
    department: Department,
    division: str,
    basic_code: str,
    implementation_code: str,
    variant_code: str,
) -> Data:
    """The complete content document of one implementation."""
    profile = PROFILES[spec.dept]
    at_city = division == CITY
    level = "3" if at_city else "4"
    item_type = spec.item_type
    enforcement = item_type in _ENFORCEMENT
    depth = spec.depth or ("I" if enforcement or item_type in {"08", "09"} else "III")
    default_legal, default_promised, default_note = _TIMES.get(
        item_type, ((20, "1"), (10, "1"), "")
    )
    legal = spec.legal if spec.legal is not None else default_legal
    promised = spec.promised if spec.promised is not None else default_promised
    case_type = spec.case_type or ("9" if enforcement else "2")
    result_type, result_name = spec.result
    issues_licence = result_type == codes.ResultType.LICENCE
    steps = list(_DEPTH_STEPS[depth])
    if depth == "IV" and issues_licence:
        steps.append("7")
    visits = 0 if depth == "IV" or enforcement else (1 if spec.visit_reason else 0)
    if enforcement:
        channels = ["9"]
    elif depth == "I":
        channels = ["1"]
    else:
        channels = _DEPTH_CHANNELS[depth]
    hall = CITY_HALL if at_city else DISTRICT_HALL
    unit_default = profile.city_unit if at_city else profile.district_unit
    unit = spec.unit
    if unit and not unit.startswith("广安"):
        unit = department.name + unit
    remedy = ctx.remedy(department)
    division_name = department.division.full_name or department.division.name
    content: Data = {
        "name": spec.name,
        "basic_code": basic_code,
        "implementation_code": implementation_code,
        "handling_variant_code": variant_code,
        "item_type": item_type,
        "legal_bases": list(spec.bases),
        "power_source": "法定本级行使",
        "level": level,
        "power_division": (
            "市级负责市本级申请，区（县）级负责本行政区域内的申请" if spec.at == BOTH else ""
        ),
        "power_content": spec.power_content,
        "implementing_body": {"name": department.name, "uscc": department.uscc or ""},
        "body_nature": "2" if spec.dept == "housing_fund" else "1",
        "handling_unit": unit or unit_default or department.name,
        "joint_departments": list(spec.joint),
        "legal_time_limit": _time_limit(legal, spec.legal_note or default_note),
        "promised_time_limit": _time_limit(promised, spec.promised_note),
        "conditions": spec.conditions,
        "process_steps": [
            {"name": n, "description": d, "time_limit": t}
            for n, d, t in spec.steps or _STEPS[item_type]
        ],
        "case_type": case_type,
        "review_type": spec.review_type or ("1" if case_type == "1" else "2"),
        "special_procedures": [s for s in spec.special.split(",") if s],
        "site_visits": visits,
        "site_visit_reason": spec.visit_reason if visits else "",
        "online_steps": steps,
        "online_url": f"/apply/{implementation_code}/" if depth != "I" else "",
        "supports_appointment": depth in {"II", "III"} and not enforcement,
        "supports_online_payment": bool(spec.fees) and depth in {"III", "IV"},
        "supports_delivery": issues_licence and depth in {"III", "IV"},
        "supports_self_service": False,
        "in_service_hall": not enforcement,
        "system_level": SYSTEM_LEVEL,
        "result_type": result_type,
        "result_name": result_name,
        "licence_types": [result_name] if issues_licence and result_name else [],
        "charges_fee": bool(spec.fees),
        "fees": list(spec.fees),
        "targets": spec.targets.split(","),
        "person_themes": [t for t in spec.person_themes.split(",") if t],
        "legal_themes": [t for t in spec.legal_themes.split(",") if t],
        "channels": channels,
        "jurisdiction": f"{division_name}行政区域内",
        "tongban_scope": spec.tongban,
        "life_events": list(spec.events),
        "keywords": list(spec.keywords),
        "place": spec.place or f"{hall}{profile.window}",
        "hours": HOURS,
        "consult_methods": "窗口咨询；电话咨询；在本平台“我要问”栏目在线咨询",
        "consult_phone": department.phone,
        "complaint_methods": "拨打12345政务服务便民热线；在本平台“我要评”栏目评价或投诉；"
        "向本级政务服务管理部门书面投诉",
        "complaint_phone": "12345",
        "rights_and_obligations": _RIGHTS_ENFORCEMENT if enforcement else _RIGHTS_APPLICANT,
        "reconsideration": remedy,
        "litigation": {"body": "有管辖权的人民法院"},
        "materials": list(spec.materials),
        "effective_date": EFFECTIVE_DATE,
    }
    content.update(spec.extra)
    content["faqs"] = [
        *_generated_faqs(spec, depth, content),
        *({"question": q, "answer": a} for q, a in spec.faqs),
    ]
    return content


def _divisions(at: str) -> tuple[str, ...]:
    return {CITY: (CITY,), DISTRICT: (DISTRICT,), BOTH: (CITY, DISTRICT)}[at]


def plan(specs: Iterable[Spec] = SPECS) -> list[Planned]:
    """Every content document of the demo catalogue, in publishing order (parents first)."""
    ctx = _Context()
    planned: list[Planned] = []
    for spec in specs:
        profile = PROFILES[spec.dept]
        for division in _divisions(spec.at):
            name = profile.city if division == CITY else profile.district
            if name is None:
                raise LookupError(f"{spec.key}: {spec.dept} has no district department")
            department = ctx.departments[name]
            base = _with(spec, spec.district) if division == DISTRICT else _with(spec, {})
            planned.extend(_expand(spec, base, ctx, department, division))
    codes_seen: set[str] = set()
    for entry in planned:
        code = entry.data["implementation_code"]
        if code in codes_seen:
            raise ValueError(f"duplicate implementation code in the demo catalogue: {code}")
        codes_seen.add(code)
    return planned


def _expand(
    spec: Spec, base: Spec, ctx: _Context, department: Department, division: str
) -> Iterator[Planned]:
    level = "3" if division == CITY else "4"
    uscc = department.uscc or ""

    def build(item: Spec, sub: int, sequence: int, variant_code: str = "") -> tuple[str, Data]:
        basic = make_basic_code(item.item_type, item.main, sub)
        code = make_implementation_code(basic, level, department.division_id, uscc, sequence)
        data = _content(
            item,
            ctx,
            department=department,
            division=division,
            basic_code=basic,
            implementation_code=code,
            variant_code=variant_code,
        )
        return code, data

    main_key = f"{spec.key}@{division}"
    main_code, main_data = build(base, 0, 1)
    yield Planned(main_key, main_data, department, None)
    for sub in spec.subs:
        _code, data = build(_with(base, sub.fields, name=sub.name), sub.number, 1)
        yield Planned(f"{main_key}/{sub.number}", data, department, main_key)
    for number, variant in enumerate(spec.variants, start=1):
        item = _with(base, variant.fields, name=f"{spec.name}（{variant.name}）")
        _code, data = build(item, 0, 1 + number, f"{main_code}-{number:02d}")
        yield Planned(f"{main_key}#{number}", data, department, main_key)


def load_life_events() -> int:
    """Seed the life events items refer to; returns how many were created."""
    created = 0
    for order, (code, name, audience) in enumerate(LIFE_EVENTS, start=1):
        _event, was_created = LifeEvent.objects.get_or_create(
            code=code, defaults={"name": name, "audience": audience, "order": order}
        )
        created += was_created
    return created


@transaction.atomic
def load_demo_catalog() -> int:
    """Publish the demo catalogue; returns the number of versions published (0 when current).

    Every document is validated with :func:`validate_content`; an invalid spec raises the
    ``catalog.content_invalid`` ValidationError naming the item, so a broken demo fails loudly.
    """
    from zwfw.catalog.services import publish_content

    load_life_events()
    published = 0
    items: dict[str, Item] = {}
    entries = plan()
    for entry in entries:
        content = validate_content(entry.data)
        item, version = publish_content(content, department=entry.department, actor=ACTOR)
        items[entry.key] = item
        published += version is not None
    _link_parents(entries, items)
    return published


def _link_parents(entries: list[Planned], items: dict[str, Item]) -> None:
    """Sub-items and handling variants point at their main item (and basic item)."""
    for entry in entries:
        if entry.parent_key is None:
            continue
        item, parent = items[entry.key], items[entry.parent_key]
        if item.parent_id != parent.pk:
            Item.objects.filter(pk=item.pk).update(parent=parent)
            audit.record(
                "catalog:item:link_parent",
                "catalog.item",
                item.pk,
                before={"parent": item.parent_id},
                after={"parent": parent.pk},
            )
        basic, parent_basic = item.basic_item_id, parent.basic_item_id
        if basic and parent_basic and basic != parent_basic:
            linked = (
                BasicItem.objects.filter(pk=basic)
                .exclude(parent_id=parent_basic)
                .update(parent_id=parent_basic)
            )
            if linked:
                audit.record(
                    "catalog:basic_item:link_parent",
                    "catalog.basic_item",
                    basic,
                    after={"parent": parent_basic},
                )
