"""Shape-to-layer helpers shared by the PyTorch and ONNX importers.

Both importers see tensors with concrete shapes; these helpers turn operand and
result shapes into :class:`~accelsim.workload.ir.Layer` objects in the conv
convention (SPEC.md section 7) and collect them with unique names. MAC counts
follow SPEC.md section 1: convs (incl. depthwise), linears and both attention
matmuls carry MACs; everything else is counted as element operations.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ..ir import CONV_OPS, Layer, Op

Shape = Sequence[int]


class UnmappedOpWarning(UserWarning):
    """Ops that the importer kept as ``other`` layers (listed once per import)."""


class MissingWeightsWarning(UserWarning):
    """Weights whose data is absent (an ONNX external data file not shipped): the import
    used their shapes only (listed once per import)."""


class IgnoredFieldsWarning(UserWarning):
    """Fields of a peer's file that the import read and did not use (a batch size, a
    sparsity ratio, extra ONNX attributes), listed once per import."""


def prod(values: Iterable[int]) -> int:
    return int(math.prod(int(v) for v in values))


def nchw(shape: Shape) -> tuple[int, int, int, int]:
    """(n, channels, p, q) view of an activation shape for element-wise layers.

    4-D is read as N x C x H x W, 3-D as B x tokens x C, 2-D as tokens x C; higher
    ranks fold the middle dims into ``p``. Element counts are exact in every case.
    """
    dims = [max(int(d), 1) for d in shape]
    if not dims:
        return 1, 1, 1, 1
    if len(dims) == 1:
        return 1, dims[0], 1, 1
    if len(dims) == 2:
        return 1, dims[1], dims[0], 1
    if len(dims) == 3:
        return dims[0], dims[2], dims[1], 1
    if len(dims) == 4:
        return dims[0], dims[1], dims[2], dims[3]
    return dims[0], dims[-1], prod(dims[1:-2]), dims[-2]


def token_pq(leading: Shape) -> tuple[int, int]:
    """Rows of a token-wise op as ``p x q``: ``[1, H, W]`` -> (H, W), ``[B, N]`` -> (B*N, 1)."""
    dims = [max(int(d), 1) for d in leading]
    if not dims:
        return 1, 1
    if len(dims) >= 3:
        return prod(dims[:-1]), dims[-1]
    return prod(dims), 1


def _first(value, default: int = 0) -> int:
    if isinstance(value, (list, tuple)):
        return int(value[0]) if value else default
    return default if value is None else int(value)


def conv_layer(name: str, x: Shape, w: Shape, y: Shape, stride=1, padding=0, groups: int = 1,
               bias: bool = False, inputs: tuple[str, ...] = (), fn: str = "") -> Layer:
    """Conv from NC[D]HW input ``x``, weight ``[K, C/g, kD, kH, kW]`` and output ``y``.

    1-D convs use ``p = 1``; 3-D convs fold depth into ``p`` and ``r`` so MACs stay exact.
    """
    k, cg = int(w[0]), int(w[1])
    kern = [int(v) for v in w[2:]] or [1]
    out_sp = [int(v) for v in y[2:]] or [1]
    in_sp = [int(v) for v in x[2:]] or [1]
    r, s = prod(kern[:-1]) if len(kern) > 1 else 1, kern[-1]
    p, q = prod(out_sp[:-1]) if len(out_sp) > 1 else 1, out_sp[-1]
    in_h, in_w = prod(in_sp[:-1]) if len(in_sp) > 1 else 1, in_sp[-1]
    c = cg * groups
    op = Op.DWCONV2D if groups > 1 and groups == c == k else Op.CONV2D
    return Layer(name, op, k=k, c=c, p=p, q=q, r=r, s=s, stride=max(_first(stride, 1), 1),
                 padding=max(_first(padding), 0), groups=groups, n=max(int(x[0]), 1), bias=bias,
                 fn=fn, inputs=inputs, in_h=in_h, in_w=in_w)


def matmul_layer(name: str, a: Shape, b: Shape, a_static: bool, b_static: bool,
                 inputs: tuple[str, ...] = (), bias: bool = False) -> Layer:
    """``a @ b`` with numpy broadcasting.

    Both operands dynamic: a ``matmul`` (``batch`` x ``[M x K] @ [K x N]``). One operand
    static (a weight): a ``linear`` with the static operand as its weight; weights without
    batch dims are shared, so their rows fold into the token count.
    """
    a = [1, int(a[0])] if len(a) == 1 else [int(v) for v in a]
    b = [int(b[0]), 1] if len(b) == 1 else [int(v) for v in b]
    m, kk, n = a[-2], a[-1], b[-1]
    batch_dims = _broadcast(a[:-2], b[:-2])
    batch = prod(batch_dims)
    if b_static and not a_static:
        wb = prod(b[:-2])
        if wb == 1:
            p, q = token_pq([*batch_dims, m]) if batch > 1 else (m, 1)
            return Layer(name, Op.LINEAR, k=n, c=kk, p=p, q=q, bias=bias, inputs=inputs)
        return Layer(name, Op.LINEAR, k=n, c=kk, p=m, batch=batch, bias=bias, inputs=inputs)
    if a_static and not b_static:
        wa = prod(a[:-2])
        if wa == 1:
            return Layer(name, Op.LINEAR, k=m, c=kk, p=n * batch, bias=bias, inputs=inputs,
                         fn="left_weight")
        return Layer(name, Op.LINEAR, k=m, c=kk, p=n, batch=batch, bias=bias, inputs=inputs,
                     fn="left_weight")
    return Layer(name, Op.MATMUL, k=n, c=kk, p=m, batch=batch, inputs=inputs,
                 fn="static" if a_static and b_static else "")


def _broadcast(a: Shape, b: Shape) -> list[int]:
    out = []
    for i in range(max(len(a), len(b))):
        da = a[len(a) - 1 - i] if i < len(a) else 1
        db = b[len(b) - 1 - i] if i < len(b) else 1
        out.append(max(da, db))
    return out[::-1]


def einsum_layer(name: str, equation: str, a: Shape, b: Shape, a_static: bool, b_static: bool,
                 inputs: tuple[str, ...] = ()) -> Layer:
    """A two-operand einsum as a (batched) matmul: indices in both operands and the output
    are batch, in both operands only the reduction, in one operand and the output M / N."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    ta, tb = lhs.split(",")
    n_ell = max(_ellipsis_dims(ta, len(a)), _ellipsis_dims(tb, len(b)))
    ta, tb = _expand_ellipsis(ta, len(a), n_ell), _expand_ellipsis(tb, len(b), n_ell)
    if not arrow:  # implicit output: indices that appear once, alphabetical, after the ellipsis
        counts = Counter(ta + tb)
        out = "".join(sorted(i for i, c in counts.items() if c == 1))
    else:
        out = _expand_ellipsis(out, len(out) - 3 + n_ell, n_ell)
    sizes: dict[str, int] = {}
    for idx, dim in [*zip(ta, a), *zip(tb, b)]:
        sizes[idx] = max(sizes.get(idx, 1), int(dim))
    sa, sb, so = set(ta), set(tb), set(out)
    batch = prod(sizes[i] for i in sa & sb & so)
    red = prod(sizes[i] for i in (sa & sb) - so)
    m = prod(sizes[i] for i in (sa & so) - sb)
    n = prod(sizes[i] for i in (sb & so) - sa)
    return matmul_layer(name, [batch, m, red], [batch, red, n], a_static, b_static, inputs)


def _ellipsis_dims(term: str, ndim: int) -> int:
    return ndim - (len(term) - 3) if "..." in term else 0


def _expand_ellipsis(term: str, ndim: int, n_ell: int) -> str:
    """Replace ``...`` by private index letters, right-aligned across operands (broadcast)."""
    if "..." not in term:
        return term
    own = ndim - (len(term) - 3)
    fill = "".join(chr(0x3B1 + i) for i in range(n_ell - own, n_ell))
    return term.replace("...", fill)


def elementwise_layer(name: str, op: Op, y: Shape, fn: str, inputs: tuple[str, ...] = (),
                      ops_per_element: int = 1, fused: bool = False, extra_params: int = 0,
                      x: Shape | None = None) -> Layer:
    """A non-MAC layer over the elements of result shape ``y`` (``x`` sets the input size)."""
    n, c, p, q = nchw(y)
    kw = {}
    if x is not None:
        _, _, ih, iw = nchw(x)
        kw = {"in_h": ih, "in_w": iw}
    return Layer(name, op, k=c, c=c, p=p, q=q, n=n, fn=fn, inputs=inputs,
                 ops_per_element=max(int(ops_per_element), 1), fused=fused,
                 extra_params=int(extra_params), **kw)


def fuses_into(producer: Layer | None, fn: str) -> bool:
    """Tag convention: BN right after a conv, and activations after a conv/linear (or after
    such a fused BN), are applied in the producer's PPU drain."""
    if producer is None:
        return False
    if fn.startswith("batchnorm"):
        return producer.op in CONV_OPS
    return producer.op in (*CONV_OPS, Op.LINEAR) or (producer.op is Op.NORM and producer.fused)


def account_weights(layer: Layer, owner: Layer | None, shared: int, uncounted: int = 0) -> Layer:
    """Count a layer's static tensors once across repeated calls (SPEC.md section 7).

    ``shared``: elements of its tensors that earlier layers counted; ``uncounted``: elements
    of its tensors that :attr:`Layer.static_params` does not count as they are (an RMSNorm
    weight, a norm without bias). When ``owner``, an earlier layer with the same tensors in
    the same role, counted all of them, the layer ``shares`` the owner's weights; otherwise
    ``extra_params`` adds ``uncounted`` and subtracts ``shared`` (a tensor tied into an op of
    another shape), so the parameter total counts each tensor once.
    """
    if (owner is not None and owner.static_params == layer.static_params
            and shared == layer.static_params + uncounted):
        return layer.with_(shares=owner.name)
    if shared or uncounted:
        return layer.with_(extra_params=layer.extra_params + uncounted - shared)
    return layer


@dataclass
class LayerSink:
    """Collects layers in program order with unique names and counts unmapped ops."""

    layers: list[Layer] = field(default_factory=list)
    by_name: dict[str, Layer] = field(default_factory=dict)
    unmapped: Counter = field(default_factory=Counter)
    _seen: Counter = field(default_factory=Counter)

    def unique(self, base: str) -> str:
        base = base or "op"
        name, i = base, self._seen[base]
        while name in self.by_name:
            i += 1
            name = f"{base}_{i}"
        self._seen[base] = i
        return name

    def add(self, layer: Layer) -> Layer:
        if layer.name in self.by_name:
            layer = layer.with_(name=self.unique(layer.name))
        self.layers.append(layer)
        self.by_name[layer.name] = layer
        return layer

    def warn(self, source: str) -> None:
        if self.unmapped:
            listed = ", ".join(f"{k} x{v}" for k, v in sorted(self.unmapped.items()))
            warnings.warn(f"{source}: ops kept as 'other' layers (element counts only): {listed}",
                          UnmappedOpWarning, stacklevel=3)

    def unmapped_text(self) -> str:
        return ",".join(f"{k}:{v}" for k, v in sorted(self.unmapped.items()))


def part_tag(module_path: str) -> str:
    """Guess the ``part`` tag (backbone/encoder/neck/decoder/head) from a module path."""
    tokens = module_path.lower().replace("_", ".").split(".")
    for key, part in (("backbone", "backbone"), ("neck", "neck"), ("decode", "decoder"),
                      ("decoder", "decoder"), ("head", "head"), ("classifier", "head"),
                      ("predictor", "head"),
                      ("encoder", "encoder"), ("embeddings", "encoder"), ("embed", "encoder")):
        if any(t.startswith(key) for t in tokens):
            return part
    return "backbone"
