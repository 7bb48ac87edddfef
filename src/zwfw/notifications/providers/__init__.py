"""Notification provider plugins and the channel → provider mapping.

``ZWFW_NOTIFY_CHANNELS`` (``settings.NOTIFY_CHANNELS``) maps every channel to a registered
provider, e.g. ``sms=sandbox,email=smtp,site=site``. A bad mapping is reported by a system
check when any ``zwfw`` command or the server starts (``notifications.E001``), and raises
``ImproperlyConfigured`` with the same text if a message is sent anyway.

Built-in providers: ``sandbox`` (SMS, e-mail), ``smtp`` (e-mail), ``site`` (in-site inbox).
A deployment adds a real SMS gateway by calling :func:`register` from its app's ``ready()``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.core.checks import Error
from django.core.checks import register as register_check
from django.core.exceptions import ImproperlyConfigured

from zwfw.notifications.models import Channel
from zwfw.notifications.providers.base import (
    PermanentFailure,
    Provider,
    ProviderError,
    TemporaryFailure,
    mask_recipient,
)
from zwfw.notifications.providers.sandbox import SandboxProvider
from zwfw.notifications.providers.site import SiteProvider
from zwfw.notifications.providers.smtp import SmtpProvider

__all__ = [
    "PermanentFailure",
    "Provider",
    "ProviderError",
    "TemporaryFailure",
    "channel_mapping",
    "mask_recipient",
    "provider_for",
    "register",
    "registered",
]

_REGISTRY: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    """Add a provider under its ``name`` (replacing one of the same name)."""
    if not isinstance(provider, Provider):
        raise TypeError(f"{provider!r} does not implement the Provider protocol")
    unknown = set(provider.channels) - set(Channel.values)
    if unknown:
        raise ValueError(f"provider {provider.name!r} names unknown channels {sorted(unknown)}")
    _REGISTRY[provider.name] = provider
    _parse.cache_clear()
    return provider


def registered() -> dict[str, Provider]:
    return dict(_REGISTRY)


@cache
def _parse(text: str) -> tuple[dict[str, str], tuple[str, ...]]:
    mapping: dict[str, str] = {}
    mentioned: set[str] = set()
    problems: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        channel, sep, provider = (s.strip() for s in item.partition("="))
        if not sep or not channel or not provider:
            problems.append(f"{item!r} is not channel=provider")
            continue
        if channel not in Channel.values:
            problems.append(f"unknown channel {channel!r} (channels: {', '.join(Channel.values)})")
            continue
        if channel in mentioned:
            problems.append(f"channel {channel!r} is mapped twice")
            continue
        mentioned.add(channel)
        if provider not in _REGISTRY:
            known = ", ".join(sorted(_REGISTRY))
            problems.append(f"unknown provider {provider!r} for {channel} (providers: {known})")
        elif channel not in _REGISTRY[provider].channels:
            problems.append(f"provider {provider!r} cannot send {channel} messages")
        else:
            mapping[channel] = provider
    problems.extend(
        f"channel {channel!r} has no provider"
        for channel in Channel.values
        if channel not in mentioned
    )
    return mapping, tuple(problems)


def channel_mapping() -> dict[str, str]:
    """``{channel: provider name}`` from the settings; raises ``ImproperlyConfigured``."""
    mapping, problems = _parse(settings.NOTIFY_CHANNELS)
    if problems:
        raise ImproperlyConfigured(f"ZWFW_NOTIFY_CHANNELS: {'; '.join(problems)}")
    return mapping


def provider_for(channel: str) -> Provider:
    """The provider that sends ``channel`` messages; raises ``ImproperlyConfigured``."""
    return _REGISTRY[channel_mapping()[channel]]


@register_check()
def check_channel_mapping(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """System check: every channel maps to a registered provider able to send it."""
    _, problems = _parse(settings.NOTIFY_CHANNELS)
    return [
        Error(
            f"ZWFW_NOTIFY_CHANNELS: {problem}",
            hint="e.g. ZWFW_NOTIFY_CHANNELS=sms=sandbox,email=smtp,site=site",
            id="notifications.E001",
        )
        for problem in problems
    ]


for _builtin in (SandboxProvider(), SmtpProvider(), SiteProvider()):
    register(_builtin)
