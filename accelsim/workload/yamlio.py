"""Layer-list YAML: store any workload (extracted or imported) and load it back.

A layer-list file has the top-level keys ``name``, ``family``, ``variant``, ``input``
(``HxW``), ``classes``, ``dataset``, ``exec_path``, optional ``meta`` (a mapping of
strings) and ``layers``: one mapping per layer in topological order holding ``name``,
``op`` and every field of :class:`~accelsim.workload.ir.Layer` that differs from its
default (``inputs`` as a list of producer names, ``tags`` as a mapping, ``shares`` as
the name of the earlier layer whose weights a repeated call reuses). Loading validates
every field and names the file, the layer and the field in its error.
"""

from __future__ import annotations

import dataclasses
import numbers
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..errors import WorkloadError
from ..safeio import check_output, clip, short, write_text
from .ir import Layer, Op, Workload, build_graph
from .catalog import MAX_CLASSES, parse_size

#: Layer fields and their defaults (name/op/k/c have none and are always written).
_FIELDS = {f.name: f for f in dataclasses.fields(Layer)}
_INT_FIELDS = tuple(n for n, f in _FIELDS.items() if f.type in ("int", int))
_BOOL_FIELDS = tuple(n for n, f in _FIELDS.items() if f.type in ("bool", bool))
_TOP_KEYS = ("name", "family", "variant", "input", "classes", "dataset", "exec_path", "meta",
             "layers")


def _default(name: str) -> Any:
    f = _FIELDS[name]
    return f.default if f.default is not dataclasses.MISSING else None


def _plain(value: Any) -> Any:
    """YAML-safe scalar: numpy integers and enums become plain Python values."""
    if isinstance(value, Op):
        return value.value
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    return value


def layer_to_dict(layer: Layer) -> dict[str, Any]:
    """``name``, ``op``, ``k``, ``c`` plus the fields that differ from their defaults."""
    out: dict[str, Any] = {"name": layer.name, "op": layer.op.value, "k": int(layer.k),
                           "c": int(layer.c)}
    for fname in _FIELDS:
        if fname in out:
            continue
        value = getattr(layer, fname)
        if fname == "inputs":
            if value:
                out["inputs"] = list(value)
        elif fname == "tags":
            if value:
                out["tags"] = dict(value)
        elif value != _default(fname):
            out[fname] = _plain(value)
    return out


def workload_to_dict(wl: Workload) -> dict[str, Any]:
    """A plain dict (YAML-ready) holding the workload's metadata and its layer list."""
    data: dict[str, Any] = {
        "name": wl.name, "family": wl.family, "variant": wl.variant,
        "input": f"{wl.input_size[0]}x{wl.input_size[1]}", "classes": wl.num_classes,
        "dataset": wl.dataset, "exec_path": wl.exec_path,
    }
    if wl.meta:
        data["meta"] = dict(wl.meta)
    data["layers"] = [layer_to_dict(layer) for layer in wl.layers]
    return data


def save_workload_yaml(wl: Workload, path: "str | Path") -> Path:
    """Write ``wl`` as a layer-list YAML at ``path`` (parent folders created); returns the path."""
    path = Path(path)
    real = check_output(path, "layer-list YAML")
    text = yaml.safe_dump(workload_to_dict(wl), sort_keys=False, default_flow_style=None, width=100)
    write_text(real, text, "layer-list YAML")
    return path


def _layer_from_dict(item: Any, idx: int, source: str) -> Layer:
    where = f"{source}: layers[{idx}]"
    if not isinstance(item, Mapping):
        raise WorkloadError(f"{where}: expected a mapping with name, op, k, c")
    if "name" in item:
        where = f"{where} ({clip(item['name'], 60)})"
    unknown = sorted(set(item) - set(_FIELDS))
    if unknown:
        raise WorkloadError(f"{where}: unknown field(s) {clip(', '.join(map(str, unknown)))}; "
                            f"allowed: {', '.join(_FIELDS)}")
    for req in ("name", "op", "k", "c"):
        if req not in item:
            raise WorkloadError(f"{where}: field '{req}' is missing")
    kw: dict[str, Any] = {"name": str(item["name"])}
    ops = [o.value for o in Op]
    if str(item["op"]) not in ops:
        raise WorkloadError(f"{where}: field 'op' is {short(item['op'])}; allowed: {', '.join(ops)}")
    kw["op"] = Op(str(item["op"]))
    for fname, value in item.items():
        if fname in ("name", "op"):
            continue
        if fname in _INT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise WorkloadError(f"{where}: field '{fname}' must be an integer, got {short(value)}")
            kw[fname] = value  # ranges: Layer checks them against FIELD_LIMITS
        elif fname in _BOOL_FIELDS:
            if not isinstance(value, bool):
                raise WorkloadError(f"{where}: field '{fname}' must be true or false, got {short(value)}")
            kw[fname] = value
        elif fname == "inputs":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, (list, tuple)):
                raise WorkloadError(f"{where}: field 'inputs' must be a list of layer names")
            kw["inputs"] = tuple(str(v) for v in value)
        elif fname == "tags":
            if not isinstance(value, Mapping):
                raise WorkloadError(f"{where}: field 'tags' must be a mapping such as "
                                    "{part: encoder, stage: '0'}")
            kw["tags"] = tuple(sorted((str(k), str(v)) for k, v in value.items()))
        else:  # fn, shares (validated against the earlier layers by Workload)
            kw[fname] = "" if value is None else str(value)
    try:
        return Layer(**kw)
    except ValueError as exc:
        msg = str(exc).removeprefix(f"layer {kw['name']!r}: ")
        raise WorkloadError(f"{where}: {msg}") from None


def workload_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> Workload:
    """Validate a layer-list mapping and build the :class:`Workload`.

    ``source`` (usually the file path) starts every error message. Raises
    :class:`~accelsim.errors.WorkloadError` naming the field at fault.
    """
    if not isinstance(data, Mapping):
        raise WorkloadError(f"{source}: expected a mapping with a 'layers' list")
    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        raise WorkloadError(f"{source}: unknown key(s) {clip(', '.join(map(str, unknown)))}; "
                            f"allowed: {', '.join(_TOP_KEYS)}")
    items = data.get("layers")
    if not isinstance(items, list) or not items:
        raise WorkloadError(f"{source}: field 'layers' must be a non-empty list of layers")
    try:
        size = parse_size(data.get("input")) or (1, 1)
    except WorkloadError as exc:
        raise WorkloadError(f"{source}: field 'input': {exc}") from None
    classes = data.get("classes", 0)
    if classes is None:
        classes = 0
    if isinstance(classes, bool) or not isinstance(classes, int) or not 0 <= classes <= MAX_CLASSES:
        raise WorkloadError(f"{source}: field 'classes' must be an integer in 0..{MAX_CLASSES}, "
                            f"got {short(classes)}")
    meta = data.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise WorkloadError(f"{source}: field 'meta' must be a mapping")
    layers = tuple(_layer_from_dict(item, i, source) for i, item in enumerate(items))
    try:
        build_graph(layers)
        return Workload(
            name=str(data.get("name") or Path(source).stem), family=str(data.get("family") or ""),
            variant=str(data.get("variant") or ""), input_size=size, num_classes=classes,
            layers=layers, dataset=str(data.get("dataset") or ""),
            exec_path=str(data.get("exec_path") or ""), meta=meta)
    except ValueError as exc:
        raise WorkloadError(f"{source}: {exc}") from None

