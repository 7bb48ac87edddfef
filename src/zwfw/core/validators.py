"""Validators of the identifiers the platform takes from people and organisations.

* :func:`validate_resident_id` — 公民身份号码 (GB 11643-1999);
* :func:`validate_uscc` — 统一社会信用代码 (GB 32100-2015);
* :func:`validate_org_code` — 组织机构代码 (GB 11714-1997);
* :func:`validate_division_code` — 行政区划代码 (GB/T 2260, with 9/12-digit extensions);
* :func:`validate_mobile` — mainland mobile numbers;
* :func:`validate_document_number` — a 证件号码 by its 证件类型 (GB/T 39046, GA/T 2000.156).

Each failure raises :class:`~zwfw.core.errors.ValidationError` with a stable code
(``id_number.*``, ``uscc.*``, ``org_code.*``, ``division.*``, ``mobile.*``, ``document.*``), a
Chinese message saying what is wrong, where and why, an English message, and ``details``
(field, position, expected value …). Messages never repeat a whole ID number (personal data);
they quote only the faulty part. None of the validators touches the database: divisions come
from the packaged index of :mod:`zwfw.organisations.divisions`, loaded once on first use.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from zwfw.core import codes
from zwfw.core.errors import ValidationError

SHANGHAI = ZoneInfo("Asia/Shanghai")

# --- shared -----------------------------------------------------------------------------------

#: Province-level codes of GB/T 2260 (first two digits of a division code).
PROVINCE_PREFIXES = frozenset(
    {
        *("11", "12", "13", "14", "15"),
        *("21", "22", "23"),
        *("31", "32", "33", "34", "35", "36", "37"),
        *("41", "42", "43", "44", "45", "46"),
        *("50", "51", "52", "53", "54"),
        *("61", "62", "63", "64", "65"),
        *("71", "81", "82"),
    }
)


def _fail(code: str, zh: str, en: str, field: str | None, **details: Any) -> ValidationError:
    return ValidationError(code, zh, en, field=field, details=details)


def _full_width_position(value: str) -> int | None:
    """1-based position of the first full-width character (Ａ, １, ｘ, ideographic space)."""
    for position, char in enumerate(value, start=1):
        if "\uff01" <= char <= "\uff5e" or char == "\u3000":
            return position
    return None


def _is_ascii_digits(value: str) -> bool:
    # str.isdigit alone accepts full-width and other Unicode digits.
    return value.isascii() and value.isdigit()


def _division_index() -> Any:
    from zwfw.organisations.divisions import division_index

    return division_index()


# --- 公民身份号码 (GB 11643) -------------------------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
#: Earliest birth date accepted by default (GB 11643's own example, born 1880, is older:
#: pass ``min_birth_date`` to accept such historical records).
MIN_BIRTH_DATE = dt.date(1900, 1, 1)
#: 台湾居民居住证 numbers (2018) use the GB 11643 layout with address code 830000, which is
#: not a GB/T 2260 province; 港澳居民居住证 use 810000 and 820000, which are.
TAIWAN_RESIDENCE_PERMIT_PREFIX = "830000"


def resident_id_check_char(body: str) -> str:
    """The GB 11643 check character of the first 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * weight for digit, weight in zip(body, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A valid 公民身份号码, split into its parts."""

    number: str  # normalised: 18 characters, upper-case X
    division_code: str  # address code, positions 1–6
    birth_date: dt.date
    sex: str  # GB/T 2261.1: "1" male (odd sequence), "2" female (even)
    division_known: bool  # False: a code neither division list knows (abolished long ago)

    @property
    def sequence(self) -> str:
        return self.number[14:17]

    @property
    def check_char(self) -> str:
        return self.number[17]

    @property
    def division_name(self) -> str:
        """Full name of the address code ("" when unknown)."""
        record = _division_index().get(self.division_code)
        return record.full_name if record else ""


def validate_resident_id(
    value: str | None,
    field: str = "id_number",
    *,
    today: dt.date | None = None,
    min_birth_date: dt.date = MIN_BIRTH_DATE,
) -> ResidentId:
    """Check a 公民身份号码 (GB 11643) and return its parts.

    Surrounding spaces are trimmed and a lower-case ``x`` is accepted and upper-cased.
    The address code must start with a real province code (11…65, 71, 81, 82; also the
    830000 of 台湾居民居住证). A 6-digit code unknown to both division lists is *not* rejected:
    people keep the code of their birth place after it is abolished (``division_known`` is
    then False). The birth date must be a real date, not after ``today`` (Asia/Shanghai) and
    not before ``min_birth_date`` (1900-01-01).

    Raises ``ValidationError`` with code ``id_number.empty``, ``.length``, ``.format`` (a
    non-digit, or full-width characters), ``.province``, ``.birth_date``,
    ``.birth_date_future`` or ``.check_digit`` (details carry ``expected`` and ``actual``).
    """
    number = value.strip() if isinstance(value, str) else ""
    if not number:
        raise _fail(
            "id_number.empty",
            "请填写公民身份号码。",
            "The citizen ID number is empty.",
            field,
        )
    full_width = _full_width_position(number)
    if full_width is not None:
        raise _fail(
            "id_number.format",
            f"公民身份号码第{full_width}位是全角字符“{number[full_width - 1]}”，"
            "请切换到半角输入后重新填写。",
            f"Character {full_width} of the ID number is full-width; use half-width digits.",
            field,
            position=full_width,
            reason="full_width",
        )
    if len(number) != 18:
        hint = "（15位的老号码请使用升级后的18位号码）" if len(number) == 15 else ""
        raise _fail(
            "id_number.length",
            f"公民身份号码应为18位，实际为{len(number)}位{hint}。",
            f"A citizen ID number has 18 characters, not {len(number)}.",
            field,
            length=len(number),
            expected_length=18,
        )
    body, check = number[:17], number[17].upper()
    if not _is_ascii_digits(body):
        position = next(i for i, c in enumerate(body, start=1) if not _is_ascii_digits(c))
        raise _fail(
            "id_number.format",
            f"公民身份号码第{position}位“{body[position - 1]}”不是数字：前17位必须是数字。",
            f"Character {position} of the ID number is not a digit; the first 17 must be.",
            field,
            position=position,
            reason="not_digit",
        )
    if not (_is_ascii_digits(check) or check == "X"):
        raise _fail(
            "id_number.format",
            f"公民身份号码第18位“{number[17]}”无效：应为数字或X。",
            "Character 18 of the ID number must be a digit or X.",
            field,
            position=18,
            reason="check_char",
        )
    number = body + check
    division_code = number[:6]
    if number[:2] not in PROVINCE_PREFIXES and division_code != TAIWAN_RESIDENCE_PERMIT_PREFIX:
        raise _fail(
            "id_number.province",
            f"公民身份号码第1–2位“{number[:2]}”不是有效的省级行政区划代码。",
            f"Characters 1–2 of the ID number ({number[:2]}) are not a province code.",
            field,
            position=1,
            value=number[:2],
        )
    birth_text = number[6:14]
    try:
        birth_date = dt.date(int(birth_text[:4]), int(birth_text[4:6]), int(birth_text[6:]))
    except ValueError:
        raise _fail(
            "id_number.birth_date",
            f"公民身份号码第7–14位出生日期“{birth_text}”不是有效日期。",
            f"Characters 7–14 of the ID number ({birth_text}) are not a real date.",
            field,
            position=7,
            value=birth_text,
            reason="invalid_date",
        ) from None
    if birth_date < min_birth_date:
        raise _fail(
            "id_number.birth_date",
            f"公民身份号码第7–14位出生日期“{birth_text}”早于{min_birth_date.year}年"
            f"{min_birth_date.month}月{min_birth_date.day}日。",
            f"The birth date in the ID number ({birth_text}) is before {min_birth_date}.",
            field,
            position=7,
            value=birth_text,
            reason="too_early",
        )
    today = today or dt.datetime.now(SHANGHAI).date()
    if birth_date > today:
        raise _fail(
            "id_number.birth_date_future",
            f"公民身份号码第7–14位出生日期“{birth_text}”晚于今天。",
            f"The birth date in the ID number ({birth_text}) is in the future.",
            field,
            position=7,
            value=birth_text,
        )
    expected = resident_id_check_char(body)
    if check != expected:
        raise _fail(
            "id_number.check_digit",
            f"公民身份号码校验不通过：第18位校验码应为{expected}，实际为{check}"
            "（请核对每一位是否输错）。",
            f"Check failed: character 18 should be {expected}, not {check}.",
            field,
            position=18,
            expected=expected,
            actual=check,
        )
    return ResidentId(
        number=number,
        division_code=division_code,
        birth_date=birth_date,
        sex=codes.Sex.MALE.value if int(number[16]) % 2 else codes.Sex.FEMALE.value,
        division_known=division_code in _division_index(),
    )


# --- 组织机构代码 (GB 11714) -------------------------------------------------------------------

ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY_VALUES = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


def org_code_check_char(body: str) -> str:
    """The GB 11714 check character of an 8-character body: c = 11 − Σ mod 11; 10 → X, 11 → 0.

    Raises ``KeyError`` for a character outside 0–9, A–Z (validate first).
    """
    total = sum(
        _ORG_BODY_VALUES[char] * weight for char, weight in zip(body, ORG_CODE_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def validate_org_code(value: str | None, field: str = "org_code") -> str:
    """Check a 组织机构代码 (GB 11714); returns its 9-character normal form.

    Accepts the printed form with a hyphen before the check character (``D2143569-X``),
    lower-case letters (upper-cased) and surrounding spaces. Raises ``ValidationError`` with
    code ``org_code.empty``, ``.length``, ``.format`` or ``.check_digit``.
    """
    code = value.strip().upper() if isinstance(value, str) else ""
    if not code:
        raise _fail(
            "org_code.empty", "请填写组织机构代码。", "The organisation code is empty.", field
        )
    full_width = _full_width_position(code)
    if full_width is not None:
        raise _fail(
            "org_code.format",
            f"组织机构代码第{full_width}位是全角字符，请使用半角字符。",
            f"Character {full_width} of the organisation code is full-width.",
            field,
            position=full_width,
            reason="full_width",
        )
    if len(code) == 10 and code[8] == "-":
        code = code[:8] + code[9]
    if len(code) != 9:
        raise _fail(
            "org_code.length",
            f"组织机构代码应为9位（可写作“XXXXXXXX-X”），实际为{len(code)}位。",
            f"An organisation code has 9 characters (XXXXXXXX-X), not {len(code)}.",
            field,
            length=len(code),
            expected_length=9,
        )
    for position, char in enumerate(code[:8], start=1):
        if char not in _ORG_BODY_VALUES:
            raise _fail(
                "org_code.format",
                f"组织机构代码第{position}位“{char}”无效：本体代码只能是数字或大写字母。",
                f"Character {position} of the organisation code must be a digit or letter.",
                field,
                position=position,
            )
    if not (_is_ascii_digits(code[8]) or code[8] == "X"):
        raise _fail(
            "org_code.format",
            f"组织机构代码第9位“{code[8]}”无效：校验码应为数字或X。",
            "Character 9 of the organisation code must be a digit or X.",
            field,
            position=9,
        )
    expected = org_code_check_char(code[:8])
    if code[8] != expected:
        raise _fail(
            "org_code.check_digit",
            f"组织机构代码校验不通过：第9位校验码应为{expected}，实际为{code[8]}。",
            f"Check failed: character 9 should be {expected}, not {code[8]}.",
            field,
            position=9,
            expected=expected,
            actual=code[8],
        )
    return code


# --- 统一社会信用代码 (GB 32100) ---------------------------------------------------------------

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES = {c: i for i, c in enumerate(USCC_CHARS)}
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: Registration-authority division of bodies registered nationally (GB 32100: 国家用100000).
NATIONAL_DIVISION_CODE = "100000"
#: Authority + category pairs whose organisation-code part is not rejected when it fails
#: GB 11714 (see :func:`validate_uscc`).
LENIENT_ORG_CODE_CATEGORIES = frozenset({"92"})


def uscc_check_char(body: str) -> str:
    """The GB 32100 check character of the first 17 characters: c = 31 − Σ mod 31; 31 → 0.

    Raises ``KeyError`` for a character outside the USCC alphabet (validate first).
    """
    total = sum(
        _USCC_VALUES[char] * weight for char, weight in zip(body, USCC_WEIGHTS, strict=True)
    )
    return USCC_CHARS[(31 - total % 31) % 31]


def _check_uscc_characters(number: str, field: str) -> None:
    """Full-width characters, length, alphabet and digits in 3–8 of a USCC."""
    full_width = _full_width_position(number)
    if full_width is not None:
        raise _fail(
            "uscc.format",
            f"统一社会信用代码第{full_width}位是全角字符，请切换到半角输入后重新填写。",
            f"Character {full_width} of the code is full-width; use half-width characters.",
            field,
            position=full_width,
            reason="full_width",
        )
    if len(number) != 18:
        raise _fail(
            "uscc.length",
            f"统一社会信用代码应为18位，实际为{len(number)}位。",
            f"A unified social credit code has 18 characters, not {len(number)}.",
            field,
            length=len(number),
            expected_length=18,
        )
    for position, char in enumerate(number, start=1):
        if char not in _USCC_VALUES:
            raise _fail(
                "uscc.format",
                f"统一社会信用代码第{position}位“{char}”无效：只能是数字或大写字母"
                "（不使用I、O、Z、S、V）。",
                f"Character {position} ({char!r}) is not allowed (digits and capitals "
                "except I, O, Z, S, V).",
                field,
                position=position,
                reason="alphabet",
            )
    division_code = number[2:8]
    if not division_code.isdigit():
        position = next(i for i, c in enumerate(division_code, start=3) if not c.isdigit())
        raise _fail(
            "uscc.format",
            f"统一社会信用代码第{position}位“{number[position - 1]}”无效：第3–8位是行政区划码，"
            "只能是数字。",
            f"Character {position} must be a digit (positions 3–8 are a division code).",
            field,
            position=position,
            reason="division_not_digits",
        )


@dataclass(frozen=True, slots=True)
class Uscc:
    """A valid 统一社会信用代码, split into its GB 32100 parts."""

    number: str
    registration_authority: str  # position 1 (codes.UsccAuthority)
    category: str  # position 2 (codes.USCC_CATEGORIES[authority])
    division_code: str  # positions 3–8, the registration authority's division
    organisation_code: str  # positions 9–17 (GB 11714)
    check_char: str  # position 18
    division_known: bool  # in a division list, or 100000 (national)
    org_code_valid: bool  # False only for tolerated 个体工商户 codes (see validate_uscc)

    @property
    def code(self) -> str:
        """The normalised code (same as ``number``)."""
        return self.number

    @property
    def registration_authority_name(self) -> str:
        return codes.UsccAuthority(self.registration_authority).label

    @property
    def category_name(self) -> str:
        return codes.USCC_CATEGORIES[self.registration_authority][self.category]


def validate_uscc(value: str | None, field: str = "uscc") -> Uscc:
    """Check a 统一社会信用代码 (GB 32100) and return its parts.

    Surrounding spaces are trimmed and letters upper-cased. Checked, in order: length; the
    alphabet (digits and capitals without I, O, Z, S, V; positions 3–8 digits); the
    registration authority (1 机构编制 … 9 工商, A, N, Y) and the category allowed under it; the
    division (a real province, or 100000 for national registration — an unknown code inside a
    real province passes, with ``division_known`` False); the check character; then the
    organisation code of positions 9–17 against GB 11714.

    个体工商户 (92…) are the one exception to the last check: they had no 组织机构代码 before
    2015 and their 主体标识码 were assigned by the registration system; reports say some do not
    satisfy GB 11714 although they are genuine. We found no authoritative statement or
    published example either way, so such a code is accepted with ``org_code_valid`` False
    (its overall check character still has to be right) instead of being rejected.

    Raises ``ValidationError`` with code ``uscc.empty``, ``.length``, ``.format``,
    ``.authority``, ``.category``, ``.division``, ``.check_digit`` or ``.org_code``.
    """
    number = value.strip().upper() if isinstance(value, str) else ""
    if not number:
        raise _fail(
            "uscc.empty",
            "请填写统一社会信用代码。",
            "The unified social credit code is empty.",
            field,
        )
    _check_uscc_characters(number, field)
    authority, category, division_code = number[0], number[1], number[2:8]
    categories = codes.USCC_CATEGORIES.get(authority)
    if categories is None:
        raise _fail(
            "uscc.authority",
            f"统一社会信用代码第1位“{authority}”不是有效的登记管理部门代码。",
            f"Character 1 ({authority}) is not a registration-authority code.",
            field,
            position=1,
            allowed=list(codes.USCC_CATEGORIES),
        )
    if category not in categories:
        authority_name = codes.UsccAuthority(authority).label
        raise _fail(
            "uscc.category",
            f"统一社会信用代码第2位“{category}”不是{authority_name}部门（第1位为{authority}）"
            f"的机构类别代码，可用：{'、'.join(categories)}。",
            f"Character 2 ({category}) is not a category of registration authority {authority}.",
            field,
            position=2,
            allowed=list(categories),
        )
    index = _division_index()
    if division_code == NATIONAL_DIVISION_CODE:
        division_known = True
    elif division_code[:2] in PROVINCE_PREFIXES:
        division_known = division_code in index
    else:
        raise _fail(
            "uscc.division",
            f"统一社会信用代码第3–8位“{division_code}”不是有效的行政区划码"
            f"（第3–4位“{division_code[:2]}”不是省级代码）。",
            f"Characters 3–8 ({division_code}) are not a division code.",
            field,
            position=3,
            value=division_code,
        )
    expected = uscc_check_char(number[:17])
    if number[17] != expected:
        raise _fail(
            "uscc.check_digit",
            f"统一社会信用代码校验不通过：第18位校验码应为{expected}，实际为{number[17]}"
            "（请核对每一位是否输错）。",
            f"Check failed: character 18 should be {expected}, not {number[17]}.",
            field,
            position=18,
            expected=expected,
            actual=number[17],
        )
    organisation_code = number[8:17]
    expected_org = org_code_check_char(organisation_code[:8])
    org_code_valid = organisation_code[8] == expected_org
    if not org_code_valid and number[:2] not in LENIENT_ORG_CODE_CATEGORIES:
        raise _fail(
            "uscc.org_code",
            f"统一社会信用代码第9–17位组织机构代码校验不通过：第17位应为{expected_org}，"
            f"实际为{organisation_code[8]}。",
            f"Characters 9–17 fail the organisation-code check: character 17 should be "
            f"{expected_org}, not {organisation_code[8]}.",
            field,
            position=17,
            expected=expected_org,
            actual=organisation_code[8],
        )
    return Uscc(
        number=number,
        registration_authority=authority,
        category=category,
        division_code=division_code,
        organisation_code=organisation_code,
        check_char=number[17],
        division_known=division_known,
        org_code_valid=org_code_valid,
    )


# --- 行政区划代码 (GB/T 2260) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DivisionInfo:
    """A known division code (6 digits) or an extension of one (9 or 12 digits)."""

    code: str  # as given (digits only)
    name: str  # "" for township/village extensions: no township data is shipped
    level: int  # 1 province … 3 county, 4 township, 5 village
    parent_code: str | None
    is_current: bool  # of the 6-digit part: False when only the 2023 list knows it
    full_name: str  # of the 6-digit part for extensions
    base_code: str  # the 6-digit part that was looked up


def validate_division_code(value: str | None, field: str = "division_code") -> DivisionInfo:
    """Check a 行政区划代码 and describe it.

    6 digits: must be a code of the 2026 list or of the 2023 list (``is_current`` tells which).
    9 digits (township, as in the GB/T 39046 datasets) and 12 digits (statistical codes,
    township + village): accepted when their 6-digit prefix is a known prefecture or county
    code; the extension itself cannot be checked because no township data is shipped. An
    all-zero extension (``511602000``, ``511602000000``) denotes the 6-digit division itself.
    Parents: a township's parent is its 6-digit code; a village's is its township in 12 digits
    (``511602001001`` → ``511602001000``).

    Raises ``ValidationError`` with code ``division.empty``, ``.format``, ``.length``,
    ``.province`` or ``.unknown``.
    """
    code = value.strip() if isinstance(value, str) else ""
    if not code:
        raise _fail("division.empty", "请填写行政区划代码。", "The division code is empty.", field)
    if not _is_ascii_digits(code):
        position = next(i for i, c in enumerate(code, start=1) if not _is_ascii_digits(c))
        raise _fail(
            "division.format",
            f"行政区划代码第{position}位“{code[position - 1]}”不是半角数字。",
            f"Character {position} of the division code is not a digit.",
            field,
            position=position,
        )
    if len(code) not in (6, 9, 12):
        raise _fail(
            "division.length",
            f"行政区划代码应为6位（县级及以上）、9位（乡级）或12位（统计用代码），"
            f"实际为{len(code)}位。",
            f"A division code has 6, 9 or 12 digits, not {len(code)}.",
            field,
            length=len(code),
        )
    base = code[:6]
    record = _division_index().get(base)
    if record is None:
        if base[:2] not in PROVINCE_PREFIXES:
            raise _fail(
                "division.province",
                f"行政区划代码前两位“{base[:2]}”不是有效的省级代码。",
                f"The first two digits ({base[:2]}) are not a province code.",
                field,
                value=base[:2],
            )
        raise _fail(
            "division.unknown",
            f"行政区划代码“{base}”不在现行（2026年）或2023年的区划代码表中。",
            f"Division code {base} is in neither the 2026 nor the 2023 division list.",
            field,
            value=base,
        )
    township, village = code[6:9], code[9:12]
    if set(township + village) <= {"0"}:
        return DivisionInfo(
            code=code,
            name=record.name,
            level=record.level,
            parent_code=record.parent_code,
            is_current=record.is_current,
            full_name=record.full_name,
            base_code=base,
        )
    if record.level == 1:
        raise _fail(
            "division.format",
            f"行政区划代码“{code}”的乡级部分须挂在地级或县级代码之下，“{base}”是省级代码。",
            f"Township codes extend a prefecture or county code; {base} is a province.",
            field,
            value=code,
        )
    if township == "000":
        raise _fail(
            "division.format",
            f"行政区划代码“{code}”的第7–9位（乡级）为000，不能再有村级代码。",
            f"Digits 7–9 (township) of {code} are 000, so there can be no village part.",
            field,
            position=7,
        )
    if village in ("", "000"):
        level, parent = 4, base
    else:
        level, parent = 5, code[:9] + "000"
    return DivisionInfo(
        code=code,
        name="",
        level=level,
        parent_code=parent,
        is_current=record.is_current,
        full_name=record.full_name,
        base_code=base,
    )


# --- 手机号码 ------------------------------------------------------------------------------------


def validate_mobile(value: str | None, field: str = "mobile") -> str:
    """Check a mainland mobile number (``1[3-9]`` + 9 digits); returns the 11-digit form.

    Accepts a ``+86``, ``0086`` or ``86`` prefix and spaces or hyphens anywhere
    (``+86 138-1234-5678``). Raises ``ValidationError`` with code ``mobile.empty``,
    ``.format``, ``.length`` or ``.prefix``.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise _fail("mobile.empty", "请填写手机号码。", "The mobile number is empty.", field)
    full_width = _full_width_position(text)
    if full_width is not None:
        raise _fail(
            "mobile.format",
            f"手机号码第{full_width}位是全角字符，请使用半角数字。",
            f"Character {full_width} of the mobile number is full-width.",
            field,
            position=full_width,
            reason="full_width",
        )
    digits = text.replace(" ", "").replace("-", "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _is_ascii_digits(digits):
        bad = next(c for c in digits if not _is_ascii_digits(c)) if digits else ""
        raise _fail(
            "mobile.format",
            f"手机号码含有无效字符“{bad}”：只能是数字，可带+86前缀、空格或连字符。",
            "A mobile number has only digits (with an optional +86, spaces or hyphens).",
            field,
            reason="not_digit",
        )
    if len(digits) != 11:
        raise _fail(
            "mobile.length",
            f"手机号码应为11位数字，实际为{len(digits)}位。",
            f"A mobile number has 11 digits, not {len(digits)}.",
            field,
            length=len(digits),
            expected_length=11,
        )
    if digits[0] != "1" or digits[1] not in "3456789":
        raise _fail(
            "mobile.prefix",
            f"手机号码应以13–19开头，实际以“{digits[:2]}”开头。",
            f"A mainland mobile number starts with 13–19, not {digits[:2]}.",
            field,
            value=digits[:2],
        )
    return digits


# --- 证件号码 by 证件类型 -----------------------------------------------------------------------

_RESIDENCE_PERMIT_PREFIXES = {
    codes.IdentityDocumentType.HK_MACAO_RESIDENCE_PERMIT.value: ("810000", "820000"),
    codes.IdentityDocumentType.TAIWAN_RESIDENCE_PERMIT.value: (TAIWAN_RESIDENCE_PERMIT_PREFIX,),
}
DOCUMENT_NUMBER_MAX_LENGTH = 18  # GB/T 39046: 证件号码 an..18


def validate_document_number(
    document_type: str, number: str | None, field: str = "document_number"
) -> str:
    """Check a 证件号码 against its 证件类型 (:class:`~zwfw.core.codes.IdentityDocumentType`).

    居民身份证 / 临时居民身份证 → :func:`validate_resident_id`; 港澳 / 台湾居民居住证 → the same,
    with address code 810000/820000 or 830000; 统一社会信用代码 → :func:`validate_uscc`;
    组织机构代码证 → :func:`validate_org_code`; any other type → 1–18 ASCII letters and digits
    (upper-cased). Returns the normal form.

    Raises ``ValidationError``: ``code.unknown`` for the type, the codes of the specific
    validators, ``document.permit_prefix``, ``document.empty`` or ``document.format``.
    """
    kind = codes.validate_code(codes.IdentityDocumentType, document_type, "document_type")
    types = codes.IdentityDocumentType
    if kind in (types.RESIDENT_ID_CARD, types.TEMPORARY_RESIDENT_ID_CARD):
        return validate_resident_id(number, field).number
    if kind in _RESIDENCE_PERMIT_PREFIXES:
        resident = validate_resident_id(number, field)
        prefixes = _RESIDENCE_PERMIT_PREFIXES[kind]
        if resident.division_code not in prefixes:
            raise _fail(
                "document.permit_prefix",
                f"{types(kind).label}号码应以{'或'.join(prefixes)}开头。",
                f"A {kind} residence-permit number starts with {' or '.join(prefixes)}.",
                field,
                allowed=list(prefixes),
            )
        return resident.number
    if kind == types.USCC:
        return validate_uscc(number, field).number
    if kind == types.ORGANISATION_CODE_CERTIFICATE:
        return validate_org_code(number, field)
    text = number.strip().upper() if isinstance(number, str) else ""
    if not text:
        raise _fail("document.empty", "请填写证件号码。", "The document number is empty.", field)
    if len(text) > DOCUMENT_NUMBER_MAX_LENGTH or not text.isascii() or not text.isalnum():
        raise _fail(
            "document.format",
            f"证件号码应为1–{DOCUMENT_NUMBER_MAX_LENGTH}位半角字母或数字。",
            f"A document number has 1–{DOCUMENT_NUMBER_MAX_LENGTH} ASCII letters or digits.",
            field,
            length=len(text),
        )
    return text
