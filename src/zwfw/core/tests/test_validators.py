"""Identifier validators against the standards' own examples and published codes."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from zwfw.core.errors import ValidationError
from zwfw.core.validators import (
    DivisionInfo,
    ResidentId,
    Uscc,
    org_code_check_char,
    resident_id_check_char,
    uscc_check_char,
    validate_division_code,
    validate_document_number,
    validate_mobile,
    validate_org_code,
    validate_resident_id,
    validate_uscc,
)

TODAY = dt.date(2026, 11, 27)


def _error(call, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- 公民身份号码 (GB 11643-1999) -------------------------------------------------------------


def test_gb_11643_example_beijing_chaoyang() -> None:
    # GB 11643-1999 appendix A: 北京市朝阳区, born 1949-12-31, female; check character X.
    assert resident_id_check_char("11010519491231002") == "X"
    assert validate_resident_id("11010519491231002X") == ResidentId(
        number="11010519491231002X",
        division_code="110105",
        birth_date=dt.date(1949, 12, 31),
        sex="2",
        division_known=True,
    )


def test_gb_11643_example_shantou_chaoyang_county_born_1880() -> None:
    # GB 11643-1999 appendix A: 广东省汕头市潮阳县 (440524, abolished), born 1880-01-01, male.
    assert resident_id_check_char("44052418800101001") == "4"
    error = _error(validate_resident_id, "440524188001010014")
    assert error.code == "id_number.birth_date"  # before the default 1900-01-01 floor
    assert error.message == "公民身份号码第7–14位出生日期“18800101”早于1900年1月1日。"
    assert error.details["reason"] == "too_early"
    resident = validate_resident_id("440524188001010014", min_birth_date=dt.date(1800, 1, 1))
    assert resident == ResidentId(
        number="440524188001010014",
        division_code="440524",
        birth_date=dt.date(1880, 1, 1),
        sex="1",
        division_known=False,  # 潮阳县 is in neither list, but the number is valid
    )
    assert resident.sequence == "001"
    assert resident.check_char == "4"
    assert resident.division_name == ""


def test_resident_id_normalises_and_describes() -> None:
    resident = validate_resident_id("  11010519491231002x \t")
    assert resident.number == "11010519491231002X"
    assert resident.division_name == "北京市朝阳区"
    # 2023-only code (a development zone) is known; a 2026 county too.
    assert validate_resident_id(_id("130171", "19900101", "123")).division_known is True
    assert validate_resident_id(_id("511602", "20000229", "002")).sex == "2"


def _id(division: str, birth: str, sequence: str) -> str:
    body = division + birth + sequence
    return body + resident_id_check_char(body)


def test_residence_permit_numbers_pass() -> None:
    # 港澳台居民居住证 use the GB 11643 layout with 810000 / 820000 / 830000.
    for prefix in ("810000", "820000", "830000"):
        assert validate_resident_id(_id(prefix, "19900101", "001")).division_code == prefix
    assert validate_resident_id(_id("830000", "19900101", "001")).division_known is False
    assert _error(validate_resident_id, _id("830100", "19900101", "001")).code == (
        "id_number.province"
    )


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        (None, "id_number.empty", "请填写公民身份号码。"),
        ("   ", "id_number.empty", "请填写公民身份号码。"),
        (
            "11010519491231002",
            "id_number.length",
            "公民身份号码应为18位，实际为17位。",
        ),
        (
            "110105491231002",
            "id_number.length",
            "公民身份号码应为18位，实际为15位（15位的老号码请使用升级后的18位号码）。",
        ),
        (
            "１１０１０５１９４９１２３１００２Ｘ",
            "id_number.format",
            "公民身份号码第1位是全角字符“１”，请切换到半角输入后重新填写。",
        ),
        (
            "1101051949123100２X",
            "id_number.format",
            "公民身份号码第17位是全角字符“２”，请切换到半角输入后重新填写。",
        ),
        (
            "1101A519491231002X",
            "id_number.format",
            "公民身份号码第5位“A”不是数字：前17位必须是数字。",
        ),
        (
            "11010519491231002Y",
            "id_number.format",
            "公民身份号码第18位“Y”无效：应为数字或X。",
        ),
        (
            "99010519491231002X",
            "id_number.province",
            "公民身份号码第1–2位“99”不是有效的省级行政区划代码。",
        ),
        (
            "11010519490230002X",
            "id_number.birth_date",
            "公民身份号码第7–14位出生日期“19490230”不是有效日期。",
        ),
        (
            "11010519491331002X",
            "id_number.birth_date",
            "公民身份号码第7–14位出生日期“19491331”不是有效日期。",
        ),
        (
            "110105202611280021",
            "id_number.birth_date_future",
            "公民身份号码第7–14位出生日期“20261128”晚于今天。",
        ),
        (
            "110105194912310021",
            "id_number.check_digit",
            "公民身份号码校验不通过：第18位校验码应为X，实际为1（请核对每一位是否输错）。",
        ),
    ],
)
def test_resident_id_errors(value: str | None, code: str, message: str) -> None:
    error = _error(validate_resident_id, value, today=TODAY)
    assert error.code == code
    assert error.message == message
    assert error.details["field"] == "id_number"


def test_resident_id_error_details() -> None:
    error = _error(validate_resident_id, "110105194912310021", "applicant.id", today=TODAY)
    assert error.details == {
        "field": "applicant.id",
        "position": 18,
        "expected": "X",
        "actual": "1",
    }
    assert error.message_en == "Check failed: character 18 should be X, not 1."
    assert _error(validate_resident_id, "1101051949123100", today=TODAY).details == {
        "field": "id_number",
        "length": 16,
        "expected_length": 18,
    }
    # Born today is fine; tomorrow is not.
    assert validate_resident_id(_id("110105", "20261127", "001"), today=TODAY).birth_date == TODAY


def test_random_valid_ids_pass_and_a_changed_check_character_fails() -> None:
    rng = random.Random(11643)
    from zwfw.organisations.divisions import division_index

    counties = sorted(c for c, r in division_index().items() if r.level == 3)
    start, span = dt.date(1900, 1, 1).toordinal(), (TODAY - dt.date(1900, 1, 1)).days
    for _ in range(10_000):
        birth = dt.date.fromordinal(start + rng.randrange(span + 1))
        body = f"{rng.choice(counties)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        check = resident_id_check_char(body)
        resident = validate_resident_id(body + check, today=TODAY)
        assert resident.birth_date == birth
        assert resident.sex == ("1" if int(body[16]) % 2 else "2")
        wrong = rng.choice([c for c in "0123456789X" if c != check])
        with pytest.raises(ValidationError) as caught:
            validate_resident_id(body + wrong, today=TODAY)
        assert caught.value.code == "id_number.check_digit"
        assert caught.value.details["expected"] == check


# --- 组织机构代码 (GB 11714-1997) --------------------------------------------------------------


def test_gb_11714_example() -> None:
    # GB 11714-1997: body D2143569, check character X.
    assert org_code_check_char("D2143569") == "X"
    assert validate_org_code("D2143569-X") == "D2143569X"
    assert validate_org_code(" d2143569x ") == "D2143569X"
    # The organisation code inside GB 32100's example 91350100M000100Y43.
    assert validate_org_code("M000100Y4") == "M000100Y4"


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("", "org_code.empty", "请填写组织机构代码。"),
        ("D2143569", "org_code.length", "组织机构代码应为9位（可写作“XXXXXXXX-X”），实际为8位。"),
        (
            "D214356-9X",
            "org_code.length",
            "组织机构代码应为9位（可写作“XXXXXXXX-X”），实际为10位。",
        ),
        ("Ｄ2143569X", "org_code.format", "组织机构代码第1位是全角字符，请使用半角字符。"),
        (
            "D21435_9X",
            "org_code.format",
            "组织机构代码第7位“_”无效：本体代码只能是数字或大写字母。",
        ),
        ("D2143569Y", "org_code.format", "组织机构代码第9位“Y”无效：校验码应为数字或X。"),
        (
            "D21435691",
            "org_code.check_digit",
            "组织机构代码校验不通过：第9位校验码应为X，实际为1。",
        ),
    ],
)
def test_org_code_errors(value: str, code: str, message: str) -> None:
    error = _error(validate_org_code, value)
    assert (error.code, error.message) == (code, message)


# --- 统一社会信用代码 (GB 32100-2015) ----------------------------------------------------------

# Published codes: (code, authority, category, division).
PUBLISHED_USCCS = [
    # GB 32100-2015 appendix B, the standard's own example.
    ("91350100M000100Y43", "9", "1", "350100"),
    # Nationally registered body (100000) whose code prefixes the national 居民身份证
    # licence-type code 11100000000013127D001 used by provincial platforms.
    ("11100000000013127D", "1", "1", "100000"),
    # 晋中市文化和旅游局 (a government body), printed in a procurement contract.
    ("11140800558745220K", "1", "1", "140800"),
    # 浙江大学 and 复旦大学 (事业单位 registered nationally), printed on invoices and notices.
    ("12100000470095016Q", "1", "2", "100000"),
    ("12100000425006117P", "1", "2", "100000"),
    # A foundation registered with 民政部, printed on its website.
    ("53100000500019795A", "5", "3", "100000"),
    # Companies and a 个体工商户 listed as found online by python-stdnum's tests.
    ("91110000600037341L", "9", "1", "110000"),
    ("9144030071526726XG", "9", "1", "440300"),
    ("92340602MA2PBMEM24", "9", "2", "340602"),
]


@pytest.mark.parametrize(("code", "authority", "category", "division"), PUBLISHED_USCCS)
def test_published_usccs(code: str, authority: str, category: str, division: str) -> None:
    uscc = validate_uscc(code)
    assert (uscc.number, uscc.registration_authority, uscc.category, uscc.division_code) == (
        code,
        authority,
        category,
        division,
    )
    assert uscc.organisation_code == code[8:17]
    assert uscc.check_char == code[17]
    assert uscc.org_code_valid is True
    assert uscc.division_known is True
    assert uscc.code == code


def test_gb_32100_example_parts_and_names() -> None:
    assert uscc_check_char("91350100M000100Y4") == "3"
    uscc = validate_uscc(" 91350100m000100y43 ")
    assert uscc == Uscc(
        number="91350100M000100Y43",
        registration_authority="9",
        category="1",
        division_code="350100",
        organisation_code="M000100Y4",
        check_char="3",
        division_known=True,
        org_code_valid=True,
    )
    assert (uscc.registration_authority_name, uscc.category_name) == ("工商", "企业")
    government = validate_uscc("11140800558745220K")
    assert (government.registration_authority_name, government.category_name) == (
        "机构编制",
        "机关",
    )
    assert validate_uscc("53100000500019795A").category_name == "基金会"
    assert validate_uscc("92340602MA2PBMEM24").category_name == "个体工商户"


def test_uscc_check_character_31_maps_to_0() -> None:
    # Σ mod 31 = 0 gives 31 − 0 = 31, written 0 (GB 32100).
    body = next(
        b
        for b in (f"9111010{n:01d}MA01ABC{d}" for n in range(10) for d in "0123456789")
        if uscc_check_char(b + org_code_check_char(b[8:16])) == "0"
    )
    full = body + org_code_check_char(body[8:16])
    assert validate_uscc(full + "0").check_char == "0"


def test_individual_business_with_a_non_gb_11714_organisation_code_is_flagged() -> None:
    # Same 17 characters except the category: an enterprise (91) is rejected, a 个体工商户 (92)
    # passes with the flag, as long as its overall check character is right.
    error = _error(validate_uscc, "91110108MA01ABCD0B")
    assert error.code == "uscc.org_code"
    assert error.message == (
        "统一社会信用代码第9–17位组织机构代码校验不通过：第17位应为5，实际为0。"
    )
    assert error.details == {"field": "uscc", "position": 17, "expected": "5", "actual": "0"}
    individual = validate_uscc("92110108MA01ABCD08")
    assert individual.org_code_valid is False
    assert individual.category_name == "个体工商户"


def test_real_code_with_a_wrong_check_character_is_rejected() -> None:
    # 91350203M0001QKT19 is a real Xiamen company (hutool issue #4119: codes issued in Xiamen
    # before 2016 break GB 32100). We do not accept them: the check character should be F.
    error = _error(validate_uscc, "91350203M0001QKT19")
    assert error.code == "uscc.check_digit"
    assert error.details["expected"] == "F"


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        (None, "uscc.empty", "请填写统一社会信用代码。"),
        ("9135010M000100Y43", "uscc.length", "统一社会信用代码应为18位，实际为17位。"),
        (
            "91350100M000100Ｙ43",
            "uscc.format",
            "统一社会信用代码第16位是全角字符，请切换到半角输入后重新填写。",
        ),
        (
            "91350100M0001O0Y43",
            "uscc.format",
            "统一社会信用代码第14位“O”无效：只能是数字或大写字母（不使用I、O、Z、S、V）。",
        ),
        (
            "9135A100M000100Y43",
            "uscc.format",
            "统一社会信用代码第5位“A”无效：第3–8位是行政区划码，只能是数字。",
        ),
        (
            "B1110108MA01ABCD5Q",
            "uscc.authority",
            "统一社会信用代码第1位“B”不是有效的登记管理部门代码。",
        ),
        (
            "94110108MA01ABCD5H",
            "uscc.category",
            "统一社会信用代码第2位“4”不是工商部门（第1位为9）的机构类别代码，可用：1、2、3。",
        ),
        (
            "91990000MA01ABCD5Q",
            "uscc.division",
            "统一社会信用代码第3–8位“990000”不是有效的行政区划码（第3–4位“99”不是省级代码）。",
        ),
        (
            "91350100M000100Y44",
            "uscc.check_digit",
            "统一社会信用代码校验不通过：第18位校验码应为3，实际为4（请核对每一位是否输错）。",
        ),
    ],
)
def test_uscc_errors(value: str | None, code: str, message: str) -> None:
    error = _error(validate_uscc, value)
    assert (error.code, error.message) == (code, message)


def test_uscc_unknown_division_inside_a_real_province_passes() -> None:
    body = "91519900" + "MA01ABCD" + org_code_check_char("MA01ABCD")
    uscc = validate_uscc(body + uscc_check_char(body))
    assert uscc.division_code == "519900"
    assert uscc.division_known is False


# --- 行政区划代码 -----------------------------------------------------------------------------


def test_division_six_digits() -> None:
    assert validate_division_code("511602") == DivisionInfo(
        code="511602",
        name="广安区",
        level=3,
        parent_code="511600",
        is_current=True,
        full_name="四川省广安市广安区",
        base_code="511602",
    )
    assert validate_division_code(" 510000 ").full_name == "四川省"
    assert validate_division_code("110105").parent_code == "110000"  # municipality: no 110100


def test_division_2023_only_codes_are_known_but_not_current() -> None:
    zone = validate_division_code("130171")
    assert (zone.name, zone.level, zone.parent_code, zone.is_current) == (
        "石家庄高新技术产业开发区",
        3,
        "130100",
        False,
    )
    placeholder = validate_division_code("110100")
    assert (placeholder.name, placeholder.full_name, placeholder.is_current) == (
        "市辖区",
        "北京市市辖区",
        False,
    )
    assert validate_division_code("500105").full_name == "重庆市江北区"


def test_division_nine_and_twelve_digits() -> None:
    assert validate_division_code("511602001") == DivisionInfo(
        code="511602001",
        name="",
        level=4,
        parent_code="511602",
        is_current=True,
        full_name="四川省广安市广安区",
        base_code="511602",
    )
    village = validate_division_code("511602001201")
    assert (village.level, village.parent_code, village.base_code) == (5, "511602001000", "511602")
    township = validate_division_code("511602101000")
    assert (township.level, township.parent_code) == (4, "511602")
    itself = validate_division_code("511602000000")
    assert (itself.code, itself.name, itself.level) == ("511602000000", "广安区", 3)
    assert validate_division_code("441900003").parent_code == "441900"  # 东莞: no counties


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("", "division.empty", "请填写行政区划代码。"),
        ("5116O2", "division.format", "行政区划代码第5位“O”不是半角数字。"),
        ("５１１６０２", "division.format", "行政区划代码第1位“５”不是半角数字。"),
        (
            "5116021",
            "division.length",
            "行政区划代码应为6位（县级及以上）、9位（乡级）或12位（统计用代码），实际为7位。",
        ),
        ("991602", "division.province", "行政区划代码前两位“99”不是有效的省级代码。"),
        (
            "511699",
            "division.unknown",
            "行政区划代码“511699”不在现行（2026年）或2023年的区划代码表中。",
        ),
        ("511699001", "division.unknown", None),
        (
            "510000001",
            "division.format",
            "行政区划代码“510000001”的乡级部分须挂在地级或县级代码之下，“510000”是省级代码。",
        ),
        (
            "511602000201",
            "division.format",
            "行政区划代码“511602000201”的第7–9位（乡级）为000，不能再有村级代码。",
        ),
    ],
)
def test_division_errors(value: str, code: str, message: str | None) -> None:
    error = _error(validate_division_code, value)
    assert error.code == code
    if message is not None:
        assert error.message == message


# --- 手机号码 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "13812345678",
        " 13812345678 ",
        "138 1234 5678",
        "138-1234-5678",
        "+8613812345678",
        "+86 138-1234-5678",
        "8613812345678",
        "0086 13812345678",
    ],
)
def test_mobile_normalisation(value: str) -> None:
    assert validate_mobile(value) == "13812345678"


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("", "mobile.empty", "请填写手机号码。"),
        ("１3812345678", "mobile.format", "手机号码第1位是全角字符，请使用半角数字。"),
        (
            "138.1234.5678",
            "mobile.format",
            "手机号码含有无效字符“.”：只能是数字，可带+86前缀、空格或连字符。",
        ),
        ("1381234567", "mobile.length", "手机号码应为11位数字，实际为10位。"),
        ("+86 1381234567", "mobile.length", "手机号码应为11位数字，实际为10位。"),
        ("12812345678", "mobile.prefix", "手机号码应以13–19开头，实际以“12”开头。"),
        ("23812345678", "mobile.prefix", "手机号码应以13–19开头，实际以“23”开头。"),
    ],
)
def test_mobile_errors(value: str, code: str, message: str) -> None:
    error = _error(validate_mobile, value)
    assert (error.code, error.message) == (code, message)


# --- 证件号码 ---------------------------------------------------------------------------------


def test_document_numbers_by_type() -> None:
    assert validate_document_number("111", "11010519491231002x") == "11010519491231002X"
    assert validate_document_number("901", "91350100M000100Y43") == "91350100M000100Y43"
    assert validate_document_number("811", "D2143569-X") == "D2143569X"
    assert validate_document_number("414", " e12345678 ") == "E12345678"
    assert validate_document_number("516", "H12345678") == "H12345678"
    taiwan = _id("830000", "19900101", "001")
    assert validate_document_number("903", taiwan) == taiwan
    error = _error(validate_document_number, "902", taiwan)
    assert error.code == "document.permit_prefix"
    assert error.message == "港澳居民居住证号码应以810000或820000开头。"
    assert _error(validate_document_number, "111", "110105194912310021").code == (
        "id_number.check_digit"
    )
    assert _error(validate_document_number, "999", "X").code == "code.unknown"
    assert _error(validate_document_number, "414", " ").code == "document.empty"
    assert _error(validate_document_number, "414", "E1234-5678").code == "document.format"
    assert _error(validate_document_number, "414", "E" * 19).code == "document.format"
