"""Number formats of the dashboard: rates as percentages, missing values as a dash."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def pct(value: Any) -> str:
    """0.6667 → "66.7%"; None → "—" (no data)."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.1f}%"


@register.filter
def score(value: Any) -> str:
    """A 0–100 score with two decimals; None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value):.2f}"


@register.filter
def figure(value: Any, kind: str = "rate") -> str:
    """An indicator value: a percentage for rates, a number per 1,000 otherwise."""
    if value is None or value == "":
        return "—"
    if kind == "per_mille_inverse":
        return f"{float(value):.2f}‰"
    return pct(value)


@register.filter
def stamp(value: Any) -> str:
    """An ISO date-time (as the API gives it) in Beijing time, to the minute."""
    import datetime as dt

    from django.utils import timezone

    if not value:
        return "—"
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%d %H:%M")
