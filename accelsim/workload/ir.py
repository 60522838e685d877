"""Layer-level intermediate representation (SPEC.md section 7).

A :class:`Layer` is one operator with a loop-nest shape in the conv convention
``O[n, g, k, p, q] += W[g, k, c, r, s] * I[n, g, c, p*stride + r, q*stride + s]``.
Linear layers are the 1x1 case with tokens laid out as ``P x Q``; matmuls with two
dynamic operands (attention ``Q @ K^T`` and ``A @ V``) use ``P*Q`` rows of the left
operand, ``C`` the reduction and ``K`` the columns of the right operand, repeated
``batch`` times (heads x windows). Every derived quantity (MACs, bytes, element
counts, parameters) is a property computed from the shape, never stored.

Units: bytes for sizes, element counts for non-MAC work, MACs for multiply-accumulates.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Iterable, Mapping

import networkx as nx
import pandas as pd


class Op(str, Enum):
    """Operator kinds. MAC-bearing kinds are :data:`MAC_OPS`."""

    CONV2D = "conv2d"
    DWCONV2D = "dwconv2d"
    LINEAR = "linear"
    MATMUL = "matmul"
    ELTWISE = "eltwise"
    NORM = "norm"
    SOFTMAX = "softmax"
    RESIZE = "resize"
    POOL = "pool"
    CONCAT = "concat"
    OTHER = "other"


MAC_OPS = frozenset({Op.CONV2D, Op.DWCONV2D, Op.LINEAR, Op.MATMUL})
CONV_OPS = frozenset({Op.CONV2D, Op.DWCONV2D})

#: Largest value of each integer field of a :class:`Layer`. Shapes of real networks are
#: far below (a 4096 x 4096 map, 16k channels); together with :data:`MAX_LAYER_MACS`
#: and :data:`MAX_HALO_READS` they keep every integer product of the cost equations
#: inside int64 (docs/cost_model.md, "Input limits").
FIELD_LIMITS: dict[str, int] = {
    "k": 2**20, "c": 2**20, "p": 2**20, "q": 2**20, "r": 4096, "s": 4096, "stride": 4096,
    "padding": 4096, "groups": 2**20, "batch": 2**20, "n": 65_536, "ops_per_element": 2**20,
    "in_h": 2**20, "in_w": 2**20, "extra_params": 2**48,
}
#: Fields that must be >= 1 (the others >= 0; ``extra_params`` may be negative).
POSITIVE_FIELDS = ("k", "c", "p", "q", "r", "s", "stride", "groups", "batch", "n")
#: Largest MAC count of one layer: times the largest accumulation depth (4096) it stays
#: below 2^60, the compute-cycle product of the mapper.
MAX_LAYER_MACS = 2**48
#: Largest input or output element count of one layer.
MAX_LAYER_ELEMENTS = 2**48
#: Largest input-read product of a MAC layer, K x C x P x Q x (stride + R) x (stride + S)
#: per group: the mapper's input-buffer fill with halo never exceeds it.
MAX_HALO_READS = 2**60

#: Name used as the producer of the network's input tensor in ``Layer.inputs``.
INPUT = "input"


@dataclass(frozen=True)
class Layer:
    """One operator of a workload.

    Shape fields follow the conv convention (see module docstring):

    - ``k``: output channels (for matmul: columns of the right operand);
    - ``c``: input channels, total over groups (for matmul: reduction length);
    - ``p``, ``q``: output height and width (for linear/matmul: tokens as ``p x q``);
    - ``r``, ``s``: kernel height and width; ``stride``, ``padding`` in pixels;
    - ``groups``: conv groups (``groups == c == k`` for a depthwise conv);
    - ``batch``: independent repetitions (heads x windows for attention);
    - ``n``: images (batch size, 1 in the study).

    Non-MAC kinds use ``k`` = ``c`` = channels and ``p x q`` = output positions;
    ``ops_per_element`` is the PPU work per output element (e.g. a pooling window's
    ``r * s`` reads). ``fn`` names the function (``gelu``, ``relu``, ``layernorm``,
    ``batchnorm``, ``bilinear``, ``add`` ...). ``fused`` marks element-wise work that
    the hardware applies in the producing layer's drain (activation, folded BN).
    ``inputs`` names the producing layers (``"input"`` for the network input);
    ``weight_dynamic`` marks a matmul whose right operand is an activation.
    ``extra_params`` counts learned tensors that are not weights of this op's MACs
    (position embeddings, class tokens, query embeddings) so parameter totals match.
    ``shares`` names an earlier layer whose weights this call reuses (a module called
    more than once, e.g. DAB-DETR's ``query_scale`` in every layer): its static weights,
    bias and norm affine parameters are the owner's and are not counted again in
    ``params``; its MACs and its weight traffic are its own (every call fetches them).
    """

    name: str
    op: Op
    k: int
    c: int
    p: int = 1
    q: int = 1
    r: int = 1
    s: int = 1
    stride: int = 1
    padding: int = 0
    groups: int = 1
    batch: int = 1
    n: int = 1
    bias: bool = False
    fn: str = ""
    fused: bool = False
    ops_per_element: int = 1
    inputs: tuple[str, ...] = ()
    extra_params: int = 0
    in_h: int = 0
    in_w: int = 0
    tags: tuple[tuple[str, str], ...] = ()
    shares: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.op, Op):
            object.__setattr__(self, "op", Op(self.op))
        for fname, limit in FIELD_LIMITS.items():
            v = getattr(self, fname)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or int(v) != v:
                raise ValueError(f"layer {self.name!r}: field '{fname}' must be an integer, got {v!r}")
            v = int(v)
            low = 1 if fname in POSITIVE_FIELDS else -limit if fname == "extra_params" else 0
            if not low <= v <= limit:
                raise ValueError(f"layer {self.name!r}: field '{fname}' = {v} must be in {low}..{limit:,}")
            object.__setattr__(self, fname, v)
        if self.c % self.groups or self.k % self.groups:
            raise ValueError(
                f"layer {self.name!r}: groups={self.groups} must divide c={self.c} and k={self.k}"
            )
        if self.op is Op.DWCONV2D and not self.groups == self.c == self.k:
            raise ValueError(f"layer {self.name!r}: a dwconv2d needs groups == c == k (one filter per "
                             f"channel), got groups={self.groups}, c={self.c}, k={self.k}; write a "
                             "grouped conv2d otherwise")
        if isinstance(self.tags, Mapping):
            object.__setattr__(self, "tags", tuple(sorted(self.tags.items())))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        if self.shares == self.name:
            raise ValueError(f"layer {self.name!r}: shares={self.shares!r} names the layer itself")
        self._check_size()

    def _check_size(self) -> None:
        """Refuse a layer whose work would overflow the cost model's 64-bit counters."""
        h, w = self.input_hw
        totals = {"MACs": (self.macs, MAX_LAYER_MACS),
                  "output elements": (self.output_elements, MAX_LAYER_ELEMENTS),
                  "input elements": (self.n * self.batch * self.c * h * w, MAX_LAYER_ELEMENTS)}
        if self.is_mac:
            k, c = (self.k, 1) if self.op is Op.DWCONV2D else (self.k_per_group, self.c_per_group)
            halo = k * c * self.p * self.q * (self.stride + self.r) * (self.stride + self.s)
            totals["input reads with halo K*C*P*Q*(stride+R)*(stride+S)"] = (halo, MAX_HALO_READS)
        for what, (value, limit) in totals.items():
            if value > limit:
                raise ValueError(f"layer {self.name!r}: {what} = {value:.3g} is over the limit of "
                                 f"{limit:.3g} (2^{limit.bit_length() - 1}) of the cost model's "
                                 "64-bit counters")

    # ----------------------------------------------------------------- shape
    @property
    def is_mac(self) -> bool:
        """True for kinds whose work is multiply-accumulates."""
        return self.op in MAC_OPS

    @property
    def weight_dynamic(self) -> bool:
        """True when the right/weight operand is an activation (attention matmul)."""
        return self.op is Op.MATMUL

    @property
    def c_per_group(self) -> int:
        return self.c // self.groups

    @property
    def k_per_group(self) -> int:
        return self.k // self.groups

    @property
    def input_hw(self) -> tuple[int, int]:
        """Input height and width in pixels (tokens for linear/matmul)."""
        if self.in_h and self.in_w:
            return self.in_h, self.in_w
        if self.op in CONV_OPS or self.op is Op.POOL:
            h = (self.p - 1) * self.stride + self.r - 2 * self.padding
            w = (self.q - 1) * self.stride + self.s - 2 * self.padding
            return max(h, 1), max(w, 1)
        return self.p, self.q

    @property
    def tag(self) -> dict[str, str]:
        return dict(self.tags)

    # ----------------------------------------------------------------- work
    @property
    def macs(self) -> int:
        """Multiply-accumulates (0 for non-MAC kinds)."""
        if not self.is_mac:
            return 0
        return (self.n * self.batch * self.k * self.c_per_group * self.r * self.s
                * self.p * self.q)

    @property
    def flops(self) -> int:
        """2 x MACs (SPEC.md section 1)."""
        return 2 * self.macs

    @property
    def output_elements(self) -> int:
        return self.n * self.batch * self.k * self.p * self.q

    @property
    def input_elements(self) -> int:
        h, w = self.input_hw
        return self.n * self.batch * self.c * h * w

    @property
    def nonmac_ops(self) -> int:
        """Element operations done by the PPU/vector unit (0 for MAC kinds; concat is a copy)."""
        if self.is_mac or self.op is Op.CONCAT:
            return 0
        return self.output_elements * self.ops_per_element

    @property
    def weight_elements(self) -> int:
        """Elements of the weight-side operand (static weights, or the dynamic right operand)."""
        if not self.is_mac:
            return 0
        return self.batch * self.k * self.c_per_group * self.r * self.s

    @property
    def static_params(self) -> int:
        """This op's own learned tensors: static weights, bias, affine norm parameters
        (elements; the same whether or not the layer ``shares`` them with an earlier call)."""
        if self.op in (Op.CONV2D, Op.DWCONV2D, Op.LINEAR):
            return self.weight_elements + (self.k if self.bias else 0)
        if self.op is Op.NORM and self.fn in ("layernorm", "batchnorm", "groupnorm"):
            return 2 * self.k
        return 0

    @property
    def params(self) -> int:
        """Learned parameters (elements): :attr:`static_params` unless they are an earlier
        layer's (``shares``), plus ``extra_params``."""
        return self.extra_params + (0 if self.shares else self.static_params)

    def weight_bytes(self, bits: int = 8) -> int:
        return self.weight_elements * bits // 8

    def input_bytes(self, bits: int = 8) -> int:
        return self.input_elements * bits // 8

    def output_bytes(self, bits: int = 8) -> int:
        return self.output_elements * bits // 8

    def shape_key(self) -> tuple:
        """Everything the cost model depends on; equal keys are mapped once (memoised)."""
        return (self.op.value, self.k, self.c, self.p, self.q, self.r, self.s, self.stride,
                self.padding, self.groups, self.batch, self.n, self.fused,
                self.ops_per_element, *self.input_hw)

    def with_(self, **changes) -> "Layer":
        """A copy with fields changed (layers are immutable)."""
        return replace(self, **changes)

    def row(self) -> dict:
        """A flat dict for tables."""
        h, w = self.input_hw
        return {
            "name": self.name, "op": self.op.value, "fn": self.fn, "n": self.n, "k": self.k,
            "c": self.c, "p": self.p, "q": self.q, "r": self.r, "s": self.s,
            "stride": self.stride, "padding": self.padding, "groups": self.groups,
            "batch": self.batch, "in_h": h, "in_w": w, "macs": self.macs,
            "nonmac_ops": self.nonmac_ops, "params": self.params,
            "weight_bytes": self.weight_bytes(), "input_bytes": self.input_bytes(),
            "output_bytes": self.output_bytes(), "fused": self.fused,
            "inputs": ",".join(self.inputs), "shares": self.shares,
            **{f"tag_{k}": v for k, v in self.tags},
        }


# ------------------------------------------------ non-MAC layers with a fixed PPU cost
def norm_layer(name: str, chans: int, p: int, q: int, fn: str, fused: bool,
               inputs: tuple[str, ...], n: int = 1) -> Layer:
    """A normalization over ``chans`` channels at ``p x q`` positions: 4 PPU ops per element
    (mean, variance, normalise, scale-shift), 1 when folded into the producer's drain."""
    return Layer(name, Op.NORM, k=chans, c=chans, p=p, q=q, n=n, fn=fn, fused=fused,
                 ops_per_element=1 if fused else 4, inputs=inputs)


def softmax_layer(name: str, chans: int, p: int, q: int = 1, batch: int = 1,
                  fn: str = "softmax", inputs: tuple[str, ...] = ()) -> Layer:
    """Softmax over ``chans`` per row, ``p x q`` rows, ``batch`` copies: 3 PPU ops per
    element (exp, sum, divide)."""
    return Layer(name, Op.SOFTMAX, k=chans, c=chans, p=p, q=q, batch=batch, fn=fn,
                 ops_per_element=3, inputs=inputs)


def pool_layer(name: str, chans: int, p: int, q: int, r: int, s: int, stride: int,
               padding: int, fn: str, inputs: tuple[str, ...], in_h: int, in_w: int,
               n: int = 1, window: int | None = None) -> Layer:
    """An ``r x s`` pooling to ``p x q`` from an ``in_h x in_w`` map: ``window`` reads per
    output element (default ``r * s``), one PPU op each."""
    return Layer(name, Op.POOL, k=chans, c=chans, p=p, q=q, r=r, s=s, stride=stride,
                 padding=padding, n=n, fn=fn, ops_per_element=r * s if window is None else window,
                 inputs=inputs, in_h=in_h, in_w=in_w)


@dataclass(frozen=True)
class Workload:
    """An ordered layer list (a topological order of its dataflow graph) plus metadata.

    ``input_size`` is (H, W) in pixels; ``exec_path`` the execution-path string
    (SPEC.md section 8) that produced it, empty for the full model.
    """

    name: str
    family: str
    variant: str
    input_size: tuple[int, int]
    num_classes: int
    layers: tuple[Layer, ...]
    dataset: str = ""
    exec_path: str = ""
    meta: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "input_size", tuple(int(v) for v in self.input_size))
        if isinstance(self.meta, Mapping):
            object.__setattr__(self, "meta", tuple(sorted((k, str(v)) for k, v in self.meta.items())))
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"workload {self.name!r}: duplicate layer names {dup[:5]}")
        check_shares(self.layers, f"workload {self.name!r}")

    # ------------------------------------------------------------ totals
    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"workload {self.name!r} has no layer {name!r}")

    def __contains__(self, name: str) -> bool:
        return any(layer.name == name for layer in self.layers)

    def replace(self, **changes) -> "Workload":
        return replace(self, **changes)

    def to_frame(self) -> pd.DataFrame:
        """One row per layer (see :meth:`Layer.row`)."""
        return pd.DataFrame([layer.row() for layer in self.layers])

    def macs_by_op(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for layer in self.layers:
            if layer.macs:
                out[layer.op.value] = out.get(layer.op.value, 0) + layer.macs
        return out

    def graph(self) -> nx.DiGraph:
        """The dataflow graph: one node per layer (plus ``input``), producer -> consumer.

        Node attribute ``layer`` holds the :class:`Layer`; edge attributes ``channels``,
        ``h``, ``w`` describe the tensor on the edge (the producer's output).
        """
        return build_graph(self.layers)


def build_graph(layers: Iterable[Layer]) -> nx.DiGraph:
    """Producer -> consumer DiGraph of ``layers`` (see :meth:`Workload.graph`)."""
    g = nx.DiGraph()
    g.add_node(INPUT, layer=None)
    by_name: dict[str, Layer] = {}
    for layer in layers:
        g.add_node(layer.name, layer=layer)
        for src in layer.inputs:
            if src != INPUT and src not in by_name:
                raise ValueError(f"layer {layer.name!r} reads {src!r}, which is not produced before it")
            prod = by_name.get(src)
            if prod is None:
                g.add_edge(src, layer.name, channels=layer.c, h=layer.input_hw[0], w=layer.input_hw[1])
            else:
                g.add_edge(src, layer.name, channels=prod.k, h=prod.p, w=prod.q)
        by_name[layer.name] = layer
    return g


def check_shares(layers: Iterable[Layer], where: str = "layers") -> None:
    """Raise ValueError unless every ``shares`` names an earlier layer with as many static
    parameters (the same tensors, so the same count)."""
    earlier: dict[str, Layer] = {}
    for layer in layers:
        if layer.shares:
            owner = earlier.get(layer.shares)
            if owner is None:
                raise ValueError(f"{where}: layer {layer.name!r} shares the weights of "
                                 f"{layer.shares!r}, which is not a layer before it")
            if owner.static_params != layer.static_params:
                raise ValueError(f"{where}: layer {layer.name!r} has {layer.static_params} static "
                                 f"parameters but shares those of {owner.name!r}, which has "
                                 f"{owner.static_params}")
        earlier[layer.name] = layer


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def conv_out(size: int, kernel: int, stride: int, pad: int) -> int:
    """Output size of a conv or pool along one axis (floor convention)."""
    return (size + 2 * pad - kernel) // stride + 1


def pad_to(size: int, multiple: int) -> int:
    return int(math.ceil(size / multiple) * multiple)
