"""The content of one version of an implementation item (实施清单事项): every element of SPEC §3.2.

A version's content is one validated document (stored as JSON on an immutable
``ItemVersion``). Keeping the whole element set in one document makes versions immutable by
construction, diffs exact, and import/export and the guide a matter of mapping one schema.
Columns that lists filter and facet on are copied onto ``Item`` when a version is published.

:func:`validate_content` turns any mapping into :class:`ItemContent` or raises one
``ValidationError("catalog.content_invalid")`` whose ``details["errors"]`` lists every problem
with its field path (``materials.2.name``), a stable code and a Chinese message.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Annotated, Any

from django.db import models
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from zwfw.core import codes
from zwfw.core.errors import ValidationError

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


@functools.cache
def _allowed(table: type) -> frozenset[str]:
    # TextChoices.values builds a new list on every access; validation asks thousands of times
    # per import, so each table's codes are computed once.
    return frozenset(str(v) for v in table.values)  # type: ignore[attr-defined]


def _code(table: type, value: Any, field: str) -> str:
    text = str(value).strip() if value is not None else ""
    if text not in _allowed(table):
        zh, _en = codes.table_name(table)
        raise PydanticCustomError(
            "catalog.code_unknown",
            "“{value}”不是有效的{table}代码",
            {"value": text, "table": zh},
        )
    return text


def _codes(table: type, values: Any, field: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [part for part in values.replace("，", ",").split(",") if part.strip()]
    seen: list[str] = []
    for value in values:
        code = _code(table, value, field)
        if code not in seen:
            seen.append(code)
    return sorted(seen)


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LegalBasis(_Part):
    """设定依据: one provision of a law or regulation."""

    law_name: Name = Field(description="法律法规名称")
    article: ShortText = Field("", description="条款号，如 第十二条")
    text: Text = Field("", description="条款内容")


class TimeLimit(_Part):
    """办结时限 with its unit and an explanation."""

    value: int = Field(ge=0, le=3650, description="时限数值")
    unit: str = Field(codes.TimeLimitUnit.WORKING_DAY.value, description="单位：1 工作日 2 自然日")
    note: Text = Field("", description="时限说明")

    @field_validator("unit", mode="before")
    @classmethod
    def _unit(cls, value: Any) -> str:
        return _code(codes.TimeLimitUnit, value, "unit")


class Body(_Part):
    """An organisation named by the item: name and 统一社会信用代码."""

    name: Name
    uscc: Annotated[str, StringConstraints(strip_whitespace=True, max_length=18)] = ""

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, value: str) -> str:
        if not value:
            return value
        from zwfw.core.validators import validate_uscc

        try:
            return validate_uscc(value).code
        except ValidationError as exc:
            raise PydanticCustomError(exc.code, exc.message) from None


class Fee(_Part):
    """收费项目."""

    name: Name = Field(description="收费项目名称")
    standard: Text = Field("", description="收费标准")
    basis: Text = Field("", description="收费依据")
    amount: Decimal | None = Field(
        None, ge=0, max_digits=12, decimal_places=2, description="金额（元）"
    )
    formula: Text = Field("", description="计算方式（金额不固定时）")
    reducible: bool = Field(False, description="是否允许减免")

    @model_validator(mode="after")
    def _amount_or_formula(self) -> Fee:
        if self.amount is None and not self.formula and not self.standard:
            raise PydanticCustomError(
                "catalog.fee_amount", "收费项目须填写金额、计算方式或收费标准之一"
            )
        return self


@codes._table("材料类型", "material kind")
class MaterialKind(models.TextChoices):
    ORIGINAL = "1", "原件"
    COPY = "2", "复印件"
    ELECTRONIC = "3", "电子件"


@codes._table("材料形式", "material form")
class MaterialForm(models.TextChoices):
    PAPER = "1", "纸质"
    ELECTRONIC = "2", "电子"


@codes._table("材料来源渠道", "material source")
class MaterialSource(models.TextChoices):
    APPLICANT = "1", "申请人自备"
    GOVERNMENT = "2", "政府部门核发"
    OTHER = "9", "其他"


class Material(_Part):
    """申请材料 with every attribute of SPEC §3.2."""

    name: Name = Field(description="材料名称")
    kinds: list[str] = Field(default_factory=list, description="材料类型：原件/复印件/电子件")
    forms: list[str] = Field(default_factory=list, description="材料形式：纸质/电子")
    source: str = Field("1", description="来源渠道：1 申请人自备 2 政府部门核发 9 其他")
    issuer: ShortText = Field("", description="出具机构")
    paper_copies: int = Field(0, ge=0, le=100, description="纸质份数")
    paper_spec: ShortText = Field("", description="纸质规格，如 A4")
    required: bool = Field(True, description="是否必要")
    required_note: Text = Field("", description="必要性说明（容缺/条件必要）")
    blank_form: Url = Field("", description="空白表格")
    sample: Url = Field("", description="示例样表")
    instructions: Text = Field("", description="填报须知")
    acceptance_standard: Text = Field("", description="受理标准")
    basis: Text = Field("", description="设定依据")
    licence_type: ShortText = Field("", description="可用电子证照替代：证照类型代码")
    exemption: Text = Field("", description="免提交条件")

    @field_validator("kinds", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> list[str]:
        return _codes(MaterialKind, value, "kinds")

    @field_validator("forms", mode="before")
    @classmethod
    def _forms(cls, value: Any) -> list[str]:
        return _codes(MaterialForm, value, "forms")

    @field_validator("source", mode="before")
    @classmethod
    def _source(cls, value: Any) -> str:
        return _code(MaterialSource, value, "source")

    @model_validator(mode="after")
    def _paper(self) -> Material:
        if MaterialForm.PAPER in self.forms and self.paper_copies == 0:
            raise PydanticCustomError("catalog.material_copies", "纸质材料须填写份数（至少1份）")
        if self.source == MaterialSource.GOVERNMENT and not self.issuer:
            raise PydanticCustomError("catalog.material_issuer", "政府部门核发的材料须填写出具机构")
        return self


FORM_FIELD_TYPES = ("text", "textarea", "number", "date", "select", "checkbox", "phone", "idcard")


class FormField(_Part):
    """One field of an item's application form (申请表), edited by the catalogue officer."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")] = Field(
        description="字段标识（小写英文、数字、下划线）"
    )
    label: Name = Field(description="字段名称")
    type: str = Field("text", description="类型：" + "、".join(FORM_FIELD_TYPES))
    required: bool = Field(False, description="是否必填")
    options: list[ShortText] = Field(default_factory=list, description="可选值（下拉）")
    max_length: int = Field(500, ge=1, le=4000, description="最大长度")
    prefill: ShortText = Field("", description="预填来源，如 profile.real_name")
    help: Text = Field("", description="填写说明")

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value not in FORM_FIELD_TYPES:
            raise PydanticCustomError(
                "catalog.form_field_type",
                "表单字段类型“{value}”无效",
                {"value": value},
            )
        return value


class ProcessStep(_Part):
    """办理流程 step."""

    name: Name
    description: Text = ""
    time_limit: ShortText = ""


class Faq(_Part):
    """常见问题."""

    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    answer: Text


class RemedyChannel(_Part):
    """行政复议 / 行政诉讼 channel."""

    body: ShortText = ""
    address: ShortText = ""
    phone: Phone = ""
    url: Url = ""


class ItemContent(BaseModel):
    """All elements of one implementation-item version (SPEC §3.2)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- identity -----------------------------------------------------------------------------
    name: Name = Field(description="事项名称")
    basic_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] = Field(
        "", description="基本编码"
    )
    implementation_code: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ] = Field(description="实施编码")
    handling_variant_code: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=64)
    ] = Field("", description="业务办理项编码")
    item_type: str = Field(description="事项类型")
    legal_bases: list[LegalBasis] = Field(default_factory=list, description="设定依据")
    power_source: ShortText = Field("", description="权力来源，如 法定本级行使")
    level: str = Field(description="行使层级")
    power_division: Text = Field("", description="权限划分")
    power_content: Text = Field("", description="行使内容")

    # --- bodies -------------------------------------------------------------------------------
    implementing_body: Body = Field(description="实施主体")
    body_nature: str = Field(
        codes.ImplementingBodyNature.STATUTORY_BODY.value, description="实施主体性质"
    )
    handling_unit: ShortText = Field("", description="承办机构")
    joint_departments: list[ShortText] = Field(default_factory=list, description="共同实施部门")
    joint_units: list[ShortText] = Field(default_factory=list, description="联办机构")
    entrusting_department: ShortText = Field("", description="委托部门")
    guidance_department: ShortText = Field("", description="中央业务指导部门")

    # --- time ---------------------------------------------------------------------------------
    legal_time_limit: TimeLimit = Field(description="法定办结时限")
    promised_time_limit: TimeLimit = Field(description="承诺办结时限")

    # --- handling -----------------------------------------------------------------------------
    conditions: Text = Field("", description="受理条件")
    process_steps: list[ProcessStep] = Field(default_factory=list, description="办理流程")
    flow_chart: Url = Field("", description="流程图")
    case_type: str = Field(description="办件类型")
    review_type: str = Field(codes.ReviewType.REVIEW_THEN_APPROVE.value, description="审查类型")
    intermediary_services: list[ShortText] = Field(default_factory=list, description="中介服务")
    quantity_limit: Text = Field("", description="数量限制")
    special_procedures: list[str] = Field(default_factory=list, description="特别程序")
    site_visits: int = Field(0, ge=0, le=10, description="到办事现场次数")
    site_visit_reason: Text = Field("", description="必须到现场原因")
    online_steps: list[str] = Field(default_factory=list, description="网上办理深度（环节）")
    online_url: Url = Field("", description="网办地址")
    supports_appointment: bool = Field(False, description="是否支持预约办理")
    supports_online_payment: bool = Field(False, description="是否支持网上支付")
    supports_delivery: bool = Field(False, description="是否支持物流快递")
    supports_self_service: bool = Field(False, description="是否支持自助终端")
    in_service_hall: bool = Field(True, description="是否进驻政务服务大厅")
    system_level: ShortText = Field("", description="运行系统层级")
    min_trust_level: str = Field("L2", description="申请所需最低实名信任等级")

    # --- result -------------------------------------------------------------------------------
    result_type: str = Field(codes.ResultType.DECISION.value, description="审批结果类型")
    result_name: ShortText = Field("", description="审批结果名称")
    result_sample: Url = Field("", description="审批结果样本")
    licence_types: list[ShortText] = Field(default_factory=list, description="关联电子证照类型")

    # --- fees ---------------------------------------------------------------------------------
    charges_fee: bool = Field(False, description="是否收费")
    fees: list[Fee] = Field(default_factory=list, description="收费项目")

    # --- classification -----------------------------------------------------------------------
    targets: list[str] = Field(description="服务对象")
    person_themes: list[str] = Field(default_factory=list, description="自然人主题")
    legal_themes: list[str] = Field(default_factory=list, description="法人主题")
    channels: list[str] = Field(default_factory=list, description="办理形式")
    jurisdiction: ShortText = Field("", description="行政管辖说明")
    tongban_scope: str = Field("", description="通办范围（空：属地办理）")
    life_events: list[ShortText] = Field(default_factory=list, description="人生事件 / 企业事件")
    keywords: list[ShortText] = Field(default_factory=list, description="检索关键词")

    # --- place and contact --------------------------------------------------------------------
    place: Text = Field("", description="办理地点")
    hours: Text = Field("", description="办理时间")
    consult_methods: Text = Field("", description="咨询方式")
    consult_phone: Phone = Field("", description="咨询电话")
    complaint_methods: Text = Field("", description="监督投诉方式")
    complaint_phone: Phone = Field("", description="监督投诉电话")
    faqs: list[Faq] = Field(default_factory=list, description="常见问题")

    # --- rights -------------------------------------------------------------------------------
    rights_and_obligations: Text = Field("", description="申请人权利和义务")
    reconsideration: RemedyChannel = Field(default_factory=RemedyChannel, description="行政复议")
    litigation: RemedyChannel = Field(default_factory=RemedyChannel, description="行政诉讼")

    # --- materials ----------------------------------------------------------------------------
    materials: list[Material] = Field(default_factory=list, description="申请材料")

    # --- handling aids -------------------------------------------------------------------------
    application_form: list[FormField] = Field(default_factory=list, description="申请表字段")
    review_points: list[ShortText] = Field(default_factory=list, description="审查要点")

    # --- validity -----------------------------------------------------------------------------
    effective_date: dt.date | None = Field(None, description="计划生效日期")
    cancel_date: dt.date | None = Field(None, description="计划取消日期")

    @field_validator("item_type", mode="before")
    @classmethod
    def _item_type(cls, value: Any) -> str:
        text = str(value).strip() if value is not None else ""
        try:
            return codes.validate_item_type(text)
        except ValidationError as exc:
            raise PydanticCustomError("catalog.code_unknown", exc.message) from None

    @field_validator("level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> str:
        return _code(codes.ExerciseLevel, value, "level")

    @field_validator("body_nature", mode="before")
    @classmethod
    def _body_nature(cls, value: Any) -> str:
        return _code(codes.ImplementingBodyNature, value, "body_nature")

    @field_validator("case_type", mode="before")
    @classmethod
    def _case_type(cls, value: Any) -> str:
        return _code(codes.CaseType, value, "case_type")

    @field_validator("review_type", mode="before")
    @classmethod
    def _review_type(cls, value: Any) -> str:
        return _code(codes.ReviewType, value, "review_type")

    @field_validator("result_type", mode="before")
    @classmethod
    def _result_type(cls, value: Any) -> str:
        return _code(codes.ResultType, value, "result_type")

    @field_validator("tongban_scope", mode="before")
    @classmethod
    def _scope(cls, value: Any) -> str:
        if value in (None, ""):
            return ""
        return _code(codes.TongbanScope, value, "tongban_scope")

    @field_validator("special_procedures", mode="before")
    @classmethod
    def _special(cls, value: Any) -> list[str]:
        return _codes(codes.SpecialProcedureKind, value, "special_procedures")

    @field_validator("online_steps", mode="before")
    @classmethod
    def _steps(cls, value: Any) -> list[str]:
        return _codes(codes.OnlineStep, value, "online_steps")

    @field_validator("targets", mode="before")
    @classmethod
    def _targets(cls, value: Any) -> list[str]:
        found = _codes(codes.ServiceTarget, value, "targets")
        if not found:
            raise PydanticCustomError("catalog.targets_empty", "至少填写一个服务对象")
        return found

    @field_validator("person_themes", mode="before")
    @classmethod
    def _person_themes(cls, value: Any) -> list[str]:
        return _codes(codes.NaturalPersonTheme, value, "person_themes")

    @field_validator("legal_themes", mode="before")
    @classmethod
    def _legal_themes(cls, value: Any) -> list[str]:
        return _codes(codes.LegalPersonTheme, value, "legal_themes")

    @field_validator("channels", mode="before")
    @classmethod
    def _channels(cls, value: Any) -> list[str]:
        return _codes(codes.Channel, value, "channels")

    @field_validator("min_trust_level")
    @classmethod
    def _trust(cls, value: str) -> str:
        if value not in TRUST_LEVELS:
            raise PydanticCustomError(
                "catalog.trust_level",
                "最低信任等级应为 L2、L3、L4 或 L5，实际为“{value}”",
                {"value": value},
            )
        return value

    # --- rules across elements ----------------------------------------------------------------
    @property
    def online_depth(self) -> str:
        return codes.online_depth_level(
            self.online_steps, issues_licence=self.result_type == codes.ResultType.LICENCE
        )

    @model_validator(mode="after")
    def _cross_rules(self) -> ItemContent:
        problems = [
            *_time_rules(self),
            *_fee_rules(self),
            *_online_rules(self),
            *_classification_rules(self),
        ]
        if problems:
            raise _CrossRuleErrors(problems)
        return self


Problem = tuple[str, str, str]  # field, code, Chinese message


def _time_rules(c: ItemContent) -> list[Problem]:
    problems = []
    legal, promised = c.legal_time_limit, c.promised_time_limit
    if legal.unit == promised.unit and promised.value > legal.value > 0:
        problems.append(
            (
                "promised_time_limit",
                "catalog.promised_exceeds_legal",
                f"承诺时限（{promised.value}）不得超过法定时限（{legal.value}）",
            )
        )
    if c.case_type == codes.CaseType.IMMEDIATE and promised.value > 1:
        problems.append(
            (
                "promised_time_limit",
                "catalog.immediate_time_limit",
                "即办件承诺时限应为0或1个工作日",
            )
        )
    if c.effective_date and c.cancel_date and c.cancel_date <= c.effective_date:
        problems.append(("cancel_date", "catalog.dates", "计划取消日期须晚于计划生效日期"))
    return problems


def _fee_rules(c: ItemContent) -> list[Problem]:
    if c.charges_fee and not c.fees:
        return [("fees", "catalog.fees_missing", "收费事项须至少列出一个收费项目")]
    if not c.charges_fee and c.fees:
        return [("fees", "catalog.fees_unexpected", "不收费事项不应列出收费项目")]
    return []


def _online_rules(c: ItemContent) -> list[Problem]:
    problems = []
    depth = c.online_depth
    limit = codes.ONLINE_DEPTH_MAX_VISITS.get(depth)
    if limit is not None and c.site_visits > limit:
        problems.append(
            (
                "site_visits",
                "catalog.site_visits",
                f"网上办理深度{depth}级要求到现场次数不超过{limit}次，实际为{c.site_visits}次",
            )
        )
    if c.site_visits > 0 and not c.site_visit_reason:
        problems.append(
            ("site_visit_reason", "catalog.site_visit_reason", "需到现场办理的须说明原因")
        )
    if codes.OnlineStep.SUBMISSION in c.online_steps and not c.online_url:
        problems.append(("online_url", "catalog.online_url", "支持网上收件的事项须填写网办地址"))
    return problems


def _classification_rules(c: ItemContent) -> list[Problem]:
    problems = []
    if c.person_themes and codes.ServiceTarget.NATURAL_PERSON not in c.targets:
        problems.append(
            ("person_themes", "catalog.theme_target", "服务对象不含自然人时不应填写自然人主题")
        )
    if c.legal_themes and not set(c.targets) - {codes.ServiceTarget.NATURAL_PERSON.value}:
        problems.append(
            ("legal_themes", "catalog.theme_target", "服务对象不含法人或组织时不应填写法人主题")
        )
    if codes.item_type_group(c.item_type) != codes.ITEM_TYPE_GROUP_SERVICE and not c.legal_bases:
        problems.append(("legal_bases", "catalog.legal_basis", "行政权力事项须填写设定依据"))
    if c.basic_code and is_platform_basic_code(c.basic_code):
        expected = codes.basic_code_prefix(c.item_type)
        if expected and not c.basic_code.startswith(expected):
            problems.append(
                (
                    "basic_code",
                    "catalog.basic_code_prefix",
                    f"基本编码前缀应为{expected}（与事项类型一致）",
                )
            )
    return problems


TRUST_LEVELS = ("L2", "L3", "L4", "L5")


class _CrossRuleErrors(ValueError):
    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        super().__init__("; ".join(message for _f, _c, message in problems))
        self.problems = problems


def is_platform_basic_code(code: str) -> bool:
    """Whether ``code`` has the platform's basic-code layout: 2 letters + 5 + 3 digits."""
    return len(code) == 10 and code[:2].isalpha() and code[:2].isupper() and code[2:].isdigit()


def validate_content(data: Any) -> ItemContent:
    """Validate a mapping as item content; raises one ValidationError listing every problem."""
    try:
        return ItemContent.model_validate(data)
    except _CrossRuleErrors as exc:
        errors = [{"field": f, "code": c, "message": m} for f, c, m in exc.problems]
    except PydanticValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False):
            cross = error.get("ctx", {}).get("error")
            if isinstance(cross, _CrossRuleErrors):
                errors += [{"field": f, "code": c, "message": m} for f, c, m in cross.problems]
                continue
            errors.append(
                {
                    "field": ".".join(str(part) for part in error["loc"]),
                    "code": _error_code(error["type"]),
                    "message": _error_message(error),
                }
            )
    raise ValidationError(
        "catalog.content_invalid",
        f"事项内容有{len(errors)}处错误："
        + "；".join(f"{e['field']}：{e['message']}" for e in errors[:5]),
        f"The item content has {len(errors)} error(s).",
        details={"errors": errors},
    )


_PYDANTIC_MESSAGES = {
    "missing": "必填",
    "string_too_short": "不能为空",
    "string_too_long": "过长（最多{max_length}个字符）",
    "extra_forbidden": "不是事项要素，无法识别",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "greater_than_equal": "不能小于{ge}",
    "less_than_equal": "不能大于{le}",
    "bool_parsing": "应为“是”或“否”",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "decimal_parsing": "应为金额数字",
    "decimal_max_places": "金额最多两位小数",
    "decimal_max_digits": "金额位数过多",
    "list_type": "应为列表",
    "model_type": "格式不正确",
    "string_type": "应为文本",
}


def _error_code(kind: str) -> str:
    return kind if kind.startswith(("catalog.", "uscc.")) else f"catalog.{kind}"


def _error_message(error: Any) -> str:
    kind = error["type"]
    template = _PYDANTIC_MESSAGES.get(kind)
    if template is None:
        return str(error["msg"]).removeprefix("Value error, ")
    try:
        return template.format(**error.get("ctx", {}))
    except (KeyError, IndexError):
        return template


def content_hash(content: ItemContent) -> str:
    """SM3 of the canonical JSON of ``content`` (equal content ⇔ equal hash)."""
    import json

    from zwfw.core.crypto import sm3_hex

    data = content.model_dump(mode="json")
    return sm3_hex(
        json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    )
