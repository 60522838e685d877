"""One PyTorch op per IR layer, with the layer's shapes (SPEC.md section 9).

:func:`build_op` turns a :class:`~accelsim.workload.ir.Layer` into an :class:`OpSpec`:
the argument tensors to allocate (activations and weights, so several independent
sets can be rotated) and the callable that runs the op. Layouts follow PyTorch
eager: NCHW for convs, norms over channels-last token rows for LayerNorm, ``[B, M, K]``
for batched matmuls. ``n * batch`` is the leading (batch) dimension everywhere.

int8 mode times ``torch._int_mm`` (int8 x int8 -> int32 GEMM) for linears and
pointwise (1x1, stride 1, ungrouped) convs where the shape is supported; every other
layer has no eager int8 kernel and runs in the target's fallback float dtype with
``int8_kernel=False``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from ..workload.ir import Layer, Op, conv_out
from .device import Target, require_torch, torch_dtype

#: element-wise functions of one operand (IR ``fn`` -> torch function name)
UNARY = {"relu": "relu", "gelu": "gelu", "silu": "silu", "swish": "silu", "sigmoid": "sigmoid",
         "tanh": "tanh", "hswish": "hardswish", "hardswish": "hardswish",
         "hsigmoid": "hardsigmoid", "hardsigmoid": "hardsigmoid", "relu6": "relu6",
         "identity": "clone", "copy": "clone", "dropout": "clone", "exp": "exp"}
#: element-wise functions of two operands
BINARY = {"add": "add", "sum": "add", "mul": "mul", "multiply": "mul", "sub": "sub", "div": "div"}


@dataclass(frozen=True)
class ArgSpec:
    """One argument tensor: shape, dtype name, and how to fill it.

    ``fill``: ``normal`` (activations), ``weight`` (normal / sqrt(fan_in)), ``positive``
    (BatchNorm running variance), ``int8`` (uniform in [-127, 127]).
    """

    shape: tuple[int, ...]
    dtype: str
    fill: str = "normal"
    fan_in: int = 1

    @property
    def elements(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.elements * {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}[self.dtype]


@dataclass(frozen=True)
class OpSpec:
    """A runnable op for one layer.

    ``fn(*tensors)`` runs it on tensors made from ``args``; ``kernel`` names the torch op
    (``proxy:...`` where the IR function has no exact eager equivalent); ``out_shape`` is
    the expected output shape and ``shape_ok`` whether it matches the layer's output.
    """

    kernel: str
    timed_dtype: str
    int8_kernel: bool
    args: tuple[ArgSpec, ...]
    fn: Callable[..., Any]
    out_shape: tuple[int, ...]
    shape_ok: bool = True

    @property
    def bytes_per_set(self) -> int:
        """Bytes of one argument set (activations + weights) in bytes."""
        return sum(a.nbytes for a in self.args)


def int_mm_supported(m: int, k: int, n: int, target: Target) -> bool:
    """Whether ``torch._int_mm`` accepts an ``[m, k] @ [k, n]`` product on ``target``.

    CUDA (cuBLAS IMMA): m > 16 and k, n multiples of 8 (PyTorch's shape checks in
    ``_int_mm_out_cuda``); the CPU kernel takes any shape.
    """
    if not target.is_cuda:
        return True
    return m > 16 and k % 8 == 0 and n % 8 == 0


def make_tensors(spec: OpSpec, target: Target, seed: int = 0) -> list[Any]:
    """Allocate one argument set of ``spec`` on the target device (deterministic per seed)."""
    torch = require_torch()
    gen = torch.Generator(device="cpu").manual_seed(seed)
    out = []
    for a in spec.args:
        if a.fill == "int8":
            t = torch.randint(-127, 128, a.shape, generator=gen, dtype=torch.int8)
        else:
            t = torch.randn(a.shape, generator=gen, dtype=torch.float32)
            if a.fill == "weight":
                t = t / math.sqrt(max(a.fan_in, 1))
            elif a.fill == "positive":
                t = t.abs() + 0.5
            t = t.to(torch_dtype(a.dtype))
        out.append(t.to(target.device))
    return out


def build_op(layer: Layer, target: Target, producers: Mapping[str, Layer] | None = None) -> OpSpec:
    """The PyTorch op equivalent to ``layer`` on ``target`` (see module docstring).

    ``producers`` maps layer names to layers; concatenations use it to split channels
    the way their inputs produced them.
    """
    builder = _BUILDERS.get(layer.op, _other)
    if layer.op is Op.CONCAT:
        return _concat(layer, target, producers or {})
    return builder(layer, target)


# ------------------------------------------------------------------ MAC ops
def _int_mm(m: int, c: int, k: int, shape_ok: bool = True) -> OpSpec:
    """int8 GEMM ``[m, c] @ [c, k]`` with ``torch._int_mm``; the weight is stored ``[k, c]``."""
    torch = require_torch()
    args = (ArgSpec((m, c), "int8", "int8"), ArgSpec((k, c), "int8", "int8"))
    return OpSpec("_int_mm", "int8", True, args, lambda x, wt: torch._int_mm(x, wt.t()), (m, k), shape_ok)


def _conv(layer: Layer, target: Target) -> OpSpec:
    torch = require_torch()
    F = torch.nn.functional
    h, w = layer.input_hw
    nb = layer.n * layer.batch
    p = conv_out(h, layer.r, layer.stride, layer.padding)
    q = conv_out(w, layer.s, layer.stride, layer.padding)
    ok = (p, q) == (layer.p, layer.q)
    pointwise = layer.r == layer.s == layer.stride == layer.groups == 1 and layer.padding == 0
    if target.dtype == "int8" and pointwise and int_mm_supported(nb * h * w, layer.c, layer.k, target):
        # 1x1 conv as an int8 GEMM over channels-last pixels: [N*H*W, C] @ [C, K]
        return _int_mm(nb * h * w, layer.c, layer.k, ok)
    dt = target.float_dtype
    fan_in = layer.c_per_group * layer.r * layer.s
    args = [ArgSpec((nb, layer.c, h, w), dt),
            ArgSpec((layer.k, layer.c_per_group, layer.r, layer.s), dt, "weight", fan_in)]
    if layer.bias:
        args.append(ArgSpec((layer.k,), dt, "weight", fan_in))
    stride, pad, groups = layer.stride, layer.padding, layer.groups

    def run(x, wt, b=None):
        return F.conv2d(x, wt, b, stride, pad, 1, groups)

    return OpSpec("conv2d", dt, False, tuple(args), run, (nb, layer.k, p, q), ok)


def _linear(layer: Layer, target: Target) -> OpSpec:
    torch = require_torch()
    F = torch.nn.functional
    m = layer.n * layer.p * layer.q
    if layer.batch == 1:
        if target.dtype == "int8" and int_mm_supported(m, layer.c, layer.k, target):
            return _int_mm(m, layer.c, layer.k)
        dt = target.float_dtype
        args = [ArgSpec((m, layer.c), dt), ArgSpec((layer.k, layer.c), dt, "weight", layer.c)]
        if layer.bias:
            args.append(ArgSpec((layer.k,), dt, "weight", layer.c))
        return OpSpec("linear", dt, False, tuple(args), lambda x, wt, b=None: F.linear(x, wt, b),
                      (m, layer.k))
    # ``batch`` independent weight matrices (one per head/group): a batched GEMM
    dt = target.float_dtype
    args = (ArgSpec((layer.batch, m, layer.c), dt), ArgSpec((layer.batch, layer.c, layer.k), dt, "weight", layer.c))
    return OpSpec("bmm", dt, False, args, torch.bmm, (layer.batch, m, layer.k))


def _matmul(layer: Layer, target: Target) -> OpSpec:
    torch = require_torch()
    dt = target.float_dtype
    b = layer.n * layer.batch
    m = layer.p * layer.q
    args = (ArgSpec((b, m, layer.c), dt), ArgSpec((b, layer.c, layer.k), dt, "weight", layer.c))
    return OpSpec("bmm", dt, False, args, torch.bmm, (b, m, layer.k))


# -------------------------------------------------------------- non-MAC ops
def _rows(layer: Layer) -> tuple[int, int, int]:
    """(batch, rows, channels) of a token-major tensor for this layer."""
    return layer.n * layer.batch, layer.p * layer.q, layer.k


def _softmax(layer: Layer, target: Target) -> OpSpec:
    torch = require_torch()
    dt = target.float_dtype
    shape = _rows(layer)
    return OpSpec("softmax", dt, False, (ArgSpec(shape, dt),), lambda x: torch.softmax(x, -1), shape)


def _norm(layer: Layer, target: Target) -> OpSpec:
    torch = require_torch()
    F = torch.nn.functional
    dt = target.float_dtype
    fn = layer.fn.removesuffix("_noaffine")
    affine = not layer.fn.endswith("_noaffine")
    c = layer.k
    if fn == "batchnorm":
        shape = (layer.n * layer.batch, c, layer.p, layer.q)
        args = (ArgSpec(shape, dt), ArgSpec((c,), dt), ArgSpec((c,), dt, "positive"),
                ArgSpec((c,), dt), ArgSpec((c,), dt))
        return OpSpec("batch_norm", dt, False, args,
                      lambda x, m, v, w, b: F.batch_norm(x, m, v, w, b, False, 0.0, 1e-5), shape)
    if fn == "groupnorm":
        shape = (layer.n * layer.batch, c, layer.p, layer.q)
        groups = math.gcd(32, c)
        args = (ArgSpec(shape, dt),) + ((ArgSpec((c,), dt), ArgSpec((c,), dt)) if affine else ())
        return OpSpec("group_norm", dt, False, args,
                      lambda x, w=None, b=None: F.group_norm(x, groups, w, b), shape)
    shape = _rows(layer)
    if fn == "l2norm":
        return OpSpec("normalize", dt, False, (ArgSpec(shape, dt),),
                      lambda x: F.normalize(x, dim=-1), shape)
    kernel = "layer_norm" if fn == "layernorm" else f"proxy:layer_norm({fn})"
    args = (ArgSpec(shape, dt),) + ((ArgSpec((c,), dt), ArgSpec((c,), dt)) if affine else ())
    return OpSpec(kernel, dt, False, args, lambda x, w=None, b=None: F.layer_norm(x, (c,), w, b), shape)


def _eltwise(layer: Layer, target: Target) -> OpSpec:
    torch = require_torch()
    dt = target.float_dtype
    shape = (layer.n * layer.batch, layer.k, layer.p, layer.q)
    fn = layer.fn or "relu"
    if fn == "prelu":
        args = (ArgSpec(shape, dt), ArgSpec((layer.k,), dt, "weight"))
        return OpSpec("prelu", dt, False, args, torch.nn.functional.prelu, shape)
    if _is_add(fn) or fn in BINARY or (len(layer.inputs) >= 2 and fn not in UNARY):
        name = BINARY.get(fn, "add")
        kernel = name if fn in BINARY or _is_add(fn) else f"proxy:add({fn})"
        return OpSpec(kernel, dt, False, (ArgSpec(shape, dt), ArgSpec(shape, dt)),
                      getattr(torch, name), shape)
    name = UNARY.get(fn, "clone")
    kernel = name if fn in UNARY else f"proxy:clone({fn})"
    if name == "gelu":
        f = torch.nn.functional.gelu
    elif name in ("hardswish", "hardsigmoid", "relu6"):
        f = getattr(torch.nn.functional, name)
    else:
        f = getattr(torch, name)
    return OpSpec(kernel, dt, False, (ArgSpec(shape, dt),), f, shape)


def _resize(layer: Layer, target: Target) -> OpSpec:
    torch = require_torch()
    dt = target.float_dtype
    h, w = layer.input_hw
    mode = layer.fn if layer.fn in ("bilinear", "bicubic", "nearest", "area") else "bilinear"
    kernel = f"interpolate({mode})" if layer.fn in ("bilinear", "bicubic", "nearest", "area", "") \
        else f"proxy:interpolate({layer.fn})"
    size = (layer.p, layer.q)
    align = False if mode in ("bilinear", "bicubic") else None

    def run(x):
        return torch.nn.functional.interpolate(x, size=size, mode=mode, align_corners=align)

    nb = layer.n * layer.batch
    return OpSpec(kernel, dt, False, (ArgSpec((nb, layer.c, h, w), dt),), run, (nb, layer.k, *size))


def _pool(layer: Layer, target: Target) -> OpSpec:
    torch = require_torch()
    F = torch.nn.functional
    dt = target.float_dtype
    h, w = layer.input_hw
    nb = layer.n * layer.batch
    kind = "max" if "max" in layer.fn else "avg"
    regular = (conv_out(h, layer.r, layer.stride, layer.padding),
               conv_out(w, layer.s, layer.stride, layer.padding)) == (layer.p, layer.q)
    out = (nb, layer.k, layer.p, layer.q)
    if regular and "adaptive" not in layer.fn:
        ksz, st, pad = (layer.r, layer.s), layer.stride, layer.padding
        f = F.max_pool2d if kind == "max" else F.avg_pool2d
        return OpSpec(f"{kind}_pool2d", dt, False, (ArgSpec((nb, layer.c, h, w), dt),),
                      lambda x: f(x, ksz, st, pad), out)
    size = (layer.p, layer.q)
    f = F.adaptive_max_pool2d if kind == "max" else F.adaptive_avg_pool2d
    return OpSpec(f"adaptive_{kind}_pool2d", dt, False, (ArgSpec((nb, layer.c, h, w), dt),),
                  lambda x: f(x, size), out)


def concat_split(layer: Layer, producers: Mapping[str, Layer]) -> tuple[int, ...]:
    """Channels contributed by each input of a concat (even split if producers are unknown)."""
    chans = [producers[s].k for s in layer.inputs if s in producers]
    if len(chans) == len(layer.inputs) and sum(chans) == layer.k and chans:
        return tuple(chans)
    parts = max(len(layer.inputs), 1)
    base = [layer.k // parts] * parts
    base[-1] += layer.k - sum(base)
    return tuple(base)


def _concat(layer: Layer, target: Target, producers: Mapping[str, Layer]) -> OpSpec:
    torch = require_torch()
    dt = target.float_dtype
    nb = layer.n * layer.batch
    args = tuple(ArgSpec((nb, c, layer.p, layer.q), dt) for c in concat_split(layer, producers))
    return OpSpec("cat", dt, False, args, lambda *xs: torch.cat(xs, 1), (nb, layer.k, layer.p, layer.q))


def _is_add(fn: str) -> bool:
    """Adds of a second tensor (``add_pos_embed``, ``add_rel_pos_bias``, ``add_mask``)."""
    return fn.startswith("add_") and fn != "add_sigmoid"


def _other(layer: Layer, target: Target) -> OpSpec:
    """Adds and products run as such; anything else has no exact eager op and a copy of the
    output tensor stands in (``proxy:clone``)."""
    if _is_add(layer.fn) or layer.fn in BINARY:
        return _eltwise(layer, target)
    torch = require_torch()
    dt = target.float_dtype
    shape = (layer.n * layer.batch, layer.k, layer.p, layer.q)
    return OpSpec(f"proxy:clone({layer.fn or layer.op.value})", dt, False, (ArgSpec(shape, dt),),
                  torch.clone, shape)


_BUILDERS: dict[Op, Callable[[Layer, Target], OpSpec]] = {
    Op.CONV2D: _conv, Op.DWCONV2D: _conv, Op.LINEAR: _linear, Op.MATMUL: _matmul,
    Op.SOFTMAX: _softmax, Op.NORM: _norm, Op.ELTWISE: _eltwise, Op.RESIZE: _resize,
    Op.POOL: _pool, Op.OTHER: _other,
}


def dedup_key(layer: Layer, producers: Mapping[str, Layer]) -> tuple:
    """Layers with equal keys build identical ops (timed once, see the harness)."""
    split: Sequence[int] = concat_split(layer, producers) if layer.op is Op.CONCAT else ()
    return (layer.shape_key(), layer.fn, layer.bias, len(layer.inputs), tuple(split))
