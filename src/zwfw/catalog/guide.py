"""The guide (办事指南) of an item: every element of a published version in the standard layout.

:func:`get_guide` reads one published version (the current one, or an older one: versions are
public history) in one query — two when the version names life events — and
:func:`build_guide` turns its content into an :class:`ItemGuide`: twelve sections in the
standard order, each element with its Chinese label and every code resolved to its label. The
API returns the same object the page renders, so the two cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db.models import Choices
from ninja import Schema
from pydantic import Field

from zwfw.catalog.content import (
    ItemContent,
    MaterialForm,
    MaterialKind,
    MaterialSource,
    TimeLimit,
)
from zwfw.catalog.models import Item, ItemStatus, ItemVersion, LifeEvent
from zwfw.core import codes
from zwfw.core.errors import NotFound, ValidationError

APPLY_DEPTHS = frozenset({codes.OnlineDepth.LEVEL_III.value, codes.OnlineDepth.LEVEL_IV.value})

#: The sections of a guide, in the standard order: (key, title).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("basic", "基本信息"),
    ("bodies", "实施主体"),
    ("time_limits", "办理时限"),
    ("conditions", "受理条件"),
    ("materials", "申请材料"),
    ("process", "办理流程"),
    ("fees", "收费"),
    ("result", "结果"),
    ("place", "办理地点和时间"),
    ("contact", "咨询投诉"),
    ("faq", "常见问题"),
    ("rights", "权利义务与救济"),
)


# --- the guide's shape (also the API's response schema) ------------------------------------


class CodeLabel(Schema):
    """A code with its label (``{"code": "01", "label": "行政许可"}``)."""

    code: str
    label: str


class GuideRow(Schema):
    """One element: its key in the content schema, Chinese label and display value.

    ``url`` is set for link elements (网办地址, 流程图, 结果样本) when the value is a safe
    link (``https://``, ``http://`` or a path on this site).
    """

    key: str
    label: str
    value: str
    codes: list[str] = []
    url: str | None = None


class GuideLegalBasis(Schema):
    law_name: str
    article: str
    text: str


class GuideMaterial(Schema):
    """One line of the materials checklist."""

    number: int
    name: str
    kinds: list[CodeLabel]
    forms: list[CodeLabel]
    source: CodeLabel
    issuer: str
    paper_copies: int
    paper_spec: str
    required: bool
    required_label: str
    required_note: str
    blank_form: str = Field(description="空白表格链接（仅安全链接）")
    sample: str = Field(description="示例样表链接（仅安全链接）")
    instructions: str
    acceptance_standard: str
    basis: str
    licence_type: str
    exemption: str


class GuideStep(Schema):
    number: int
    name: str
    description: str
    time_limit: str


class GuideFee(Schema):
    name: str
    standard: str
    basis: str
    amount: str | None
    formula: str
    reducible: bool


class GuideFaq(Schema):
    question: str
    answer: str


class GuideRemedy(Schema):
    """行政复议 or 行政诉讼."""

    kind: str
    label: str
    body: str
    address: str
    phone: str
    url: str


class GuideTimeLimit(Schema):
    value: int
    unit: CodeLabel
    note: str
    text: str


class GuideSection(Schema):
    """One section: simple elements as rows, list elements in the matching list."""

    key: str
    title: str
    rows: list[GuideRow] = []
    legal_bases: list[GuideLegalBasis] = []
    materials: list[GuideMaterial] = []
    steps: list[GuideStep] = []
    fees: list[GuideFee] = []
    faqs: list[GuideFaq] = []
    remedies: list[GuideRemedy] = []


class GuideDepartment(Schema):
    id: int
    name: str
    uscc: str | None


class ItemGuide(Schema):
    """The guide of one published version of an implementation item."""

    implementation_code: str
    basic_code: str
    handling_variant_code: str
    name: str
    version: int
    latest_version: int
    is_current_version: bool
    published_at: dt.datetime | None
    status: CodeLabel
    item_type: CodeLabel
    online_depth: CodeLabel
    can_apply_online: bool
    apply_url: str | None
    department: GuideDepartment
    legal_time_limit: GuideTimeLimit
    promised_time_limit: GuideTimeLimit
    charges_fee: bool
    sections: list[GuideSection]

    def section(self, key: str) -> GuideSection:
        """The section ``key`` (one of :data:`SECTIONS`)."""
        return next(s for s in self.sections if s.key == key)


# --- reading -------------------------------------------------------------------------------


def _unknown(code: str) -> NotFound:
    return NotFound(
        "catalog.item_unknown",
        f"没有已发布的事项“{code[:64]}”。",
        "No published item with this implementation code.",
        details={"implementation_code": code[:64]},
    )


def get_guide(implementation_code: str, *, version: int | None = None) -> ItemGuide:
    """The guide of a published item: its current version, or version ``version``.

    Raises ``NotFound("catalog.item_unknown")`` when no published item has this code (draft,
    suspended and cancelled items have no public guide) or the version does not exist.
    """
    code = implementation_code.strip()
    if version is None:
        item = (
            Item.objects.select_related("current_version", "department")
            .filter(implementation_code=code, status=ItemStatus.PUBLISHED)
            .first()
        )
        if item is None or item.current_version is None:
            raise _unknown(code)
        shown = item.current_version
    else:
        found = (
            ItemVersion.objects.select_related("item", "item__department")
            .filter(
                item__implementation_code=code,
                item__status=ItemStatus.PUBLISHED,
                number=version,
                published_at__isnull=False,
            )
            .first()
        )
        if found is None:
            published = Item.objects.filter(implementation_code=code, status=ItemStatus.PUBLISHED)
            if published.exists():  # a clearer message; only on this error path
                raise NotFound(
                    "catalog.item_unknown",
                    f"事项“{code[:64]}”没有第{version}版。",
                    f"The item has no published version {version}.",
                    details={"implementation_code": code[:64], "version": version},
                )
            raise _unknown(code)
        item, shown = found.item, found
    content = ItemContent.model_validate(shown.content)
    events = _life_event_names(content.life_events)
    return build_guide(item, shown, content, life_events=events)


def _life_event_names(event_codes: Sequence[str]) -> dict[str, str]:
    if not event_codes:
        return {}
    rows = LifeEvent.objects.filter(code__in=event_codes).order_by().values_list("code", "name")
    return dict(rows)


# --- building ------------------------------------------------------------------------------


def _label(table: type[Choices], code: str) -> str:
    return codes.label(table, code, default=code)


def _coded(table: type[Choices], code: str) -> CodeLabel:
    return CodeLabel(code=code, label=_label(table, code))


def _labels(table: type[Choices], values: Iterable[str]) -> str:
    return "、".join(_label(table, v) for v in values)


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def _row(key: str, label: str, value: str, row_codes: Sequence[str] = ()) -> GuideRow:
    return GuideRow(key=key, label=label, value=value, codes=list(row_codes))


def safe_url(value: str) -> str | None:
    """``value`` when it is a web or site-relative link; None otherwise (``javascript:`` …)."""
    text = value.strip()
    if text.startswith(("https://", "http://")) or (
        text.startswith("/") and not text.startswith("//")
    ):
        return text
    return None


def _url_row(key: str, label: str, value: str) -> GuideRow:
    return GuideRow(key=key, label=label, value=value, url=safe_url(value) if value else None)


def _coded_row(key: str, label: str, table: type[Choices], values: Sequence[str]) -> GuideRow:
    return _row(key, label, _labels(table, values), values)


def time_limit_text(limit: TimeLimit) -> str:
    """``20个工作日``; a limit of 0 reads 当场办结."""
    if limit.value == 0:
        return "当场办结"
    return f"{limit.value}个{_label(codes.TimeLimitUnit, limit.unit)}"


def _time_limit(limit: TimeLimit) -> GuideTimeLimit:
    return GuideTimeLimit(
        value=limit.value,
        unit=_coded(codes.TimeLimitUnit, limit.unit),
        note=limit.note,
        text=time_limit_text(limit),
    )


def _with_note(limit: TimeLimit) -> str:
    text = time_limit_text(limit)
    return f"{text}（{limit.note}）" if limit.note else text


def item_type_label(code: str) -> str:
    """The label of an item type, local extensions included; an unknown code shows as itself."""
    try:
        return codes.item_type_label(code)
    except ValidationError:
        return code


def _item_type(code: str) -> CodeLabel:
    return CodeLabel(code=code, label=item_type_label(code))


def build_guide(
    item: Item,
    version: ItemVersion,
    content: ItemContent,
    *,
    life_events: dict[str, str] | None = None,
) -> ItemGuide:
    """The guide of ``version`` of ``item`` (whose content is ``content``)."""
    c = content
    events = life_events or {}
    depth = c.online_depth
    is_current = item.current_version_id == version.pk
    can_apply = item.status == ItemStatus.PUBLISHED and is_current and depth in APPLY_DEPTHS
    item_type = _item_type(c.item_type)
    scope = _label(codes.TongbanScope, c.tongban_scope) if c.tongban_scope else "属地办理"

    basic = GuideSection(
        key="basic",
        title="基本信息",
        rows=[
            _row("name", "事项名称", c.name),
            _row("basic_code", "基本编码", c.basic_code),
            _row("implementation_code", "实施编码", c.implementation_code),
            _row("handling_variant_code", "业务办理项编码", c.handling_variant_code),
            _row("item_type", "事项类型", item_type.label, [c.item_type]),
            _row("version", "事项版本", f"第{version.number}版"),
            _row("power_source", "权力来源", c.power_source),
            _row("level", "行使层级", _label(codes.ExerciseLevel, c.level), [c.level]),
            _row("power_division", "权限划分", c.power_division),
            _row("power_content", "行使内容", c.power_content),
            _coded_row("targets", "服务对象", codes.ServiceTarget, c.targets),
            _coded_row("person_themes", "自然人主题", codes.NaturalPersonTheme, c.person_themes),
            _coded_row("legal_themes", "法人主题", codes.LegalPersonTheme, c.legal_themes),
            _row(
                "life_events",
                "人生事件 / 企业事件",
                "、".join(events.get(e, e) for e in c.life_events),
                c.life_events,
            ),
            _coded_row("channels", "办理形式", codes.Channel, c.channels),
            _row("jurisdiction", "行政管辖", c.jurisdiction),
            _row("tongban_scope", "通办范围", scope, [c.tongban_scope] if c.tongban_scope else []),
            _row("keywords", "检索关键词", "、".join(c.keywords)),
            _row(
                "effective_date",
                "计划生效日期",
                c.effective_date.isoformat() if c.effective_date else "",
            ),
            _row("cancel_date", "计划取消日期", c.cancel_date.isoformat() if c.cancel_date else ""),
        ],
        legal_bases=[
            GuideLegalBasis(law_name=b.law_name, article=b.article, text=b.text)
            for b in c.legal_bases
        ],
    )
    bodies = GuideSection(
        key="bodies",
        title="实施主体",
        rows=[
            _row("implementing_body", "实施主体", c.implementing_body.name),
            _row("implementing_body_uscc", "实施主体统一社会信用代码", c.implementing_body.uscc),
            _row(
                "body_nature",
                "实施主体性质",
                _label(codes.ImplementingBodyNature, c.body_nature),
                [c.body_nature],
            ),
            _row("handling_unit", "承办机构", c.handling_unit),
            _row("joint_departments", "共同实施部门", "、".join(c.joint_departments)),
            _row("joint_units", "联办机构", "、".join(c.joint_units)),
            _row("entrusting_department", "委托部门", c.entrusting_department),
            _row("guidance_department", "中央业务指导部门", c.guidance_department),
        ],
    )
    time_limits = GuideSection(
        key="time_limits",
        title="办理时限",
        rows=[
            _row("legal_time_limit", "法定办结时限", _with_note(c.legal_time_limit)),
            _row("promised_time_limit", "承诺办结时限", _with_note(c.promised_time_limit)),
            _row("case_type", "办件类型", _label(codes.CaseType, c.case_type), [c.case_type]),
        ],
    )
    conditions = GuideSection(
        key="conditions",
        title="受理条件",
        rows=[
            _row("conditions", "受理条件", c.conditions),
            _row("quantity_limit", "数量限制", c.quantity_limit),
            _row("intermediary_services", "中介服务", "、".join(c.intermediary_services)),
        ],
    )
    materials = GuideSection(
        key="materials",
        title="申请材料",
        materials=[
            GuideMaterial(
                number=n,
                name=m.name,
                kinds=[_coded(MaterialKind, k) for k in m.kinds],
                forms=[_coded(MaterialForm, f) for f in m.forms],
                source=_coded(MaterialSource, m.source),
                issuer=m.issuer,
                paper_copies=m.paper_copies,
                paper_spec=m.paper_spec,
                required=m.required,
                required_label="必要" if m.required else "非必要",
                required_note=m.required_note,
                blank_form=safe_url(m.blank_form) or "",
                sample=safe_url(m.sample) or "",
                instructions=m.instructions,
                acceptance_standard=m.acceptance_standard,
                basis=m.basis,
                licence_type=m.licence_type,
                exemption=m.exemption,
            )
            for n, m in enumerate(c.materials, start=1)
        ],
    )
    process = GuideSection(
        key="process",
        title="办理流程",
        rows=[
            _row(
                "review_type", "审查类型", _label(codes.ReviewType, c.review_type), [c.review_type]
            ),
            _coded_row(
                "special_procedures", "特别程序", codes.SpecialProcedureKind, c.special_procedures
            ),
            _row("site_visits", "到办事现场次数", f"{c.site_visits}次"),
            _row("site_visit_reason", "必须到现场的原因", c.site_visit_reason),
            _row("online_depth", "网上办理深度", _label(codes.OnlineDepth, depth), [depth]),
            _coded_row("online_steps", "网上办理环节", codes.OnlineStep, c.online_steps),
            _row("online", "是否网办", _yes_no(depth in APPLY_DEPTHS)),
            _url_row("online_url", "网办地址", c.online_url),
            _url_row("flow_chart", "流程图", c.flow_chart),
            _row("supports_appointment", "支持预约办理", _yes_no(c.supports_appointment)),
            _row("supports_online_payment", "支持网上支付", _yes_no(c.supports_online_payment)),
            _row("supports_delivery", "支持物流快递", _yes_no(c.supports_delivery)),
            _row("supports_self_service", "支持自助终端", _yes_no(c.supports_self_service)),
            _row("in_service_hall", "进驻政务服务大厅", _yes_no(c.in_service_hall)),
            _row("system_level", "运行系统层级", c.system_level),
            _row("min_trust_level", "申请所需实名等级", c.min_trust_level),
            _row(
                "application_form",
                "申请表填写项",
                "、".join(f.label + ("（必填）" if f.required else "") for f in c.application_form)
                or "标准申请表（申请人、联系人、联系电话、通讯地址）",
            ),
            _row("review_points", "审查要点", "；".join(c.review_points)),
        ],
        steps=[
            GuideStep(number=n, name=s.name, description=s.description, time_limit=s.time_limit)
            for n, s in enumerate(c.process_steps, start=1)
        ],
    )
    fees = GuideSection(
        key="fees",
        title="收费",
        rows=[_row("charges_fee", "是否收费", "收费" if c.charges_fee else "不收费")],
        fees=[
            GuideFee(
                name=f.name,
                standard=f.standard,
                basis=f.basis,
                amount=f"{f.amount:.2f}" if f.amount is not None else None,
                formula=f.formula,
                reducible=f.reducible,
            )
            for f in c.fees
        ],
    )
    result = GuideSection(
        key="result",
        title="结果",
        rows=[
            _row(
                "result_type",
                "审批结果类型",
                _label(codes.ResultType, c.result_type),
                [c.result_type],
            ),
            _row("result_name", "审批结果名称", c.result_name),
            _url_row("result_sample", "审批结果样本", c.result_sample),
            _row("licence_types", "关联电子证照", "、".join(c.licence_types)),
        ],
    )
    place = GuideSection(
        key="place",
        title="办理地点和时间",
        rows=[_row("place", "办理地点", c.place), _row("hours", "办理时间", c.hours)],
    )
    contact = GuideSection(
        key="contact",
        title="咨询投诉",
        rows=[
            _row("consult_methods", "咨询方式", c.consult_methods),
            _row("consult_phone", "咨询电话", c.consult_phone),
            _row("complaint_methods", "监督投诉方式", c.complaint_methods),
            _row("complaint_phone", "监督投诉电话", c.complaint_phone),
        ],
    )
    faq = GuideSection(
        key="faq",
        title="常见问题",
        faqs=[GuideFaq(question=f.question, answer=f.answer) for f in c.faqs],
    )
    rights = GuideSection(
        key="rights",
        title="权利义务与救济",
        rows=[_row("rights_and_obligations", "申请人权利和义务", c.rights_and_obligations)],
        remedies=[
            GuideRemedy(
                kind=kind,
                label=label,
                body=channel.body,
                address=channel.address,
                phone=channel.phone,
                url=channel.url,
            )
            for kind, label, channel in (
                ("reconsideration", "行政复议", c.reconsideration),
                ("litigation", "行政诉讼", c.litigation),
            )
        ],
    )
    department = item.department
    return ItemGuide(
        implementation_code=c.implementation_code,
        basic_code=c.basic_code,
        handling_variant_code=c.handling_variant_code,
        name=c.name,
        version=version.number,
        latest_version=item.version_count,
        is_current_version=is_current,
        published_at=version.published_at,
        status=CodeLabel(code=item.status, label=ItemStatus(item.status).label),
        item_type=item_type,
        online_depth=_coded(codes.OnlineDepth, depth),
        can_apply_online=can_apply,
        apply_url=f"/apply/{item.implementation_code}/" if can_apply else None,
        department=GuideDepartment(id=department.pk, name=department.name, uscc=department.uscc),
        legal_time_limit=_time_limit(c.legal_time_limit),
        promised_time_limit=_time_limit(c.promised_time_limit),
        charges_fee=c.charges_fee,
        sections=[
            basic,
            bodies,
            time_limits,
            conditions,
            materials,
            process,
            fees,
            result,
            place,
            contact,
            faq,
            rights,
        ],
    )
