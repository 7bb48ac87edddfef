"""电子证照标识 (GB/T 36904): ISO/IEC 7064 MOD 37,36, building, parsing, published identifiers."""

from __future__ import annotations

import random

import pytest

from zwfw.core.errors import ValidationError
from zwfw.core.validators import org_code_check_char, uscc_check_char
from zwfw.licences.identifiers import (
    ALPHABET,
    ROOT,
    LicenceIdentifier,
    build_identifier,
    check_character,
    is_valid,
    parse_identifier,
)

# --- ISO/IEC 7064 MOD 37,36 -------------------------------------------------------------------


def test_iso_7064_mod_37_36_worked_example() -> None:
    # ISO/IEC 7064's MOD 37,36 example: A12425GABC1234002 has check character M.
    # Hybrid recursion with M = 36: P1 = 36; Sj = (Pj + aj) mod 36 (0 counts as 36);
    # Pj+1 = 2·Sj mod 37.
    #   a    P    S = (P+a) mod 36       P' = 2S mod 37
    #   A10  36   46 mod 36 = 10          20
    #   1    20   21                      42 mod 37 = 5
    #   2     5    7                      14
    #   4    14   18                      36
    #   2    36   38 mod 36 = 2            4
    #   5     4    9                      18
    #   G16  18   34                      68 mod 37 = 31
    #   A10  31   41 mod 36 = 5           10
    #   B11  10   21                       5
    #   C12   5   17                      34
    #   1    34   35                      70 mod 37 = 33
    #   2    33   35                      33
    #   3    33   36 mod 36 = 0 → 36      72 mod 37 = 35
    #   4    35   39 mod 36 = 3            6
    #   0     6    6                      12
    #   0    12   12                      24
    #   2    24   26                      52 mod 37 = 15
    # Check c with (15 + c) mod 36 = 1: c = 22 = M.
    assert check_character("A12425GABC1234002") == "M"


def test_iso_7064_single_character() -> None:
    # "0": P1 = 36, S1 = 36 mod 36 = 0 → 36, P2 = 72 mod 37 = 35; (35 + c) mod 36 = 1 → c = 2.
    assert check_character("0") == "2"
    # "Z" (35): S1 = (36 + 35) mod 36 = 35, P2 = 70 mod 37 = 33; (33 + c) mod 36 = 1 → c = 4.
    assert check_character("Z") == "4"


def test_check_character_ignores_root_and_dots() -> None:
    body = "11100000000013338W011.11430000006122244L.20230000403.002"
    compact = body.replace(".", "")
    assert check_character(ROOT + body) == check_character(body) == check_character(compact)
    assert check_character(" " + (ROOT + body).lower() + " ") == check_character(body)


@pytest.mark.parametrize("value", ["", "  ", ROOT, "AB-12", "证照", "ＡB1"])
def test_check_character_rejects_bad_input(value: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_character(value)
    assert info.value.code == "licences.identifier_format"


# --- published identifiers ---------------------------------------------------------------------

# Identifiers from Chinese government standards and platforms whose check characters our
# MOD 37,36 reproduces (each made by somebody else's implementation):
PUBLISHED = [
    # The example of appendix A.2 of the national licence standard 《全国一体化政务服务平台 电子证照
    # 建筑施工企业安全生产管理人员考核合格证书》 (type 011 of 住房和城乡建设部, issued by a Hunan
    # body), as quoted in a provincial client of the national data exchange, with version 002
    # and version 001 of the same licence: the version part is covered by the check.
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S",
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    # The file name of an OFD licence served by 浙江政务服务网's investment-project platform
    # (tzxm.zjzwfw.gov.cn): 住建部 type 009, issued by a Hangzhou district body.
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
    # A test record of a Jining (Shandong) platform: 住建部 type 087, issued by a Jining body.
    "1.2.156.3005.2.11100000000013338W087.11370800MB28559184.37080001202411010001.001.3",
]


@pytest.mark.parametrize("identifier", PUBLISHED)
def test_published_identifiers(identifier: str) -> None:
    parsed = parse_identifier(identifier)
    assert parsed.text == identifier
    assert check_character(identifier.rpartition(".")[0]) == identifier[-1]
    assert parsed.defining_department_uscc == "11100000000013338W"
    assert (
        build_identifier(parsed.type_code, parsed.issuer_uscc, parsed.serial, parsed.version)
        == identifier
    )


def test_published_non_conforming_identifier_check_character() -> None:
    # A Hefei platform's sample whose issuer part is a division code (340100), not a USCC: the
    # check character agrees with MOD 37,36, but the structure is not GB/T 36904's.
    identifier = "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9"
    assert check_character(identifier.rpartition(".")[0]) == "9"
    with pytest.raises(ValidationError) as info:
        parse_identifier(identifier)
    assert (info.value.code, info.value.details["part"]) == ("licences.identifier_format", "issuer")


# --- parsing and building ----------------------------------------------------------------------


def test_parse_parts() -> None:
    parsed = parse_identifier(" " + PUBLISHED[0].lower() + " ")
    assert parsed == LicenceIdentifier(
        type_code="11100000000013338W011",
        issuer_uscc="11430000006122244L",
        serial="20230000403",
        version="002",
        check="S",
    )
    assert (parsed.type_sequence, parsed.version_number, str(parsed)) == ("011", 2, PUBLISHED[0])


def test_build_identifier() -> None:
    identifier = build_identifier("11100000000013338w011", "11430000006122244L", "20230000403", 2)
    assert identifier == PUBLISHED[0]
    assert build_identifier("11100000000013338W011", "11430000006122244L", "20230000403", "001")[
        -1
    ] == ("U")
    assert is_valid(identifier)


VALID = PUBLISHED[0]
TYPE, ISSUER = "11100000000013338W011", "11430000006122244L"


@pytest.mark.parametrize(
    ("value", "code", "part", "message"),
    [
        (None, "licences.identifier_empty", None, "请填写电子证照标识。"),
        ("", "licences.identifier_empty", None, "请填写电子证照标识。"),
        (
            VALID.replace("1.2.156.3005.2.", "1.2.156.3005.1.", 1),
            "licences.identifier_format",
            "root",
            "电子证照标识的根标识无效：应以“1.2.156.3005.2.”开头。",
        ),
        (
            VALID + ".X",
            "licences.identifier_format",
            "root",
            "电子证照标识的根标识无效：根标识之后应有5段（证照类型代码、颁发机构代码、顺序号、"
            "版本号、校验位），实际为6段。",
        ),
        (
            f"{ROOT}11100000000013338W01.{ISSUER}.1.001.0",
            "licences.identifier_format",
            "type_code",
            "电子证照标识的证照类型代码无效：应为21位（定义部门的统一社会信用代码18位加3位顺序号），"
            "实际为20位。",
        ),
        (
            f"{ROOT}11100000000013338W0A1.{ISSUER}.1.001.0",
            "licences.identifier_format",
            "type_code",
            "电子证照标识的证照类型代码无效：后3位“0A1”应为数字顺序号。",
        ),
        (
            f"{ROOT}11100000000013338X011.{ISSUER}.1.001.0",
            "licences.identifier_format",
            "type_code",
            "电子证照标识的证照类型代码无效：前18位不是有效的统一社会信用代码"
            "。统一社会信用代码校验不通过：第18位校验码应为W，实际为X（请核对每一位是否输错）。",
        ),
        (
            f"{ROOT}{TYPE}.1143000000612224.1.001.0",
            "licences.identifier_format",
            "issuer",
            "电子证照标识的证照颁发机构代码无效：应为18位统一社会信用代码，实际为16位。",
        ),
        (
            f"{ROOT}{TYPE}.{ISSUER}..001.0",
            "licences.identifier_format",
            "serial",
            "电子证照标识的证照顺序号无效：应为1–20位，实际为0位。",
        ),
        (
            f"{ROOT}{TYPE}.{ISSUER}.{'1' * 21}.001.0",
            "licences.identifier_format",
            "serial",
            "电子证照标识的证照顺序号无效：应为1–20位，实际为21位。",
        ),
        (
            f"{ROOT}{TYPE}.{ISSUER}.2023_0403.001.0",
            "licences.identifier_format",
            "serial",
            "电子证照标识的证照顺序号无效：含有无效字符“_”（只能是数字0–9和大写字母A–Z）。",
        ),
        (
            f"{ROOT}{TYPE}.{ISSUER}.20230000403.01.0",
            "licences.identifier_format",
            "version",
            "电子证照标识的版本号无效：应为3位数字，实际为“01”。",
        ),
        (
            f"{ROOT}{TYPE}.{ISSUER}.20230000403.002.SS",
            "licences.identifier_format",
            "check",
            "电子证照标识的校验位无效：应为1位数字或大写字母。",
        ),
        (
            f"{ROOT}{TYPE}.{ISSUER}.20230000403.002.T",
            "licences.identifier_check",
            "check",
            "电子证照标识校验不通过：校验位应为S，实际为T。",
        ),
    ],
)
def test_parse_errors(value: str | None, code: str, part: str | None, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_identifier(value)
    assert (info.value.code, info.value.details.get("part"), info.value.message) == (
        code,
        part,
        message,
    )
    assert info.value.details["field"] == "identifier"
    assert not is_valid(value)


def test_uscc_error_cause_is_kept() -> None:
    with pytest.raises(ValidationError) as info:
        build_identifier(TYPE, "11430000006122244M", "1", 1)
    assert info.value.details["part"] == "issuer"
    assert info.value.details["cause"] == "uscc.check_digit"


@pytest.mark.parametrize("version", [-1, 1000])
def test_build_rejects_version_out_of_range(version: int) -> None:
    with pytest.raises(ValidationError) as info:
        build_identifier(TYPE, ISSUER, "1", version)
    assert info.value.details["part"] == "version"


# --- error detection (property tests over random identifiers) ---------------------------------

_DIVISIONS = ("100000", "110000", "330105", "370800", "430000", "440300")
_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # USCC alphabet (no I, O, Z, S, V)


def _random_uscc(rng: random.Random) -> str:
    org_body = "".join(rng.choice(_ORG_ALPHABET) for _ in range(8))
    body = "11" + rng.choice(_DIVISIONS) + org_body + org_code_check_char(org_body)
    return body + uscc_check_char(body)


def _random_identifier(rng: random.Random) -> str:
    serial = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 20)))
    type_code = _random_uscc(rng) + f"{rng.randint(0, 999):03d}"
    return build_identifier(type_code, _random_uscc(rng), serial, rng.randint(0, 999))


def _checks(compact: str) -> bool:
    return check_character(compact[:-1]) == compact[-1]


def _state(chars: str) -> int:
    """P after ``chars`` in the hybrid recursion, written out again independently."""
    p = 36
    for char in chars:
        p = (2 * ((p + ALPHABET.index(char)) % 36 or 36)) % 37
    return p


def _blind_transposition(prefix: str, a: str, b: str) -> bool:
    """The one case MOD 37,36 misses: values a, b differ by 1 and S takes 18 and 19."""
    p = _state(prefix)
    s_values = {(p + ALPHABET.index(a)) % 36, (p + ALPHABET.index(b)) % 36}
    return s_values == {18, 19}


IDENTIFIER_COUNT = 120


def test_random_identifiers_are_valid() -> None:
    rng = random.Random(36904)
    for _ in range(IDENTIFIER_COUNT):
        identifier = _random_identifier(rng)
        assert is_valid(identifier), identifier
        assert parse_identifier(identifier).text == identifier


def test_every_single_substitution_is_detected() -> None:
    rng = random.Random(7064)
    for _ in range(IDENTIFIER_COUNT // 2):
        compact = _random_identifier(rng)[len(ROOT) :].replace(".", "")
        assert _checks(compact)
        for position, original in enumerate(compact):
            for char in ALPHABET:
                if char != original:
                    mutated = compact[:position] + char + compact[position + 1 :]
                    assert not _checks(mutated), (compact, position, char)


def test_transposition_detection_over_the_whole_state_space() -> None:
    # The check stays right after a swap of a, b only if the state after the pair is the same
    # both ways (every later step is a bijection of the state). Enumerate all states and pairs.
    def step(p: int, a: int) -> int:
        return (2 * ((p + a) % 36 or 36)) % 37

    missed = [
        (p, a, b)
        for p in range(1, 37)
        for a in range(36)
        for b in range(36)
        if a != b and step(step(p, a), b) == step(step(p, b), a)
    ]
    assert len(missed) == 72  # of 36 * 36 * 35 = 45,360
    assert all((a - b) % 36 in (1, 35) for _, a, b in missed)
    assert all({(p + a) % 36, (p + b) % 36} == {18, 19} for p, a, b in missed)
    # Substitutions: for each state, distinct characters lead to distinct states.
    assert all(len({step(p, a) for a in range(36)}) == 36 for p in range(1, 37))


def test_adjacent_transpositions_are_detected_except_the_blind_case() -> None:
    rng = random.Random(3736)
    swaps = missed = 0
    for _ in range(IDENTIFIER_COUNT * 4):
        compact = _random_identifier(rng)[len(ROOT) :].replace(".", "")
        for position in range(len(compact) - 1):
            a, b = compact[position], compact[position + 1]
            if a == b:
                continue
            swaps += 1
            mutated = compact[:position] + b + a + compact[position + 2 :]
            blind = _blind_transposition(compact[:position], a, b)
            assert _checks(mutated) is blind, (compact, position)
            missed += blind
    # Random identifiers are mostly digits (USCCs, sequences, versions), so neighbours that
    # differ by one are commoner than among random characters: still well under 1 %.
    assert swaps > 20_000
    assert 0 < missed < swaps / 100, (missed, swaps)
    # A concrete miss: the type code's sequence 455 written 545 under the same check.
    prefix = "11110000XY8JF7N468"
    assert _blind_transposition(prefix, "4", "5")
    body = f"{prefix}455.11110000YU70XE9M5C.BWLJQWM6.819"
    assert check_character(body) == check_character(body.replace("455.", "545.", 1))


def test_mutated_written_identifiers_are_invalid() -> None:
    # The same properties through the public parser, on the identifier as written (dots kept).
    rng = random.Random(2018)
    for _ in range(IDENTIFIER_COUNT):
        identifier = _random_identifier(rng)
        positions = [i for i in range(len(ROOT), len(identifier)) if identifier[i] != "."]
        for position in rng.sample(positions, 8):
            char = rng.choice(ALPHABET.replace(identifier[position], ""))
            assert not is_valid(identifier[:position] + char + identifier[position + 1 :])
        swaps = [p for p in positions if p + 1 in positions and identifier[p] != identifier[p + 1]]
        for position in rng.sample(swaps, min(4, len(swaps))):
            a, b = identifier[position], identifier[position + 1]
            prefix = identifier[len(ROOT) : position].replace(".", "")
            mutated = identifier[:position] + b + a + identifier[position + 2 :]
            if not _blind_transposition(prefix, a, b):
                assert not is_valid(mutated)
