"""The indicator tree: five first-level indicators of online service capability (SPEC §8), each
with second-level indicators computed from the platform's own data.

Every second-level indicator is a ratio ``numerator / denominator`` (the counts are returned with
the value, so an assessor can recompute it) turned into a score of 0–100:

* ``rate`` — score = 100 × value (value in 0…1).
* ``per_mille_inverse`` — a count per 1,000 cases where fewer is better: score =
  100 × max(0, 1 − value / ceiling), ``ceiling`` from ``ZWFW_INDICATORS_WARNING_CEILING``.

The exact formulas (which rows count) are in ``docs/indicators.md``; the default weights are *our
choice* (decision 0021) and node administrators change them through ``PUT
/api/v1/indicators/weights``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Second:
    code: str
    name: str
    weight: Decimal
    formula: str  # the Chinese formula shown in the export and on the page
    kind: str = "rate"  # rate | per_mille_inverse
    source: str = "catalog"  # catalog | cases | ratings | supervision


@dataclass(frozen=True)
class First:
    code: str
    name: str
    weight: Decimal
    children: tuple[Second, ...]


D = Decimal

INDICATORS: tuple[First, ...] = (
    First(
        "service_modes",
        "服务方式完备度",
        D(15),
        (
            Second(
                "online_application_rate",
                "网上申请覆盖率",
                D(30),
                "办理形式含网上办理（电脑端或移动端）的已发布事项数 ÷ 已发布事项数",
            ),
            Second(
                "mobile_rate",
                "移动端可办率",
                D(20),
                "办理形式含移动端的已发布事项数 ÷ 已发布事项数",
            ),
            Second(
                "appointment_rate",
                "预约办理支持率",
                D(15),
                "支持预约办理的已发布事项数 ÷ 已发布事项数",
            ),
            Second(
                "delivery_rate",
                "物流快递支持率",
                D(15),
                "支持物流快递的已发布事项数 ÷ 已发布事项数",
            ),
            Second(
                "online_payment_rate",
                "网上支付支持率",
                D(20),
                "收费且支持网上支付的已发布事项数 ÷ 收费的已发布事项数",
            ),
        ),
    ),
    First(
        "item_coverage",
        "服务事项覆盖度",
        D(20),
        (
            Second(
                "depth_iii_rate",
                "网上可办率",
                D(35),
                "网上办理深度为Ⅲ级或Ⅳ级的已发布事项数 ÷ 已发布事项数",
            ),
            Second(
                "depth_iv_rate",
                "全程网办率",
                D(25),
                "网上办理深度为Ⅳ级的已发布事项数 ÷ 已发布事项数",
            ),
            Second(
                "max_one_visit_rate",
                "最多跑一次率",
                D(25),
                "到办事现场次数不超过1次的已发布事项数 ÷ 已发布事项数",
            ),
            Second(
                "zero_visit_item_rate",
                "零跑动事项率",
                D(15),
                "到办事现场次数为0的已发布事项数 ÷ 已发布事项数",
            ),
        ),
    ),
    First(
        "guide_accuracy",
        "办事指南准确度",
        D(20),
        (
            Second(
                "guide_complete_rate",
                "指南要素完整率",
                D(50),
                "现行版本的办事指南必备要素（受理条件、办理流程、申请材料、办理地点、办理时间、"
                "咨询电话、监督投诉电话）齐全的已发布事项数 ÷ 已发布事项数",
            ),
            Second(
                "contact_complete_rate",
                "咨询投诉渠道完整率",
                D(25),
                "咨询电话和监督投诉电话均已填写的已发布事项数 ÷ 已发布事项数",
            ),
            Second(
                "faq_rate",
                "常见问题覆盖率",
                D(25),
                "办事指南列有常见问题的已发布事项数 ÷ 已发布事项数",
            ),
        ),
    ),
    First(
        "online_maturity",
        "在线办理成熟度",
        D(20),
        (
            Second(
                "online_submission_rate",
                "网上申报率",
                D(40),
                "统计期内网上申报（申报来源2）的办件数 ÷ 统计期内提交的办件数",
                source="cases",
            ),
            Second(
                "zero_visit_completion_rate",
                "不见面办结率",
                D(40),
                "统计期内办结、网上申报且事项到现场次数为0的办件数 ÷ 统计期内办结的办件数",
                source="cases",
            ),
            Second(
                "electronic_delivery_rate",
                "电子送达率",
                D(20),
                "统计期内办结且电子送达的办件数 ÷ 统计期内办结的办件数",
                source="cases",
            ),
        ),
    ),
    First(
        "effectiveness",
        "在线服务成效度",
        D(25),
        (
            Second(
                "on_time_rate",
                "按时办结率",
                D(30),
                "统计期内办结且办结日（北京时间）不晚于办结期限的办件数 ÷ "
                "统计期内办结且有办结期限的办件数",
                source="cases",
            ),
            Second(
                "satisfaction_rate",
                "满意率",
                D(30),
                "统计期内“非常满意”“满意”的评价数 ÷ 统计期内的评价数（申诉成立的差评不计）",
                source="ratings",
            ),
            Second(
                "rectification_rate",
                "差评整改率",
                D(20),
                "统计期内差评中已立行立改、已解释说明或已办结整改的数量 ÷ 统计期内的差评数"
                "（申诉成立的不计）",
                source="ratings",
            ),
            Second(
                "warning_rate",
                "每千件预警数",
                D(20),
                "统计期内发出的电子监察预警数 ÷ 统计期内提交的办件数 × 1000；"
                "得分 = 100 × max(0, 1 − 每千件预警数 ÷ 上限)",
                kind="per_mille_inverse",
                source="supervision",
            ),
        ),
    ),
)

FIRST_BY_CODE: dict[str, First] = {first.code: first for first in INDICATORS}
SECOND_BY_CODE: dict[str, Second] = {
    second.code: second for first in INDICATORS for second in first.children
}
ALL_CODES: tuple[str, ...] = (*FIRST_BY_CODE, *SECOND_BY_CODE)


def default_weights() -> dict[str, Decimal]:
    return {
        **{first.code: first.weight for first in INDICATORS},
        **{second.code: second.weight for second in SECOND_BY_CODE.values()},
    }


def name_of(code: str) -> str:
    if code in FIRST_BY_CODE:
        return FIRST_BY_CODE[code].name
    return SECOND_BY_CODE[code].name
