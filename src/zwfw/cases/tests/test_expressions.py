"""Restricted conditions: what BPMN files may compute, and everything they may not."""

from __future__ import annotations

from typing import Any

import pytest

from zwfw.cases import expressions
from zwfw.cases.expressions import ExpressionRefused, compile_expression, evaluate, normalise

DATA: dict[str, Any] = {
    "outcome": "pass",
    "decision": "approve",
    "amount": 120,
    "joint_departments": ["广安市公安局", "广安市民政局"],
    "form": {"area": 85.5, "kind": "餐饮"},
    "accepted": True,
    "rejected": False,
    "count": "7",
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('outcome == "pass"', True),
        ("outcome == 'reject'", False),
        ('outcome != "pass"', False),
        ('${outcome == "pass"}', True),  # Camunda / Flowable JUEL wrapper
        ("#{amount > 100}", True),  # JUEL deferred form
        ("${accepted && !rejected}", True),
        ("${accepted && !accepted}", False),
        ("rejected || accepted", True),
        ("not rejected and accepted", True),
        ('decision in ("approve", "partial")', True),
        ('"广安市公安局" in joint_departments', True),
        ('"广安市财政局" not in joint_departments', True),
        ("len(joint_departments) >= 2", True),
        ("amount * 2 + 1", 241),
        ("amount / 4 - 10", 20.0),
        ("amount // 7 % 5", 2),
        ("-amount", -120),
        ("max(amount, 200)", 200),
        ("min(3, 1, 2)", 1),
        ("abs(-5)", 5),
        ("round(85.5)", 86),
        ("int(count) + 1", 8),
        ("float(count) / 2", 3.5),
        ('str(amount) == "120"', True),
        ("bool(joint_departments)", True),
        ('form["area"] > 80', True),
        ('form["missing"]', None),  # a missing key is None, not an error
        ("joint_departments[0]", "广安市公安局"),
        ("joint_departments[5]", None),
        ('"大" if amount > 100 else "小"', "大"),
        ("1 < amount <= 120", True),
        ("missing_variable", None),  # unknown names are None
        ("missing_variable is None", True),
        ("true and not false", True),
        ("True", True),
        ('amount > "100"', False),  # a comparison of mismatched types is False
        ("[1, 2][1]", 2),
        ("{1, 2} == {2, 1}", True),
    ],
)
def test_allowed_expressions_evaluate(expression: str, expected: Any) -> None:
    assert evaluate(expression, DATA) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os')",
        "__import__('os').system('id')",
        "().__class__",
        "().__class__.__bases__[0].__subclasses__()",
        "outcome.__class__",
        "outcome.upper()",
        "form.get('x')",
        "open('x')",
        "open('/etc/passwd').read()",
        "eval('1')",
        "exec('x = 1')",
        "getattr(outcome, 'upper')",
        "globals()",
        "compile('1', 'x', 'eval')",
        "lambda: 1",
        "(lambda x: x)(1)",
        "[x for x in joint_departments]",
        "{x: 1 for x in joint_departments}",
        "{x for x in joint_departments}",
        "sum(x for x in [1, 2])",
        "'a' * 10 ** 9",
        "2 ** 100",
        "1 << 100000",
        "amount & 1",
        "f'{outcome}'",
        "f'{outcome.__class__}'",
        "(x := 1)",
        "__builtins__",
        "_private",
        "__name__",
        "joint_departments[0:1]",
        "len(joint_departments, key=1)",
        "[*joint_departments]",
        "{'a': 1}",
        "outcome == 'a' " + "or outcome == 'a' " * 40,
        "x" * 501,
        "'" + "a" * 201 + "'",
        "import os",
        "outcome = 'x'",
        "outcome ==",
        "",
    ],
)
def test_refused_expressions_raise_before_running(expression: str) -> None:
    with pytest.raises(ExpressionRefused):
        compile_expression(expression)
    with pytest.raises(ExpressionRefused):
        evaluate(expression, DATA)


@pytest.mark.parametrize(
    ("expression", "data"),
    [
        ("'a' * 1000000000", {}),  # sequences are never multiplied
        ("name * 1000000000", {"name": "a"}),
        ("items * 3", {"items": [1]}),
        ("10000000 * 10000000 * 10000000", {}),  # numbers stay small
        ("amount - 'x'", {"amount": 1}),
        ("1 / 0", {}),
        ("int('abc')", {}),
        ("len(5)", {}),
        ("-name", {"name": "a"}),
        ("True * 5", {}),
    ],
)
def test_refused_at_run_time(expression: str, data: dict[str, Any]) -> None:
    compile_expression(expression)  # the shape is allowed ...
    with pytest.raises(ExpressionRefused):
        evaluate(expression, data)  # ... the values are not


def test_refusal_names_the_expression_and_the_reason() -> None:
    with pytest.raises(ExpressionRefused) as caught:
        compile_expression("__import__('os')")
    assert caught.value.expression == "__import__('os')"
    assert "__import__" in caught.value.reason
    assert "refused" in str(caught.value)


def test_very_long_expression_is_refused_without_parsing() -> None:
    expression = "a or " * 200 + "b"
    assert len(expression) > expressions.MAX_LENGTH
    with pytest.raises(ExpressionRefused) as caught:
        compile_expression(expression)
    assert str(expressions.MAX_LENGTH) in caught.value.reason


@pytest.mark.parametrize(
    ("source", "normalised"),
    [
        ("${a && !b}", "a and not b"),
        ("#{a || b}", "a or b"),
        ("  ${ outcome == 'pass' }  ", "outcome == 'pass'"),
        ("a != b", "a != b"),
        ("!a", "not a"),
        ("plain == 1", "plain == 1"),
    ],
)
def test_feel_and_juel_operators_are_normalised(source: str, normalised: str) -> None:
    assert " ".join(normalise(source).split()) == normalised


def test_juel_operators_evaluate_like_python() -> None:
    assert evaluate("${a && !b}", {"a": True, "b": False}) is True
    assert evaluate("${a && !b}", {"a": True, "b": True}) is False
    assert evaluate("${a || !b}", {"a": False, "b": False}) is True
    assert evaluate("${x != 1 && !(y == 2)}", {"x": 2, "y": 3}) is True


def test_compiled_expressions_are_cached() -> None:
    first = compile_expression('outcome == "cached"')
    assert compile_expression('outcome == "cached"') is first


@pytest.mark.parametrize("expression", ["!rejected", "${!rejected || accepted}"])
def test_leading_negation(expression: str) -> None:
    assert evaluate(expression, DATA) is True


def test_operators_inside_string_literals_are_left_alone() -> None:
    assert evaluate('note == "急!"', {"note": "急!"}) is True
    assert evaluate("note == 'a && b || !c'", {"note": "a && b || !c"}) is True
