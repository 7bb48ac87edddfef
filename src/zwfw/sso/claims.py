"""The claims a person's tokens carry, and the agent context they were issued in."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError

from zwfw.core.masking import mask_phone
from zwfw.sso.models import SubjectIdentifier

#: Session key under which the identity work stores the company a person currently acts for:
#: ``{"uscc": …, "name": …, "authorisation_id": …}``.
ACTING_FOR_SESSION_KEY = "zwfw_acting_for"
_ACTING_FOR_FIELDS = ("uscc", "name", "authorisation_id")


def clean_acting_for(value: Any) -> dict[str, Any] | None:
    """The agent context in the shape tokens carry, or None when absent or malformed.

    Only the three documented keys pass, as strings or integers; without a USCC there is no
    company to act for.
    """
    if not isinstance(value, dict):
        return None
    cleaned = {
        key: value[key]
        for key in _ACTING_FOR_FIELDS
        if isinstance(value.get(key), str | int) and not isinstance(value.get(key), bool)
    }
    if not isinstance(cleaned.get("uscc"), str) or not cleaned["uscc"]:
        return None
    return cleaned


def subject_for(user: Any) -> str:
    """The stable opaque ``sub`` of an account, created on first use."""
    found = SubjectIdentifier.objects.filter(user_id=user.pk).values_list("sub", flat=True).first()
    if found:
        return found
    try:
        return SubjectIdentifier.objects.create(user_id=user.pk).sub
    except IntegrityError:
        # Two first sign-ins raced; the other one's row stands.
        return SubjectIdentifier.objects.get(user_id=user.pk).sub


def e164_phone(phone: str) -> str:
    """Mainland mobile numbers in E.164 form (OIDC Core §5.1 recommends it)."""
    digits = "".join(phone.split())
    if len(digits) == 11 and digits.startswith("1") and digits.isdigit():
        return "+86" + digits
    return digits


def person_claims(user: Any, acting_for: dict[str, Any] | None) -> dict[str, Any]:
    """Every claim the platform can state about ``user``; scopes filter them later."""
    phone = user.phone or ""
    claims: dict[str, Any] = {
        "sub": subject_for(user),
        "name": user.real_name,
        "preferred_username": user.username,
        "zwfw_subject_kind": user.kind,
        "zwfw_phone_masked": mask_phone(phone),
        "phone_number": e164_phone(phone) if phone else "",
        "email": user.email,
        "zwfw_trust_level": user.trust_level,
        "zwfw_acting_for": acting_for,
    }
    return {name: value for name, value in claims.items() if value not in ("", None)}
