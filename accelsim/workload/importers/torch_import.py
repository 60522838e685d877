"""PyTorch importer: run a module once, eagerly, and record its ops as layers.

Why eager recording rather than ``torch.fx`` / ``torch.export``: detection and
segmentation models (the Hugging Face ones especially) branch on shapes and config
flags, build masks with Python loops and call helpers that fx symbolic tracing
cannot follow; ``torch.export`` needs every such branch to be exportable and is slow.
Running the model on the example input sees exactly the ops that execute for that
input. A :class:`torch.overrides.TorchFunctionMode` intercepts every top-level
``torch`` call (``F.conv2d``, ``F.linear``, ``torch.matmul``, ``F.layer_norm``,
``F.scaled_dot_product_attention``, ``Tensor.__add__`` ...) at the level the layer IR
speaks, and module forward hooks give each op its hierarchical module name
(``encoder.block.0.0.attention.self.query``). Graph edges come from tensor
provenance: every recorded layer remembers which layer produced each operand.

Conventions (SPEC.md sections 1 and 7):

- MAC layers: convs (grouped -> ``conv2d``, depthwise -> ``dwconv2d``), ``F.linear``
  (leading dims are tokens), matmul/bmm/mm/addmm/baddbmm/two-operand einsum (a
  ``linear`` when one operand is a parameter, else a ``matmul``),
  ``scaled_dot_product_attention`` and ``nn.MultiheadAttention`` (split into
  projections, ``Q @ K^T``, softmax, ``A @ V``).
- Views, layout changes, copies and dropout are free (no layer): the result keeps
  its producer.
- Ops whose operands are all constants (parameters, buffers, tensors built by
  factory functions) are folded and produce no layer, except MAC ops, which are
  always recorded (a decoder's first layer may project learned query embeddings).
- Every other op that touches data derived from the input becomes an ``other``
  layer with its element count, and its name is listed in one warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ...errors import WorkloadError
from ..ir import INPUT, Layer, Op, Workload, norm_layer, pool_layer, softmax_layer
from .common import (LayerSink, account_weights, conv_layer, einsum_layer, elementwise_layer,
                     fuses_into, matmul_layer, nchw, part_tag, prod, token_pq)

# ------------------------------------------------------------------ op tables
_CONV = {"conv1d", "conv2d", "conv3d", "convolution", "conv_transpose1d", "conv_transpose2d",
         "conv_transpose3d"}
_MATMUL = {"matmul", "rmatmul", "mm", "bmm", "addmm", "baddbmm", "addbmm", "einsum"}
_NORM = {"layer_norm": "layernorm", "batch_norm": "batchnorm", "group_norm": "groupnorm",
         "instance_norm": "instancenorm", "rms_norm": "rmsnorm", "normalize": "l2norm",
         "local_response_norm": "lrn"}
_ACT = {"relu", "relu6", "gelu", "silu", "sigmoid", "tanh", "hardswish", "hardsigmoid",
        "leaky_relu", "elu", "selu", "celu", "mish", "softplus", "hardtanh", "prelu", "glu",
        "logsigmoid", "softsign", "tanhshrink", "threshold", "rrelu", "erf"}
_SOFTMAX = {"softmax", "log_softmax", "softmin"}
_RESIZE = {"interpolate", "upsample", "upsample_bilinear", "upsample_nearest",
           "upsample_bilinear2d", "upsample_nearest2d", "upsample_bicubic2d"}
_POOL = {"max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
         "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
         "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
         "max_pool2d_with_indices", "lp_pool2d", "lp_pool1d"}
_REDUCE = {"mean", "sum", "amax", "amin", "max", "min", "prod", "std", "var", "norm",
           "logsumexp", "var_mean", "std_mean"}
_CONCAT = {"cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack"}
_ELTWISE = {"add", "sub", "mul", "div", "truediv", "floordiv", "floor_divide", "pow", "sqrt",
            "rsqrt", "exp", "log", "log1p", "neg", "abs", "clamp", "clip", "clamp_min",
            "clamp_max", "where", "maximum", "minimum", "sin", "cos", "tan", "reciprocal",
            "square", "masked_fill", "lerp", "addcmul", "addcdiv", "sign", "floor", "ceil",
            "round", "fmod", "remainder", "mod", "eq", "ne", "lt", "le", "gt", "ge", "and",
            "or", "xor", "invert", "logical_and", "logical_or", "logical_not", "bitwise_and",
            "bitwise_or", "bitwise_not", "sigmoid_", "atan2", "exp2", "expm1", "trunc",
            "nan_to_num", "isnan", "isinf", "rsub", "true_divide", "multiply", "subtract",
            "divide", "inverse_sigmoid", "heaviside", "hypot", "frac", "sinh", "cosh",
            "arctan", "atan", "arcsin", "arccos", "asin", "acos", "pos"}
_FREE = {"view", "reshape", "permute", "transpose", "flatten", "unflatten", "squeeze",
         "unsqueeze", "contiguous", "expand", "expand_as", "getitem", "chunk", "split",
         "split_with_sizes", "unbind", "tensor_split", "narrow", "select", "t", "get",
         "movedim", "moveaxis", "swapaxes", "swapdims", "view_as", "reshape_as", "repeat",
         "repeat_interleave", "tile", "roll", "pad", "clone", "detach", "to", "type",
         "float", "half", "double", "bfloat16", "int", "long", "bool", "type_as", "flip",
         "fliplr", "flipud", "pixel_shuffle", "pixel_unshuffle", "dropout", "dropout1d",
         "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "identity",
         "requires_grad", "cpu", "cuda", "as_strided", "broadcast_to", "atleast_1d",
         "atleast_2d", "atleast_3d", "ravel", "mT", "T", "align_as", "rot90", "diagonal",
         "tril", "triu", "copy", "setitem", "zero", "fill", "unfold", "squeeze_",
         "native_channel_shuffle", "channel_shuffle", "data_ptr", "item", "tolist", "numpy"}
#: functions returning fresh constants shaped like their operand (no data dependence)
_LIKE = {"zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like",
         "new_zeros", "new_ones", "new_full", "new_empty", "new_tensor", "randint_like"}
_RENAME = {"iadd": "add", "radd": "add", "isub": "sub", "rsub": "sub", "imul": "mul",
           "rmul": "mul", "itruediv": "div", "rtruediv": "div", "idiv": "div", "rdiv": "div",
           "ipow": "pow", "rpow": "pow", "ifloordiv": "floordiv", "rfloordiv": "floordiv",
           "iand": "and", "ior": "or", "ixor": "xor", "rand": "and", "ror": "or",
           "multiply": "mul", "subtract": "sub", "divide": "div", "true_divide": "div",
           "truediv": "div", "concatenate": "cat", "concat": "cat", "clip": "clamp",
           "swapaxes": "transpose", "swapdims": "transpose", "moveaxis": "movedim",
           "scaled_dot_product_attention": "sdpa", "native_dropout": "dropout"}


def _canon(func: Any) -> str:
    """Canonical lower-case op name of a torch function, method or ATen overload."""
    schema = getattr(func, "_schema", None)
    if schema is not None:
        name = schema.name.split("::")[-1]
    else:
        name = getattr(func, "__name__", "") or type(func).__name__
        if name == "__get__":  # property getter (Tensor.T, .mT, .data ...)
            return "get"
    name = name.strip("_")
    return _RENAME.get(name, name)


def _arg(args: tuple, kwargs: dict, pos: int, key: str, default: Any = None) -> Any:
    if key in kwargs:
        return kwargs[key]
    return args[pos] if len(args) > pos else default


def _by_schema(func: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Name every argument after the first by the ATen schema, if ``func`` has one: ATen
    overloads order some arguments unlike ``torch.nn.functional`` (``aten.batch_norm`` and
    ``aten.instance_norm`` take weight and bias before the running statistics)."""
    schema = getattr(func, "_schema", None)
    if schema is None:
        return args, kwargs
    named = {a.name: v for a, v in zip(schema.arguments[1:], args[1:])}
    return args[:1], {**named, **kwargs}


@dataclass
class _Frame:
    """One module invocation on the hook stack: its path and how many layers it recorded."""

    path: str
    leaf: bool
    recorded: int = 0


@dataclass
class _Recorder:
    """Per-trace state: layers, tensor provenance (``id`` -> producing layer) and names."""

    torch: Any
    params: dict[int, int]
    sink: LayerSink = field(default_factory=LayerSink)
    producer: dict[int, str] = field(default_factory=dict)
    keep: list = field(default_factory=list)
    stack: list[_Frame] = field(default_factory=list)
    used_params: set[int] = field(default_factory=set)
    param_of: dict[int, int] = field(default_factory=dict)
    weight_owner: dict[tuple, tuple[str, ...]] = field(default_factory=dict)
    shared_weight_params: int = 0
    folded: int = 0

    # ------------------------------------------------------------ provenance
    def is_tensor(self, x: Any) -> bool:
        return isinstance(x, self.torch.Tensor)

    def src(self, t: Any) -> str | None:
        return self.producer.get(id(t)) if self.is_tensor(t) else None

    def mark(self, out: Any, name: str) -> None:
        """Record ``name`` as the producer of every tensor in ``out``."""
        for t in self.tensors(out):
            self.producer[id(t)] = name
            self.keep.append(t)

    def tensors(self, tree: Any) -> list:
        from torch.utils._pytree import tree_leaves

        return [t for t in tree_leaves(tree) if self.is_tensor(t)]

    def dyn_sources(self, args: tuple, kwargs: dict) -> tuple[str, ...]:
        seen: list[str] = []
        for t in self.tensors((args, kwargs)):
            s = self.producer.get(id(t))
            if s is not None and s not in seen:
                seen.append(s)
        return tuple(seen)

    def layer_of(self, t: Any) -> Layer | None:
        name = self.src(t)
        return self.sink.by_name.get(name) if name else None

    def enter_scope(self, scope: tuple[tuple[str, bool], ...]) -> None:
        """Set the module stack from a recorded one (a ``.pt2`` node's ``nn_module_stack``:
        paths outermost first, each with its leaf flag), above the root frame. Frames of a
        module still open are kept, so its ops count on; a module entered again is a new
        call."""
        root, frames = self.stack[:1], []
        old = self.stack[1:]
        for i, (path, leaf) in enumerate(scope):
            same = i < len(old) and old[i].path == path and (i == 0 or frames[i - 1] is old[i - 1])
            frames.append(old[i] if same else _Frame(path, leaf))
        self.stack[:] = root + frames

    # ---------------------------------------------------------------- names
    def name(self, suffix: str) -> str:
        """Module path for the first op of a leaf module, else ``path.suffix`` (deduplicated)."""
        frame = self.stack[-1] if self.stack else None
        if frame is not None and frame.leaf and frame.recorded == 0 and frame.path:
            base = frame.path
        elif frame is not None and frame.path:
            base = f"{frame.path}.{suffix}"
        else:
            base = suffix
        return self.sink.unique(base)

    def add(self, layer: Layer) -> Layer:
        frame = self.stack[-1] if self.stack else None
        path = frame.path if frame else ""
        tags = {"part": part_tag(path)}
        if path:
            tags["module"] = path
        layer = self.sink.add(layer.with_(tags=tuple(sorted(tags.items()))))
        if frame is not None:
            frame.recorded += 1
        return layer

    # --------------------------------------------------------------- params
    def param_root(self, t: Any) -> int | None:
        """The parameter a constant tensor was computed from (a view, an index, a sum)."""
        if not self.is_tensor(t):
            return None
        return id(t) if id(t) in self.params else self.param_of.get(id(t))

    def carry_params(self, args: tuple, kwargs: dict, out: Any) -> None:
        """Constant ops pass the parameter they read on to their result."""
        roots = [r for r in map(self.param_root, self.tensors((args, kwargs))) if r is not None]
        if roots:
            for t in self.tensors(out):
                if id(t) not in self.params:
                    self.param_of[id(t)] = roots[0]
                    self.keep.append(t)

    def param_extra(self, args: tuple, kwargs: dict) -> int:
        """Parameters read by a non-MAC op for the first time (position embeddings ...)."""
        n = 0
        for t in self.tensors((args, kwargs)):
            root = self.param_root(t)
            if root is not None and root not in self.used_params:
                self.used_params.add(root)
                n += self.params[root]
        return n

    def use_weight(self, *ts: Any) -> int:
        """Mark the weights of a MAC/norm op used; returns the elements already counted by
        an earlier call of the same module."""
        shared = 0
        for t in ts:
            root = self.param_root(t)
            if root is not None:
                if root in self.used_params:
                    shared += self.params[root]
                self.used_params.add(root)
        self.shared_weight_params += shared
        return shared

    def elements(self, *ts: Any) -> int:
        """Parameter elements of ``ts`` (each distinct parameter once)."""
        roots = {r for r in map(self.param_root, ts) if r is not None}
        return sum(self.params[r] for r in roots)

    def owners(self, key: tuple, shared: int, layers: Sequence[Layer],
               uncounted: int = 0) -> tuple[str, ...] | None:
        """The layers an earlier call recorded with the same weight tensors (``key``: their
        parameter roots and role) when ``shared``, the elements already counted, is exactly
        the static parameters of ``layers`` plus ``uncounted`` (a module called again); else
        None."""
        owners = self.weight_owner.get(key)
        if owners is None or shared != sum(layer.static_params for layer in layers) + uncounted:
            return None
        same = all(self.sink.by_name[o].static_params == layer.static_params
                   for o, layer in zip(owners, layers))
        return owners if same else None

    def add_weighted(self, layer: Layer, *ts: Any) -> Layer:
        """Add a layer whose static tensors are ``ts`` (weight, bias, affine parameters).

        A repeated call of a module ``shares`` the weights of its first call; weights partly
        counted before (one tensor tied into ops of other shapes) are subtracted through a
        negative ``extra_params`` so the total still counts every parameter once. Norm
        affine tensors that ``Layer.static_params`` does not count as they are (RMSNorm's
        weight, InstanceNorm's weight and bias, a LayerNorm without bias) are corrected
        through ``extra_params`` by the first call that reads them.
        """
        key = (tuple(self.param_root(t) for t in ts), "")
        uncounted = self.elements(*ts) - layer.static_params if layer.op is Op.NORM else 0
        shared = self.use_weight(*ts)
        owner = self.owners(key, shared, [layer], uncounted)
        layer = account_weights(layer, self.sink.by_name[owner[0]] if owner else None, shared,
                                uncounted)
        layer = self.add(layer)
        if any(r is not None for r in key[0]):
            self.weight_owner.setdefault(key, (layer.name,))
        return layer

    # ---------------------------------------------------------------- entry
    def record(self, func: Any, args: tuple, kwargs: dict, out: Any) -> None:
        """Turn one intercepted call into zero or more layers and update provenance."""
        name = _canon(func)
        if name == "setitem" and args and self.src(args[0]) is None:
            src = self.dyn_sources(args[1:], {})  # a constant buffer filled with input data
            if src:
                self.mark(args[0], src[0])
            return
        if not self.tensors(out):
            return
        if name in _LIKE:
            return
        srcs = self.dyn_sources(args, kwargs)
        if not srcs:
            self.carry_params(args, kwargs, out)
        if name in _FREE:
            if srcs:
                self.mark(out, srcs[0])
            return
        handler = _HANDLERS.get(name)
        is_mac = handler is not None and name in _MAC_NAMES
        if not srcs and not is_mac:
            self.folded += 1
            return
        if handler is not None:
            if name in _NORM:
                args, kwargs = _by_schema(func, args, kwargs)
            try:
                handler(self, name, args, kwargs, out, srcs)
                return
            except (TypeError, ValueError, IndexError, KeyError, AttributeError, ZeroDivisionError):
                name = f"{name}(unparsed)"
        self.other(name, args, kwargs, out, srcs)

    def other(self, name: str, args: tuple, kwargs: dict, out: Any, srcs: tuple[str, ...],
              unmapped: bool = True) -> None:
        """An ``other`` layer per call, with its output element count (listed as unmapped)."""
        outs = self.tensors(out)
        y = outs[0]
        if y.numel() == 0:
            if srcs:
                self.mark(out, srcs[0])
            return
        if unmapped:
            self.sink.unmapped[name] += 1
        total = sum(int(t.numel()) for t in outs)
        shape = list(y.shape) if len(outs) == 1 else [total]
        layer = elementwise_layer(self.name(name), Op.OTHER, shape, fn=name, inputs=srcs,
                                  extra_params=self.param_extra(args, kwargs))
        self.mark(out, self.add(layer).name)


# ------------------------------------------------------------------ handlers
def _h_conv(rec: _Recorder, name: str, args: tuple, kwargs: dict, out: Any, srcs) -> None:
    x, w = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 1, "weight")
    bias = _arg(args, kwargs, 2, "bias")
    y = rec.tensors(out)[0]
    stride, padding = _arg(args, kwargs, 3, "stride", 1), _arg(args, kwargs, 4, "padding", 0)
    transposed = name.startswith("conv_transpose") or (
        name == "convolution" and bool(_arg(args, kwargs, 6, "transposed", False)))
    # aten.convolution has transposed/output_padding before groups; conv*d and
    # conv_transpose*d both take groups at position 6
    groups = int(_arg(args, kwargs, 8 if name == "convolution" else 6, "groups", 1))
    if isinstance(padding, str):  # 'same' / 'valid'
        padding = (int(w.shape[-1]) - 1) // 2 if padding == "same" else 0
    if transposed:
        # a transposed conv scatters every input pixel through the kernel: MACs are
        # C_in * K_out/g * R * S * H_in * W_in, i.e. a conv whose "output" is the input grid
        k = int(w.shape[1]) * groups
        shape_w = [k, int(w.shape[0]) // groups, *w.shape[2:]]
        layer = conv_layer(rec.name("conv_transpose"), list(x.shape), shape_w, list(x.shape),
                           1, 0, groups, bias is not None, srcs, fn="conv_transpose")
        layer = layer.with_(in_h=layer.p, in_w=layer.q)
    else:
        layer = conv_layer(rec.name("conv"), list(x.shape), list(w.shape), list(y.shape), stride,
                           padding, groups, bias is not None, srcs)
    rec.mark(out, rec.add_weighted(layer, w, bias).name)


def _h_linear(rec: _Recorder, name: str, args: tuple, kwargs: dict, out: Any, srcs) -> None:
    x, w = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 1, "weight")
    bias = _arg(args, kwargs, 2, "bias")
    if rec.src(w) is not None:  # weight computed from the input: a dynamic matmul
        layer = rec.add(matmul_layer(rec.name("linear"), list(x.shape),
                                     [int(w.shape[1]), int(w.shape[0])], rec.src(x) is None, False,
                                     srcs))
    else:
        p, q = token_pq(list(x.shape[:-1]))
        layer = rec.add_weighted(Layer(rec.name("linear"), Op.LINEAR, k=int(w.shape[0]),
                                       c=int(w.shape[1]), p=p, q=q, bias=bias is not None,
                                       inputs=srcs), w, bias)
    rec.mark(out, layer.name)


def _h_matmul(rec: _Recorder, name: str, args: tuple, kwargs: dict, out: Any, srcs) -> None:
    if name == "einsum":
        eq = args[0]
        ops = list(args[1]) if len(args) == 2 and isinstance(args[1], (list, tuple)) else list(args[1:])
        if len(ops) != 2:
            raise ValueError("einsum with other than two operands")
        a, b = ops
        tensors = (a, b)
        layer = einsum_layer(rec.name("einsum"), eq, list(a.shape), list(b.shape),
                             rec.src(a) is None, rec.src(b) is None, srcs)
    else:
        if name in ("addmm", "baddbmm", "addbmm"):
            bias, a, b = args[0], args[1], args[2]
        else:
            bias, a, b = None, args[0], args[1]
            if name == "rmatmul":
                a, b = b, a
        tensors = (a, b, bias)
        layer = matmul_layer(rec.name("matmul"), list(a.shape), list(b.shape), rec.src(a) is None,
                             rec.src(b) is None, srcs, bias=bias is not None)
    if layer.op is Op.LINEAR:  # static operand: its weights are counted by Layer.params
        layer = rec.add_weighted(layer, *tensors)
    else:
        rec.use_weight(*tensors)
        layer = rec.add(layer)
    rec.mark(out, layer.name)


def _attention(rec: _Recorder, q_shape, k_shape, v_shape, q_src: tuple, k_src: tuple,
               v_src: tuple, batch: int) -> str:
    """``Q @ K^T``, softmax and ``A @ V`` layers; returns the name of the ``A @ V`` layer."""
    lq, e, s, ev = int(q_shape[-2]), int(q_shape[-1]), int(k_shape[-2]), int(v_shape[-1])
    qk = rec.add(Layer(rec.name("attn_qk"), Op.MATMUL, k=s, c=e, p=lq, batch=batch,
                       inputs=tuple(dict.fromkeys(q_src + k_src))))
    sm = rec.add(softmax_layer(rec.name("attn_softmax"), s, p=lq, batch=batch,
                               inputs=(qk.name,)))
    av = rec.add(Layer(rec.name("attn_av"), Op.MATMUL, k=ev, c=s, p=lq, batch=batch,
                       inputs=tuple(dict.fromkeys((sm.name,) + v_src))))
    return av.name


def _h_sdpa(rec: _Recorder, name: str, args: tuple, kwargs: dict, out: Any, srcs) -> None:
    q, k, v = (_arg(args, kwargs, i, key) for i, key in enumerate(("query", "key", "value")))
    batch = prod(q.shape[:-2])
    one = lambda t: (rec.src(t),) if rec.src(t) else ()  # noqa: E731
    rec.mark(out, _attention(rec, q.shape, k.shape, v.shape, one(q), one(k), one(v), batch))


def _h_mha(rec: _Recorder, name: str, args: tuple, kwargs: dict, out: Any, srcs) -> None:
    """``F.multi_head_attention_forward`` (``nn.MultiheadAttention``): projections + attention."""
    q, k, v = args[0], args[1], args[2]
    heads = int(_arg(args, kwargs, 4, "num_heads"))
    in_w, in_b = _arg(args, kwargs, 5, "in_proj_weight"), _arg(args, kwargs, 6, "in_proj_bias")
    out_w, out_b = _arg(args, kwargs, 11, "out_proj_weight"), _arg(args, kwargs, 12, "out_proj_bias")
    separate = bool(kwargs.get("use_separate_proj_weight", False))
    e = int(q.shape[-1])
    nb = int(q.shape[1]) if q.dim() == 3 else 1
    dims, weights = [], []
    for t, key in ((q, "q_proj_weight"), (k, "k_proj_weight"), (v, "v_proj_weight")):
        w = kwargs.get(key) if separate else None
        dims.append(int(w.shape[1]) if w is not None else int(t.shape[-1]))
        weights.append(w)
    weights += [in_w, in_b, out_w, out_b]
    shared = rec.use_weight(*weights)
    projs = []
    for label, t, c in (("q", q, dims[0]), ("k", k, dims[1]), ("v", v, dims[2])):
        src = (rec.src(t),) if rec.src(t) else ()
        projs.append(Layer(f"in_proj_{label}", Op.LINEAR, k=e, c=c, p=int(t.shape[0]),
                           q=nb if t.dim() == 3 else 1, bias=in_b is not None, inputs=src))
    lq, s = int(q.shape[0]), int(k.shape[0])
    o = Layer("out_proj", Op.LINEAR, k=int(out_w.shape[0]), c=e, p=lq, q=nb,
              bias=out_b is not None)
    # a repeated call shares the first call's four projections, else any weights counted
    # before are subtracted at out_proj
    key = (tuple(rec.param_root(w) for w in weights), "mha")
    owners = rec.owners(key, shared, projs + [o])
    shares = owners or ("",) * 4
    projs = [rec.add(p.with_(name=rec.name(p.name), shares=own)).name  # named in call order
             for p, own in zip(projs, shares)]
    hd = e // heads
    av = _attention(rec, [lq, hd], [s, hd], [s, hd], (projs[0],), (projs[1],), (projs[2],),
                    nb * heads)
    o = rec.add(o.with_(name=rec.name("out_proj"), inputs=(av,), shares=shares[3],
                        extra_params=0 if owners else -shared))
    if any(r is not None for r in key[0]):
        rec.weight_owner.setdefault(key, (*projs, o.name))
    rec.mark(out, o.name)


def _h_norm(rec: _Recorder, name: str, args: tuple, kwargs: dict, out: Any, srcs) -> None:
    x = args[0]
    y = rec.tensors(out)[0]
    fn = _NORM[name]
    if name in ("layer_norm", "rms_norm"):
        shape = _arg(args, kwargs, 1, "normalized_shape")
        w = _arg(args, kwargs, 2, "weight")
        chans = prod(shape) if isinstance(shape, (list, tuple)) else int(shape)
    elif name == "batch_norm":
        w = _arg(args, kwargs, 3, "weight")
        chans = int(x.shape[1]) if x.dim() > 1 else int(x.shape[0])
    elif name == "group_norm":
        w = _arg(args, kwargs, 2, "weight")
        chans = int(x.shape[1])
    elif name == "instance_norm":
        w = _arg(args, kwargs, 3, "weight")
        chans = int(x.shape[1])
    else:
        w, chans = None, int(x.shape[-1]) if x.dim() else 1
    if w is None:
        fn = f"{fn}_noaffine"
    fused = fuses_into(rec.layer_of(x), fn)
    # affine norm parameters: Layer.params counts 2 * channels for layer/batch/group norm,
    # add_weighted corrects the others (RMSNorm weight, InstanceNorm) to the tensors' size
    affine = (w, _arg(args, kwargs, {"layer_norm": 3, "batch_norm": 4, "group_norm": 3,
                                     "instance_norm": 4}.get(name, 99), "bias"))
    if name in ("layer_norm", "rms_norm", "normalize"):
        n, (p, q) = 1, token_pq([max(int(y.numel()) // max(chans, 1), 1)] if y.dim() < 2 else
                                list(y.shape[:-1]) if prod(y.shape[-1:]) == chans else
                                [max(int(y.numel()) // max(chans, 1), 1)])
    else:
        n, _, p, q = nchw(list(y.shape))
    layer = norm_layer(rec.name(name), chans, p, q, fn, fused, inputs=srcs, n=n)
    if w is not None:
        layer = rec.add_weighted(layer, *affine)
    else:
        rec.use_weight(*affine)
        layer = rec.add(layer)
    rec.mark(out, layer.name)


def _h_act(rec: _Recorder, name: str, args: tuple, kwargs: dict, out: Any, srcs) -> None:
    x = args[0]
    y = rec.tensors(out)[0]
    fused = fuses_into(rec.layer_of(x), name)
    layer = elementwise_layer(rec.name(name), Op.ELTWISE, list(y.shape), fn=name, inputs=srcs,
                              fused=fused, extra_params=rec.param_extra(args, kwargs))
    rec.mark(out, rec.add(layer).name)


def _h_softmax(rec: _Recorder, name: str, args: tuple, kwargs: dict, out: Any, srcs) -> None:
    y = rec.tensors(out)[0]
    dim = _arg(args, kwargs, 1, "dim", -1)
    dim = -1 if dim is None else int(dim)
    rows = list(y.shape)
    chans = int(rows.pop(dim))
    layer = softmax_layer(rec.name(name), chans, p=max(prod(rows), 1), fn=name, inputs=srcs)
    rec.mark(out, rec.add(layer).name)


def _h_resize(rec: _Recorder, name: str, args: tuple, kwargs: dict, out: Any, srcs) -> None:
    x, y = args[0], rec.tensors(out)[0]
    mode = str(_arg(args, kwargs, 3, "mode", "nearest") if name == "interpolate" else
               ("bilinear" if "bilinear" in name else "bicubic" if "bicubic" in name else "nearest"))
    layer = elementwise_layer(rec.name("interpolate"), Op.RESIZE, list(y.shape), fn=mode,
                              inputs=srcs, ops_per_element=4 if "linear" in mode else 1,
                              x=list(x.shape))
    rec.mark(out, rec.add(layer).name)


def _h_pool(rec: _Recorder, name: str, args: tuple, kwargs: dict, out: Any, srcs) -> None:
    x, y = args[0], rec.tensors(out)[0]
    n, c, p, q = nchw(list(y.shape))
    _, _, h, w = nchw(list(x.shape))
    if name.startswith("adaptive"):
        r, s = -(-h // p), -(-w // q)
        stride = r
        pad = 0
    else:
        kern = _arg(args, kwargs, 1, "kernel_size")
        kern = list(kern) if isinstance(kern, (list, tuple)) else [int(kern)]
        r, s = int(kern[0]), int(kern[-1])
        st = _arg(args, kwargs, 2, "stride") or kern
        stride = int(st[0] if isinstance(st, (list, tuple)) else st)
        pd = _arg(args, kwargs, 3, "padding", 0)
        pad = int(pd[0] if isinstance(pd, (list, tuple)) else pd)
    fn = "max" if "max" in name else "lp" if "lp" in name else "avg"
    layer = pool_layer(rec.name(name), c, p, q, r, s, max(stride, 1), pad, fn, inputs=srcs,
                       in_h=h, in_w=w, n=n)
    rec.mark(out, rec.add(layer).name)


def _h_reduce(rec: _Recorder, name: str, args: tuple, kwargs: dict, out: Any, srcs) -> None:
    x = args[0]
    y = rec.tensors(out)[0]
    window = max(int(x.numel()) // max(int(y.numel()), 1), 1)
    layer = elementwise_layer(rec.name(name), Op.POOL, list(y.shape), fn=name, inputs=srcs,
                              ops_per_element=window, x=list(x.shape))
    rec.mark(out, rec.add(layer).name)


def _h_concat(rec: _Recorder, name: str, args: tuple, kwargs: dict, out: Any, srcs) -> None:
    y = rec.tensors(out)[0]
    layer = elementwise_layer(rec.name("cat"), Op.CONCAT, list(y.shape), fn=name, inputs=srcs,
                              extra_params=rec.param_extra(args, kwargs))
    rec.mark(out, rec.add(layer).name)


def _h_eltwise(rec: _Recorder, name: str, args: tuple, kwargs: dict, out: Any, srcs) -> None:
    y = rec.tensors(out)[0]
    layer = elementwise_layer(rec.name(name), Op.ELTWISE, list(y.shape), fn=name, inputs=srcs,
                              extra_params=rec.param_extra(args, kwargs))
    rec.mark(out, rec.add(layer).name)


def _h_embedding(rec: _Recorder, name: str, args: tuple, kwargs: dict, out: Any, srcs) -> None:
    """A gather of learned rows: an ``other`` layer that owns the table's parameters."""
    rec.other("embedding", args, kwargs, out, srcs, unmapped=False)


Handler = Callable[[_Recorder, str, tuple, dict, Any, tuple], None]
_HANDLERS: dict[str, Handler] = {
    **{n: _h_conv for n in _CONV}, "linear": _h_linear, **{n: _h_matmul for n in _MATMUL},
    "sdpa": _h_sdpa, "multi_head_attention_forward": _h_mha, **{n: _h_norm for n in _NORM},
    **{n: _h_act for n in _ACT}, **{n: _h_softmax for n in _SOFTMAX},
    **{n: _h_resize for n in _RESIZE}, **{n: _h_pool for n in _POOL},
    **{n: _h_reduce for n in _REDUCE}, **{n: _h_concat for n in _CONCAT},
    **{n: _h_eltwise for n in _ELTWISE}, "embedding": _h_embedding,
}
_MAC_NAMES = _CONV | _MATMUL | {"linear", "sdpa", "multi_head_attention_forward"}


# ---------------------------------------------------------------------- API
def _import_torch():
    try:
        import torch
    except ImportError:
        raise WorkloadError("importing a PyTorch module needs the torch extra: "
                            "pip install torch") from None
    return torch


def from_torch(module: Any, example_input: Any, name: str | None = None, family: str = "imported",
               variant: str | None = None, num_classes: int = 0, dataset: str = "",
               warn: bool = True, _scoped: bool = False) -> Workload:
    """Run ``module`` once on ``example_input`` and return its layers as a :class:`Workload`.

    ``example_input`` is a tensor, a tuple of positional tensors, or a dict of keyword
    arguments (``{"pixel_values": x}``); every tensor in it is the network input.
    ``input_size`` is the (H, W) of the first 4-D input tensor. Ops the importer does not
    know become ``other`` layers and are listed in one :class:`UnmappedOpWarning`
    (``warn=False`` silences it; the list is also in ``meta['unmapped']``).
    Raises :class:`~accelsim.errors.WorkloadError` if the module fails to run.
    """
    torch = _import_torch()
    from torch.overrides import TorchFunctionMode

    if not isinstance(module, torch.nn.Module):
        raise WorkloadError(f"from_torch expects a torch.nn.Module, got {type(module).__name__}")
    cls = type(module).__name__
    params = {id(p): int(p.numel()) for p in module.parameters()}
    params.update({id(b): 0 for b in module.buffers()})
    rec = _Recorder(torch=torch, params=params)
    if isinstance(example_input, dict):
        call_args, call_kwargs = (), dict(example_input)
    elif isinstance(example_input, (tuple, list)):
        call_args, call_kwargs = tuple(example_input), {}
    else:
        call_args, call_kwargs = (example_input,), {}
    inputs = rec.tensors((call_args, call_kwargs))
    if not inputs:
        raise WorkloadError(f"from_torch({cls}): example_input holds no tensor")
    rec.mark(inputs, INPUT)

    class _Mode(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            rec.record(func, args, kwargs, out)
            return out

    handles = _install_hooks(module, rec)
    if _scoped:  # a module that reports its own module stack per op (an archived graph)
        module.scope = rec.enter_scope
    was_training = module.training
    _set_mode(module, False)
    try:
        with torch.no_grad(), _Mode():
            module(*call_args, **call_kwargs)
    except WorkloadError:
        raise
    except Exception as exc:  # any failure inside the user's model
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise WorkloadError(f"from_torch({cls}): the module failed to run on the example input: "
                            f"{type(exc).__name__}: {msg}"[:400]) from None
    finally:
        for h in handles:
            h.remove()
        _set_mode(module, was_training)
    if not rec.sink.layers:
        raise WorkloadError(f"from_torch({cls}): no operation on the input was recorded")
    if warn:
        rec.sink.warn(f"from_torch({cls})")
    size = next(((int(t.shape[-2]), int(t.shape[-1])) for t in inputs if t.dim() == 4),
                None) or (1, int(inputs[0].shape[-1]) if inputs[0].dim() else 1)
    meta = {"source": "torch", "module": cls, "model_params": sum(params.values()),
            "folded_constant_ops": rec.folded, "shared_weight_params": rec.shared_weight_params,
            "unmapped": rec.sink.unmapped_text()}
    return Workload(name=name or cls, family=family, variant=variant or cls, input_size=size,
                    num_classes=num_classes, layers=tuple(rec.sink.layers), dataset=dataset,
                    meta=meta)


def _set_mode(module: Any, training: bool) -> None:
    """``module.train(training)``; exported-program modules refuse it and keep their mode."""
    try:
        module.train(training)
    except NotImplementedError:
        pass


def _install_hooks(module: Any, rec: _Recorder) -> list:
    """Pre/post forward hooks on every submodule keep ``rec.stack`` = the module path stack."""
    handles = []
    for path, mod in module.named_modules():
        leaf = not any(True for _ in mod.children())

        def pre(m, a, _path=path, _leaf=leaf):
            rec.stack.append(_Frame(_path, _leaf))

        def post(m, a, o):
            if rec.stack:
                rec.stack.pop()

        handles.append(mod.register_forward_pre_hook(pre))
        handles.append(mod.register_forward_hook(post, always_call=True))
    return handles


def from_exported_program(path: Any, name: str | None = None, warn: bool = True,
                          input_hw: "tuple[int, int] | None" = None) -> Workload:
    """Import a ``torch.export`` archive (``.pt2``) by running its graph once on inputs of the
    recorded shapes (``input_hw`` for symbolic spatial sizes). Layers are named by the module
    paths of the graph's ``nn_module_stack`` metadata, as :func:`from_torch` names them
    (``blocks.0.attn.qkv``; ops of a module that is not a leaf ``path.<op>``); nodes without
    it take the op name.

    The archive is read by :mod:`.pt2_archive`, which never unpickles and never runs code
    from the file (archives holding pickled weights, constants or custom objects are
    refused); ``torch.export.load`` is never called."""
    from pathlib import Path

    _import_torch()
    from .pt2_archive import program, read_archive

    module, inputs = program(read_archive(path), input_hw)
    return from_torch(module, inputs, name=name or Path(path).stem, warn=warn, _scoped=True)
