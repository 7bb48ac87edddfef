"""Code tables of the platform (SPEC §3.1, §3.3, §6, §11.4) as Django ``TextChoices``.

Codes are stored as strings exactly as the standards and the SPEC write them (``"01"``,
``"005"``, ``"1"``); labels are the Chinese names. Where the SPEC gives a table it is the
contract; GB/T 39046-2020 appendix A gives the same codes (its labels differ slightly in a few
places, noted below). Tables and codes marked *our choice* were not fixed by a public source.

Generic helpers: :func:`label` (code → label), :func:`validate_code` (raises
:class:`~zwfw.core.errors.ValidationError` ``code.unknown`` naming the table and the value) and
:func:`table_name`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from django.db import models

from zwfw.core.errors import ValidationError

C = TypeVar("C", bound=type[models.Choices])

_TABLE_NAMES: dict[type[models.Choices], tuple[str, str]] = {}


def _table(name_zh: str, name_en: str) -> Callable[[C], C]:
    """Register the human name of a code table (used in error messages)."""

    def register(cls: C) -> C:
        _TABLE_NAMES[cls] = (name_zh, name_en)
        return cls

    return register


def tables() -> dict[str, type[models.Choices]]:
    """Every registered code table by its API name (snake case of the class name)."""
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower(): cls for cls in _TABLE_NAMES}


def table_name(choices_cls: type[models.Choices]) -> tuple[str, str]:
    """The (Chinese, English) name of a code table; the class name when none is registered."""
    return _TABLE_NAMES.get(choices_cls, (choices_cls.__name__, choices_cls.__name__))


# --- §3.1 事项类型 ---------------------------------------------------------------------------


@_table("事项类型", "item type")
class ItemType(models.TextChoices):
    """事项类型 (SPEC §3.1; GB/T 39046 A.1), two digits.

    ``00`` is not an item type but the group label 行政权力 (see :data:`ITEM_TYPE_GROUPS` and
    :func:`item_type_group`). 11–19 (under 行政权力, e.g. 内部审批) and 21–29 (under 公共服务)
    are local extensions: they are not members of this table; accept them with
    :func:`validate_item_type` (``allow_local=True``) and label them with
    :func:`item_type_label`. GB/T 39046 calls 10 其他类别事项; the SPEC's 其他行政权力 is used.
    """

    LICENSING = "01", "行政许可"
    PENALTY = "02", "行政处罚"
    COMPULSION = "03", "行政强制"
    LEVY = "04", "行政征收"
    PAYMENT = "05", "行政给付"
    INSPECTION = "06", "行政检查"
    CONFIRMATION = "07", "行政确认"
    REWARD = "08", "行政奖励"
    ADJUDICATION = "09", "行政裁决"
    OTHER_POWER = "10", "其他行政权力"
    PUBLIC_SERVICE = "20", "公共服务"


ITEM_TYPE_GROUP_POWER = "00"
ITEM_TYPE_GROUP_SERVICE = "20"
#: The two groups of item types: 00 行政权力 (01–19) and 20 公共服务 (20–29).
ITEM_TYPE_GROUPS: Mapping[str, str] = {
    ITEM_TYPE_GROUP_POWER: "行政权力",
    ITEM_TYPE_GROUP_SERVICE: "公共服务",
}
#: Local extension ranges (GB/T 39046 A.1 "可根据情况进行扩展").
LOCAL_ITEM_TYPE_RANGES = (range(11, 20), range(21, 30))


def is_local_item_type(code: str) -> bool:
    """True for the local extension codes 11–19 and 21–29."""
    return (
        len(code) == 2
        and code.isascii()
        and code.isdigit()
        and any(int(code) in r for r in LOCAL_ITEM_TYPE_RANGES)
    )


def item_type_group(code: str) -> str:
    """The group of an item type: ``"00"`` 行政权力 for 01–19, ``"20"`` 公共服务 for 20–29.

    Raises ``ValidationError("code.unknown")`` for anything else.
    """
    code = validate_item_type(code)
    return ITEM_TYPE_GROUP_POWER if int(code) < 20 else ITEM_TYPE_GROUP_SERVICE


def validate_item_type(code: str, field: str = "item_type", *, allow_local: bool = True) -> str:
    """Check an item type code; local extensions 11–19/21–29 pass when ``allow_local``.

    Raises ``ValidationError("code.unknown")``.
    """
    if allow_local and isinstance(code, str) and is_local_item_type(code.strip()):
        return code.strip()
    return validate_code(ItemType, code, field)


def item_type_label(code: str, local_labels: Mapping[str, str] | None = None) -> str:
    """Label of an item type, local extensions included (``local_labels`` names them).

    An unnamed local code reads ``地方扩展事项类型（13）``. Raises ``code.unknown``.
    """
    code = validate_item_type(code)
    if is_local_item_type(code):
        return (local_labels or {}).get(code, f"地方扩展事项类型（{code}）")
    return ItemType(code).label


# --- §3.3 basic-code type prefixes ---------------------------------------------------------


@_table("基本编码类型前缀", "basic-code type prefix")
class BasicCodePrefix(models.TextChoices):
    """2-letter type prefix of a 基本编码 (SPEC §3.3, our layout after a provincial standard)."""

    XK = "XK", "许可"
    CF = "CF", "处罚"
    QZ = "QZ", "强制"
    ZS = "ZS", "征收"
    JF = "JF", "给付"
    JC = "JC", "检查"
    QR = "QR", "确认"
    JL = "JL", "奖励"
    CJ = "CJ", "裁决"
    QT = "QT", "其他"
    GG = "GG", "公共服务"


ITEM_TYPE_PREFIXES: Mapping[str, str] = {
    ItemType.LICENSING: BasicCodePrefix.XK,
    ItemType.PENALTY: BasicCodePrefix.CF,
    ItemType.COMPULSION: BasicCodePrefix.QZ,
    ItemType.LEVY: BasicCodePrefix.ZS,
    ItemType.PAYMENT: BasicCodePrefix.JF,
    ItemType.INSPECTION: BasicCodePrefix.JC,
    ItemType.CONFIRMATION: BasicCodePrefix.QR,
    ItemType.REWARD: BasicCodePrefix.JL,
    ItemType.ADJUDICATION: BasicCodePrefix.CJ,
    ItemType.OTHER_POWER: BasicCodePrefix.QT,
    ItemType.PUBLIC_SERVICE: BasicCodePrefix.GG,
}
PREFIX_ITEM_TYPES: Mapping[str, str] = {v: k for k, v in ITEM_TYPE_PREFIXES.items()}


def basic_code_prefix(item_type: str) -> str:
    """The basic-code prefix of an item type (``"01"`` → ``"XK"``).

    Local extensions take the prefix of their group (*our choice*): 11–19 → ``QT``,
    21–29 → ``GG``. Raises ``code.unknown``.
    """
    code = validate_item_type(item_type)
    if is_local_item_type(code):
        return BasicCodePrefix.QT if int(code) < 20 else BasicCodePrefix.GG
    return str(ITEM_TYPE_PREFIXES[code])


def item_type_for_prefix(prefix: str) -> str:
    """The item type of a basic-code prefix (``"XK"`` → ``"01"``). Raises ``code.unknown``."""
    return str(PREFIX_ITEM_TYPES[validate_code(BasicCodePrefix, prefix, "basic_code_prefix")])


# --- §3.1 other classifications ------------------------------------------------------------


@_table("服务对象", "service target")
class ServiceTarget(models.TextChoices):
    """服务对象 (SPEC §3.1; GB/T 39046 A.4); multi-valued on an item."""

    NATURAL_PERSON = "1", "自然人"
    ENTERPRISE = "2", "企业法人"
    INSTITUTION = "3", "事业法人"
    SOCIAL_ORGANISATION = "4", "社会组织法人"
    GOVERNMENT_BODY = "5", "行政机关"
    OTHER_ORGANISATION = "6", "其他组织"


@_table("实施主体性质", "implementing-body nature")
class ImplementingBodyNature(models.TextChoices):
    """实施主体性质 (SPEC §3.1; GB/T 39046 A.3)."""

    STATUTORY_BODY = "1", "法定机关"
    AUTHORISED_ORGANISATION = "2", "授权组织"
    ENTRUSTED_ORGANISATION = "3", "受委托组织"
    OTHER = "9", "其他"


@_table("自然人服务主题", "theme for natural persons")
class NaturalPersonTheme(models.TextChoices):
    """服务主题 for natural persons (SPEC §3.1), 3 digits."""

    BIRTH_ADOPTION = "005", "生育收养"
    HOUSEHOLD_REGISTRATION = "010", "户籍办理"
    ETHNICITY_RELIGION = "015", "民族宗教"
    EDUCATION_RESEARCH = "020", "教育科研"
    MILITARY_SERVICE = "025", "入伍服役"
    EMPLOYMENT_ENTREPRENEURSHIP = "030", "就业创业"
    ESTABLISHMENT_CHANGE = "035", "设立变更"
    BUSINESS_PERMITS = "040", "准营准办"
    MORTGAGE_PLEDGE = "045", "抵押质押"
    PROFESSIONAL_QUALIFICATION = "050", "职业资格"
    ADMINISTRATIVE_FEES = "055", "行政缴费"
    MARRIAGE_REGISTRATION = "060", "婚姻登记"
    VETERAN_BENEFITS = "065", "优待抚恤"
    PLANNING_CONSTRUCTION = "070", "规划建设"
    HOUSING_SECURITY = "075", "住房保障"
    SOCIAL_SECURITY = "085", "社会保障"
    DOCUMENTS = "090", "证件办理"
    TRANSPORT = "095", "交通出行"
    TOURISM = "100", "旅游观光"
    EXIT_ENTRY = "105", "出境入境"
    CONSUMER_RIGHTS = "110", "消费维权"
    PUBLIC_SAFETY = "115", "公共安全"
    JUSTICE_NOTARISATION = "120", "司法公证"
    INTELLECTUAL_PROPERTY = "125", "知识产权"
    ENVIRONMENT = "130", "环保绿化"
    CULTURE_SPORTS = "135", "文化体育"
    PUBLIC_UTILITIES = "140", "公用事业"
    HEALTH = "145", "医疗卫生"
    RESIGNATION_RETIREMENT = "150", "离职退休"
    DEATH_FUNERAL = "155", "死亡殡葬"
    LOCAL = "998", "地方特色"
    OTHER = "999", "其他"


@_table("法人服务主题", "theme for legal persons")
class LegalPersonTheme(models.TextChoices):
    """服务主题 for legal persons (SPEC §3.1), 3 digits."""

    ESTABLISHMENT_CHANGE = "005", "设立变更"
    BUSINESS_PERMITS = "010", "准营准办"
    QUALIFICATION_CERTIFICATION = "015", "资质认证"
    ANNUAL_INSPECTION = "020", "年检年审"
    TAX_FINANCE = "025", "税收财务"
    HUMAN_RESOURCES = "030", "人力资源"
    SOCIAL_SECURITY = "035", "社会保障"
    INVESTMENT_APPROVAL = "040", "投资审批"
    FINANCING_CREDIT = "045", "融资信贷"
    MORTGAGE_PLEDGE = "050", "抵押质押"
    COMMERCE_TRADE = "055", "商务贸易"
    TENDERING_AUCTION = "060", "招标拍卖"
    CUSTOMS_PORTS = "065", "海关口岸"
    FOREIGN_AFFAIRS = "070", "涉外服务"
    AGRICULTURE = "075", "农林牧渔"
    LAND_PLANNING_CONSTRUCTION = "085", "国土和规划建设"
    TRANSPORT = "090", "交通运输"
    ENVIRONMENT = "095", "环保绿化"
    CLIMATE_CHANGE = "100", "应对气候变化"
    WATER_METEOROLOGY = "105", "水务气象"
    HEALTH = "110", "医疗卫生"
    SCIENCE_INNOVATION = "115", "科技创新"
    CULTURE_SPORTS_EDUCATION = "120", "文体教育"
    INTELLECTUAL_PROPERTY = "125", "知识产权"
    ETHNICITY_RELIGION = "130", "民族宗教"
    QUALITY_TECHNOLOGY = "135", "质量技术"
    INSPECTION_QUARANTINE = "140", "检验检疫"
    WORK_SAFETY = "145", "安全生产"
    POLICE_FIRE = "150", "公安消防"
    JUSTICE_NOTARISATION = "155", "司法公证"
    PUBLIC_UTILITIES = "160", "公用事业"
    DEREGISTRATION = "165", "法人注销"
    ARCHIVES_RELICS = "170", "档案文物"
    LOCAL = "998", "地方特色"
    OTHER = "999", "其他"


@_table("行使层级", "exercise level")
class ExerciseLevel(models.TextChoices):
    """行使层级 (SPEC §3.1; GB/T 39046 A.2)."""

    NATIONAL = "1", "国家级"
    PROVINCIAL = "2", "省级"
    MUNICIPAL = "3", "市级"
    COUNTY = "4", "县级"
    TOWNSHIP = "5", "镇（乡、街道）级"
    VILLAGE = "6", "村（社区）级"
    TIERED = "7", "分级管理"


@_table("办理形式", "channel")
class Channel(models.TextChoices):
    """办理形式 (SPEC §3.1; GB/T 39046 A.5, also the 申报来源 of an application); multi-valued.

    GB/T 39046 words 2 and 3 as 电脑端网上办理 and 移动端网上申请.
    """

    COUNTER = "1", "窗口办理"
    ONLINE_PC = "2", "网上办理（电脑端）"
    MOBILE = "3", "移动端"
    POST = "4", "快递申请"
    OTHER = "9", "其他"


@_table("网上办理环节", "online step")
class OnlineStep(models.TextChoices):
    """The online steps an item supports; 网上办理深度 is stored as a set of these (SPEC §3.1)."""

    CONSULTATION = "1", "互联网咨询"
    SUBMISSION = "2", "互联网收件"
    PRE_CHECK = "3", "互联网预审"
    ACCEPTANCE = "4", "互联网受理"
    HANDLING = "5", "互联网办理"
    RESULT_FEEDBACK = "6", "互联网办理结果信息反馈"
    LICENCE_FEEDBACK = "7", "互联网电子证照反馈"


@_table("网上办理深度", "online depth")
class OnlineDepth(models.TextChoices):
    """网上办理深度 levels Ⅰ–Ⅳ as shown to people (SPEC §3.1); see :func:`online_depth_level`."""

    LEVEL_I = "I", "Ⅰ 信息公开"
    LEVEL_II = "II", "Ⅱ 在线预约或预审"
    LEVEL_III = "III", "Ⅲ 在线受理办理"
    LEVEL_IV = "IV", "Ⅳ 全程网办"


#: Most visits to the service site a level allows (None: no limit). Ⅳ ⇒ 0 is the SPEC's rule;
#: Ⅲ ⇒ at most 1 follows the SPEC's description of Ⅲ (到现场≤1次).
ONLINE_DEPTH_MAX_VISITS: Mapping[str, int | None] = {
    OnlineDepth.LEVEL_I: None,
    OnlineDepth.LEVEL_II: None,
    OnlineDepth.LEVEL_III: 1,
    OnlineDepth.LEVEL_IV: 0,
}

_LEVEL_IV_STEPS: frozenset[str] = frozenset(
    step.value
    for step in (
        OnlineStep.SUBMISSION,
        OnlineStep.ACCEPTANCE,
        OnlineStep.HANDLING,
        OnlineStep.RESULT_FEEDBACK,
    )
)
_LEVEL_III_STEPS: frozenset[str] = frozenset(
    {OnlineStep.SUBMISSION.value, OnlineStep.ACCEPTANCE.value}
)
_LEVEL_II_ANY: frozenset[str] = frozenset({OnlineStep.SUBMISSION.value, OnlineStep.PRE_CHECK.value})


def online_depth_level(steps: Iterable[str], *, issues_licence: bool = False) -> str:
    """The depth level (``"I"``…``"IV"``) of a set of online steps (*our choice* of mapping).

    * Ⅳ 全程网办: steps 2 收件, 4 受理, 5 办理 and 6 结果信息反馈 are all online; when the
      item's result is a licence (``issues_licence``), 7 电子证照反馈 is needed too — otherwise
      the applicant would still have to fetch the licence in person, which Ⅳ (0 visits)
      forbids.
    * Ⅲ 在线受理办理: 2 收件 and 4 受理 online (the rest may need one visit).
    * Ⅱ 在线预约或预审: 2 收件 or 3 预审 online.
    * Ⅰ 信息公开: anything less (the guide is always published; 1 咨询 alone stays Ⅰ).

    Raises ``ValidationError("code.unknown")`` for a step that is not an :class:`OnlineStep`.
    """
    given = {validate_code(OnlineStep, step, "online_steps") for step in steps}
    needed_for_iv = _LEVEL_IV_STEPS | (
        {OnlineStep.LICENCE_FEEDBACK.value} if issues_licence else set()
    )
    if given >= needed_for_iv:
        return OnlineDepth.LEVEL_IV.value
    if given >= _LEVEL_III_STEPS:
        return OnlineDepth.LEVEL_III.value
    if given & _LEVEL_II_ANY:
        return OnlineDepth.LEVEL_II.value
    return OnlineDepth.LEVEL_I.value


def validate_site_visits(depth: str, visits: int, field: str = "site_visits") -> int:
    """Check 到办事现场次数 against a depth level (Ⅳ ⇒ 0, Ⅲ ⇒ ≤ 1); returns ``visits``.

    Raises ``ValidationError("online_depth.site_visits")`` or ``code.unknown`` for the level.
    """
    depth = validate_code(OnlineDepth, depth, "online_depth")
    if visits < 0:
        raise ValidationError(
            "online_depth.site_visits",
            "到办事现场次数不能为负数。",
            "The number of site visits cannot be negative.",
            field=field,
            details={"visits": visits},
        )
    limit = ONLINE_DEPTH_MAX_VISITS[depth]
    if limit is not None and visits > limit:
        raise ValidationError(
            "online_depth.site_visits",
            f"网上办理深度为{OnlineDepth(depth).label}的事项，到办事现场次数最多{limit}次，"
            f"填写的是{visits}次。",
            f"An item at online depth {depth} allows at most {limit} site visit(s), not {visits}.",
            field=field,
            details={"depth": depth, "visits": visits, "max_visits": limit},
        )
    return visits


@_table("通办范围", "cross-region scope")
class TongbanScope(models.TextChoices):
    """通办范围 (SPEC §3.1). GB/T 39046 item 33 names the values but gives no codes: the codes
    are *our choice*. An item without a scope is handled 属地 (by its division) only."""

    NATIONWIDE = "1", "全国通办"
    CROSS_PROVINCE = "2", "跨省通办"
    CROSS_CITY = "3", "跨市通办"
    CROSS_COUNTY = "4", "跨县通办"


@_table("办件类型", "case type")
class CaseType(models.TextChoices):
    """办件类型 (SPEC §3.1; GB/T 39046 A.6: 1, 2, 9).

    上报件 and 联办件 are local extensions some provinces use; their codes 3 and 4 are *our
    choice* (free in the n1 code space). The GB/T 39046 datasets know only 1, 2, 9: use
    :func:`case_type_wire_code` when reporting.
    """

    IMMEDIATE = "1", "即办件"
    PROMISED = "2", "承诺件"
    ESCALATED = "3", "上报件"
    JOINT = "4", "联办件"
    OTHER = "9", "其他"


STANDARD_CASE_TYPES = frozenset({CaseType.IMMEDIATE, CaseType.PROMISED, CaseType.OTHER})


def case_type_wire_code(case_type: str) -> str:
    """The GB/T 39046 A.6 code of a case type: local extensions are reported as 9 其他."""
    code = validate_code(CaseType, case_type, "case_type")
    return code if code in STANDARD_CASE_TYPES else CaseType.OTHER.value


@_table("审批结果类型", "result type")
class ResultType(models.TextChoices):
    """审批结果类型 (SPEC §3.1); codes are *our choice* (no public code list found)."""

    LICENCE = "1", "出证办结"
    DOCUMENT = "2", "出文办结"
    DECISION = "3", "审批办结"


@_table("事项审查类型", "review type")
class ReviewType(models.TextChoices):
    """事项审查类型 (SPEC §3.2); codes are *our choice*."""

    IMMEDIATE = "1", "即审即办"
    REVIEW_THEN_APPROVE = "2", "前审后批"


@_table("特别程序种类", "special procedure kind")
class SpecialProcedureKind(models.TextChoices):
    """特别程序 kinds (SPEC §3.2).

    GB/T 39046 A.7 has only 1 延长审批 and 2 除延长审批之外的情况. The platform keeps the
    SPEC's finer kinds as codes 21–29 (*our choice*: "2" followed by a digit, so the first digit
    is the standard code); :func:`special_procedure_wire_code` gives the standard code.
    """

    EXTENSION = "1", "延长审批"
    OTHER_THAN_EXTENSION = "2", "除延长审批之外的情况"
    HEARING = "21", "听证"
    TESTING = "22", "检验检测"
    APPRAISAL = "23", "鉴定"
    ON_SITE_VERIFICATION = "24", "实地核查"
    EXPERT_REVIEW = "25", "专家评审"
    OTHER = "29", "其他"


def special_procedure_wire_code(kind: str) -> str:
    """The GB/T 39046 A.7 code (``"1"`` or ``"2"``) of a special-procedure kind."""
    return validate_code(SpecialProcedureKind, kind, "special_procedure")[0]


@_table("时限单位", "time-limit unit")
class TimeLimitUnit(models.TextChoices):
    """Unit of 法定/承诺办结时限 (SPEC §3.2); codes are *our choice*."""

    WORKING_DAY = "1", "工作日"
    NATURAL_DAY = "2", "自然日"


@_table("环节办理状态", "step status")
class StepStatus(models.TextChoices):
    """环节办理状态 of a handling step (GB/T 39046 table 7 item 10; SPEC §11.4)."""

    PENDING = "1", "待办"
    DONE = "2", "已办"


@_table("满意度", "satisfaction")
class Satisfaction(models.TextChoices):
    """满意度 of a service rating (GB/T 39046 A.8)."""

    VERY_SATISFIED = "1", "非常满意"
    SATISFIED = "2", "满意"
    FAIRLY_SATISFIED = "3", "基本满意"
    DISSATISFIED = "4", "不满意"
    VERY_DISSATISFIED = "5", "非常不满意"


# --- §6 user data ----------------------------------------------------------------------------


@_table("性别", "sex")
class Sex(models.TextChoices):
    """人的性别代码 (GB/T 2261.1-2003)."""

    UNKNOWN = "0", "未知的性别"
    MALE = "1", "男性"
    FEMALE = "2", "女性"
    UNSTATED = "9", "未说明的性别"


@_table("民族", "ethnicity")
class Ethnicity(models.TextChoices):
    """中国各民族名称的罗马字母拼写法和代码 (GB/T 3304-1991): 01–56, 97, 98.

    Member names are the standard's romanisations. 46 is 德昂族 (formerly 崩龙族), 36 毛南族.
    """

    HAN = "01", "汉族"
    MONGOL = "02", "蒙古族"
    HUI = "03", "回族"
    ZANG = "04", "藏族"
    UYGUR = "05", "维吾尔族"
    MIAO = "06", "苗族"
    YI = "07", "彝族"
    ZHUANG = "08", "壮族"
    BUYEI = "09", "布依族"
    CHOSEN = "10", "朝鲜族"
    MAN = "11", "满族"
    DONG = "12", "侗族"
    YAO = "13", "瑶族"
    BAI = "14", "白族"
    TUJIA = "15", "土家族"
    HANI = "16", "哈尼族"
    KAZAK = "17", "哈萨克族"
    DAI = "18", "傣族"
    LI = "19", "黎族"
    LISU = "20", "傈僳族"
    VA = "21", "佤族"
    SHE = "22", "畲族"
    GAOSHAN = "23", "高山族"
    LAHU = "24", "拉祜族"
    SUI = "25", "水族"
    DONGXIANG = "26", "东乡族"
    NAXI = "27", "纳西族"
    JINGPO = "28", "景颇族"
    KIRGIZ = "29", "柯尔克孜族"
    TU = "30", "土族"
    DAUR = "31", "达斡尔族"
    MULAO = "32", "仫佬族"
    QIANG = "33", "羌族"
    BLANG = "34", "布朗族"
    SALAR = "35", "撒拉族"
    MAONAN = "36", "毛南族"
    GELAO = "37", "仡佬族"
    XIBE = "38", "锡伯族"
    ACHANG = "39", "阿昌族"
    PUMI = "40", "普米族"
    TAJIK = "41", "塔吉克族"
    NU = "42", "怒族"
    UZBEK = "43", "乌孜别克族"
    RUSS = "44", "俄罗斯族"
    EWENKI = "45", "鄂温克族"
    DEANG = "46", "德昂族"
    BONAN = "47", "保安族"
    YUGUR = "48", "裕固族"
    GIN = "49", "京族"
    TATAR = "50", "塔塔尔族"
    DERUNG = "51", "独龙族"
    OROQEN = "52", "鄂伦春族"
    HEZHEN = "53", "赫哲族"
    MONBA = "54", "门巴族"
    LHOBA = "55", "珞巴族"
    JINO = "56", "基诺族"
    OTHER = "97", "其他"
    FOREIGN_ORIGIN = "98", "外国血统中国籍人士"


@_table("证件类型", "identity document type")
class IdentityDocumentType(models.TextChoices):
    """证件类型代码 used by the GB/T 39046 datasets (n3, from GA/T 2000.156-2016 常用证件代码).

    A subset of GA/T 2000.156: the documents people and organisations present to government
    services. Labels follow GA/T 2000.156 (111 is labelled 居民身份证 for clarity; 553 took its
    current name 外国人永久居留身份证 in 2017). GA/T 2000.156 has no code for an organisation's
    统一社会信用代码 and predates the 2018 港澳台居民居住证, so 901–903 are local extensions
    (*our choice*, in a range the standard leaves free below 990 其他).
    """

    RESIDENT_ID_CARD = "111", "居民身份证"
    TEMPORARY_RESIDENT_ID_CARD = "112", "临时居民身份证"
    HOUSEHOLD_REGISTER = "113", "户口簿"
    PLA_OFFICER_CARD = "114", "中国人民解放军军官证"
    PAP_OFFICER_CARD = "115", "中国人民武装警察部队警官证"
    BIRTH_CERTIFICATE = "117", "出生医学证明"
    POLICE_CARD = "123", "人民警察证"
    RESIDENCE_PERMIT = "154", "居住证"
    OFFICIAL_PASSPORT = "412", "公务护照"
    OFFICIAL_ORDINARY_PASSPORT = "413", "公务普通护照"
    ORDINARY_PASSPORT = "414", "普通护照"
    TRAVEL_DOCUMENT = "415", "旅行证"
    HONG_KONG_PASSPORT = "420", "香港特别行政区护照"
    MACAO_PASSPORT = "421", "澳门特别行政区护照"
    TAIWAN_MAINLAND_PERMIT = "511", "台湾居民来往大陆通行证"
    HK_MACAO_MAINLAND_PERMIT = "516", "港澳居民来往内地通行证"
    TAIWAN_SETTLEMENT_CERTIFICATE = "552", "台湾居民定居证"
    FOREIGNER_PERMANENT_RESIDENCE_CARD = "553", "外国人永久居留身份证"
    FOREIGNER_RESIDENCE_PERMIT = "554", "外国人居留证或居留许可"
    ORGANISATION_CODE_CERTIFICATE = "811", "组织机构代码证"
    BUSINESS_LICENCE = "821", "营业执照"
    USCC = "901", "统一社会信用代码"
    HK_MACAO_RESIDENCE_PERMIT = "902", "港澳居民居住证"
    TAIWAN_RESIDENCE_PERMIT = "903", "台湾居民居住证"
    OTHER = "990", "其他"


# --- GB 32100 registration authorities and categories --------------------------------------


@_table("登记管理部门", "USCC registration authority")
class UsccAuthority(models.TextChoices):
    """统一社会信用代码 position 1: 登记管理部门代码 (GB 32100-2015 and its amendment)."""

    ESTABLISHMENT = "1", "机构编制"
    FOREIGN_AFFAIRS = "2", "外交"
    JUSTICE = "3", "司法行政"
    CULTURE = "4", "文化"
    CIVIL_AFFAIRS = "5", "民政"
    TOURISM = "6", "旅游"
    RELIGION = "7", "宗教"
    TRADE_UNION = "8", "工会"
    INDUSTRY_COMMERCE = "9", "工商"
    MILITARY_ESTABLISHMENT = "A", "中央军委改革和编制办公室"
    AGRICULTURE = "N", "农业"
    OTHER = "Y", "其他"


#: 统一社会信用代码 position 2: 机构类别代码 per registration authority.
USCC_CATEGORIES: Mapping[str, Mapping[str, str]] = {
    "1": {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    "2": {"1": "外国常驻新闻机构", "9": "其他"},
    "3": {
        "1": "律师执业机构",
        "2": "公证处",
        "3": "基层法律服务所",
        "4": "司法鉴定机构",
        "5": "仲裁委员会",
        "9": "其他",
    },
    "4": {"1": "外国在华文化中心", "9": "其他"},
    "5": {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"},
    "6": {
        "1": "外国旅游部门常驻代表机构",
        "2": "港澳台地区旅游部门常驻内地（大陆）代表机构",
        "9": "其他",
    },
    "7": {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"},
    "8": {"1": "基层工会", "9": "其他"},
    "9": {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"},
    "A": {"1": "军队事业单位", "9": "其他"},
    "N": {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    "Y": {"1": "其他"},
}


# --- generic helpers -------------------------------------------------------------------------


def _unknown(choices_cls: type[models.Choices], code: object, field: str | None) -> ValidationError:
    name_zh, name_en = table_name(choices_cls)
    known = [str(value) for value in choices_cls.values]
    return ValidationError(
        "code.unknown",
        f"“{name_zh}”中没有代码“{code}”。可用代码：{'、'.join(known)}。",
        f"Code {code!r} is not in the {name_en} table (known: {', '.join(known)}).",
        field=field,
        details={"table": choices_cls.__name__, "value": str(code), "allowed": known},
    )


def validate_code(choices_cls: type[models.Choices], code: object, field: str | None = None) -> str:
    """Check that ``code`` is a code of the table; returns it (surrounding spaces trimmed).

    Only strings are codes: ``1`` (an int) is not ``"1"``, and ``"1"`` is not ``"01"``.
    Raises ``ValidationError("code.unknown")`` naming the table, the value and the allowed codes.
    """
    if isinstance(code, str):
        trimmed = code.strip()
        if trimmed in choices_cls._value2member_map_:
            return trimmed
    raise _unknown(choices_cls, code, field)


def label(choices_cls: type[models.Choices], code: object, default: str | None = None) -> str:
    """The label of a code; ``default`` for an unknown code when given.

    Raises ``ValidationError("code.unknown")`` for an unknown code when no default is given.
    """
    try:
        value = validate_code(choices_cls, code)
    except ValidationError:
        if default is not None:
            return default
        raise
    return str(choices_cls(value).label)
