"""Restricted evaluation of BPMN conditions (sequence-flow conditions, completion conditions).

SpiffWorkflow evaluates conditions with Python's ``eval()``; a BPMN file is data that officers
upload, so that would let a file run arbitrary code. Instead a condition is parsed into a Python
AST and only a small, side-effect-free subset is allowed: literals, names of case data,
comparisons, ``and``/``or``/``not``, arithmetic, ``in``, subscripts with constants and a few pure
functions (``len``, ``min``, ``max``, ``abs``, ``int``, ``str``, ``float``, ``bool``, ``round``).
Attribute access (``x.__class__``), dunder names, lambdas, comprehensions and every other call
are refused with :class:`ExpressionRefused` *before* anything runs.

FEEL-style operators that modellers such as Camunda write (``${outcome == "approve"}``,
``a && b``, ``a || b``, ``!a``, ``=`` for equality in FEEL) are normalised first.
"""

from __future__ import annotations

import ast
import functools
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

MAX_LENGTH = 500

SAFE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "int": int,
    "str": str,
    "float": float,
    "bool": bool,
    "round": round,
}
CONSTANTS = {"True": True, "False": False, "None": None, "true": True, "false": False}

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


class ExpressionRefused(Exception):
    """The expression uses something outside the allowed subset (or is malformed)."""

    def __init__(self, expression: str, reason: str) -> None:
        self.expression = expression
        self.reason = reason
        super().__init__(f"condition {expression!r} refused: {reason}")


def normalise(expression: str) -> str:
    """Turn modeller dialects (``${…}``, ``&&``, ``||``, ``!``) into the Python subset.

    Only text outside string literals is rewritten (``"a && b"`` stays a string).
    """
    text = expression.strip()
    match = re.fullmatch(r"[$#]\{(.*)\}", text, flags=re.S)
    if match:
        text = match.group(1).strip()
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            out.append(char)
            if char == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
                continue
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
            out.append(char)
        elif text.startswith("&&", i):
            out.append(" and ")
            i += 2
            continue
        elif text.startswith("||", i):
            out.append(" or ")
            i += 2
            continue
        elif char == "!" and not text.startswith("!=", i):
            out.append(" not ")
        else:
            out.append(char)
        i += 1
    return "".join(out).strip()


@functools.lru_cache(maxsize=1024)
def compile_expression(expression: str) -> ast.Expression:
    """Parse and check ``expression``; raises :class:`ExpressionRefused`."""
    if len(expression) > MAX_LENGTH:
        raise ExpressionRefused(expression[:50], f"longer than {MAX_LENGTH} characters")
    text = normalise(expression)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionRefused(expression, f"syntax error: {exc.msg}") from None
    for node in ast.walk(tree):
        _check_node(expression, node)
    return tree


def _check_node(expression: str, node: ast.AST) -> None:
    allowed = (
        ast.Expression,
        ast.Constant,
        ast.Name,
        ast.Load,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.UnaryOp,
        ast.Not,
        ast.USub,
        ast.UAdd,
        ast.BinOp,
        ast.Compare,
        ast.Subscript,
        ast.List,
        ast.Tuple,
        ast.Set,
        ast.Call,
        ast.IfExp,
        *_BINARY,
        *_COMPARE,
    )
    if not isinstance(node, allowed):
        raise ExpressionRefused(expression, f"{type(node).__name__} is not allowed")
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        raise ExpressionRefused(expression, f"name {node.id!r} is not allowed")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in SAFE_FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
            raise ExpressionRefused(expression, f"call of {name!r} is not allowed")
        if node.keywords:
            raise ExpressionRefused(expression, "keyword arguments are not allowed")
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        raise ExpressionRefused(expression, "slices are not allowed")
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) > 200:
        raise ExpressionRefused(expression, "string constant too long")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        # "x" * 10**9 would exhaust memory: multiplication only between numbers (checked at
        # run time below), never with a sequence.
        pass


def evaluate(expression: str, data: Mapping[str, Any]) -> Any:
    """Evaluate ``expression`` over ``data`` (the task data); unknown names are ``None``."""
    tree = compile_expression(expression)
    return _eval(expression, tree.body, data)


def _eval(expression: str, node: ast.AST, data: Mapping[str, Any]) -> Any:  # noqa: PLR0911, PLR0912
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        return data.get(node.id)
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            result: Any = True
            for value in node.values:
                result = _eval(expression, value, data)
                if not result:
                    return result
            return result
        result = False
        for value in node.values:
            result = _eval(expression, value, data)
            if result:
                return result
        return result
    if isinstance(node, ast.UnaryOp):
        operand = _eval(expression, node.operand, data)
        if isinstance(node.op, ast.Not):
            return not operand
        _number(expression, operand)
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.BinOp):
        left = _eval(expression, node.left, data)
        right = _eval(expression, node.right, data)
        if isinstance(node.op, ast.Mult | ast.Div | ast.FloorDiv | ast.Mod | ast.Sub):
            _number(expression, left)
            _number(expression, right)
        try:
            return _BINARY[type(node.op)](left, right)
        except (TypeError, ZeroDivisionError, OverflowError) as exc:
            raise ExpressionRefused(expression, str(exc)) from None
    if isinstance(node, ast.Compare):
        left = _eval(expression, node.left, data)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(expression, comparator, data)
            try:
                if not _COMPARE[type(op)](left, right):
                    return False
            except TypeError:
                return False
            left = right
        return True
    if isinstance(node, ast.Subscript):
        container = _eval(expression, node.value, data)
        key = _eval(expression, node.slice, data)
        try:
            return container[key]
        except (KeyError, IndexError, TypeError):
            return None
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        values = [_eval(expression, element, data) for element in node.elts]
        return set(values) if isinstance(node, ast.Set) else values
    if isinstance(node, ast.IfExp):
        if _eval(expression, node.test, data):
            return _eval(expression, node.body, data)
        return _eval(expression, node.orelse, data)
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        args = [_eval(expression, arg, data) for arg in node.args]
        try:
            return SAFE_FUNCTIONS[node.func.id](*args)
        except (TypeError, ValueError) as exc:
            raise ExpressionRefused(expression, str(exc)) from None
    raise ExpressionRefused(expression, f"{type(node).__name__} is not allowed")


def _number(expression: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ExpressionRefused(expression, "arithmetic needs numbers")
    if isinstance(value, int) and abs(value) > 10**12:
        raise ExpressionRefused(expression, "number too large")
