"""Sweep constraints: tiny arithmetic/boolean expressions over arch parameters.

``k0 == c0``, ``area_mm2 <= 10``, ``num_pe * k0 * c0 >= 16384 and input_buffer_kb < weight_buffer_kb``.
Expressions are parsed with :mod:`ast` and only a whitelist of nodes is evaluated
(numbers, strings, parameter names, + - * / // % **, comparisons, and/or/not, and the
functions ``min max abs log2 sqrt``); anything else is a :class:`ConfigError`. No
``eval`` is ever called, so a spec file cannot run code.

The cost of one evaluation is bounded: at most :data:`MAX_TEXT` characters,
:data:`MAX_NODES` syntax nodes nested :data:`MAX_DEPTH` deep, integers of at most
:data:`MAX_INT_BITS` bits (a product or power that would be larger is refused before it
is computed), and text only in ``==``/``!=`` comparisons (no ``'a' * 10**10``).
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..errors import ConfigError
from ..safeio import clip, short

#: longest constraint (characters)
MAX_TEXT = 500
#: most syntax nodes in one constraint
MAX_NODES = 200
#: deepest nesting of operators and calls
MAX_DEPTH = 32
#: largest integer a constraint may compute (bits): far above any product of arch numbers
MAX_INT_BITS = 256

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
        except ConfigError as exc:
            raise ConfigError(f"constraint {short(self.text)}: {exc}") from None
        except (ZeroDivisionError, ValueError, TypeError, OverflowError) as exc:
            raise ConfigError(f"constraint {short(self.text)}: {exc}") from None


def parse_constraint(text: str, allowed: "set[str] | frozenset[str]", where: str = "constraints") -> Constraint:
    """Parse ``text``; every name must be in ``allowed`` (error lists them)."""
    if not isinstance(text, str):
        raise ConfigError(f"{where}: a constraint must be text such as 'k0 == c0', got {short(text)}")
    if len(text) > MAX_TEXT:
        raise ConfigError(f"{where}: constraint of {len(text):,} characters; at most {MAX_TEXT} are allowed")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ConfigError(f"{where}: cannot parse {short(text)}: {getattr(exc, 'msg', None) or exc}") from None
    names: set[str] = set()
    count = 0
    todo: list[tuple[ast.AST, int]] = [(tree, 0)]
    while todo:
        node, depth = todo.pop()
        count += 1
        if count > MAX_NODES or depth > MAX_DEPTH:
            what = f"{MAX_NODES} terms" if count > MAX_NODES else f"{MAX_DEPTH} levels of nesting"
            raise ConfigError(f"{where}: {short(text)} has more than {what}")
        _check_node(node, text, where)
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS:
            names.add(node.id)
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    unknown = sorted(names - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: {short(text)} uses unknown name(s) {clip(', '.join(unknown))}; "
                          f"allowed: {', '.join(sorted(allowed))}")
    return Constraint(str(text), tree, frozenset(names))


_ALLOWED_NODES = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.BinOp, ast.Compare,
                  ast.Name, ast.Load, ast.Constant, ast.Call, *_BINOPS, *_CMPOPS, *_UNARY)


def _check_node(node: ast.AST, text: str, where: str) -> None:
    if not isinstance(node, _ALLOWED_NODES):
        raise ConfigError(f"{where}: {short(text)}: {type(node).__name__} is not allowed (use numbers, "
                          "parameter names, + - * / // % **, comparisons, and/or/not, "
                          f"{'/'.join(FUNCTIONS)})")
    if isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS) or node.keywords:
            raise ConfigError(f"{where}: {short(text)}: only the functions {', '.join(FUNCTIONS)} may be called")
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, (int, float, str, bool)):
            raise ConfigError(f"{where}: {short(text)}: constant {short(node.value)} is not allowed")
        if isinstance(node.value, int) and node.value.bit_length() > MAX_INT_BITS:
            raise ConfigError(f"{where}: {short(text)}: a number over {MAX_INT_BITS} bits")


def _number(v: Any) -> Any:
    """``v`` if it is a number; text may only be compared with == or !=."""
    if isinstance(v, str):
        raise ConfigError(f"text {short(v)} can only be compared with == or !=")
    return v


def _arith(op: type, a: Any, b: Any) -> Any:
    """``a op b`` with integers kept below :data:`MAX_INT_BITS` bits (checked before computing)."""
    a, b = _number(a), _number(b)
    if isinstance(a, int) and isinstance(b, int):
        bits = max(abs(a).bit_length(), 1)
        if op is ast.Mult and bits + abs(b).bit_length() > MAX_INT_BITS + 1:
            raise OverflowError(f"a product over {MAX_INT_BITS} bits")
        if op is ast.Pow and b > 0 and abs(a) > 1 and (bits - 1) * b > MAX_INT_BITS:
            raise OverflowError(f"a power over {MAX_INT_BITS} bits")
    out = _BINOPS[op](a, b)
    if isinstance(out, int) and out.bit_length() > MAX_INT_BITS:
        raise OverflowError(f"a number over {MAX_INT_BITS} bits")
    if isinstance(out, complex):
        raise ValueError("a complex number (negative base with a fractional power)")
    return out


def _eval(node: ast.AST, env: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.BinOp):
        return _arith(type(node.op), _eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, env)
        return _UNARY[type(node.op)](value if isinstance(node.op, ast.Not) else _number(value))
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_eval(v, env) for v in node.values)
        return any(_eval(v, env) for v in node.values)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, comp in zip(node.ops, node.comparators):
            right = _eval(comp, env)
            if not isinstance(op, (ast.Eq, ast.NotEq)):
                _number(left), _number(right)
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        args = [_number(_eval(a, env)) for a in node.args]
        if not args:
            raise ValueError(f"{node.func.id}() needs an argument")  # type: ignore[attr-defined]
        return FUNCTIONS[node.func.id](*args)  # type: ignore[attr-defined]
    raise ConfigError(f"unsupported expression node {type(node).__name__}")
