"""Basic and implementation codes: generation in the platform's layout, parsing of known ones.

Platform layouts (SPEC §3.3, *our layout after a provincial standard*):

* basic code ``XK00012000``: 2-letter type prefix + 5-digit main item + 3-digit sub-item
  (``000`` = not a sub-item);
* implementation code ``XK00012000-3-511600-11511600511600024U-01``: basic code, level digit,
  6-digit division, implementing body's USCC, 2-digit sequence, joined by ``-``.

Real provincial codes are accepted up to 64 characters; the Sichuan layout
``511A0138000000-511602000000-000-115113010833722043-1-00`` (basic code, 12-digit division,
sub-item, USCC, level, handling variant) is parsed too. Unknown layouts are stored as given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zwfw.core import codes
from zwfw.core.errors import ValidationError

_PLATFORM = re.compile(
    r"^(?P<basic>[A-Z]{2}\d{8})-(?P<level>[1-7])-(?P<division>\d{6})-"
    r"(?P<uscc>[0-9A-HJ-NPQRTUWXY]{18})-(?P<seq>\d{2})$"
)
_SICHUAN = re.compile(
    r"^(?P<basic>[0-9A-Z]{14})-(?P<division>\d{12})-(?P<sub>\d{3})-"
    r"(?P<uscc>[0-9A-HJ-NPQRTUWXY]{18})-(?P<level>\d)-(?P<variant>\d{2})$"
)
_ALLOWED = re.compile(r"^[0-9A-Za-z._\-]{1,64}$")


@dataclass(frozen=True)
class ParsedCode:
    """What could be read from an implementation code (None where the layout says nothing)."""

    code: str
    layout: str  # "platform", "sichuan" or "unknown"
    basic_code: str | None = None
    division_code: str | None = None
    uscc: str | None = None
    level: str | None = None
    sequence: str | None = None
    handling_variant: str | None = None


def make_basic_code(item_type: str, main: int, sub: int = 0) -> str:
    """``make_basic_code("01", 12)`` → ``XK00012000``."""
    if not 1 <= main <= 99999 or not 0 <= sub <= 999:
        raise ValidationError(
            "catalog.basic_code_range",
            "基本编码主项序号应为1–99999，子项序号应为0–999。",
            "Main item 1–99999, sub-item 0–999.",
        )
    return f"{codes.basic_code_prefix(item_type)}{main:05d}{sub:03d}"


def make_implementation_code(
    basic_code: str, level: str, division_code: str, uscc: str, sequence: int = 1
) -> str:
    """The platform's implementation code for one body's implementation in one division."""
    return f"{basic_code}-{level}-{division_code[:6]}-{uscc}-{sequence:02d}"


def parse_implementation_code(code: str) -> ParsedCode:
    """Split a code into its parts where the layout is known; raise for impossible codes."""
    code = code.strip()
    if not _ALLOWED.match(code):
        raise ValidationError(
            "catalog.implementation_code",
            "实施编码应为1–64位字母、数字、点、下划线或连字符。",
            "An implementation code has 1–64 letters, digits, '.', '_' or '-'.",
            field="implementation_code",
            details={"value": code[:80]},
        )
    if match := _PLATFORM.match(code):
        return ParsedCode(
            code,
            "platform",
            basic_code=match["basic"],
            division_code=match["division"],
            uscc=match["uscc"],
            level=match["level"],
            sequence=match["seq"],
        )
    if match := _SICHUAN.match(code):
        division = match["division"]
        return ParsedCode(
            code,
            "sichuan",
            basic_code=match["basic"],
            division_code=division[:6] if division.endswith("000000") else division,
            uscc=match["uscc"],
            level=match["level"],
            sequence=match["sub"],
            handling_variant=match["variant"],
        )
    return ParsedCode(code, "unknown")
