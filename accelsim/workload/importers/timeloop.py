"""Timeloop problem YAMLs -> layer list: one CNN-layer problem per file, or a folder of them.

The CNN-layer problem (Timeloop's ``cnn-layer`` shape, also named ``CNN_Layer`` or
``conv2D``) has the dimensions C, M (K in older files), R, S, N, P, Q and optionally G,
and the coefficients Wstride/Hstride and Wdilation/Hdilation. Three spellings are read:

- v0.3/v0.4: ``problem: {version: 0.4, instance: {C: 64, M: 64, ...}, shape: {...}}``;
- older files: the instance keys directly under ``problem`` beside ``shape``;
- timeloopfe templates as in the Timeloop/Accelergy exercises: a line
  ``{{include_text('../problem_base.yaml')}}`` (the file's text is pasted in) and the
  recursive merge key ``<<<: *problem_base``. Other Jinja constructs are refused: render
  such files with timeloopfe first.

Dimensions left out are 1 (Timeloop's default). The mapping onto :class:`Layer` follows
the instance names: R x S kernel, P x Q outputs, C input and M output channels per group,
G groups (G > 1 with C = M = 1 is a depthwise conv), N images. As in Timeloop's
projection, the input is (P-1)*stride + (R-1)*dilation + 1 rows (padding included); the
timeloopfe keys H, W, Hpad and Wpad, which that projection does not use, are accepted and
not used. accelsim layers have one stride and dilation for both axes, so the H and W
coefficients must agree. A dilation d > 1 is executed as its effective kernel
(R-1)*d+1 (the datapath walks every tap of the dilated window; MACs count those taps),
listed in the workload's ``meta["dilated"]``. Bad files get one
:class:`~accelsim.errors.WorkloadError` line naming the file, the field and what is
allowed.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, Mapping


from ...errors import WorkloadError
from ...safeio import YAML_MAX_BYTES, exists, parse_yaml, read_text
from ..ir import Layer, Op, Workload
from .common import LayerSink

#: instance keys of the CNN-layer problem: dimensions, coefficients (any case), input sizes
DIMS = ("N", "C", "M", "K", "R", "S", "P", "Q", "G")
COEFFS = ("Hstride", "Wstride", "Hdilation", "Wdilation", "Hpad", "Wpad")
SIZES = ("H", "W")
#: dimensions a CNN-layer shape may declare
SHAPE_DIMS = frozenset({"N", "C", "M", "K", "R", "S", "P", "Q", "G"})
_INCLUDE = re.compile(r"""^\s*\{\{\s*include_text\(\s*(['"])(?P<path>[^'"]+)\1\s*\)\s*\}\}\s*$""")
_MERGE = "__timeloopfe_merge__"


def natural_key(path: Path) -> list:
    """Sort key that orders ``layer2`` before ``layer10``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def _render(path: Path, depth: int = 0) -> str:
    """The file's text with ``{{include_text('...')}}`` lines replaced by the named files."""
    if not exists(path):
        raise WorkloadError(f"{path}: file not found")
    text = read_text(path, YAML_MAX_BYTES, "Timeloop problem file")  # bounded; errors name the file
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        m = _INCLUDE.match(line)
        if m:
            if depth >= 8:
                raise WorkloadError(f"{path}: line {n}: include_text nested more than 8 deep")
            out.append(_render(path.parent / m.group("path"), depth + 1))
        elif "{{" in line or "{%" in line:
            raise WorkloadError(f"{path}: line {n}: Jinja template {line.strip()!r}: only "
                                "{{include_text('FILE')}} lines are understood; render the file "
                                "with timeloopfe first")
        else:
            out.append(re.sub(r"^(\s*)<<<(\s*):", rf"\1{_MERGE}\2:", line))
    return "\n".join(out)


def _deep_merge(base: Any, over: Any) -> Any:
    """``over`` merged into ``base`` recursively; a key of ``over`` replaces a key of
    ``base`` spelled in another case (the exercises' layer files write ``HStride`` over
    their base's ``Hstride``)."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for k, v in over.items():
            same = next((b for b in merged if str(b).lower() == str(k).lower()), None)
            old = merged.pop(same) if same is not None else None
            merged[k] = _deep_merge(old, v) if same is not None else v
        return merged
    return over


def _resolve_merges(node: Any) -> Any:
    """Apply timeloopfe's ``<<<`` recursive merge (the local keys win)."""
    if isinstance(node, list):
        return [_resolve_merges(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _resolve_merges(v) for k, v in node.items()}
    if _MERGE in node:
        bases = node.pop(_MERGE)
        merged: Any = {}
        for base in bases if isinstance(bases, list) else [bases]:
            merged = _deep_merge(merged, base)
        node = _deep_merge(merged, node)
    return node


def read_problem(path: "str | Path") -> dict[str, Any]:
    """The ``problem`` mapping of a Timeloop problem file (templates resolved)."""
    path = Path(path)
    data = parse_yaml(_render(path), str(path))  # libyaml within the limits of every input file
    data = _resolve_merges(copy.deepcopy(data))
    if isinstance(data, dict) and "layers" in data and "problem" not in data:
        raise WorkloadError(f"{path}: this is an accelsim layer list, not a Timeloop problem: "
                            "load it directly (accelsim simulate -w FILE)")
    if not isinstance(data, dict) or not isinstance(data.get("problem"), dict):
        raise WorkloadError(f"{path}: field 'problem' is missing: a Timeloop problem file has "
                            "problem: {instance: {C: ..., M: ..., P: ..., ...}}")
    return data["problem"]


def _instance(problem: Mapping[str, Any], source: str) -> tuple[dict[str, Any], str]:
    """(the instance mapping, the field prefix used in messages)."""
    shape = problem.get("shape")
    if isinstance(shape, str):  # a built-in shape by name, e.g. shape: cnn-layer
        if shape.lower().replace("-", "").replace("_", "") not in ("cnnlayer", "conv2d"):
            raise WorkloadError(f"{source}: field 'problem.shape' is {shape!r}; allowed: the "
                                "CNN-layer problem (cnn-layer, CNN_Layer, conv2D)")
    elif shape is not None:
        dims = shape.get("dimensions") if isinstance(shape, dict) else None
        if not isinstance(dims, list) or not set(map(str, dims)) <= SHAPE_DIMS:
            name = shape.get("name", "?") if isinstance(shape, dict) else shape
            raise WorkloadError(f"{source}: field 'problem.shape': shape {name!r} with dimensions "
                                f"{dims} is not a CNN-layer problem; allowed dimensions: "
                                f"{', '.join(sorted(SHAPE_DIMS))}")
    if "instance" in problem:
        inst = problem["instance"]
        if not isinstance(inst, dict):
            raise WorkloadError(f"{source}: field 'problem.instance' must be a mapping such as "
                                "{C: 64, M: 64, P: 56, Q: 56, R: 3, S: 3}")
        return dict(inst), "problem.instance"
    inst = {k: v for k, v in problem.items() if k not in ("shape", "version")}
    if not inst:  # neither an instance nor the older form's keys: nothing says the layer's size
        raise WorkloadError(f"{source}: field 'problem.instance' is missing: give the layer's sizes, "
                            "e.g. instance: {C: 64, M: 64, P: 56, Q: 56, R: 3, S: 3}")
    return inst, "problem"


def _canonical(key: Any) -> str | None:
    """The instance key ``key`` stands for: dimensions and sizes exactly, coefficients in
    any case (``HStride`` is ``Hstride``); ``None`` for anything else."""
    k = str(key)
    if k in DIMS or k in SIZES:
        return k
    return next((c for c in COEFFS if c.lower() == k.lower()), None)


def problem_layer(problem: Mapping[str, Any], name: str, source: str) -> tuple[Layer, str]:
    """The :class:`Layer` of one CNN-layer problem, and a note when it is dilated."""
    inst, where = _instance(problem, source)
    vals: dict[str, int] = {}
    for key, value in inst.items():
        std = _canonical(key)
        if std is None:
            raise WorkloadError(f"{source}: field '{where}.{key}' is not a CNN-layer instance key; "
                                f"allowed: {', '.join((*DIMS, *COEFFS, *SIZES))}")
        least = 0 if std.endswith("pad") else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise WorkloadError(f"{source}: field '{where}.{key}' must be an integer >= {least}, "
                                f"got {value!r}")
        if vals.get(std, value) != value:
            raise WorkloadError(f"{source}: field '{where}.{key}' repeats {std} with another value "
                                f"({vals[std]} and {value})")
        vals[std] = value
    if "M" in vals and "K" in vals:
        raise WorkloadError(f"{source}: fields '{where}.M' and '{where}.K' both give the output "
                            "channels; keep one (M in Timeloop v0.3+, K in older files)")
    for a, b in (("Hstride", "Wstride"), ("Hdilation", "Wdilation")):
        va, vb = vals.get(a, 1), vals.get(b, 1)
        if va != vb:
            raise WorkloadError(f"{source}: fields '{where}.{a}'={va} and '{where}.{b}'={vb} "
                                "differ; accelsim layers have one value for both axes")
    n, c, g = vals.get("N", 1), vals.get("C", 1), vals.get("G", 1)
    m = vals.get("M", vals.get("K", 1))
    stride, dil = vals.get("Hstride", 1), vals.get("Hdilation", 1)
    r, s = vals.get("R", 1), vals.get("S", 1)
    note = ""
    if dil > 1:
        r, s = (r - 1) * dil + 1, (s - 1) * dil + 1
        note = f"{name}: {vals.get('R', 1)}x{vals.get('S', 1)} dilation {dil} -> {r}x{s} effective kernel"
    op = Op.DWCONV2D if g > 1 and c == 1 and m == 1 else Op.CONV2D
    # the input is the projection's (P-1)*stride + (R-1)*dilation + 1 rows, padding included
    layer = Layer(name, op, k=m * g, c=c * g, p=vals.get("P", 1), q=vals.get("Q", 1), r=r, s=s,
                  stride=stride, groups=g, n=n)
    return layer, note


def from_timeloop(path: "str | Path", name: str | None = None) -> Workload:
    """A :class:`Workload` from one Timeloop problem file or a folder of them (``*.yaml``,
    ``*.yml``, in natural name order; each layer is named after its file)."""
    path = Path(path)
    if path.is_dir():
        files = sorted((p for p in path.iterdir() if p.suffix in (".yaml", ".yml")), key=natural_key)
        if not files:
            raise WorkloadError(f"{path}: no Timeloop problem files (*.yaml, *.yml) in the folder")
    elif path.is_file():
        files = [path]
    else:
        raise WorkloadError(f"{path}: file or folder not found")
    sink = LayerSink()
    dilated = []
    for f in files:
        layer, note = problem_layer(read_problem(f), f.stem, str(f))
        sink.add(layer)
        if note:
            dilated.append(note)
    first = sink.layers[0]
    meta = {"source": str(path), "format": "timeloop problem", "files": str(len(files))}
    if dilated:
        meta["dilated"] = "; ".join(dilated)
    return Workload(name=name or path.stem, family="imported", variant="timeloop",
                    input_size=first.input_hw, num_classes=0, layers=tuple(sink.layers), meta=meta)
