"""Standard ONNX decompositions recognised as the one operator they spell.

Exporters write some PyTorch functions as several ONNX nodes: ``nn.GELU`` below opset 20
as ``x * 0.5 * (1 + Erf(x / sqrt 2))`` (or its tanh approximation), ``nn.SiLU`` as
``x * Sigmoid(x)``, ``LayerNorm`` below opset 17 as ``(x - mean) / sqrt(var + eps) * g
+ b``, softmax as ``Exp / ReduceSum(Exp)``, and a linear on a 3-D input as ``MatMul``
followed by ``Add(bias)``. The PyTorch and ``.pt2`` importers see one call for each, so
the ONNX importer folds each such group into one layer too, and one model gives one
layer list whatever the route (``tests/test_import_routes.py``).

A group is folded only when its intermediate tensors are used inside the group alone and
it reads one activation tensor (plus constants), so nothing the graph uses elsewhere
disappears. :func:`find` returns, per group, the node indices it covers and what the
importer emits for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence


@dataclass
class Group:
    """Nodes ``members`` (indices) that compute ``out`` from the activation ``x``: one layer."""

    kind: str                      # gelu | silu | layernorm | softmax | linear_bias
    x: str
    out: str
    members: set[int] = field(default_factory=set)
    params: list[str] = field(default_factory=list)  # constant operands (norm scale/shift, bias)

    @property
    def first(self) -> int:
        return min(self.members)


class _Graph:
    """Producers, consumers and constness of the graph's tensors."""

    def __init__(self, nodes: Sequence[Any], dynamic: set[str], graph_outputs: set[str]) -> None:
        self.nodes = nodes
        self.dynamic = dynamic
        self.made: dict[str, int] = {}
        self.used: dict[str, list[int]] = {}
        for i, n in enumerate(nodes):
            for o in n.output:
                self.made[o] = i
            for t in n.input:
                if t:
                    self.used.setdefault(t, []).append(i)
        for t in graph_outputs:
            self.used.setdefault(t, []).append(-1)

    def op(self, t: str) -> str:
        i = self.made.get(t)
        return self.nodes[i].op_type if i is not None else ""

    def only_user(self, t: str, op: "str | tuple[str, ...]") -> int | None:
        users = self.used.get(t, [])
        if len(users) != 1 or users[0] < 0:
            return None
        n = self.nodes[users[0]]
        return users[0] if n.op_type in ((op,) if isinstance(op, str) else op) else None

    def const(self, t: str) -> bool:
        return bool(t) and t not in self.dynamic

    def other(self, i: int, t: str) -> str:
        ins = [x for x in self.nodes[i].input if x]
        return ins[1] if len(ins) == 2 and ins[0] == t else ins[0] if len(ins) == 2 else ""


def _back_to(g: _Graph, start: str, x: str, ops: tuple[str, ...], limit: int = 8) -> set[int] | None:
    """Nodes between ``x`` and ``start`` (``ops`` only, at most ``limit``, each reading only
    ``x``, constants and the others); None when ``start`` does not come from ``x`` that way."""
    found: set[int] = set()
    todo = [start]
    while todo:
        t = todo.pop()
        if t == x or g.const(t):
            continue
        i = g.made.get(t)
        if i is None or g.nodes[i].op_type not in ops or len(found) >= limit:
            return None
        if i not in found:
            found.add(i)
            todo.extend(u for u in g.nodes[i].input if u)
    return found if found or start == x else None


def _mul_chain(g: _Graph, t: str, steps: int = 2) -> tuple[str, set[int], str | None]:
    """Follow up to ``steps`` single-use Mul nodes from ``t``: (the last output, the Mul nodes
    and helper ``Mul(x, c)`` nodes, the x factor met: a dynamic operand, or None)."""
    members: set[int] = set()
    x = None
    for _ in range(steps):
        i = g.only_user(t, "Mul")
        if i is None:
            break
        other = g.other(i, t)
        if not g.const(other):
            if x is not None:
                break
            h = g.made.get(other)
            if h is not None and g.nodes[h].op_type == "Mul" and g.only_user(other, "Mul") == i and \
                    sum(g.const(u) for u in g.nodes[h].input) == 1:
                x = next(u for u in g.nodes[h].input if not g.const(u))
                members.add(h)
            else:
                x = other
        members.add(i)
        t = g.nodes[i].output[0]
    return t, members, x


def _gelu(g: _Graph, i: int) -> Group | None:
    """Erf form ``x*0.5*(1+erf(x/sqrt2))`` and tanh form ``0.5*x*(1+tanh(c*(x+0.044715x^3)))``."""
    add = g.only_user(g.nodes[i].output[0], "Add")
    if add is None or not g.const(g.other(add, g.nodes[i].output[0])):
        return None
    out, muls, x = _mul_chain(g, g.nodes[add].output[0])
    if x is None or not muls:
        return None
    inner = _back_to(g, g.nodes[i].input[0], x, ("Mul", "Div", "Add", "Pow"))
    if not inner:
        return None
    return Group("gelu", x, out, {i, add, *muls, *inner})


def _silu(g: _Graph, i: int) -> Group | None:
    """``x * Sigmoid(x)`` (Swish: ``x * Sigmoid(beta * x)``)."""
    s_out = g.nodes[i].output[0]
    m = g.only_user(s_out, "Mul")
    if m is None:
        return None
    x = g.other(m, s_out)
    if g.const(x):
        return None
    inner = _back_to(g, g.nodes[i].input[0], x, ("Mul",), limit=1)
    if inner is None:
        return None
    return Group("silu", x, g.nodes[m].output[0], {i, m, *inner})


def _layernorm(g: _Graph, i: int) -> Group | None:
    """``(x - mean(x)) / sqrt(mean((x - mean)^2) + eps) [* g] [+ b]`` over the last axis."""
    n = g.nodes
    x, mean = n[i].input[0], n[i].output[0]
    sub = g.only_user(mean, "Sub")
    if sub is None or list(n[sub].input) != [x, mean]:
        return None
    d = n[sub].output[0]
    users = g.used.get(d, [])
    if len(users) != 2 or min(users) < 0:
        return None
    sq = next((u for u in users if n[u].op_type in ("Pow", "Mul")), None)
    div = next((u for u in users if n[u].op_type == "Div"), None)
    if sq is None or div is None or list(n[div].input)[0] != d:
        return None
    if n[sq].op_type == "Mul" and list(n[sq].input) != [d, d]:
        return None
    var = g.only_user(n[sq].output[0], "ReduceMean")
    eps = g.only_user(n[var].output[0], "Add") if var is not None else None
    root = g.only_user(n[eps].output[0], "Sqrt") if eps is not None else None
    if root is None or g.only_user(n[root].output[0], "Div") != div:
        return None
    members, params, out = {i, sub, sq, var, eps, root, div}, [], n[div].output[0]
    for op in ("Mul", "Add"):
        j = g.only_user(out, op)
        if j is None or not g.const(g.other(j, out)):
            break
        members.add(j)
        params.append(g.other(j, out))
        out = n[j].output[0]
    return Group("layernorm", x, out, members, params)


def _softmax(g: _Graph, i: int) -> Group | None:
    """``Exp(x [- ReduceMax(x)]) / ReduceSum(Exp(...))``."""
    n = g.nodes
    e = n[i].output[0]
    users = g.used.get(e, [])
    if len(users) != 2 or min(users) < 0:
        return None
    red = next((u for u in users if n[u].op_type == "ReduceSum"), None)
    div = next((u for u in users if n[u].op_type == "Div"), None)
    if red is None or div is None or list(n[div].input) != [e, n[red].output[0]] or \
            g.only_user(n[red].output[0], "Div") != div:
        return None
    members, x = {i, red, div}, n[i].input[0]
    j = g.made.get(x)
    if j is not None and n[j].op_type == "Sub" and g.only_user(x, "Exp") == i:
        src, mx = n[j].input[0], n[j].input[1]
        k = g.made.get(mx)
        if k is not None and n[k].op_type == "ReduceMax" and n[k].input[0] == src and g.only_user(mx, "Sub") == j:
            members |= {j, k}
            x = src
    return Group("softmax", x, n[div].output[0], members)


def _linear_bias(g: _Graph, i: int) -> Group | None:
    """``MatMul(x, W)`` with a constant W, then ``Add(bias)`` with a constant 1-D bias."""
    n = g.nodes
    a, b = n[i].input[0], n[i].input[1]
    if g.const(a) or not g.const(b):
        return None
    add = g.only_user(n[i].output[0], "Add")
    if add is None:
        return None
    bias = g.other(add, n[i].output[0])
    if not g.const(bias):
        return None
    return Group("linear_bias", a, n[add].output[0], {i, add}, [b, bias])


_ANCHORS: dict[str, Callable[[_Graph, int], "Group | None"]] = {
    "Erf": _gelu, "Tanh": _gelu, "Sigmoid": _silu, "ReduceMean": _layernorm, "Exp": _softmax,
    "MatMul": _linear_bias}


def find(nodes: Sequence[Any], dynamic: set[str], graph_outputs: set[str]) -> dict[int, Group]:
    """The groups of ``nodes`` by their first node's index (groups never overlap)."""
    g = _Graph(nodes, dynamic, graph_outputs)
    taken: set[int] = set()
    out: dict[int, Group] = {}
    for i, node in enumerate(nodes):
        match = _ANCHORS.get(node.op_type)
        if match is None or i in taken or not node.input or g.const(node.input[0]):
            continue
        try:
            grp = match(g, i)
        except (IndexError, KeyError, TypeError):
            grp = None
        if grp is None or grp.members & taken or not grp.x or not _closed(g, grp):
            continue
        taken |= grp.members
        out[grp.first] = grp
    return out


def _closed(g: _Graph, grp: Group) -> bool:
    """True when every tensor a member makes, except ``out``, is used by members only."""
    for i in grp.members:
        for o in g.nodes[i].output:
            if o and o != grp.out and any(u not in grp.members for u in g.used.get(o, [])):
                return False
    return True


def dynamic_tensors(graph: Any, initializers: set[str], shape_ops: set[str]) -> set[str]:
    """Tensors computed from the graph's (non-initializer) inputs."""
    dyn = {i.name for i in graph.input if i.name not in initializers}
    for node in graph.node:
        if node.op_type not in shape_ops and any(t in dyn for t in node.input):
            dyn.update(o for o in node.output if o)
    return dyn
