"""How catalogue data reads on the workbench pages: element names in Chinese (from the
content schema's own descriptions) and values as short text, for the version diff."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from zwfw.catalog.content import (
    Body,
    Faq,
    Fee,
    FormField,
    ItemContent,
    LegalBasis,
    Material,
    MaterialForm,
    MaterialKind,
    MaterialSource,
    ProcessStep,
    RemedyChannel,
    TimeLimit,
)
from zwfw.catalog.diff import Change
from zwfw.core import codes
from zwfw.core.errors import ZwfwError

#: The record type of each content element that holds records.
_PARTS: dict[str, type[BaseModel]] = {
    "legal_bases": LegalBasis,
    "implementing_body": Body,
    "legal_time_limit": TimeLimit,
    "promised_time_limit": TimeLimit,
    "fees": Fee,
    "materials": Material,
    "application_form": FormField,
    "process_steps": ProcessStep,
    "faqs": Faq,
    "reconsideration": RemedyChannel,
    "litigation": RemedyChannel,
}

#: Coded record fields, shown by their names rather than their codes.
_CODED: dict[str, Any] = {
    "kinds": MaterialKind,
    "forms": MaterialForm,
    "source": MaterialSource,
    "unit": codes.TimeLimitUnit,
}

KIND_LABELS = {"added": "新增", "removed": "删除", "changed": "修改"}


def _description(model: type[BaseModel], key: str) -> str:
    field = model.model_fields.get(key)
    if field is None or not field.description:
        return key
    # "单位：1 工作日 2 自然日" → "单位"; "条款号，如 第十二条" → "条款号"
    return field.description.split("：")[0].split("，")[0]


@cache
def element_label(path: str) -> str:
    """``promised_time_limit.value`` → ``承诺办结时限 · 时限数值``;
    ``materials[营业执照].required`` → ``申请材料「营业执照」 · 是否必要``."""
    head, _, rest = path.partition(".")
    top, _, key = head.partition("[")
    label = _description(ItemContent, top)
    if key:
        label += f"「{key.rstrip(']')}」"
    part = _PARTS.get(top)
    if rest:
        sub = rest.split(".")[0]
        label += " · " + (_description(part, sub) if part else sub)
    return label


def _coded(key: str, value: Any) -> Any:
    table = _CODED.get(key)
    if table is None:
        return value
    labels = dict(table.choices)
    if isinstance(value, list):
        return [labels.get(v, v) for v in value]
    return labels.get(value, value)


def value_text(value: Any, element: str = "") -> str:
    """A content value as one readable line."""
    if value is None or value in ("", []):
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(value_text(v, element) for v in value)
    if isinstance(value, dict):
        part = _PARTS.get(element)
        pieces = []
        for key, inner in value.items():
            if inner in (None, "", [], False, 0) and key not in ("required", "value"):
                continue
            name = _description(part, key) if part else key
            pieces.append(f"{name}：{value_text(_coded(key, inner))}")
        return "；".join(pieces) or "—"
    return str(value)


def diff_rows(changes: list[Change]) -> list[dict[str, str]]:
    rows = []
    for change in changes:
        top = change.path.split(".")[0].split("[")[0]
        element = top if "." not in change.path else ""
        rows.append(
            {
                "path": change.path,
                "label": element_label(change.path),
                "kind": change.kind,
                "kind_label": KIND_LABELS.get(change.kind, change.kind),
                "before": value_text(change.before, element),
                "after": value_text(change.after, element),
            }
        )
    return rows


def error_lines(error: ZwfwError) -> list[str]:
    """The per-field problems of a content validation error, one line each."""
    errors = error.details.get("errors") if isinstance(error.details, dict) else None
    if not isinstance(errors, list):
        return []
    return [f"{e.get('field', '')}：{e.get('message', '')}" for e in errors[:20]]
