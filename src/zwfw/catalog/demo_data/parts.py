"""Building blocks of the demo catalogue: item specs, laws, materials, variants, life events.

An :class:`Spec` describes one basic item (基本目录事项) and how the demo departments implement
it; :mod:`zwfw.catalog.demo` expands every spec into complete ``ItemContent`` documents (one per
implementing department, sub-item and handling variant) and publishes them. Specs name only
what is particular to the item; everything a guide needs besides (process steps by item type,
place, hours, phones, remedies, generic FAQ) is filled in by the loader from the department.

Article numbers are given only where the provision is well known; otherwise the law is named
with the article left empty (a real catalogue officer would look it up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Data = dict[str, Any]

CITY = "city"
DISTRICT = "district"
BOTH = "both"


@dataclass(frozen=True)
class Sub:
    """A sub-item (子项): its own basic code ``main`` + ``number``; fields override the parent's."""

    number: int
    name: str
    fields: Data = field(default_factory=dict)


@dataclass(frozen=True)
class Variant:
    """A handling variant (业务办理项) of an item: same basic code, own implementation code."""

    name: str
    fields: Data = field(default_factory=dict)


@dataclass(frozen=True)
class Spec:
    """One basic item of the demo catalogue and its implementations."""

    key: str
    item_type: str
    main: int
    name: str
    dept: str
    at: str
    targets: str
    conditions: str
    materials: tuple[Data, ...]
    bases: tuple[Data, ...] = ()
    legal: tuple[int, str] | int | None = None
    promised: tuple[int, str] | int | None = None
    legal_note: str = ""
    promised_note: str = ""
    depth: str = ""
    visit_reason: str = ""
    case_type: str = ""
    review_type: str = ""
    result: tuple[str, str] = ("3", "")
    person_themes: str = ""
    legal_themes: str = ""
    events: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    fees: tuple[Data, ...] = ()
    faqs: tuple[tuple[str, str], ...] = ()
    steps: tuple[tuple[str, str, str], ...] = ()
    special: str = ""
    unit: str = ""
    place: str = ""
    joint: tuple[str, ...] = ()
    tongban: str = ""
    power_content: str = ""
    extra: Data = field(default_factory=dict)
    district: Data = field(default_factory=dict)
    subs: tuple[Sub, ...] = ()
    variants: tuple[Variant, ...] = ()


# --- legal bases ---------------------------------------------------------------------------


def law(name: str, article: str = "", text: str = "") -> Data:
    """One 设定依据 entry."""
    return {"law_name": name, "article": article, "text": text}


LICENSING_LAW_EXTENSION = law(
    "中华人民共和国行政许可法",
    "第五十条",
    "被许可人需要延续依法取得的行政许可的有效期的，应当在该行政许可有效期届满三十日前"
    "向作出行政许可决定的行政机关提出申请。",
)
LICENSING_LAW_CANCELLATION = law(
    "中华人民共和国行政许可法",
    "第七十条",
    "有下列情形之一的，行政机关应当依法办理有关行政许可的注销手续。",
)
PENALTY_LAW_DEADLINE = law(
    "中华人民共和国行政处罚法",
    "第六十条",
    "行政机关应当自行政处罚案件立案之日起九十日内作出行政处罚决定。"
    "法律、法规、规章另有规定的，从其规定。",
)
COMPULSION_LAW_PERIOD = law(
    "中华人民共和国行政强制法",
    "第二十五条",
    "查封、扣押的期限不得超过三十日；情况复杂的，经行政机关负责人批准，可以延长，"
    "但是延长期限不得超过三十日。法律、行政法规另有规定的除外。",
)


# --- materials -----------------------------------------------------------------------------


def material(
    name: str,
    *,
    kinds: str = "1",
    forms: str = "1,2",
    source: str = "1",
    issuer: str = "",
    copies: int | None = None,
    spec: str = "A4",
    required: bool = True,
    note: str = "",
    licence: str = "",
    instructions: str = "",
    standard: str = "",
    exemption: str = "",
    basis: str = "",
) -> Data:
    """One 申请材料; ``kinds`` 1 原件 2 复印件 3 电子件, ``forms`` 1 纸质 2 电子, ``source``
    1 申请人自备 2 政府部门核发 9 其他 (codes joined by commas)."""
    paper = "1" in forms.split(",")
    return {
        "name": name,
        "kinds": kinds.split(","),
        "forms": forms.split(","),
        "source": source,
        "issuer": issuer,
        "paper_copies": (1 if paper else 0) if copies is None else copies,
        "paper_spec": spec if paper else "",
        "required": required,
        "required_note": note,
        "licence_type": licence,
        "instructions": instructions,
        "acceptance_standard": standard,
        "exemption": exemption,
        "basis": basis,
    }


_FROM_LIBRARY = "已在电子证照库中的，网上办理时由系统自动调取，无需上传；窗口办理时出示原件"


def id_card(holder: str = "申请人", *, required: bool = True, note: str = "") -> Data:
    """居民身份证 of ``holder`` — substitutable by the licence library."""
    return material(
        f"{holder}居民身份证",
        kinds="1,3",
        source="2",
        issuer="公安机关",
        copies=1,
        licence="居民身份证",
        required=required,
        note=note,
        instructions="窗口办理时出示原件，复印件正反面印在同一页",
        standard="在有效期内，信息清晰完整",
        exemption=_FROM_LIBRARY,
    )


def household_book(holder: str = "申请人", *, required: bool = True, note: str = "") -> Data:
    """居民户口簿 — substitutable by the licence library."""
    return material(
        f"{holder}居民户口簿",
        kinds="1,3",
        source="2",
        issuer="公安机关",
        copies=1,
        licence="居民户口簿",
        required=required,
        note=note,
        instructions="提供户主页和本人页",
        standard="户口簿信息与户籍系统一致",
        exemption=_FROM_LIBRARY,
    )


def business_licence() -> Data:
    """营业执照 — always taken from the licence library."""
    return material(
        "营业执照",
        kinds="3",
        forms="2",
        source="2",
        issuer="市场监督管理部门",
        licence="营业执照",
        standard="在有效期内，经营范围与申请事项相符",
        exemption="通过电子证照库或国家企业信用信息公示系统核验，无需提交",
    )


def form(name: str, *, copies: int = 1, note: str = "") -> Data:
    """An application form the applicant fills in and signs (stamps)."""
    return material(
        name,
        kinds="1,3",
        copies=copies,
        instructions=note or "如实填写，申请人签字；单位申请的加盖公章。网上办理时在线填写",
        standard="填写完整、内容真实，签字（盖章）齐全",
    )


def paper(
    name: str, *, kinds: str = "2,3", required: bool = True, note: str = "", **kwargs: Any
) -> Data:
    """A document the applicant provides (a copy on paper, or a scan online)."""
    return material(name, kinds=kinds, required=required, note=note, **kwargs)


def upload(name: str, *, required: bool = True, note: str = "", **kwargs: Any) -> Data:
    """A document the applicant uploads (electronic only)."""
    return material(name, kinds="3", forms="2", required=required, note=note, **kwargs)


def mandate() -> Data:
    """授权委托书 for an agent (needed only when someone else applies)."""
    return material(
        "授权委托书及受托人居民身份证",
        kinds="1,3",
        required=False,
        note="委托他人代为办理的提供",
        instructions="写明委托事项和权限，委托人签字（单位加盖公章）",
    )


def legal_rep_id() -> Data:
    return id_card("法定代表人（负责人）")


def original_licence(name: str) -> Data:
    """The licence being changed, renewed or cancelled (taken from the library when present)."""
    return material(
        f"{name}正、副本",
        kinds="1,3",
        source="2",
        issuer="原发证机关",
        copies=1,
        licence=name,
        exemption="已发放电子证照的无需提交",
    )


# --- handling variants of a licence --------------------------------------------------------

_VARIANT_KINDS = ("变更", "延续", "注销", "补证")


def lifecycle(licence: str, *kinds: str, promised: int = 5) -> tuple[Variant, ...]:
    """The usual 业务办理项 of a licence besides the first application: 变更, 延续, 注销, 补证.

    ``promised`` is the promised limit for a change or renewal (working days).
    """
    chosen = kinds or _VARIANT_KINDS
    variants = []
    for kind in chosen:
        if kind == "变更":
            fields: Data = {
                "conditions": f"已取得{licence}，许可事项或登记事项发生变化的，"
                "应当在变化后十个工作日内申请变更。",
                "materials": (
                    form(f"{licence}变更申请书"),
                    original_licence(licence),
                    paper("与变更事项有关的证明材料"),
                    mandate(),
                ),
                "promised": promised,
                "result": ("1", licence),
            }
        elif kind == "延续":
            fields = {
                "conditions": f"{licence}有效期届满需要继续从事许可活动的，"
                "应当在有效期届满三十日前提出延续申请。",
                "materials": (
                    form(f"{licence}延续申请书"),
                    original_licence(licence),
                    paper("许可条件未发生变化的书面承诺或已变化情况的说明"),
                    mandate(),
                ),
                "extra_bases": (LICENSING_LAW_EXTENSION,),
                "promised": promised,
                "result": ("1", licence),
            }
        elif kind == "注销":
            fields = {
                "conditions": f"终止许可活动、许可有效期届满未延续或依法被撤销、吊销的，"
                f"办理{licence}注销。",
                "materials": (
                    form(f"{licence}注销申请书"),
                    original_licence(licence),
                    mandate(),
                ),
                "extra_bases": (LICENSING_LAW_CANCELLATION,),
                "case_type": "1",
                "promised": 1,
                "depth": "IV",
                "result": ("2", f"准予注销{licence}通知书"),
                "events": ("closure",),
            }
        elif kind == "补证":
            fields = {
                "conditions": f"{licence}遗失或损毁的，可以申请补发。",
                "materials": (
                    form(f"{licence}补发申请书"),
                    paper("遗失情况的书面说明（损毁的交回原证件）"),
                    mandate(),
                ),
                "case_type": "2",
                "promised": min(3, promised),
                "result": ("1", licence),
            }
        else:
            raise ValueError(kind)
        variants.append(Variant(kind, fields))
    return tuple(variants)


# --- life events ---------------------------------------------------------------------------

#: (code, name, audience) — seeded as ``LifeEvent`` rows and referenced by items.
LIFE_EVENTS: tuple[tuple[str, str, str], ...] = (
    ("birth", "出生", "person"),
    ("schooling", "上学", "person"),
    ("employment", "就业", "person"),
    ("marriage", "结婚", "person"),
    ("childbirth", "生育", "person"),
    ("home_purchase", "购房", "person"),
    ("relocation", "迁居落户", "person"),
    ("driving", "驾车出行", "person"),
    ("travel_abroad", "出境旅行", "person"),
    ("medical", "看病就医", "person"),
    ("hardship", "困难救助", "person"),
    ("military", "退役安置", "person"),
    ("retirement", "退休", "person"),
    ("elderly", "养老", "person"),
    ("death", "身后事", "person"),
    ("start_business", "开办企业", "company"),
    ("change", "企业变更", "company"),
    ("operating", "经营许可", "company"),
    ("investment", "投资建设", "company"),
    ("hiring", "招用员工", "company"),
    ("closure", "企业注销", "company"),
)
