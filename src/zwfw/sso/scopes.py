"""OAuth scopes: what a client may ask for, and which claims each scope releases.

Two kinds: *person* scopes are granted by a signed-in person on the consent page (authorization
code flow); *machine* scopes are granted by an administrator to a department system and used
with client credentials. A client is registered for one kind only (see ``services``).
Other apps add their machine scopes with :func:`register_scope` in ``AppConfig.ready``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oauth2_provider.scopes import BaseScopes


@dataclass(frozen=True)
class Scope:
    name: str
    description: str
    machine: bool


SCOPES: dict[str, Scope] = {}


def register_scope(name: str, description: str, *, machine: bool) -> Scope:
    """Make a scope known (idempotent for an identical declaration)."""
    scope = Scope(name, description, machine)
    existing = SCOPES.get(name)
    if existing is not None and existing != scope:
        raise ValueError(f"scope {name!r} is already declared differently")
    SCOPES[name] = scope
    return scope


OPENID = register_scope("openid", "登录身份标识（不含证件号码）", machine=False)
PROFILE = register_scope("profile", "姓名、用户类型", machine=False)
PHONE = register_scope("phone", "完整手机号码", machine=False)
EMAIL = register_scope("email", "电子邮箱", machine=False)
REALNAME = register_scope("zwfw.realname", "实名认证等级", machine=False)
INTROSPECTION = register_scope("introspection", "查询令牌状态（令牌内省）", machine=True)
register_scope(
    "registry.population.verify", "人口基础库核验（姓名与身份证号是否一致）", machine=True
)
register_scope(
    "registry.legal_entity.verify",
    "法人基础库核验（机构名称与统一社会信用代码是否一致）",
    machine=True,
)

# The claims each person scope releases (OIDC Core §5.4 for the standard ones).
# ``zwfw_acting_for`` rides with ``openid``: it describes the session itself (whom the person
# acts for), and a client that dropped it would take a company's act for a private one.
CLAIM_SCOPES: dict[str, str] = {
    "sub": "openid",
    "zwfw_acting_for": "openid",
    "name": "profile",
    "preferred_username": "profile",
    "zwfw_subject_kind": "profile",
    "zwfw_phone_masked": "profile",
    "phone_number": "phone",
    "email": "email",
    "zwfw_trust_level": "zwfw.realname",
}


def person_scopes() -> list[str]:
    return [name for name, scope in SCOPES.items() if not scope.machine]


def machine_scopes() -> list[str]:
    return [name for name, scope in SCOPES.items() if scope.machine]


def unknown_scopes(names: list[str]) -> list[str]:
    return [name for name in names if name not in SCOPES]


def allowed_scopes(application: Any) -> list[str]:
    """The scopes an application may receive (its policy; none for an unknown client)."""
    cached = getattr(application, "_zwfw_scopes", None)
    if cached is not None:
        return list(cached)
    from zwfw.sso.models import ClientPolicy

    try:
        # No query when the validator loaded the client with select_related("zwfw_policy").
        names = application.zwfw_policy.scopes.split()
    except ClientPolicy.DoesNotExist:
        names = []
    allowed = [name for name in names if name in SCOPES]
    # The application object lives for one request; caching on it saves work per lookup.
    application._zwfw_scopes = tuple(allowed)
    return allowed


class ZwfwScopes(BaseScopes):
    """django-oauth-toolkit scopes backend: per-client allowed scopes from ``ClientPolicy``."""

    def get_all_scopes(self) -> dict[str, str]:
        return {name: scope.description for name, scope in SCOPES.items()}

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        if application is None:
            return list(SCOPES)
        return allowed_scopes(application)

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        # A person-facing client that names no scope gets "openid"; a machine gets all it may.
        if application is None:
            return []
        allowed = allowed_scopes(application)
        if OPENID.name in allowed:
            return [OPENID.name]
        return allowed
