"""Sweep constraints: tiny arithmetic/boolean expressions over arch parameters.

``k0 == c0``, ``area_mm2 <= 10``, ``num_pe * k0 * c0 >= 16384 and input_buffer_kb < weight_buffer_kb``.
Expressions are parsed with :mod:`ast` and only a whitelist of nodes is evaluated
(numbers, strings, parameter names, + - * / // % **, comparisons, and/or/not, and the
functions ``min max abs log2 sqrt``); anything else is a :class:`ConfigError`. No
``eval`` is ever called, so a spec file cannot run code.
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..errors import ConfigError

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_CMPOPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
FUNCTIONS: dict[str, Callable[..., Any]] = {"min": min, "max": max, "abs": abs, "log2": math.log2,
                                            "sqrt": math.sqrt}


@dataclass(frozen=True)
class Constraint:
    """One parsed constraint; ``names`` are the variables it reads."""

    text: str
    tree: ast.Expression
    names: frozenset[str]

    def __call__(self, env: Mapping[str, Any]) -> bool:
        try:
            return bool(_eval(self.tree.body, env))
        except (ZeroDivisionError, ValueError, TypeError, OverflowError) as exc:
            raise ConfigError(f"constraint {self.text!r}: {exc}") from None


def parse_constraint(text: str, allowed: "set[str] | frozenset[str]", where: str = "constraints") -> Constraint:
    """Parse ``text``; every name must be in ``allowed`` (error lists them)."""
    try:
        tree = ast.parse(str(text).strip(), mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"{where}: cannot parse {text!r}: {exc.msg}") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        _check_node(node, text, where)
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS:
            names.add(node.id)
    unknown = sorted(names - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: {text!r} uses unknown name(s) {', '.join(unknown)}; "
                          f"allowed: {', '.join(sorted(allowed))}")
    return Constraint(str(text), tree, frozenset(names))


_ALLOWED_NODES = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.BinOp, ast.Compare,
                  ast.Name, ast.Load, ast.Constant, ast.Call, *_BINOPS, *_CMPOPS, *_UNARY)


def _check_node(node: ast.AST, text: str, where: str) -> None:
    if not isinstance(node, _ALLOWED_NODES):
        raise ConfigError(f"{where}: {text!r}: {type(node).__name__} is not allowed (use numbers, "
                          "parameter names, + - * / // % **, comparisons, and/or/not, "
                          f"{'/'.join(FUNCTIONS)})")
    if isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS) or node.keywords:
            raise ConfigError(f"{where}: {text!r}: only the functions {', '.join(FUNCTIONS)} may be called")
    if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool)):
        raise ConfigError(f"{where}: {text!r}: constant {node.value!r} is not allowed")


def _eval(node: ast.AST, env: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, env))
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_eval(v, env) for v in node.values)
        return any(_eval(v, env) for v in node.values)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, comp in zip(node.ops, node.comparators):
            right = _eval(comp, env)
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](*(_eval(a, env) for a in node.args))  # type: ignore[attr-defined]
    raise ConfigError(f"unsupported expression node {type(node).__name__}")
