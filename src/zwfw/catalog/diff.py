"""Differences between two versions' content, element by element.

Lists of records are matched by their natural key (a material by its name, a fee by its name,
a FAQ by its question, a legal basis by law and article), so adding one material shows as one
addition wherever it was inserted, not as every later material "changed".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_KEYS: dict[str, Callable[[dict[str, Any]], str]] = {
    "materials": lambda m: m.get("name", ""),
    "fees": lambda f: f.get("name", ""),
    "faqs": lambda q: q.get("question", ""),
    "legal_bases": lambda b: f"{b.get('law_name', '')} {b.get('article', '')}",
}


@dataclass(frozen=True)
class Change:
    path: str  # e.g. "promised_time_limit.value" or "materials[营业执照]"
    kind: str  # "added", "removed", "changed"
    before: Any
    after: Any


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Every element that differs between two content documents, in schema order."""
    changes: list[Change] = []
    _walk("", _in_schema_order(before), _in_schema_order(after), changes)
    return changes


def _in_schema_order(document: dict[str, Any]) -> dict[str, Any]:
    """The document with keys in the schema's order (PostgreSQL's jsonb reorders them)."""
    from pydantic import ValidationError as PydanticValidationError

    from zwfw.catalog.content import ItemContent

    try:
        return ItemContent.model_validate(document).model_dump(mode="json")
    except PydanticValidationError:
        # A document from an older schema: keep its own keys, in a stable order.
        return dict(sorted(document.items()))


def _walk(path: str, a: Any, b: Any, out: list[Change]) -> None:
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            child = f"{path}.{key}" if path else key
            if key not in b:
                out.append(Change(child, "removed", a[key], None))
            elif key not in a:
                out.append(Change(child, "added", None, b[key]))
            else:
                _walk(child, a[key], b[key], out)
        return
    field = path.rsplit(".", 1)[-1]
    if isinstance(a, list) and isinstance(b, list) and field in _KEYS:
        _walk_keyed(path, a, b, _KEYS[field], out)
        return
    out.append(Change(path, "changed", a, b))


def _walk_keyed(
    path: str,
    a: list[dict[str, Any]],
    b: list[dict[str, Any]],
    key: Callable[[dict[str, Any]], str],
    out: list[Change],
) -> None:
    old = {key(x): x for x in a}
    new = {key(x): x for x in b}
    for name, record in old.items():
        if name not in new:
            out.append(Change(f"{path}[{name}]", "removed", record, None))
        else:
            _walk(f"{path}[{name}]", record, new[name], out)
    for name, record in new.items():
        if name not in old:
            out.append(Change(f"{path}[{name}]", "added", None, record))
