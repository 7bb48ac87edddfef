"""Start-up checks of the node's configuration (run by every `zwfw` command and the server)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import Error, register

NODE_LEVELS = {"national", "provincial", "municipal"}


@register()
def node_identity(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    if settings.NODE_LEVEL not in NODE_LEVELS:
        errors.append(
            Error(
                f"ZWFW_NODE_LEVEL is {settings.NODE_LEVEL!r}",
                hint="use one of: national, provincial, municipal",
                id="zwfw.E001",
            )
        )
    if not re.fullmatch(r"\d{6}", settings.NODE_DIVISION_CODE or ""):
        errors.append(
            Error(
                f"ZWFW_NODE_DIVISION is {settings.NODE_DIVISION_CODE!r}",
                hint="a 6-digit GB/T 2260 division code, e.g. 511600",
                id="zwfw.E002",
            )
        )
    key = settings.PII_KEY
    if not re.fullmatch(r"[0-9a-fA-F]{64}", key or ""):
        errors.append(
            Error(
                "ZWFW_PII_KEY is missing or not 64 hexadecimal characters",
                hint='generate one with: python3 -c "import secrets; print(secrets.token_hex(32))"',
                id="zwfw.E003",
            )
        )
    return errors
