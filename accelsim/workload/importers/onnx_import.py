"""ONNX importer: a model file, shape-inferred, mapped node by node onto the layer IR.

``onnx.shape_inference.infer_shapes`` (with data propagation, so ``Reshape`` targets
computed from ``Shape`` are resolved) gives every tensor a concrete shape; each node
then becomes a layer by the same conventions as the PyTorch importer (SPEC.md
sections 1 and 7): ``Conv``/``ConvTranspose`` -> conv, ``Gemm`` and ``MatMul`` with
an initializer operand -> linear, ``MatMul``/``Einsum`` between activations ->
matmul, norms, activations, ``Softmax``, ``Resize``, pooling, reductions, ``Concat``
and element-wise arithmetic. Layout ops (``Reshape``, ``Transpose``, ``Slice``,
``Gather`` with constant indices ...) are free. Nodes on constants only are folded.
Anything else touching the input becomes an ``other`` layer, listed in one warning.

Only tensor shapes are needed: a model whose external weight file (``onnx.save(...,
save_as_external_data=True)``) is absent is imported from the initializers' shapes, with
one :class:`MissingWeightsWarning` and ``meta["missing_weights"]`` naming them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from ...errors import WorkloadError
from ..ir import INPUT, Layer, Op, Workload, norm_layer, pool_layer, softmax_layer
from . import onnx_patterns
from .common import (IgnoredFieldsWarning, LayerSink, MissingWeightsWarning, account_weights, conv_layer, einsum_layer, elementwise_layer,
                     fuses_into, matmul_layer, nchw, part_tag, prod, token_pq)

_ACT = {"Relu": "relu", "Gelu": "gelu", "Sigmoid": "sigmoid", "Tanh": "tanh",
        "HardSwish": "hardswish", "HardSigmoid": "hardsigmoid", "LeakyRelu": "leaky_relu",
        "Elu": "elu", "Selu": "selu", "Celu": "celu", "Softplus": "softplus", "Mish": "mish",
        "PRelu": "prelu", "Clip": "clamp", "Erf": "erf", "ThresholdedRelu": "threshold",
        "Softsign": "softsign"}
_NORM = {"BatchNormalization": "batchnorm", "LayerNormalization": "layernorm",
         "GroupNormalization": "groupnorm", "InstanceNormalization": "instancenorm",
         "RMSNormalization": "rmsnorm", "LpNormalization": "l2norm"}
_POOL = {"MaxPool": "max", "AveragePool": "avg", "GlobalAveragePool": "avg",
         "GlobalMaxPool": "max", "LpPool": "lp"}
_REDUCE = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2",
           "ReduceL1", "ReduceLogSumExp", "ReduceSumSquare"}
_ELTWISE = {"Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs", "Where",
            "Max", "Min", "Sin", "Cos", "Reciprocal", "Equal", "Less", "Greater",
            "LessOrEqual", "GreaterOrEqual", "And", "Or", "Not", "Xor", "Sign", "Floor", "Ceil",
            "Round", "Mod", "IsNaN", "IsInf", "Sum", "Mean", "BitShift"}
_FREE = {"Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout",
         "Cast", "CastLike", "Slice", "Split", "Expand", "Tile", "Pad", "DepthToSpace",
         "SpaceToDepth", "Gather", "GatherElements", "Trilu", "Optional", "OptionalGetElement"}
#: ops whose outputs describe shapes, not data (never dynamic)
_SHAPE = {"Shape", "Size", "Constant", "ConstantOfShape", "Range", "EyeLike", "RandomNormal",
          "RandomUniform", "RandomNormalLike", "RandomUniformLike"}


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise WorkloadError("importing an ONNX file needs the onnx extra: pip install onnx") from None
    return onnx


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _load(path: Path, onnx: Any) -> tuple[Any, dict[str, str]]:
    """The model with every external tensor whose file is present loaded, and the
    initializers whose external data file is missing (name -> file). Shapes are all the
    importer needs, so missing weight data is reported, not fatal."""
    if not path.is_file():
        raise WorkloadError(f"{path}: ONNX file not found")
    from onnx.external_data_helper import load_external_data_for_tensor, uses_external_data

    try:
        model = onnx.load(str(path), load_external_data=False)
        missing: dict[str, str] = {}
        for tensor in model.graph.initializer:
            if not uses_external_data(tensor):
                if prod(tensor.dims) > 0 and not _has_data(tensor):
                    missing[tensor.name] = ""  # dims declared, no data field at all
                continue
            location = next((e.value for e in tensor.external_data if e.key == "location"), "")
            if not (path.parent / location).is_file():
                missing[tensor.name] = location
                continue
            load_external_data_for_tensor(tensor, str(path.parent))
            tensor.data_location = onnx.TensorProto.DEFAULT
            del tensor.external_data[:]
    except Exception as exc:  # protobuf DecodeError, truncated external data ...
        raise WorkloadError(_invalid(path, exc)) from None
    return model, missing


_DATA_FIELDS = ("raw_data", "float_data", "int32_data", "string_data", "int64_data", "double_data",
                "uint64_data")


def _has_data(tensor: Any) -> bool:
    """True when an (internal) initializer holds any value field."""
    return any(len(getattr(tensor, f)) for f in _DATA_FIELDS)


def _missing_text(missing: Mapping[str, str], sizes: Mapping[str, int]) -> str:
    """One line: how many initializers (and elements) lack data, and in which files."""
    files = ", ".join(f for f in dict.fromkeys(missing.values()) if f)
    declared = [t for t, f in missing.items() if not f]
    elems = sum(sizes.get(t, 0) for t in missing)
    why = []
    if files:
        why.append(f"external file(s) {files} not found")
    if declared:
        names = ", ".join(declared[:3]) + (", ..." if len(declared) > 3 else "")
        why.append(f"{len(declared)} declared with dims and no data field ({names})")
    return f"{len(missing)} of {len(sizes)} initializers ({elems:,} elements) have no data: {'; '.join(why)}"


def _strip_unknown_attributes(model: Any, onnx: Any) -> dict[str, int]:
    """Remove attributes that the ONNX schema of their (default-domain) op does not define
    (Stream's ``act_size`` on ``Gemm``), in place; returns ``"attr (Op)" -> count``. Only
    shapes are read, and inference uses the schema's attributes alone."""
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    removed: dict[str, int] = {}
    for node in model.graph.node:
        if node.domain not in ("", "ai.onnx") or opset is None:
            continue
        try:
            known = set(onnx.defs.get_schema(node.op_type, opset, "").attributes)
        except Exception:  # an op unknown to onnx: the checker names it
            continue
        keep = [a for a in node.attribute if a.name in known]
        if len(keep) != len(node.attribute):
            for a in node.attribute:
                if a.name not in known:
                    key = f"{a.name} ({node.op_type})"
                    removed[key] = removed.get(key, 0) + 1
            del node.attribute[:]
            node.attribute.extend(keep)
    return removed


def _invalid(path: Path, exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{path}: not a valid ONNX model: {type(exc).__name__}: {first}"[:300]


def _shape_only(model: Any, missing: Mapping[str, str], onnx: Any) -> Any:
    """A copy of ``model`` in which the initializers without data are graph inputs of the
    same type and shape, so the checker and shape inference accept it (the importer walks
    the original graph, where they stay initializers)."""
    if not missing:
        return model
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    g = probe.graph
    listed = {i.name for i in g.input}
    kept = [t for t in g.initializer if t.name not in missing]
    for t in g.initializer:
        if t.name in missing and t.name not in listed:
            g.input.append(onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    del g.initializer[:]
    g.initializer.extend(kept)
    return probe


def _check(model: Any, onnx: Any, path: Path) -> None:
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # ValidationError ...
        raise WorkloadError(_invalid(path, exc)) from None


def _fix_inputs(model: Any, initializers: set[str], input_shapes: Mapping[str, Any] | None,
                path: Path, input_hw: "tuple[int, int] | None" = None) -> None:
    """Give every graph input a concrete shape: ``input_shapes`` overrides, a symbolic
    leading (batch) dim becomes 1, the last two symbolic dims of a 4-D input take
    ``input_hw``, any other symbolic dim is an error."""
    for inp in model.graph.input:
        if inp.name in initializers:
            continue
        dims = inp.type.tensor_type.shape.dim
        given = (input_shapes or {}).get(inp.name)
        if given is not None:
            del dims[:]
            for v in given:
                dims.add().dim_value = int(v)
            continue
        for i, d in enumerate(dims):
            if d.dim_value > 0:
                continue
            if i == 0:
                d.dim_value = 1
            elif input_hw is not None and len(dims) == 4 and i >= 2:
                d.dim_value = int(input_hw[i - 2])
            else:
                shown = [x.dim_value if x.dim_value > 0 else (x.dim_param or "?") for x in dims]
                raise WorkloadError(f"{path}: input {inp.name!r} has symbolic sizes {shown} (dim {i}: "
                                    f"{d.dim_param or '?'}); give the input size with --input HxW "
                                    f"(input_hw=(H, W)) or input_shapes={{'{inp.name}': [...]}}")


def _shapes(model: Any, onnx: Any, path: Path) -> dict[str, list[int]]:
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception as exc:
        raise WorkloadError(f"{path}: ONNX shape inference failed: {str(exc).splitlines()[0]}"[:300]) from None
    out: dict[str, list[int]] = {}
    g = inferred.graph
    for vi in [*g.input, *g.value_info, *g.output]:
        t = vi.type.tensor_type
        if t.HasField("shape"):
            out[vi.name] = [int(d.dim_value) if d.dim_value > 0 else 0 for d in t.shape.dim]
    for init in g.initializer:
        out[init.name] = [int(d) for d in init.dims]
    return out


@dataclass
class _Weights:
    """Which initializers earlier layers counted, and which layer first used each weight set.

    Mirrors the PyTorch importer: a node that reuses another node's initializers in the
    same role (a module exported once and called twice) ``shares`` that layer's weights
    when both count as many static parameters; initializers counted before in any other
    way are subtracted through a negative ``extra_params``, so ``Workload.params`` counts
    every initializer once.
    """

    sizes: dict[str, int]
    used: set[str] = field(default_factory=set)
    owner: dict[tuple[str, ...], Layer] = field(default_factory=dict)
    root: dict[str, str] = field(default_factory=dict)

    def alias(self, node: Any, shapes: dict[str, list[int]]) -> None:
        """A free op on one initializer that keeps its element count (``Identity``, which
        exporters emit for a weight read twice, ``Transpose``, ``Reshape`` ...) yields the
        same weights: its output resolves to that initializer."""
        src = self.resolve(node.input[0]) if node.input else ""
        out = node.output[0] if node.output else ""
        if src in self.sizes and out and shapes.get(out) and prod(shapes[out]) == self.sizes[src]:
            self.root[out] = src

    def resolve(self, name: str) -> str:
        return self.root.get(name, name)

    def first_use(self, names: Sequence[str]) -> int:
        """Elements of the initializers in ``names`` not counted before; marks them used."""
        n = 0
        for t in dict.fromkeys(map(self.resolve, names)):
            if t in self.sizes and t not in self.used:
                self.used.add(t)
                n += self.sizes[t]
        return n

    def attach(self, layer: Layer, names: Sequence[str]) -> Layer:
        """``layer`` with static tensors ``names`` (weight, bias, norm scale and shift)."""
        names = [self.resolve(t) for t in names]
        key = tuple(t for t in dict.fromkeys(names) if t in self.sizes)
        if not key:
            return layer
        shared = sum(self.sizes[t] for t in key if t in self.used)
        self.used.update(key)
        # norm scale/shift that Layer.static_params does not count as they are (RMS and
        # instance norm, a missing bias), when every one of them is an initializer
        uncounted = 0
        if layer.op is Op.NORM and len(key) == len([t for t in names if t]):
            uncounted = sum(self.sizes[t] for t in key) - layer.static_params
        layer = account_weights(layer, self.owner.get(key), shared, uncounted)
        self.owner.setdefault(key, layer)
        return layer


def from_onnx(path: "str | Path", name: str | None = None, input_shapes: Mapping[str, Any] | None = None,
              warn: bool = True, family: str = "imported", num_classes: int = 0,
              dataset: str = "", input_hw: "tuple[int, int] | None" = None) -> Workload:
    """Read an ONNX file into a :class:`Workload` (one layer per compute node).

    ``input_shapes`` fixes symbolic input dims (``{"pixel_values": [1, 3, 512, 512]}``).
    Raises :class:`~accelsim.errors.WorkloadError` for a missing, corrupt or invalid file.
    """
    onnx = _import_onnx()
    path = Path(path)
    model, missing = _load(path, onnx)
    g = model.graph
    init_sizes = {i.name: prod(i.dims) for i in g.initializer}
    _fix_inputs(model, set(init_sizes), input_shapes, path, input_hw)
    probe = _shape_only(model, missing, onnx)
    if probe is model:
        probe = onnx.ModelProto()
        probe.CopyFrom(model)
    stripped = _strip_unknown_attributes(probe, onnx)
    _check(probe, onnx, path)
    shapes = _shapes(probe, onnx, path)
    sink = LayerSink()
    producer: dict[str, str] = {i.name: INPUT for i in g.input if i.name not in init_sizes}
    if not producer:
        raise WorkloadError(f"{path}: the graph has no non-initializer input")
    weights = _Weights(init_sizes)
    folded = 0
    groups = onnx_patterns.find(list(g.node), onnx_patterns.dynamic_tensors(g, set(init_sizes), _SHAPE),
                                {o.name for o in g.output})
    inside = {i for grp in groups.values() for i in grp.members}
    for idx, node in enumerate(g.node):
        if idx in groups:
            grp = groups[idx]
            layer = sink.add(_group_layer(grp, sink, shapes, producer, weights))
            producer[grp.out] = layer.name
            continue
        if idx in inside:
            continue
        srcs = tuple(dict.fromkeys(producer[t] for t in node.input if t in producer))
        is_mac = node.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul", "Einsum")
        if node.op_type in _SHAPE or (not srcs and not is_mac):
            if node.op_type in _FREE:
                weights.alias(node, shapes)
            folded += 1
            continue
        if node.op_type in _FREE:
            for o in node.output:
                if o:
                    producer[o] = srcs[0]
            continue
        lname = sink.unique(node.name or f"{node.op_type.lower()}_{idx}")
        try:
            layer = _map_node(node, lname, srcs, shapes, producer, sink, weights)
        except (KeyError, IndexError, ValueError, ZeroDivisionError) as exc:
            raise WorkloadError(f"{path}: node {lname} ({node.op_type}): shape not resolved "
                                f"({type(exc).__name__}: {exc})") from None
        tags = {"part": part_tag(lname)}
        layer = sink.add(layer.with_(tags=tuple(sorted(tags.items()))))
        for o in node.output:
            if o:
                producer[o] = layer.name
    if not sink.layers:
        raise WorkloadError(f"{path}: no operation on the graph input was found")
    if warn:
        sink.warn(f"from_onnx({path.name})")
        attrs = "; unknown attributes ignored: " + ", ".join(
            f"{k} x{v}" for k, v in sorted(stripped.items())) if stripped else ""
        if missing:
            warnings.warn(f"from_onnx({path.name}): {_missing_text(missing, init_sizes)}; "
                          f"imported from shapes alone{attrs}", MissingWeightsWarning, stacklevel=2)
        elif stripped:
            warnings.warn(f"from_onnx({path.name}): {attrs[2:]}; imported from shapes",
                          IgnoredFieldsWarning, stacklevel=2)
    first = next(i for i in g.input if i.name not in init_sizes)
    ishape = shapes.get(first.name, [])
    size = (ishape[-2], ishape[-1]) if len(ishape) == 4 else (1, max(ishape[-1:] or [1]))
    meta = {"source": "onnx", "file": path.name, "model_params": sum(init_sizes.values()),
            "folded_constant_ops": folded, "unmapped": sink.unmapped_text()}
    if missing:
        meta.update(weights="shapes only", missing_weights=",".join(missing),
                    missing_weight_files=",".join(f for f in dict.fromkeys(missing.values()) if f))
    if stripped:
        meta["ignored_attributes"] = ",".join(sorted(stripped))
    return Workload(name=name or path.stem, family=family, variant=g.name or path.stem,
                    input_size=size, num_classes=num_classes, layers=tuple(sink.layers),
                    dataset=dataset, meta=meta)


def _group_layer(grp: "onnx_patterns.Group", sink: LayerSink, shapes: dict[str, list[int]],
                 producer: dict[str, str], weights: _Weights) -> Layer:
    """The one layer of a recognised decomposition (GELU, SiLU, LayerNorm, softmax, a
    MatMul with its bias Add), as the PyTorch importer records that call."""
    x, y = shapes[grp.x], shapes[grp.out]
    src = producer.get(grp.x)
    srcs = (src,) if src else ()
    prod_layer = sink.by_name.get(src or "")
    name = sink.unique(f"{(src or 'input').rsplit('/', 1)[0]}/{grp.kind}")
    tags = (("part", part_tag(name)),)
    if grp.kind in ("gelu", "silu"):
        return elementwise_layer(name, Op.ELTWISE, y, fn=grp.kind, inputs=srcs,
                                 fused=fuses_into(prod_layer, grp.kind)).with_(tags=tags)
    if grp.kind == "softmax":
        return softmax_layer(name, y[-1], p=max(prod(y) // max(y[-1], 1), 1), fn="softmax",
                             inputs=srcs).with_(tags=tags)
    if grp.kind == "layernorm":
        p, q = token_pq(x[:-1])
        layer = norm_layer(name, x[-1], p, q, "layernorm" if grp.params else "layernorm_noaffine",
                           fuses_into(prod_layer, "layernorm"), inputs=srcs)
        return weights.attach(layer, grp.params).with_(tags=tags)
    w, bias = grp.params
    layer = matmul_layer(name, x, shapes[w], False, True, srcs, bias=True)
    return weights.attach(layer, [w, bias]).with_(tags=tags)


def _map_node(node: Any, lname: str, srcs: tuple[str, ...], shapes: dict[str, list[int]],
              producer: dict[str, str], sink: LayerSink, weights: _Weights) -> Layer:
    """One ONNX node -> one layer (shapes from inference; initializers are weights)."""
    op = node.op_type
    at = _attrs(node)
    ins = list(node.input)
    y = shapes[node.output[0]]

    def static(t: str) -> bool:
        return t not in producer

    def extra() -> int:
        return weights.first_use(ins)

    def weighted(layer: Layer, names: Sequence[str]) -> Layer:
        if layer.op is Op.MATMUL:  # both operands constant: no static weights of its own
            weights.used.update(map(weights.resolve, names))
            return layer
        return weights.attach(layer, names)

    if op in ("Conv", "ConvTranspose"):
        x, w = shapes[ins[0]], shapes[ins[1]]
        groups = int(at.get("group", 1))
        bias = len(ins) > 2 and bool(ins[2])
        pads = at.get("pads", [0])
        if op == "ConvTranspose":
            k = int(w[1]) * groups
            return weighted(conv_layer(lname, x, [k, int(w[0]) // groups, *w[2:]], x, 1, 0,
                                       groups, bias, srcs, fn="conv_transpose"), ins[1:3])
        return weighted(conv_layer(lname, x, w, y, at.get("strides", [1]), pads, groups, bias,
                                   srcs), ins[1:3])
    if op == "Gemm":
        a, b = shapes[ins[0]], shapes[ins[1]]
        a = a[::-1] if at.get("transA", 0) else a
        b = b[::-1] if at.get("transB", 0) else b
        return weighted(matmul_layer(lname, a, b, static(ins[0]), static(ins[1]), srcs,
                                     bias=len(ins) > 2 and bool(ins[2])), ins[:3])
    if op == "MatMul":
        return weighted(matmul_layer(lname, shapes[ins[0]], shapes[ins[1]], static(ins[0]),
                                     static(ins[1]), srcs), ins[:2])
    if op == "Einsum":
        if len(ins) != 2:
            sink.unmapped["Einsum(>2 operands)"] += 1
            return elementwise_layer(lname, Op.OTHER, y, fn="einsum", inputs=srcs)
        eq = at["equation"]
        return weighted(einsum_layer(lname, eq.decode() if isinstance(eq, bytes) else eq,
                                     shapes[ins[0]], shapes[ins[1]], static(ins[0]),
                                     static(ins[1]), srcs), ins)
    if op in _NORM:
        fn = _NORM[op]
        x = shapes[ins[0]]
        weights.used.update(map(weights.resolve, ins[3:]))  # BN mean and variance: statistics
        prod_layer = sink.by_name.get(producer.get(ins[0], ""))
        if op == "LayerNormalization" or op == "RMSNormalization":
            axis = int(at.get("axis", -1))
            axis = axis % len(x)
            chans = prod(x[axis:])
            p, q = token_pq(x[:axis])
            n = 1
        else:
            n, chans, p, q = nchw(x)
        fused = fuses_into(prod_layer, fn)
        return weighted(norm_layer(lname, chans, p, q, fn, fused, inputs=srcs, n=n), ins[1:3])
    if op in _ACT:
        prod_layer = sink.by_name.get(producer.get(ins[0], ""))
        return elementwise_layer(lname, Op.ELTWISE, y, fn=_ACT[op], inputs=srcs,
                                 fused=fuses_into(prod_layer, _ACT[op]), extra_params=extra())
    if op in ("Softmax", "LogSoftmax"):
        axis = int(at.get("axis", -1)) % len(y)
        chans = y[axis]
        return softmax_layer(lname, chans, p=max(prod(y) // max(chans, 1), 1), fn=op.lower(),
                             inputs=srcs)
    if op in ("Resize", "Upsample"):
        mode = at.get("mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else str(mode)
        return elementwise_layer(lname, Op.RESIZE, y, fn="bilinear" if mode == "linear" else mode,
                                 inputs=srcs, ops_per_element=4 if "linear" in mode else 1,
                                 x=shapes[ins[0]])
    if op in _POOL:
        x = shapes[ins[0]]
        n, c, p, q = nchw(y)
        _, _, h, w = nchw(x)
        kern = at.get("kernel_shape", [h, w])
        r, s = int(kern[0]), int(kern[-1])
        stride = int(at.get("strides", [r])[0])
        pad = int(at.get("pads", [0])[0])
        return pool_layer(lname, c, p, q, r, s, max(stride, 1), pad, _POOL[op], inputs=srcs,
                          in_h=h, in_w=w, n=n)
    if op in _REDUCE:
        x = shapes[ins[0]]
        return elementwise_layer(lname, Op.POOL, y, fn=op[6:].lower(), inputs=srcs,
                                 ops_per_element=max(prod(x) // max(prod(y), 1), 1), x=x)
    if op == "Concat":
        return elementwise_layer(lname, Op.CONCAT, y, fn="concat", inputs=srcs,
                                 extra_params=extra())
    if op in _ELTWISE:
        return elementwise_layer(lname, Op.ELTWISE, y, fn=op.lower(), inputs=srcs,
                                 extra_params=extra())
    sink.unmapped[op] += 1
    total = sum(prod(shapes.get(o, [])) for o in node.output if o)
    return elementwise_layer(lname, Op.OTHER, y if len(node.output) == 1 else [total],
                             fn=op.lower(), inputs=srcs, extra_params=extra())
