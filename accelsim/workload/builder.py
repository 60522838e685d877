"""A small tracing builder that extractors use to emit layers and graph edges together.

Each method takes :class:`T` handles (the tensor a layer produced), appends one
:class:`~accelsim.workload.ir.Layer` and returns the handle of its output, so the
producer -> consumer edges of the dataflow graph are exactly the data dependencies
the extractor wrote. Token tensors are ``T(c=channels, h=rows, w=cols)`` with
``h * w`` tokens. :func:`check_input`, :func:`pick`, :func:`conv_module`, :func:`attention` and
:func:`ffn` are helpers that several extractors share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from ..errors import WorkloadError
from .ir import INPUT, Layer, Op, Workload, conv_out, norm_layer, pool_layer, softmax_layer


@dataclass(frozen=True)
class T:
    """A tensor handle: producing layer name, channels, height, width (``h*w`` positions)."""

    src: str
    c: int
    h: int
    w: int

    @property
    def tokens(self) -> int:
        return self.h * self.w


class Builder:
    """Collects layers in program order; prefix scoping keeps official module names."""

    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self._tags: dict[str, str] = {}

    # ------------------------------------------------------------- context
    def input(self, c: int, h: int, w: int) -> T:
        return T(INPUT, c, h, w)

    def set_tags(self, **tags: str) -> None:
        """Tags (stage, block, part=encoder/decoder/backbone/head) applied to later layers."""
        self._tags = {k: str(v) for k, v in tags.items() if v is not None}

    def _add(self, layer: Layer) -> Layer:
        if not layer.tags and self._tags:
            layer = layer.with_(tags=tuple(sorted(self._tags.items())))
        self.layers.append(layer)
        return layer

    def workload(self, **meta) -> Workload:
        return Workload(layers=tuple(self.layers), **meta)

    # ----------------------------------------------------------- MAC layers
    def conv(self, name: str, x: T, k: int, r: int, stride: int = 1, pad: int = 0,
             groups: int = 1, bias: bool = True, s: int | None = None) -> T:
        """2-D conv (depthwise when ``groups == x.c == k``)."""
        s = r if s is None else s
        p = conv_out(x.h, r, stride, pad)
        q = conv_out(x.w, s, stride, pad)
        op = Op.DWCONV2D if groups > 1 and groups == x.c == k else Op.CONV2D
        self._add(Layer(name, op, k=k, c=x.c, p=p, q=q, r=r, s=s, stride=stride, padding=pad,
                        groups=groups, bias=bias, inputs=(x.src,), in_h=x.h, in_w=x.w))
        return T(name, k, p, q)

    def linear(self, name: str, x: T, k: int, bias: bool = True, batch: int = 1) -> T:
        """Token-wise linear ``x.c -> k`` over ``x.h * x.w`` tokens (``batch`` copies)."""
        self._add(Layer(name, Op.LINEAR, k=k, c=x.c, p=x.h, q=x.w, bias=bias, batch=batch,
                        inputs=(x.src,)))
        return T(name, k, x.h, x.w)

    def matmul(self, name: str, a: T, b: T, m: int, k: int, c: int, batch: int = 1) -> T:
        """``batch`` independent ``[m x c] @ [c x k]`` products with both operands dynamic.

        The output handle has ``k`` channels over ``m`` rows (``h=m, w=1``).
        """
        srcs = (a.src,) if a.src == b.src else (a.src, b.src)
        self._add(Layer(name, Op.MATMUL, k=k, c=c, p=m, q=1, batch=batch, inputs=srcs))
        return T(name, k, m, 1)

    # -------------------------------------------------------- non-MAC layers
    def norm(self, name: str, x: T, fn: str = "layernorm", fused: bool = False,
             affine: bool = True) -> T:
        """LayerNorm / BatchNorm (``fused=True`` for BN folded into the producing conv)."""
        self._add(norm_layer(name, x.c, x.h, x.w, fn if affine else f"{fn}_noaffine", fused,
                             inputs=(x.src,)))
        return T(name, x.c, x.h, x.w)

    def act(self, name: str, x: T, fn: str = "relu", fused: bool = True) -> T:
        """Element-wise activation, by default fused into the producer's drain (PPU)."""
        self._add(Layer(name, Op.ELTWISE, k=x.c, c=x.c, p=x.h, q=x.w, fn=fn, fused=fused,
                        inputs=(x.src,)))
        return T(name, x.c, x.h, x.w)

    def add(self, name: str, a: T, b: T, fn: str = "add") -> T:
        """Element-wise binary op (residual add, multiply)."""
        self._add(Layer(name, Op.ELTWISE, k=a.c, c=a.c, p=a.h, q=a.w, fn=fn,
                        inputs=(a.src, b.src)))
        return T(name, a.c, a.h, a.w)

    def softmax(self, name: str, x: T, batch: int = 1) -> T:
        """Softmax over ``x.c`` per row, ``batch`` copies (heads x windows)."""
        self._add(softmax_layer(name, x.c, x.h, x.w, batch=batch, inputs=(x.src,)))
        return T(name, x.c, x.h, x.w)

    def resize(self, name: str, x: T, h: int, w: int, fn: str = "bilinear") -> T:
        """Resize (bilinear: 4 reads per output element)."""
        self._add(Layer(name, Op.RESIZE, k=x.c, c=x.c, p=h, q=w, fn=fn,
                        ops_per_element=4 if fn == "bilinear" else 1, inputs=(x.src,),
                        in_h=x.h, in_w=x.w))
        return T(name, x.c, h, w)

    def pool(self, name: str, x: T, r: int, stride: int, pad: int = 0, fn: str = "avg",
             out_hw: tuple[int, int] | None = None) -> T:
        """Pooling; ``out_hw`` for adaptive pooling (window = input / output)."""
        if out_hw is None:
            p, q = conv_out(x.h, r, stride, pad), conv_out(x.w, r, stride, pad)
            win = r * r
        else:
            p, q = out_hw
            win = max(1, -(-x.h // p)) * max(1, -(-x.w // q))
        self._add(pool_layer(name, x.c, p, q, r, r, stride, pad, fn, inputs=(x.src,),
                             in_h=x.h, in_w=x.w, window=win))
        return T(name, x.c, p, q)

    def concat(self, name: str, xs: Sequence[T]) -> T:
        """Channel concat of same-size tensors (a copy; no PPU work)."""
        c = sum(x.c for x in xs)
        self._add(Layer(name, Op.CONCAT, k=c, c=c, p=xs[0].h, q=xs[0].w,
                        inputs=tuple(x.src for x in xs)))
        return T(name, c, xs[0].h, xs[0].w)

    def other(self, name: str, xs: Sequence[T], c: int, h: int, w: int, fn: str,
              ops_per_element: int = 1, extra_params: int = 0) -> T:
        """Any other element-level op (embedding adds, token gathers, top-k ...)."""
        self._add(Layer(name, Op.OTHER, k=c, c=c, p=h, q=w, fn=fn, ops_per_element=ops_per_element,
                        inputs=tuple(x.src for x in xs), extra_params=extra_params))
        return T(name, c, h, w)

    def reshape(self, x: T, c: int, h: int, w: int) -> T:
        """A free view change (no layer): same producer, new logical shape."""
        if c * h * w != x.c * x.h * x.w:
            raise ValueError(f"reshape of {x} to {(c, h, w)} changes the element count")
        return T(x.src, c, h, w)


# ------------------------------------------------------------- shared helpers
def check_input(name: str, input_size: tuple[int, int], multiple: int = 32, lo: int = 1,
                hi: int | None = None) -> tuple[int, int]:
    """Validate an (H, W) input in pixels that the model needs divisible by ``multiple`` and,
    when ``lo > 1`` or ``hi`` is given, between ``lo`` and ``hi`` pixels per side."""
    h, w = (int(v) for v in input_size)
    if (lo > 1 or hi is not None) and (min(h, w) < lo or (hi is not None and max(h, w) > hi)):
        rule = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise WorkloadError(f"{name}: input size {h}x{w} is out of range; H and W must be "
                            f"{rule} pixels")
    if h < 1 or w < 1 or h % multiple or w % multiple:
        raise WorkloadError(f"{name}: input size {h}x{w} must have H and W divisible by "
                            f"{multiple} (e.g. 512x512)")
    return h, w


def pick(table: Iterable[str], value: str, what: str) -> str:
    """The lower-case key of ``value`` in ``table`` (a dict or tuple of names); an unknown
    ``value`` raises ``unknown <what> '<value>': choose one of <keys>``."""
    key = value.lower()
    if key not in table:
        raise WorkloadError(f"unknown {what} {value!r}: choose one of {', '.join(table)}")
    return key


def conv_module(b: Builder, name: str, x: T, k: int, r: int, stride: int = 1,
                pad: int = 0, *, bn: str = "", act: str | None = "", act_fn: str = "relu",
                groups: int = 1, bias: bool = False, frozen_bn: bool = False) -> T:
    """Conv (no bias by default) + BatchNorm + activation, both folded into the conv's drain
    (mmcv ConvModule; torchvision/timm conv-BN-ReLU).

    Layer names: the conv is ``name``, the BN ``bn`` (default ``<name>.bn``), the activation
    ``act`` (default ``<name>.activate``; ``None`` for no activation) applying ``act_fn``.
    ``frozen_bn`` models ``FrozenBatchNorm2d``: its scale and shift are buffers, not learned
    parameters, so they do not count in the parameter total.
    """
    x = b.conv(name, x, k, r=r, stride=stride, pad=pad, bias=bias, groups=groups)
    x = b.norm(bn or f"{name}.bn", x, fn="batchnorm", fused=True, affine=not frozen_bn)
    if act is None:
        return x
    return b.act(act or f"{name}.activate", x, fn=act_fn)


def attention(b: Builder, prefix: str, q: T, k: T, v: T, heads: int,
              out_name: str = "out_proj") -> T:
    """Scaled dot-product attention on projected ``q`` [Lq x Cqk], ``k`` [Lk x Cqk],
    ``v`` [Lk x Cv] with ``heads`` heads, then the output projection Linear(Cv, Cv).

    Layers ``<prefix>.qk`` (Q @ K^T per head), ``.softmax``, ``.av`` (A @ V per head) and
    ``.<out_name>``; a packed projection is passed as free views ``T(src, c, h, w)``.
    """
    lq, lk = q.tokens, k.tokens
    s = b.matmul(f"{prefix}.qk", q, k, m=lq, k=lk, c=q.c // heads, batch=heads)
    a = b.softmax(f"{prefix}.softmax", s, batch=heads)
    o = b.matmul(f"{prefix}.av", a, v, m=lq, k=v.c // heads, c=lk, batch=heads)
    # heads are concatenated back into Cv channels over the query tokens (a free view)
    return b.linear(f"{prefix}.{out_name}", T(o.src, v.c, q.h, q.w), v.c)


def ffn(b: Builder, prefix: str, x: T, dff: int, names=("linear1", "activation", "linear2"),
        act: str = "relu") -> T:
    """Linear(d, dff) + fused activation + Linear(dff, d), named ``<prefix>.<names[i]>``.

    ``act="prelu"`` (DAB-DETR's default ``transformer_activation``) is ``nn.PReLU()``,
    whose single learned slope counts as a parameter.
    """
    h = b.linear(f"{prefix}.{names[0]}", x, dff)
    h = b.act(f"{prefix}.{names[1]}", h, fn=act)
    if act == "prelu":
        b.layers[-1] = b.layers[-1].with_(extra_params=1)
    return b.linear(f"{prefix}.{names[2]}", h, x.c)
