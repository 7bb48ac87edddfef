"""Basic and implementation codes (SPEC §3.3) and parsing of real provincial codes."""

from __future__ import annotations

import pytest

from zwfw.catalog.identifiers import (
    make_basic_code,
    make_implementation_code,
    parse_implementation_code,
)
from zwfw.core.errors import ValidationError


def test_basic_code_layout() -> None:
    assert make_basic_code("01", 12) == "XK00012000"
    assert make_basic_code("20", 7, 3) == "GG00007003"
    assert make_basic_code("07", 99999, 999) == "QR99999999"
    with pytest.raises(ValidationError) as error:
        make_basic_code("01", 0)
    assert error.value.code == "catalog.basic_code_range"


def test_platform_code_round_trip() -> None:
    code = make_implementation_code("XK00012000", "3", "511600", "11511600511600024U", 1)
    assert code == "XK00012000-3-511600-11511600511600024U-01"
    parsed = parse_implementation_code(code)
    assert parsed.layout == "platform"
    assert (parsed.basic_code, parsed.level, parsed.division_code, parsed.uscc) == (
        "XK00012000",
        "3",
        "511600",
        "11511600511600024U",
    )
    assert parsed.sequence == "01"


def test_real_sichuan_code_is_parsed() -> None:
    parsed = parse_implementation_code("511A0138000000-511602000000-000-115113010833722043-1-00")
    assert parsed.layout == "sichuan"
    assert parsed.basic_code == "511A0138000000"
    assert parsed.division_code == "511602"
    assert parsed.uscc == "115113010833722043"
    assert parsed.level == "1"
    assert parsed.handling_variant == "00"


def test_unknown_layout_is_kept_and_bad_characters_refused() -> None:
    parsed = parse_implementation_code("  11370100MB28540X3K400011800101  ")
    assert parsed == type(parsed)("11370100MB28540X3K400011800101", "unknown")
    for bad in ["", "a" * 65, "XK 0001", "实施编码", "x;DROP"]:
        with pytest.raises(ValidationError) as error:
            parse_implementation_code(bad)
        assert error.value.code == "catalog.implementation_code"
