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

#: largest archive read (bytes)
MAX_ARCHIVE_BYTES = 16 * 1024**3
#: most entries in the zip directory
MAX_ENTRIES = 1_000_000
#: largest graph or payload-config JSON (bytes)
MAX_JSON_BYTES = 512 * 1024**2
#: most graph nodes
MAX_NODES = 1_000_000
_OP = re.compile(r"^torch\.ops\.aten\.([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")
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
        buf = bytearray(info.file_size)
        try:
            with self.zf.open(info) as fh:
                n = fh.readinto(buf)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
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
        try:
            doc = json.loads(self.raw(name, MAX_JSON_BYTES))
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


def _ints(values: Any, what: str, path: Path) -> list[int]:
    """Concrete sizes/strides (``[{"as_int": n}, ...]``); symbolic ones are refused."""
    if not isinstance(values, list):
        raise ArchiveError(f"{path}: {what} is malformed")
    out = []
    for v in values:
        if not (isinstance(v, dict) and isinstance(v.get("as_int"), int)):
            raise ArchiveError(f"{path}: {what} is symbolic (a dynamic shape); export with static shapes")
        out.append(v["as_int"])
    return out


def _meta_shape(meta: Any, what: str, path: Path) -> tuple[list[int], list[int], int, Any]:
    if not isinstance(meta, dict):
        raise ArchiveError(f"{path}: {what} has no tensor metadata")
    sizes = _ints(meta.get("sizes"), f"{what} sizes", path)
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
        if name not in storages:
            raw = reader.raw(f"data/{kind}/{name}", MAX_ARCHIVE_BYTES)
            size = torch.empty((), dtype=dtype).element_size()
            if len(raw) % size:
                raise ArchiveError(f"{path}: data/{kind}/{name} holds {len(raw)} bytes, not whole "
                                   f"{dtype} elements")
            storages[name] = torch.frombuffer(raw, dtype=dtype) if raw else torch.zeros(0, dtype=dtype)
        flat = storages[name]
        if flat.numel() == 0 or any(s == 0 for s in sizes):  # an empty record stands for zeros
            out[fqn] = torch.zeros(sizes, dtype=dtype)
            continue
        end = offset + sum((s - 1) * st for s, st in zip(sizes, strides)) + 1
        if end > flat.numel():
            raise ArchiveError(f"{path}: {kind[:-1]} {short(fqn)} reaches past its data")
        out[fqn] = torch.as_strided(flat, sizes, strides, offset)
    return out


# ------------------------------------------------------------------ running
def _check_op(target: Any, path: Path) -> tuple[str, Any]:
    """The ATen operator a node calls, looked up by name; anything else is refused."""
    import torch

    m = _OP.match(target) if isinstance(target, str) else None
    if m is None:
        raise ArchiveError(f"{path}: node target {short(target)} is not an ATen operator; only "
                           "torch.ops.aten.* calls are read")
    if m.group(1) in _DENIED_OPS:
        raise ArchiveError(f"{path}: node target {target} reads or writes files; it is not run")
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


def program(archive: Archive) -> tuple[Any, tuple]:
    """An ``nn.Module`` that runs the archived graph (parameters registered, so the importer
    counts them) and the user inputs built from the graph's tensor metadata."""
    import torch

    path, graph, sig = archive.path, archive.graph, archive.signature
    nodes = graph.get("nodes")
    if not isinstance(nodes, list) or len(nodes) > MAX_NODES:
        raise ArchiveError(f"{path}: the graph's node list is missing or has over {MAX_NODES:,} nodes")
    calls = [(_check_op(n.get("target") if isinstance(n, dict) else None, path)[1], n) for n in nodes]
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
            sizes, _, _, dtype = _meta_shape(metas.get(name), f"input {short(name)}", path)
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

    class ArchivedProgram(torch.nn.Module):
        """The archived graph, run node by node (every node an ATen operator)."""

        def __init__(self) -> None:
            super().__init__()
            self._names = []
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
            for op, node in calls:
                args, kwargs = _call_args(op, node.get("inputs"), env, path)
                _bind(node.get("outputs"), op(*args, **kwargs), env, path)
            return None

    return ArchivedProgram(), tuple(t for _, t in users)
