"""A reader of ``torch.export`` archives (``.pt2``) that never unpickles and never compiles.

``torch.export.load`` is not safe on a file from elsewhere: it calls
``torch.load(weights_only=False)`` for weights and sample inputs stored as pickles,
``pickle.loads`` for constants, ``exec`` for the archive's guard code, sympy's parser
(``eval``) for symbolic shapes, and imports any module a pytree type names. This
module reads only what is plain data:

- the zip directory (:mod:`zipfile`, entry count and sizes bounded);
- ``models/<name>.json``, the graph: every node must call an ATen operator
  (``torch.ops.aten.<op>.<overload>``, looked up by name, never imported or evaluated;
  the few that touch files are refused) with literal arguments of known kinds;
- raw tensor bytes named by ``data/weights/*_config.json`` and
  ``data/constants/*_config.json``; an archive that stores any of them as a pickle
  (``use_pickle``, custom or opaque objects, the legacy ``*.pt`` files) is refused.

It ignores the pickled sample inputs, the guard code, the pytree specs and the range
constraints: the user inputs are built from the shapes and dtypes the graph records
(floating inputs random with a fixed seed, integer and boolean inputs all ones), so an
archive with symbolic (dynamic) shapes is refused. Output types need no registration
(a ``transformers`` ``ImageClassifierOutput`` reads without importing transformers).
The graph then runs once, eagerly, through :func:`~.torch_import.from_torch`.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import WorkloadError
from ...safeio import check_input, clip, describe, short
from ..ir import FIELD_LIMITS

#: largest archive read (bytes)
MAX_ARCHIVE_BYTES = 16 * 1024**3
#: most entries in the zip directory
MAX_ENTRIES = 1_000_000
#: largest graph or payload-config JSON (bytes)
MAX_JSON_BYTES = 512 * 1024**2
#: most graph nodes
MAX_NODES = 100_000
#: longest the graph may run (seconds, checked between nodes)
MAX_RUN_S = 60.0
#: largest tensor dimension (the per-field limit of layer dimensions) and rank
MAX_DIM = FIELD_LIMITS["p"]
MAX_RANK = 8
#: most elements of one input, one zero-filled weight, or one node's result (2^28 = 1 GiB of float32)
MAX_ELEMENTS = 2**28
#: most multiply-accumulates one node may ask for (estimated from its operands before it runs)
MAX_NODE_MACS = 2**40
#: the pattern every node target must match before anything is looked up: lower-case ATen
#: names (one leading underscore at most, no dunders), plain overload names
_OP = re.compile(r"^torch\.ops\.aten\.(_?[a-z][a-z0-9_]{0,63})\.([A-Za-z][A-Za-z0-9_]{0,63})$")
#: ATen operators run besides those the recorder maps (``torch_import`` tables): factories,
#: symbolic sizes, indexing and the ``native_*`` forms export writes
_ATEN_EXTRA = frozenset({
    "sym_size", "sym_numel", "sym_stride", "sym_storage_offset", "arange", "zeros", "ones", "full", "empty",
    "scalar_tensor", "lift_fresh_copy", "to_copy", "alias", "index", "index_select", "index_put", "gather",
    "scatter", "scatter_add", "embedding", "cumsum", "topk", "sort", "argmax", "argmin", "native_layer_norm",
    "native_batch_norm", "native_batch_norm_legit_no_training", "native_group_norm", "unsafe_view",
    "linalg_vector_norm", "any", "all", "slice", "constant_pad_nd", "split_with_sizes", "masked_fill",
    "expand_copy", "view_copy", "permute_copy", "assert_async", "assert_scalar", "sym_constrain_range_for_size",
    "upsample_bilinear2d", "upsample_nearest2d", "upsample_bicubic2d", "grid_sampler_2d", "im2col", "col2im",
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "max_pool2d_with_indices", "avg_pool2d", "max_pool2d",
    "convolution", "addmm", "bmm", "mm", "baddbmm", "softmax", "log_softmax", "scaled_dot_product_attention",
    "hardtanh", "bitwise_not", "logical_not", "new_zeros", "new_ones", "new_full", "new_empty", "fill",
    "zero", "clamp", "where", "rsqrt", "isin", "nonzero", "max", "min", "var", "std", "unbind", "narrow",
    "einsum", "roll", "flip", "repeat", "tile", "one_hot", "triu", "tril", "diagonal", "squeeze", "unsqueeze",
    "lt", "le", "gt", "ge", "eq", "ne", "pow", "erf", "layer_norm", "group_norm", "batch_norm",
    "instance_norm", "rms_norm", "dropout", "native_dropout", "cat", "stack", "mean", "sum", "copy",
})
#: ATen operators that read or write files or print: never called
_DENIED_OPS = frozenset({"save", "from_file", "_print", "warn", "_save_jit_module", "_save_for_mobile",
                         "_load_for_mobile", "_load_jit_module"})
_DENIED_ARGS = frozenset({"filename", "file", "path", "f"})
#: argument kinds holding plain values
_SCALAR_KINDS = ("as_int", "as_float", "as_bool", "as_string")
_LIST_KINDS = ("as_ints", "as_floats", "as_bools", "as_strings")


class ArchiveError(WorkloadError):
    """A ``.pt2`` file that is not a plain-data ``torch.export`` archive."""


@dataclass
class Archive:
    """The parts of a ``torch.export`` archive that are plain data."""

    path: Path
    graph: dict
    signature: dict
    weights: dict[str, Any] = field(default_factory=dict)   # fqn -> tensor (parameters, buffers)
    constants: dict[str, Any] = field(default_factory=dict)  # fqn -> tensor (lifted constants)


# ------------------------------------------------------------------ reading
def read_archive(path: "str | Path") -> Archive:
    """Read ``path`` as a plain-data ``torch.export`` archive (see the module docstring)."""
    import torch

    path = Path(path)
    check_input(path, MAX_ARCHIVE_BYTES, ".pt2 archive")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ArchiveError(f"{path}: not a torch.export archive (not a zip file: {describe(exc)})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ArchiveError(f"{path}: {len(infos):,} zip entries; at most {MAX_ENTRIES:,} are read")
        names = {i.filename: i for i in infos}
        roots = {n.split("/", 1)[0] for n in names}
        if len(roots) != 1:
            raise ArchiveError(f"{path}: not a torch.export archive (no single top folder)")
        root = roots.pop() + "/"
        reader = _Entries(path, zf, names, root)
        fmt = reader.text("archive_format", required=False)
        if fmt != "pt2":
            legacy = any(n.endswith("serialized_exported_program.json") for n in names)
            raise ArchiveError(f"{path}: not a torch.export archive ({'the pre-2.8 format' if legacy else 'no archive_format pt2'}); "
                               "save it again with torch.export.save from torch >= 2.8")
        aoti = [n for n in names if n.startswith(root + "data/aotinductor/")]
        if aoti:
            raise ArchiveError(f"{path}: holds AOTInductor compiled code ({clip(aoti[0], 60)}); only "
                               "torch.export.save archives of an ExportedProgram are read")
        models = sorted(n[len(root) + 7:-5] for n in names
                        if n.startswith(root + "models/") and n.endswith(".json"))
        if not models:
            raise ArchiveError(f"{path}: the archive holds no exported program (models/*.json)")
        model = "model" if "model" in models else models[0]
        doc = reader.json(f"models/{model}.json")
        gm = _field(doc, "graph_module", dict, path)
        archive = Archive(path, _field(gm, "graph", dict, path), _field(gm, "signature", dict, path))
        for kind in ("weights", "constants"):
            if f"{root}data/{kind}/{model}.pt" in names:
                raise ArchiveError(f"{path}: stores its {kind} as a pickle (legacy data/{kind}/{model}.pt); "
                                   "it is not read: save it again with a current torch.export.save")
            config = reader.json(f"data/{kind}/{model}_{kind}_config.json")
            entries = _field(config, "config", dict, path)
            setattr(archive, kind, _payload(reader, entries, kind, torch))
    return archive


class _Entries:
    """Bounded reads of the entries of one archive."""

    def __init__(self, path: Path, zf: zipfile.ZipFile, infos: dict, root: str) -> None:
        self.path, self.zf, self.infos, self.root = path, zf, infos, root

    def raw(self, name: str, limit: int) -> bytearray:
        """The bytes of one entry (at most ``limit``), read into one writable buffer."""
        info = self.infos.get(self.root + name)
        if info is None:
            raise ArchiveError(f"{self.path}: the archive has no {name}")
        if info.file_size > limit:
            raise ArchiveError(f"{self.path}: {name} is {info.file_size:,} bytes; at most {limit:,} are read")
        if info.flag_bits & 0x1:
            raise ArchiveError(f"{self.path}: {name} is encrypted; only plain torch.export.save archives are read")
        buf = bytearray(info.file_size)
        try:
            with self.zf.open(info) as fh:
                n = fh.readinto(buf)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise ArchiveError(f"{self.path}: cannot read {name}: {describe(exc)}") from None
        if n != len(buf):
            raise ArchiveError(f"{self.path}: {name} is shorter than its zip entry says")
        return buf

    def text(self, name: str, required: bool = True) -> str | None:
        if not required and self.root + name not in self.infos:
            return None
        try:
            return self.raw(name, 1024).decode().strip()
        except UnicodeError:
            raise ArchiveError(f"{self.path}: {name} is not text") from None

    def json(self, name: str) -> dict:
        raw = self.raw(name, MAX_JSON_BYTES)
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise ArchiveError(f"{self.path}: {name} is not JSON: {describe(exc)}") from None
        if not isinstance(doc, dict):
            raise ArchiveError(f"{self.path}: {name} is not a JSON object")
        return doc


def _field(doc: dict, key: str, kind: type, path: Path) -> Any:
    value = doc.get(key)
    if not isinstance(value, kind):
        raise ArchiveError(f"{path}: the archive's {key!r} is missing or malformed")
    return value


def _dtype(code: Any, path: Path) -> Any:
    from torch._export.serde.serialize import _SERIALIZE_TO_TORCH_DTYPE

    for k, v in _SERIALIZE_TO_TORCH_DTYPE.items():
        if int(k) == code:
            return v
    raise ArchiveError(f"{path}: unknown tensor dtype code {short(code)}")


class SymbolicShape(ArchiveError):
    """A tensor whose sizes are symbolic (a dynamic shape)."""


def _ints(values: Any, what: str, path: Path) -> list[int]:
    """Concrete sizes/strides (``[{"as_int": n}, ...]``) within int64; symbolic ones raise
    :class:`SymbolicShape`."""
    if not isinstance(values, list) or len(values) > MAX_RANK:
        raise ArchiveError(f"{path}: {what} is malformed (a list of at most {MAX_RANK} sizes)")
    out = []
    for v in values:
        n = v.get("as_int") if isinstance(v, dict) else None
        if isinstance(v, dict) and "as_expr" in v:
            raise SymbolicShape(f"{path}: {what} is symbolic (a dynamic shape)")
        if isinstance(n, bool) or not isinstance(n, int) or not -2**63 <= n < 2**63:
            raise ArchiveError(f"{path}: {what} holds {short(n if isinstance(v, dict) else v, 40)}, not an int64 size")
        out.append(n)
    return out


def _bound(sizes: list[int], what: str, path: Path, most: int = MAX_ELEMENTS) -> None:
    """Refuse a shape before anything of that shape is allocated: each size at most
    :data:`MAX_DIM`, at most ``most`` elements."""
    if any(s > MAX_DIM for s in sizes):
        raise ArchiveError(f"{path}: {what} has a size of {max(sizes):,}; at most {MAX_DIM:,} per dimension")
    n = 1
    for s in sizes:
        n *= s
    if n > most:
        raise ArchiveError(f"{path}: {what} has {n:,} elements; at most {most:,} are allocated")


def _meta_shape(meta: Any, what: str, path: Path) -> tuple[list[int], list[int], int, Any]:
    if not isinstance(meta, dict):
        raise ArchiveError(f"{path}: {what} has no tensor metadata")
    try:
        sizes = _ints(meta.get("sizes"), f"{what} sizes", path)
    except SymbolicShape:
        raise ArchiveError(f"{path}: {what} sizes are symbolic (a dynamic shape); only inputs may be") from None
    strides = _ints(meta.get("strides", [{"as_int": 1}] * len(sizes)), f"{what} strides", path)
    offset = meta.get("storage_offset", {"as_int": 0})
    offset = _ints([offset], f"{what} storage offset", path)[0]
    if len(strides) != len(sizes):
        raise ArchiveError(f"{path}: {what} has {len(sizes)} sizes but {len(strides)} strides")
    if any(s < 0 for s in sizes + strides) or offset < 0:
        raise ArchiveError(f"{path}: {what} has a negative size or stride")
    return sizes, strides, offset, _dtype(meta.get("dtype"), path)


def _payload(reader: _Entries, entries: dict, kind: str, torch: Any) -> dict[str, Any]:
    """Tensors of a weights or constants config, from raw bytes only."""
    path = reader.path
    storages: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for fqn, meta in entries.items():
        if not isinstance(meta, dict) or not isinstance(meta.get("path_name"), str):
            raise ArchiveError(f"{path}: {kind} entry {short(fqn)} is malformed")
        name = meta["path_name"]
        if meta.get("use_pickle") or not name.startswith(("weight_", "tensor_")) or "/" in name:
            raise ArchiveError(f"{path}: stores {kind[:-1]} {short(fqn)} as a pickled object ({clip(name, 40)}); "
                               "archives with pickled weights, constants or custom objects are not read")
        sizes, strides, offset, dtype = _meta_shape(meta.get("tensor_meta"), f"{kind[:-1]} {short(fqn)}", path)
        _bound(sizes, f"{kind[:-1]} {short(fqn)}", path, 2**34)  # stored data: 16 GiB archives at most
        if name not in storages:
            raw = reader.raw(f"data/{kind}/{name}", MAX_ARCHIVE_BYTES)
            size = torch.empty((), dtype=dtype).element_size()
            if len(raw) % size:
                raise ArchiveError(f"{path}: data/{kind}/{name} holds {len(raw)} bytes, not whole "
                                   f"{dtype} elements")
            storages[name] = torch.frombuffer(raw, dtype=dtype) if raw else torch.zeros(0, dtype=dtype)
        flat = storages[name]
        if flat.numel() == 0 or any(s == 0 for s in sizes):  # an empty record stands for zeros
            _bound(sizes, f"{kind[:-1]} {short(fqn)}", path)
            out[fqn] = torch.zeros((), dtype=dtype).expand(sizes)  # nothing allocated from the sizes
            continue
        end = offset + sum((s - 1) * st for s, st in zip(sizes, strides)) + 1
        if end > flat.numel():
            raise ArchiveError(f"{path}: {kind[:-1]} {short(fqn)} reaches past its data")
        out[fqn] = torch.as_strided(flat, sizes, strides, offset)
    return out


# ------------------------------------------------------------------ running
def _allowed() -> frozenset[str]:
    from .torch_import import _HANDLERS, _FREE, _LIKE, _RENAME

    return frozenset(_HANDLERS) | _FREE | _LIKE | frozenset(_RENAME) | _ATEN_EXTRA


def _check_op(target: Any, path: Path) -> tuple[str, Any]:
    """The ATen operator a node calls. The name must match :data:`_OP` and be on the
    allow-list (the operators the recorder knows, :data:`_ATEN_EXTRA`) before anything is
    looked up; only then is it resolved, on ``torch.ops.aten``."""
    import torch

    m = _OP.match(target) if isinstance(target, str) else None
    if m is None:
        raise ArchiveError(f"{path}: node target {short(target)} is not an ATen operator name "
                           "(torch.ops.aten.<name>.<overload>); only ATen calls are read")
    if m.group(1) in _DENIED_OPS:
        raise ArchiveError(f"{path}: node target {target} reads or writes files; it is not run")
    if m.group(1).strip("_") not in _allowed():
        raise ArchiveError(f"{path}: ATen operator {m.group(1)} is not on the list of operators the safe .pt2 "
                           "reader runs")
    try:
        op = getattr(getattr(torch.ops.aten, m.group(1)), m.group(2))
    except (AttributeError, RuntimeError):
        raise ArchiveError(f"{path}: unknown ATen operator {short(target)}") from None
    if any(a.name in _DENIED_ARGS for a in op._schema.arguments):
        raise ArchiveError(f"{path}: node target {target} takes a file name; it is not run")
    return target, op


def _value(arg: Any, env: dict, path: Path) -> Any:
    """The Python value of one serialized argument (names looked up in ``env``)."""
    import torch
    from torch._export.serde.serialize import _SERIALIZE_TO_TORCH_LAYOUT, _SERIALIZE_TO_TORCH_MEMORY_FORMAT

    if not (isinstance(arg, dict) and len(arg) == 1):
        raise ArchiveError(f"{path}: a malformed node argument {short(arg)}")
    kind, v = next(iter(arg.items()))

    def ref(name: Any) -> Any:
        if not isinstance(name, str) or name not in env:
            raise ArchiveError(f"{path}: a node reads {short(name)} before it is produced")
        return env[name]

    if kind == "as_none":
        return None
    if kind in _SCALAR_KINDS and isinstance(v, (int, float, bool, str)):
        return v
    if kind in _LIST_KINDS and isinstance(v, list) and all(isinstance(x, (int, float, bool, str)) for x in v):
        return list(v)
    if kind == "as_tensor" and isinstance(v, dict):
        return ref(v.get("name"))
    if kind == "as_tensors" and isinstance(v, list):
        return [ref(t.get("name") if isinstance(t, dict) else None) for t in v]
    if kind == "as_optional_tensors" and isinstance(v, list):
        return [None if "as_none" in t else ref(t.get("as_tensor", {}).get("name"))
                for t in v if isinstance(t, dict)]
    if kind in ("as_sym_int", "as_sym_float", "as_sym_bool") and isinstance(v, dict) and len(v) == 1:
        inner_kind, inner = next(iter(v.items()))
        return ref(inner) if inner_kind == "as_name" else _value({inner_kind: inner}, env, path)
    if kind in ("as_sym_ints", "as_sym_floats", "as_sym_bools") and isinstance(v, list):
        return [_value({kind[:-1]: x}, env, path) for x in v]
    if kind == "as_scalar_type":
        return _dtype(v, path)
    if kind == "as_device" and isinstance(v, dict):
        return torch.device("cpu")  # everything runs on the CPU
    if kind in ("as_layout", "as_memory_format"):
        table = _SERIALIZE_TO_TORCH_LAYOUT if kind == "as_layout" else _SERIALIZE_TO_TORCH_MEMORY_FORMAT
        for k, val in table.items():
            if int(k) == v:
                return val
    raise ArchiveError(f"{path}: argument kind {short(kind)} is not read by the safe .pt2 reader")


def _call_args(op: Any, inputs: Any, env: dict, path: Path) -> tuple[list, dict]:
    """Positional and keyword arguments of a node, in schema order (as torch's deserializer)."""
    if not isinstance(inputs, list):
        raise ArchiveError(f"{path}: a node's inputs are malformed")
    given = {}
    for item in inputs:
        if not (isinstance(item, dict) and isinstance(item.get("name"), str)):
            raise ArchiveError(f"{path}: a node's inputs are malformed")
        given[item["name"]] = (item.get("kind", 0), _value(item.get("arg"), env, path))
    args: list = []
    kwargs: dict = {}
    for a in op._schema.arguments:
        if a.name not in given:
            continue
        kind, value = given.pop(a.name)
        positional = kind == 1 or (kind == 0 and not a.kwarg_only and not a.has_default_value())
        if positional and not kwargs:
            args.append(value)
        else:
            kwargs[a.name] = value
    if given:
        raise ArchiveError(f"{path}: {op} has no argument {short(next(iter(given)))}")
    return args, kwargs


def _bind(outputs: Any, result: Any, env: dict, path: Path) -> None:
    """Name a node's results in ``env``."""
    if not isinstance(outputs, list):
        raise ArchiveError(f"{path}: a node's outputs are malformed")
    if len(outputs) == 1 and not isinstance(result, (tuple, list)):
        result = [result]
    elif len(outputs) == 1 and "as_tensors" in outputs[0]:
        outputs = [{"as_tensor": t} for t in outputs[0]["as_tensors"]]
    for out, value in zip(outputs, result):
        if not isinstance(out, dict) or len(out) != 1:
            raise ArchiveError(f"{path}: a node's outputs are malformed")
        kind, v = next(iter(out.items()))
        if kind == "as_tensor" and isinstance(v, dict) and isinstance(v.get("name"), str):
            env[v["name"]] = value
        elif kind in ("as_sym_int", "as_sym_float", "as_sym_bool") and isinstance(v, dict) \
                and isinstance(v.get("as_name"), str):
            env[v["as_name"]] = value
        elif kind != "as_none":
            raise ArchiveError(f"{path}: output kind {short(kind)} is not read by the safe .pt2 reader")


def node_macs(op: Any, args: list, kwargs: dict) -> int:
    """An upper estimate of the MACs a MAC node will run, from its operand shapes (0 for
    other nodes): convolutions (stride taken into account), linear and the matmul family,
    and attention."""
    import torch

    name = op._schema.name.split("::")[-1]
    named = {a.name: v for a, v in zip(op._schema.arguments, args)}
    named.update(kwargs)
    tensors = [v for v in (*args, *kwargs.values()) if isinstance(v, torch.Tensor)]
    if len(tensors) < 2:
        return 0
    a, b = tensors[0], tensors[1]
    if name.startswith(("conv", "convolution")) and a.dim() >= 3:
        stride = named.get("stride") or [1]
        step = 1
        for v in (stride if isinstance(stride, (list, tuple)) else [stride]):
            step *= max(int(v), 1)
        return int(a.numel() // max(int(a.shape[1]), 1)) * int(b.numel()) // step
    if name == "linear":
        return int(a.numel()) * int(b.shape[0])
    if name in ("mm", "addmm", "matmul", "bmm", "baddbmm", "addbmm"):
        x, y = (tensors[1], tensors[2]) if name in ("addmm", "baddbmm", "addbmm") and len(tensors) > 2 else (a, b)
        return int(x.numel()) * (int(y.shape[-1]) if y.dim() >= 2 else 1)
    if name.startswith("scaled_dot_product") and b.dim() >= 2:
        return 2 * int(a.numel()) * int(b.shape[-2])
    return 0


def module_scopes(nodes: list) -> list[tuple[tuple[str, bool], ...]]:
    """Per node, the module path stack from its ``nn_module_stack`` metadata (outermost
    first, the root left out), each path with whether it is a leaf module (no other
    node's stack holds a path below it)."""
    stacks = []
    for n in nodes:
        meta = n.get("metadata") if isinstance(n, dict) else None
        text = meta.get("nn_module_stack") if isinstance(meta, dict) else None
        paths = []
        if isinstance(text, str) and len(text) < 100_000:
            for entry in text.split(";"):
                parts = entry.split(",")
                path = ",".join(parts[1:-1]) if len(parts) >= 3 else ""
                if path and len(path) <= 1000:
                    paths.append(path)
        stacks.append(paths)
    every = {p for st in stacks for p in st}
    parents = {p.rsplit(".", i)[0] for p in every for i in range(1, p.count(".") + 1)}
    return [tuple((p, p not in parents) for p in st) for st in stacks]


def _size_text(v: Any) -> str:
    """A size for messages: the integer, or the symbol's name (``s53``), or ``?``."""
    if isinstance(v, dict) and isinstance(v.get("as_int"), int):
        return str(v["as_int"])
    expr = v.get("as_expr") if isinstance(v, dict) else None
    text = expr.get("expr_str") if isinstance(expr, dict) else expr
    m = re.search(r"Symbol\('(\w{1,20})'", text) if isinstance(text, str) else None
    return m.group(1) if m else "?"


def _input_sizes(meta: Any, what: str, path: Path, input_hw: "tuple[int, int] | None") -> list[int]:
    """The sizes of a user input; symbolic sizes take ``input_hw`` for the last two
    dimensions (and 1 for a symbolic leading batch)."""
    if not isinstance(meta, dict):
        raise ArchiveError(f"{path}: {what} has no tensor metadata")
    sizes = meta.get("sizes")
    try:
        return _ints(sizes, f"{what} sizes", path)
    except SymbolicShape:
        shown = "[" + ", ".join(_size_text(v) for v in sizes) + "]"
        if input_hw is None:
            raise SymbolicShape(f"{path}: {what} has symbolic sizes {shown} (a dynamic shape); give the input "
                                "size with --input HxW (input_hw=(H, W)) or export with static shapes") from None
        fixed = []
        for i, v in enumerate(sizes):
            if isinstance(v, dict) and isinstance(v.get("as_int"), int) and not isinstance(v["as_int"], bool):
                fixed.append(v["as_int"])
            elif i >= len(sizes) - 2:
                fixed.append(int(input_hw[i - len(sizes) + 2]))
            elif i == 0:
                fixed.append(1)
            else:
                raise ArchiveError(f"{path}: {what} has symbolic sizes {shown}; --input sets only the last two "
                                   "(height, width)") from None
        return fixed


def program(archive: Archive, input_hw: "tuple[int, int] | None" = None) -> tuple[Any, tuple]:
    """An ``nn.Module`` that runs the archived graph (parameters registered, so the importer
    counts them) and the user inputs built from the graph's tensor metadata (symbolic
    spatial sizes from ``input_hw``). Every shape is bounded before it is allocated, the
    run is bounded in nodes and time, and each node's result in elements. The module's
    ``scope`` attribute, if set, is called with each node's module path stack."""
    import time

    import torch

    path, graph, sig = archive.path, archive.graph, archive.signature
    nodes = graph.get("nodes")
    if not isinstance(nodes, list) or len(nodes) > MAX_NODES:
        raise ArchiveError(f"{path}: the graph's node list is missing or has over {MAX_NODES:,} nodes")
    calls = [(_check_op(n.get("target") if isinstance(n, dict) else None, path), n) for n in nodes]
    scopes = module_scopes(nodes)
    metas = graph.get("tensor_values") if isinstance(graph.get("tensor_values"), dict) else {}
    specs = sig.get("input_specs")
    if not isinstance(specs, list):
        raise ArchiveError(f"{path}: the graph signature is malformed")
    lifted: list[tuple[str, str, Any]] = []  # graph input kind, name, tensor
    users: list[tuple[str, Any]] = []   # graph input name -> user input tensor
    gen = torch.Generator().manual_seed(0)
    for spec in specs:
        kind, body = next(iter(spec.items())) if isinstance(spec, dict) and len(spec) == 1 else (None, None)
        if not isinstance(body, dict):
            raise ArchiveError(f"{path}: the graph signature is malformed")
        arg = body.get("arg", {})
        name = arg.get("name") if kind != "user_input" else arg.get("as_tensor", {}).get("name")
        if kind in ("parameter", "buffer", "tensor_constant"):
            fqn = body.get({"parameter": "parameter_name", "buffer": "buffer_name",
                            "tensor_constant": "tensor_constant_name"}[kind])
            store = archive.constants if kind == "tensor_constant" else archive.weights
            if fqn not in store:
                raise ArchiveError(f"{path}: {kind} {short(fqn)} has no stored data")
            lifted.append((kind, name, store[fqn]))
        elif kind == "user_input" and isinstance(name, str):
            what = f"input {short(name)}"
            sizes = _input_sizes(metas.get(name), what, path, input_hw)
            if any(v < 0 for v in sizes):
                raise ArchiveError(f"{path}: {what} has a negative size")
            _bound(sizes, what, path)
            dtype = _dtype(metas[name].get("dtype"), path)
            if dtype.is_floating_point or dtype.is_complex:
                t = torch.randn(sizes, generator=gen).to(dtype)
            else:
                t = torch.ones(sizes, dtype=dtype)
            users.append((name, t))
        else:
            raise ArchiveError(f"{path}: graph input kind {short(kind)} is not read by the safe .pt2 reader "
                               "(only parameters, buffers, tensor constants and tensor user inputs)")
    if not users:
        raise ArchiveError(f"{path}: the graph has no tensor input")
    if sum(t.numel() for _, t in users) > MAX_ELEMENTS:
        raise ArchiveError(f"{path}: the inputs hold over {MAX_ELEMENTS:,} elements in all")

    class ArchivedProgram(torch.nn.Module):
        """The archived graph, run node by node (every node an ATen operator)."""

        def __init__(self) -> None:
            super().__init__()
            self._names = []
            self.scope = None
            for i, (kind, name, t) in enumerate(lifted):
                attr = f"w{i}"
                if kind == "parameter":
                    self.register_parameter(attr, torch.nn.Parameter(t, requires_grad=False))
                else:
                    self.register_buffer(attr, t)
                self._names.append((name, attr))

        def forward(self, *inputs: Any) -> Any:
            env = {name: getattr(self, attr) for name, attr in self._names}
            env.update({name: t for (name, _), t in zip(users, inputs)})
            start = time.monotonic()
            for i, (((target, op), node), scope) in enumerate(zip(calls, scopes)):
                if time.monotonic() - start > MAX_RUN_S:
                    raise ArchiveError(f"{path}: the graph ran for over {MAX_RUN_S:.0f} s (stopped at node {i} "
                                       f"of {len(calls)}); it is not read further")
                if self.scope is not None:
                    self.scope(scope)
                args, kwargs = _call_args(op, node.get("inputs"), env, path)
                macs = node_macs(op, args, kwargs)
                if macs > MAX_NODE_MACS:
                    raise ArchiveError(f"{path}: node {i} ({target.removeprefix('torch.ops.')}) would run about "
                                       f"{macs:.3g} MACs; at most {MAX_NODE_MACS:.3g} per node are run")
                try:
                    result = op(*args, **kwargs)
                except Exception as exc:  # any failure of the op on these inputs
                    raise ArchiveError(f"{path}: node {i} ({target.removeprefix('torch.ops.')}) failed: "
                                       f"{type(exc).__name__}: {describe(exc)}") from None
                for t in (result if isinstance(result, (tuple, list)) else (result,)):
                    if isinstance(t, torch.Tensor) and t.numel() > MAX_ELEMENTS:
                        raise ArchiveError(f"{path}: node {i} ({target.removeprefix('torch.ops.')}) makes "
                                           f"{t.numel():,} elements; at most {MAX_ELEMENTS:,} are allocated")
                _bind(node.get("outputs"), result, env, path)
            if self.scope is not None:
                self.scope(())
            return None

    return ArchivedProgram(), tuple(t for _, t in users)
