"""电子证照标识 — the electronic licence identifier of GB/T 36904-2018.

Layout (SPEC §9)::

    1.2.156.3005.2.{证照类型代码}.{证照颁发机构代码}.{证照顺序号}.{版本号}.{校验位}

* ``1.2.156.3005.2`` — the root (an OID arc registered for electronic licences);
* 证照类型代码 (type code), 21 characters: the 18-character 统一社会信用代码 of the department
  that defines the licence type, then a 3-digit sequence number of the type within it
  (``11100000000013338W011`` = 住房和城乡建设部's type 011);
* 证照颁发机构代码 (issuer), the 18-character 统一社会信用代码 of the issuing body;
* 证照顺序号 (serial), 1–20 characters ``0–9A–Z`` chosen by the issuer;
* 版本号 (version), 3 digits (``001`` for the first issue, raised on renewal or change);
* 校验位 (check character), ISO/IEC 7064 MOD 37,36 over everything after the root with the
  dots removed (characters ``0–9`` → 0–9, ``A–Z`` → 10–35).

ISO/IEC 7064 MOD 37,36 is a "hybrid" system with modulus M = 36 (the alphabet size) and
M + 1 = 37 (prime). Reading the characters a₁ … aₙ from the left, with P₁ = M::

    Sⱼ = (Pⱼ + aⱼ) mod M, written as M when the remainder is 0   (‖·‖ₘ of the standard)
    Pⱼ₊₁ = (2 · Sⱼ) mod (M + 1)

and the check character c is the one for which (Pₙ₊₁ + c) mod M = 1, i.e.
c = (1 − Pₙ₊₁) mod M.

What it catches (enumerated over all 36 states and character pairs in the tests): every
single-character substitution (each step is a bijection of the state for fixed P, and a
different character gives a different next state); and every transposition of two adjacent
characters *except* two whose values differ by 1 (mod 36) swapped at a point where the
running state gives them S = 18 and 19 — e.g. ``…45…`` ↔ ``…54…`` in one state of 36. That is
72 of the 45,360 (state, a, b) cases, about 0.16 % of random adjacent transpositions of
distinct characters. The limit is the hybrid system's, which GB/T 36904 prescribes.

Letters are upper-cased and surrounding spaces trimmed before anything is checked, as for
统一社会信用代码: ``is_valid`` accepts an identifier typed in lower case.
"""

from __future__ import annotations

from dataclasses import dataclass

from zwfw.core.errors import ValidationError
from zwfw.core.validators import validate_uscc

#: The root arc every electronic licence identifier starts with, with its trailing dot.
ROOT = "1.2.156.3005.2."
#: ISO/IEC 7064 alphabet for MOD 37,36: a character's value is its index.
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUES = {char: value for value, char in enumerate(ALPHABET)}
_M = 36  # modulus of the hybrid system; M + 1 = 37

TYPE_CODE_LENGTH = 21
USCC_LENGTH = 18
SERIAL_MAX_LENGTH = 20
VERSION_LENGTH = 3

_PART_NAMES = {
    "root": "根标识",
    "type_code": "证照类型代码",
    "issuer": "证照颁发机构代码",
    "serial": "证照顺序号",
    "version": "版本号",
    "check": "校验位",
}


def _fail(code: str, part: str, zh: str, en: str, **details: object) -> ValidationError:
    return ValidationError(
        code,
        f"电子证照标识的{_PART_NAMES[part]}无效：{zh}",
        en,
        field="identifier",
        details={"part": part, **details},
    )


def _compact(text: str) -> str:
    """``text`` without the root prefix (if present) and without dots."""
    body = text.strip().upper()
    if body.startswith(ROOT):
        body = body[len(ROOT) :]
    return body.replace(".", "")


def _mod37_36(chars: str) -> int:
    """Pₙ₊₁ of the hybrid recursion over ``chars`` (all in :data:`ALPHABET`)."""
    p = _M
    for char in chars:
        s = (p + _VALUES[char]) % _M or _M
        p = (2 * s) % (_M + 1)
    return p


def check_character(identifier_without_check: str) -> str:
    """The MOD 37,36 check character of an identifier written without its last ``.X`` part.

    The argument may carry the root prefix ``1.2.156.3005.2.`` or not, and may be dotted or
    compact — the check is computed over what remains once the root and all dots are removed,
    as GB/T 36904 says. So ``check_character("1.2.156.3005.2.T.I.S.001")``,
    ``check_character("T.I.S.001")`` and ``check_character("TIS001")`` agree. Only the
    alphabet is checked here (any string of ``0–9A–Z`` has a check character, which is what
    makes the ISO 7064 examples usable); :func:`parse_identifier` checks the structure.

    Raises ``ValidationError`` ``licences.identifier_format`` for an empty body or a
    character outside ``0–9A–Z``.
    """
    body = _compact(identifier_without_check)
    if not body:
        raise ValidationError(
            "licences.identifier_format",
            "电子证照标识为空，无法计算校验位。",
            "Nothing to compute a check character over.",
            field="identifier",
            details={"part": "body", "reason": "empty"},
        )
    for position, char in enumerate(body, start=1):
        if char not in _VALUES:
            raise ValidationError(
                "licences.identifier_format",
                f"电子证照标识（去掉根标识和点后）第{position}位“{char}”无效："
                "只能是数字0–9和大写字母A–Z。",
                f"Character {position} ({char!r}) is not 0-9 or A-Z.",
                field="identifier",
                details={"part": "body", "reason": "alphabet", "position": position},
            )
    return ALPHABET[(1 - _mod37_36(body)) % _M]


@dataclass(frozen=True, slots=True)
class LicenceIdentifier:
    """A valid 电子证照标识, split into its parts."""

    type_code: str  # 21 characters: defining department's USCC + 3-digit sequence
    issuer_uscc: str  # 18 characters
    serial: str  # 1-20 characters 0-9A-Z
    version: str  # 3 digits
    check: str  # 1 character

    @property
    def defining_department_uscc(self) -> str:
        """统一社会信用代码 of the department that defines the licence type."""
        return self.type_code[:USCC_LENGTH]

    @property
    def type_sequence(self) -> str:
        """The 3-digit number of the type within its defining department."""
        return self.type_code[USCC_LENGTH:]

    @property
    def version_number(self) -> int:
        return int(self.version)

    @property
    def text(self) -> str:
        """The identifier as written: root, parts and check character joined by dots."""
        return (
            f"{ROOT}{self.type_code}.{self.issuer_uscc}.{self.serial}.{self.version}.{self.check}"
        )

    def __str__(self) -> str:
        return self.text


def _validate_type_code(value: str) -> str:
    code = value.strip().upper()
    if len(code) != TYPE_CODE_LENGTH:
        raise _fail(
            "licences.identifier_format",
            "type_code",
            f"应为{TYPE_CODE_LENGTH}位（定义部门的统一社会信用代码18位加3位顺序号），"
            f"实际为{len(code)}位。",
            f"The type code must be {TYPE_CODE_LENGTH} characters, got {len(code)}.",
            reason="length",
        )
    if not (code[USCC_LENGTH:].isascii() and code[USCC_LENGTH:].isdigit()):
        raise _fail(
            "licences.identifier_format",
            "type_code",
            f"后3位“{code[USCC_LENGTH:]}”应为数字顺序号。",
            "The last 3 characters of the type code must be digits.",
            reason="sequence",
        )
    try:
        validate_uscc(code[:USCC_LENGTH])
    except ValidationError as error:
        raise _fail(
            "licences.identifier_format",
            "type_code",
            f"前18位不是有效的统一社会信用代码。{error.message}",
            f"The first 18 characters of the type code are not a valid USCC: {error.message_en}",
            reason="uscc",
            cause=error.code,
        ) from error
    return code


def _validate_issuer(value: str) -> str:
    code = value.strip().upper()
    if len(code) != USCC_LENGTH:
        raise _fail(
            "licences.identifier_format",
            "issuer",
            f"应为18位统一社会信用代码，实际为{len(code)}位。",
            f"The issuer must be an 18-character USCC, got {len(code)} characters.",
            reason="length",
        )
    try:
        validate_uscc(code)
    except ValidationError as error:
        raise _fail(
            "licences.identifier_format",
            "issuer",
            f"不是有效的统一社会信用代码。{error.message}",
            f"The issuer is not a valid USCC: {error.message_en}",
            reason="uscc",
            cause=error.code,
        ) from error
    return code


def _validate_serial(value: str) -> str:
    serial = value.strip().upper()
    if not 1 <= len(serial) <= SERIAL_MAX_LENGTH:
        raise _fail(
            "licences.identifier_format",
            "serial",
            f"应为1–{SERIAL_MAX_LENGTH}位，实际为{len(serial)}位。",
            f"The serial must be 1-{SERIAL_MAX_LENGTH} characters, got {len(serial)}.",
            reason="length",
        )
    bad = next((char for char in serial if char not in _VALUES), None)
    if bad is not None:
        raise _fail(
            "licences.identifier_format",
            "serial",
            f"含有无效字符“{bad}”（只能是数字0–9和大写字母A–Z）。",
            f"The serial contains {bad!r}; only 0-9 and A-Z are allowed.",
            reason="alphabet",
        )
    return serial


def _validate_version(value: str | int) -> str:
    if isinstance(value, int):
        if not 0 <= value < 10**VERSION_LENGTH:
            raise _fail(
                "licences.identifier_format",
                "version",
                "应在000–999之间。",
                "The version must be between 0 and 999.",
                reason="range",
            )
        return f"{value:03d}"
    version = value.strip()
    if not (len(version) == VERSION_LENGTH and version.isascii() and version.isdigit()):
        raise _fail(
            "licences.identifier_format",
            "version",
            f"应为3位数字，实际为“{version}”。",
            f"The version must be 3 digits, got {version!r}.",
            reason="format",
        )
    return version


def build_identifier(type_code: str, issuer_uscc: str, serial: str, version: str | int) -> str:
    """The full identifier (with root and check character) of the given parts.

    ``version`` may be an int (``1`` → ``"001"``) or the 3-digit string. Each part is
    validated as :func:`parse_identifier` does; letters are upper-cased.
    """
    type_code = _validate_type_code(type_code)
    issuer = _validate_issuer(issuer_uscc)
    serial = _validate_serial(serial)
    version_text = _validate_version(version)
    body = f"{type_code}.{issuer}.{serial}.{version_text}"
    return f"{ROOT}{body}.{check_character(body)}"


def parse_identifier(text: str | None) -> LicenceIdentifier:
    """Check a 电子证照标识 and return its parts.

    Checked in order: the root, the number of parts, the type code (length, 3-digit sequence,
    the defining department's USCC), the issuer's USCC, the serial, the version, the check
    character. Raises ``ValidationError`` with code ``licences.identifier_empty``,
    ``licences.identifier_format`` (``details["part"]`` names the part: ``root``,
    ``type_code``, ``issuer``, ``serial``, ``version``, ``check``) or
    ``licences.identifier_check``.
    """
    value = text.strip().upper() if isinstance(text, str) else ""
    if not value:
        raise ValidationError(
            "licences.identifier_empty",
            "请填写电子证照标识。",
            "The licence identifier is empty.",
            field="identifier",
        )
    if not value.startswith(ROOT):
        raise _fail(
            "licences.identifier_format",
            "root",
            f"应以“{ROOT}”开头。",
            f"A licence identifier starts with {ROOT!r}.",
            reason="root",
        )
    parts = value[len(ROOT) :].split(".")
    if len(parts) != 5:
        raise _fail(
            "licences.identifier_format",
            "root",
            "根标识之后应有5段（证照类型代码、颁发机构代码、顺序号、版本号、校验位），"
            f"实际为{len(parts)}段。",
            f"Expected 5 dot-separated parts after the root, got {len(parts)}.",
            reason="parts",
        )
    type_code, issuer, serial, version, check = parts
    type_code = _validate_type_code(type_code)
    issuer = _validate_issuer(issuer)
    serial = _validate_serial(serial)
    version = _validate_version(version)
    if len(check) != 1 or check not in _VALUES:
        raise _fail(
            "licences.identifier_format",
            "check",
            "应为1位数字或大写字母。",
            "The check character must be one character 0-9 or A-Z.",
            reason="format",
        )
    expected = check_character(f"{type_code}{issuer}{serial}{version}")
    if check != expected:
        raise ValidationError(
            "licences.identifier_check",
            f"电子证照标识校验不通过：校验位应为{expected}，实际为{check}。",
            f"Check character mismatch: expected {expected}, got {check}.",
            field="identifier",
            details={"part": "check", "expected": expected, "actual": check},
        )
    return LicenceIdentifier(type_code, issuer, serial, version, check)


def is_valid(text: str | None) -> bool:
    """Whether ``text`` is a valid 电子证照标识 (see :func:`parse_identifier`)."""
    try:
        parse_identifier(text)
    except ValidationError:
        return False
    return True
