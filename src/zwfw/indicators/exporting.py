"""Indicator results as an Excel workbook or a CSV file, for third-party assessors.

The workbook has three sheets: 指标 (every first- and second-level indicator with its formula,
numerator, denominator, value, weight and score), 月度趋势 (cases, on-time rate and
satisfaction per month) and 说明 (scope, period, data time, weights rule, the warning ceiling).
The CSV file holds the 指标 sheet only (UTF-8 with a byte-order mark, so Excel opens it).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

HEADER = (
    "层级",
    "指标代码",
    "指标名称",
    "上级指标",
    "权重",
    "计算方法",
    "分子",
    "分母",
    "指标值",
    "得分",
)
TREND_HEADER = (
    "月份",
    "提交办件数",
    "办结办件数",
    "有期限的办结数",
    "按时办结数",
    "按时办结率",
    "评价数",
    "满意评价数",
    "满意率",
)


FIRST_FORMULA = "二级指标得分按权重加权平均（分母为0的二级指标不计）"


def indicator_rows(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for first in result["indicators"]:
        rows.append(
            ("一级", first["code"], first["name"], "", first["weight"], FIRST_FORMULA,
             "", "", "", first["score"])
        )  # fmt: skip
        for second in first["children"]:
            rows.append(
                ("二级", second["code"], second["name"], first["name"], second["weight"],
                 second["formula"], second["numerator"], second["denominator"], second["value"],
                 second["score"])
            )  # fmt: skip
    rows.append(
        ("总分", "total", "在线服务能力总分", "", "", "一级指标得分按权重加权平均", "", "", "",
         result["total_score"])
    )  # fmt: skip
    return rows


def _scope_text(result: dict[str, Any]) -> str:
    scope = result["scope"]
    if scope["node"]:
        return "全平台"
    return "、".join(d["name"] for d in scope["departments"])


def write_xlsx(result: dict[str, Any], trend: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = "指标"
    sheet.append(HEADER)
    for values in indicator_rows(result):
        sheet.append(["" if value is None else value for value in values])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["C"].width = 20
    sheet.column_dimensions["F"].width = 60
    months = book.create_sheet("月度趋势")
    months.append(TREND_HEADER)
    for month in trend:
        months.append(
            [month["month"], month["submitted"], month["closed"], month["closed_with_due"],
             month["closed_on_time"], _blank(month["on_time_rate"]), month["ratings"],
             month["satisfied"], _blank(month["satisfaction_rate"])]
        )  # fmt: skip
    about = book.create_sheet("说明")
    for key, value in (
        ("统计范围", _scope_text(result)),
        ("统计期", f"{result['period']['from']} 至 {result['period']['to']}"),
        ("数据截至", result["data_as_of"] or ""),
        ("得分", "二级指标得分 = 指标值 × 100（每千件预警数除外）；分母为0的指标不计分，"
                 "其权重在同级中按比例重新分配"),
        ("每千件预警数上限", result["warning_ceiling"]),
        ("计算方法文档", "docs/indicators.md"),
    ):  # fmt: skip
        about.append([key, value])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _blank(value: Any) -> Any:
    return "" if value is None else value


def write_csv(result: dict[str, Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in indicator_rows(result):
        writer.writerow(["" if value is None else value for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
