"""Validation of item content: every element, its codes, and the rules across elements."""

from __future__ import annotations

import pytest

from zwfw.catalog.content import content_hash, validate_content
from zwfw.catalog.tests.factories import content
from zwfw.core.errors import ValidationError


def _errors(**overrides: object) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as caught:
        validate_content(content(**overrides))
    assert caught.value.code == "catalog.content_invalid"
    return caught.value.details["errors"]


def _only(errors: list[dict[str, str]]) -> tuple[str, str]:
    assert len(errors) == 1, errors
    return errors[0]["field"], errors[0]["code"]


def test_factory_content_is_valid_and_depth_is_iv() -> None:
    valid = validate_content(content())
    assert valid.online_depth == "IV"
    assert valid.targets == ["2", "6"]
    assert valid.materials[1].licence_type == "营业执照"


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"name": ""}, "name", "catalog.string_too_short"),
        ({"name": "名" * 201}, "name", "catalog.string_too_long"),
        ({"implementation_code": ""}, "implementation_code", "catalog.string_too_short"),
        ({"item_type": "30"}, "item_type", "catalog.code_unknown"),
        ({"level": "8"}, "level", "catalog.code_unknown"),
        ({"body_nature": "5"}, "body_nature", "catalog.code_unknown"),
        ({"case_type": "7"}, "case_type", "catalog.code_unknown"),
        ({"review_type": "3"}, "review_type", "catalog.code_unknown"),
        ({"result_type": "0"}, "result_type", "catalog.code_unknown"),
        ({"tongban_scope": "5"}, "tongban_scope", "catalog.code_unknown"),
        ({"special_procedures": ["99"]}, "special_procedures", "catalog.code_unknown"),
        ({"online_steps": ["8"]}, "online_steps", "catalog.code_unknown"),
        ({"targets": []}, "targets", "catalog.targets_empty"),
        ({"targets": ["7"]}, "targets", "catalog.code_unknown"),
        ({"legal_themes": ["004"]}, "legal_themes", "catalog.code_unknown"),
        ({"person_themes": ["165"]}, "person_themes", "catalog.code_unknown"),
        ({"channels": ["5"]}, "channels", "catalog.code_unknown"),
        ({"min_trust_level": "L9"}, "min_trust_level", "catalog.trust_level"),
        ({"site_visits": -1}, "site_visits", "catalog.greater_than_equal"),
        ({"site_visits": "两次"}, "site_visits", "catalog.int_parsing"),
        ({"effective_date": "2026-13-01"}, "effective_date", "catalog.date_from_datetime_parsing"),
        ({"unknown_element": 1}, "unknown_element", "catalog.extra_forbidden"),
        (
            {"implementing_body": {"name": "某局", "uscc": "91350100M000100Y44"}},
            "implementing_body.uscc",
            "uscc.check_digit",
        ),
        (
            {"legal_time_limit": {"value": "十五天", "unit": "1"}},
            "legal_time_limit.value",
            "catalog.int_parsing",
        ),
        (
            {"legal_time_limit": {"value": 20, "unit": "3"}},
            "legal_time_limit.unit",
            "catalog.code_unknown",
        ),
        (
            {"legal_bases": [{"law_name": "", "article": "第一条"}]},
            "legal_bases.0.law_name",
            "catalog.string_too_short",
        ),
        (
            {"faqs": [{"question": "", "answer": "x"}]},
            "faqs.0.question",
            "catalog.string_too_short",
        ),
        (
            {"reconsideration": {"body": "x", "fax": "1"}},
            "reconsideration.fax",
            "catalog.extra_forbidden",
        ),
        (
            {"process_steps": [{"description": "无名环节"}]},
            "process_steps.0.name",
            "catalog.missing",
        ),
    ],
)
def test_each_element_is_validated(overrides: dict, field: str, code: str) -> None:
    assert _only(_errors(**overrides)) == (field, code)


@pytest.mark.parametrize(
    ("material", "field", "code"),
    [
        ({"name": "申请书", "kinds": ["4"]}, "materials.0.kinds", "catalog.code_unknown"),
        ({"name": "申请书", "forms": ["3"]}, "materials.0.forms", "catalog.code_unknown"),
        ({"name": "申请书", "source": "5"}, "materials.0.source", "catalog.code_unknown"),
        ({"name": "申请书", "forms": ["1"]}, "materials.0", "catalog.material_copies"),
        ({"name": "证明", "source": "2"}, "materials.0", "catalog.material_issuer"),
        (
            {"name": "申请书", "paper_copies": 101},
            "materials.0.paper_copies",
            "catalog.less_than_equal",
        ),
    ],
)
def test_material_attributes_are_validated(material: dict, field: str, code: str) -> None:
    assert _only(_errors(materials=[material])) == (field, code)


@pytest.mark.parametrize(
    ("fee", "field", "code"),
    [
        ({"name": "工本费"}, "fees.0", "catalog.fee_amount"),
        ({"name": "工本费", "amount": "-1"}, "fees.0.amount", "catalog.greater_than_equal"),
        ({"name": "工本费", "amount": "1.234"}, "fees.0.amount", "catalog.decimal_max_places"),
        ({"name": "工本费", "amount": "十元"}, "fees.0.amount", "catalog.decimal_parsing"),
    ],
)
def test_fee_items_are_validated(fee: dict, field: str, code: str) -> None:
    assert _only(_errors(charges_fee=True, fees=[fee])) == (field, code)


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        (
            {"promised_time_limit": {"value": 30, "unit": "1"}},
            "promised_time_limit",
            "catalog.promised_exceeds_legal",
        ),
        (
            {"case_type": "1", "promised_time_limit": {"value": 5, "unit": "1"}},
            "promised_time_limit",
            "catalog.immediate_time_limit",
        ),
        ({"charges_fee": True, "fees": []}, "fees", "catalog.fees_missing"),
        (
            {"charges_fee": False, "fees": [{"name": "工本费", "amount": "10"}]},
            "fees",
            "catalog.fees_unexpected",
        ),
        ({"site_visits": 1, "site_visit_reason": "核验原件"}, "site_visits", "catalog.site_visits"),
        (
            {"online_steps": ["2", "4"], "site_visits": 1},
            "site_visit_reason",
            "catalog.site_visit_reason",
        ),
        ({"online_url": ""}, "online_url", "catalog.online_url"),
        ({"person_themes": ["030"]}, "person_themes", "catalog.theme_target"),
        (
            {"targets": ["1"], "legal_themes": ["010"]},
            "legal_themes",
            "catalog.theme_target",
        ),
        ({"legal_bases": []}, "legal_bases", "catalog.legal_basis"),
        (
            {"effective_date": "2026-10-01", "cancel_date": "2026-09-30"},
            "cancel_date",
            "catalog.dates",
        ),
        ({"basic_code": "CF00012000"}, "basic_code", "catalog.basic_code_prefix"),
    ],
)
def test_rules_across_elements(overrides: dict, field: str, code: str) -> None:
    assert _only(_errors(**overrides)) == (field, code)


def test_all_problems_are_reported_at_once() -> None:
    errors = _errors(name="", level="9", materials=[{"name": ""}, {"name": "x", "source": "7"}])
    assert [(e["field"], e["code"]) for e in errors] == [
        ("name", "catalog.string_too_short"),
        ("level", "catalog.code_unknown"),
        ("materials.0.name", "catalog.string_too_short"),
        ("materials.1.source", "catalog.code_unknown"),
    ]
    assert errors[1]["message"] == "“9”不是有效的行使层级代码"


def test_public_service_needs_no_legal_basis_and_codes_accept_text_lists() -> None:
    valid = validate_content(
        content(
            item_type="20",
            basic_code="GG00001000",
            legal_bases=[],
            targets="1，2",
            legal_themes=[],
            person_themes="030, 085",
        )
    )
    assert valid.targets == ["1", "2"]
    assert valid.person_themes == ["030", "085"]


def test_local_item_types_are_accepted() -> None:
    assert validate_content(content(item_type="11", basic_code="")).item_type == "11"


def test_depth_levels_follow_online_steps() -> None:
    assert validate_content(content(online_steps=["1"], online_url="")).online_depth == "I"
    assert validate_content(content(online_steps=["3"], online_url="")).online_depth == "II"
    three = validate_content(
        content(online_steps=["2", "4"], site_visits=1, site_visit_reason="核验原件")
    )
    assert three.online_depth == "III"
    # A licence result needs step 7 for Ⅳ; without it the item is Ⅲ.
    no_licence_feedback = validate_content(content(online_steps=["2", "4", "5", "6"]))
    assert no_licence_feedback.online_depth == "III"


def test_content_hash_ignores_key_order_but_not_values() -> None:
    a = validate_content(content())
    b = validate_content(dict(reversed(list(content().items()))))
    c = validate_content(content(hours="周一至周五"))
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(c)
    assert len(content_hash(a)) == 64
