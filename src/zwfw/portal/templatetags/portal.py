"""Template tags of the shared layout: the site navigation and the account bar."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

register = template.Library()

#: (section, label, url name, path prefixes that belong to the section besides the URL's own)
SECTIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("search", "我要查", "portal:search", ("items/", "progress/", "licences/", "browse/")),
    ("apply", "我要办", "portal:apply_index", ()),
    ("news", "我要看", "portal:news", ()),
    ("ask", "我要问", "portal:ask", ()),
    ("rate", "我要评", "portal:rate", ()),
    ("my", "我的", "portal:my", ("accounts/",)),
)


def current_section(path: str, script_prefix: str) -> str:
    """The section a path belongs to (``""`` for the home page and anything else)."""
    relative = path[len(script_prefix) :] if path.startswith(script_prefix) else path.lstrip("/")
    for section, _label, url_name, prefixes in SECTIONS:
        own = reverse(url_name)[len(script_prefix) :]
        if own and relative.startswith(own):
            return section
        if any(relative.startswith(prefix) for prefix in prefixes):
            return section
    return ""


@register.inclusion_tag("portal/_nav.html", takes_context=True)
def site_nav(context: template.Context) -> dict[str, Any]:
    from django.urls import get_script_prefix

    request = context.get("request")
    path = request.path if request is not None else ""
    active = current_section(path, get_script_prefix())
    return {
        "links": [
            {"label": label, "url": reverse(url_name), "current": section == active}
            for section, label, url_name, _prefixes in SECTIONS
        ]
    }


@register.inclusion_tag("portal/_account_bar.html", takes_context=True)
def account_bar(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    acting = None
    if user is not None and user.is_authenticated:
        from zwfw.identity.services import SESSION_ACTING

        value = request.session.get(SESSION_ACTING) if request is not None else None
        acting = value if isinstance(value, dict) else None
    return {
        "user": user,
        "acting": acting,
        "next": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
    }
