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
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping


from ...errors import WorkloadError
from ...safeio import YAML_MAX_BYTES, clip, exists, parse_yaml, read_text, short
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


#: most ``include_text`` pastes in one problem file, all levels together
MAX_INCLUDES = 64
#: most bytes pasted by ``include_text`` into one problem file, all levels together
MAX_INCLUDED_BYTES = 8 * 1024**2
#: deepest ``include_text`` nesting
MAX_INCLUDE_DEPTH = 8


@dataclass
class _Includes:
    """What ``include_text`` may read while one problem file is rendered: files under
    ``root`` only, at most :data:`MAX_INCLUDES` pastes and :data:`MAX_INCLUDED_BYTES`."""

    root: Path
    count: int = 0
    size: int = 0


def default_include_root(path: Path) -> Path:
    """Where the includes of the problem file or folder ``path`` may be: the folder that
    holds the problem files and the one above it (the Timeloop/Accelergy exercises keep
    ``problem_base.yaml`` one level above their layer files), never the file system root."""
    folder = Path(os.path.realpath(path if path.is_dir() else path.parent))
    return folder.parent if folder.parent != folder.parent.parent else folder


def _inside(path: Path, root: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(root)
        return True
    except ValueError:
        return False


def _render(path: Path, inc: _Includes | None = None, depth: int = 0) -> str:
    """The file's text with ``{{include_text('...')}}`` lines replaced by the named files."""
    if inc is None:
        inc = _Includes(Path(os.path.realpath(default_include_root(path))))
    if not exists(path):
        raise WorkloadError(f"{path}: file not found")
    text = read_text(path, YAML_MAX_BYTES, "Timeloop problem file")  # bounded; errors name the file
    if depth:
        inc.size += len(text)
        if inc.size > MAX_INCLUDED_BYTES:
            raise WorkloadError(f"{path}: include_text pastes more than {MAX_INCLUDED_BYTES:,} bytes in all")
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        m = _INCLUDE.match(line)
        if m:
            if depth >= MAX_INCLUDE_DEPTH:
                raise WorkloadError(f"{path}: line {n}: include_text nested more than {MAX_INCLUDE_DEPTH} deep")
            inc.count += 1
            if inc.count > MAX_INCLUDES:
                raise WorkloadError(f"{path}: line {n}: more than {MAX_INCLUDES} include_text pastes in all")
            target = path.parent / m.group("path")
            if not _inside(target, inc.root):
                raise WorkloadError(f"{path}: line {n}: include_text({clip(m.group('path'), 80)!r}) is outside "
                                    f"{inc.root}; pass --include-root (include_root=) to allow another folder")
            out.append(_render(target, inc, depth + 1))
        elif "{{" in line or "{%" in line:
            fmt = sniff_template(text)
            if fmt:
                raise WorkloadError(fmt.format(path=path))
            raise WorkloadError(f"{path}: line {n}: Jinja template {clip(line.strip(), 60)!r}: only "
                                "{{include_text('FILE')}} lines are understood; render the file "
                                "with timeloopfe first")
        else:
            out.append(re.sub(r"^(\s*)<<<(\s*):", rf"\1{_MERGE}\2:", line))
    return "\n".join(out)


_ACCELFORGE = re.compile(r"^\s*-?\s*(einsums|tensor_accesses|rank_sizes|iteration_space_shape)\s*:", re.M)
ACCELFORGE_REFUSAL = ("{path}: this is an AccelForge workload (einsums with tensor_accesses{jinja}); "
                      "it is not supported: no template code is run; write the layers as a Timeloop "
                      "problem, ZigZag workload YAML or an accelsim layer list")


def sniff_template(text: str) -> str:
    """The refusal for an AccelForge/einsum-style workload (``{path}`` left to fill), or ''."""
    keys = set(m.group(1) for m in _ACCELFORGE.finditer(text))
    if "einsums" in keys and keys & {"tensor_accesses", "rank_sizes", "iteration_space_shape"}:
        jinja = ", Jinja templates" if "{{" in text or "{%" in text else ""
        return ACCELFORGE_REFUSAL.replace("{jinja}", jinja)
    return ""


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


def read_problem(path: "str | Path", include_root: "str | Path | None" = None) -> dict[str, Any]:
    """The ``problem`` mapping of a Timeloop problem file (templates resolved; includes only
    under ``include_root``, by default :func:`default_include_root`)."""
    path = Path(path)
    root = Path(os.path.realpath(include_root if include_root is not None else default_include_root(path)))
    data = parse_yaml(_render(path, _Includes(root)), str(path))  # libyaml within the limits of every input file
    data = _resolve_merges(copy.deepcopy(data))
    if isinstance(data, dict) and "layers" in data and "problem" not in data:
        raise WorkloadError(f"{path}: this is an accelsim layer list, not a Timeloop problem: "
                            "load it directly (accelsim simulate -w FILE)")
    if isinstance(data, dict) and isinstance(data.get("workload"), dict) and "einsums" in data["workload"]:
        raise WorkloadError(ACCELFORGE_REFUSAL.format(path=path, jinja=""))
    if not isinstance(data, dict) or not isinstance(data.get("problem"), dict):
        raise WorkloadError(f"{path}: field 'problem' is missing: a Timeloop problem file has "
                            "problem: {instance: {C: ..., M: ..., P: ..., ...}}")
    return data["problem"]


def _instance(problem: Mapping[str, Any], source: str) -> tuple[dict[str, Any], str]:
    """(the instance mapping, the field prefix used in messages)."""
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


#: the plain GEMM Z[m, n] += A[m, k] * B[k, n] (a dot product has no N)
GEMM_SPACES = (("M", "K"), ("K", "N"), ("M", "N"))
_GEMM_TEXT = "a plain GEMM (Z[m,n] += A[m,k]*B[k,n]: dimensions M, N, K)"
_CNN_TEXT = f"a CNN-layer problem (dimensions {', '.join(sorted(SHAPE_DIMS))})"


def _plain_spaces(spaces: Any) -> list[tuple[str, ...]] | None:
    """The dimensions each data space indexes, inputs first and the output last, when every
    projection is one dimension per tensor axis (no sums such as P + R, no coefficients);
    else None."""
    if not isinstance(spaces, list) or len(spaces) != 3:
        return None
    out, ins = None, []
    for space in spaces:
        proj = space.get("projection") if isinstance(space, dict) else None
        if not isinstance(proj, list):
            return None
        dims = []
        for axis in proj:
            while isinstance(axis, list) and len(axis) == 1:
                axis = axis[0]
            if not isinstance(axis, str):
                return None
            dims.append(axis.upper())
        if space.get("read_write") or space.get("read-write"):
            out = tuple(dims)
        else:
            ins.append(tuple(dims))
    if out is None:
        out = ins.pop()
    return [*ins, out] if len(ins) == 2 else None


def _shape(problem: Mapping[str, Any], keys: set[str], source: str) -> tuple[str, Any]:
    """("cnn", None) or ("gemm", (A dims, B dims, Z dims)) for the problem's shape; any other
    shape is refused with the dimensions it names."""
    shape = problem.get("shape")
    conv_keys = {"C", "R", "S", "P", "Q", "G"}
    if isinstance(shape, str):  # a built-in shape by name, e.g. shape: cnn-layer
        key = shape.lower().replace("-", "").replace("_", "")
        if key in ("cnnlayer", "conv2d"):
            return "cnn", None
        if key in ("gemm", "matmul", "mm", "dotproduct") and not keys & conv_keys:
            return "gemm", GEMM_SPACES
        raise WorkloadError(f"{source}: field 'problem.shape' is {short(shape)}; allowed: the "
                            "CNN-layer problem (cnn-layer, CNN_Layer, conv2D) or a plain GEMM (gemm)")
    if shape is None:
        dims = keys & SHAPE_DIMS
        if {"M", "K"} <= dims and not dims & conv_keys:
            return "gemm", GEMM_SPACES
        return "cnn", None
    raw = shape.get("dimensions") if isinstance(shape, dict) else None
    dims = [str(d) for d in raw] if isinstance(raw, list) else []
    name = shape.get("name", "?") if isinstance(shape, dict) else shape
    spaces = _plain_spaces(shape.get("data_spaces") or shape.get("data-spaces")) if isinstance(shape, dict) \
        else None
    if spaces is not None and set(d for sp in spaces for d in sp) <= set(dims) and not set(dims) & conv_keys:
        return "gemm", spaces
    if dims and set(dims) <= SHAPE_DIMS and not ({"M", "K"} <= set(dims) and not set(dims) & conv_keys):
        return "cnn", None
    if dims and set(dims) <= {"M", "N", "K"} and {"M", "K"} <= set(dims):
        return "gemm", GEMM_SPACES
    raise WorkloadError(f"{source}: field 'problem.shape': shape {short(name)} with dimensions "
                        f"{short(raw)} is not {_CNN_TEXT} nor {_GEMM_TEXT}; not supported")


def _gemm_layer(name: str, vals: Mapping[str, int], spaces: Any, source: str) -> Layer:
    """A plain GEMM problem as a ``matmul``: K the reduction, M rows, N columns, dimensions
    indexed by all three tensors a batch."""
    a, b, z = (set(sp) for sp in spaces)
    unknown = sorted(set(vals) - (a | b | z) - set(SIZES) - {c for c in COEFFS})
    odd = sorted((a ^ b) - z) + sorted(z - a - b)
    if unknown or odd:
        raise WorkloadError(f"{source}: problem with dimensions {', '.join(sorted(a | b | z | set(unknown)))} "
                            f"is not {_GEMM_TEXT} ({', '.join(unknown + odd)} fit no GEMM role)")

    def size(dims: set[str]) -> int:
        out = 1
        for d in dims:
            out *= vals.get(d, 1)
        return out

    return Layer(name, Op.MATMUL, k=size((b & z) - a), c=size((a & b) - z), p=size((a & z) - b),
                 batch=size(a & b & z), fn="gemm")


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
    if "densities" in inst or "densities" in problem:
        dens = inst.get("densities", problem.get("densities"))
        spaces = ", ".join(map(str, dens)) if isinstance(dens, dict) else short(dens, 40)
        raise WorkloadError(f"{source}: sparse problems are not supported (densities of {spaces} in "
                            f"'{where if 'densities' in inst else 'problem'}.densities'); remove the "
                            "densities to import the dense problem")
    kind, spaces = _shape(problem, set(map(str, inst)), source)
    vals: dict[str, int] = {}
    for key, value in inst.items():
        gemm_dims = {d for sp in spaces for d in sp} if kind == "gemm" else set()
        std = str(key) if str(key) in gemm_dims else _canonical(key)
        if std is None:
            raise WorkloadError(f"{source}: field '{where}.{key}' is not a {'CNN-layer' if kind == 'cnn' else 'GEMM'} "
                                f"instance key; allowed: {', '.join((*DIMS, *COEFFS, *SIZES))}")
        least = 0 if std.endswith("pad") else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise WorkloadError(f"{source}: field '{where}.{key}' must be an integer >= {least}, "
                                f"got {short(value)}")
        if vals.get(std, value) != value:
            raise WorkloadError(f"{source}: field '{where}.{key}' repeats {std} with another value "
                                f"({vals[std]} and {value})")
        vals[std] = value
    if kind == "gemm":
        return _gemm_layer(name, vals, spaces, source), ""
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


def from_timeloop(path: "str | Path", name: str | None = None,
                  include_root: "str | Path | None" = None) -> Workload:
    """A :class:`Workload` from one Timeloop problem file or a folder of them (``*.yaml``,
    ``*.yml``, in natural name order; each layer is named after its file).

    ``include_text`` may read files under ``include_root`` only (by default the folder of
    the problem files and the one above it: :func:`default_include_root`)."""
    path = Path(path)
    root = include_root if include_root is not None else default_include_root(path)
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
        layer, note = problem_layer(read_problem(f, root), f.stem, str(f))
        sink.add(layer)
        if note:
            dilated.append(note)
    first = sink.layers[0]
    meta = {"source": str(path), "format": "timeloop problem", "files": str(len(files))}
    if dilated:
        meta["dilated"] = "; ".join(dilated)
    return Workload(name=name or path.stem, family="imported", variant="timeloop",
                    input_size=first.input_hw, num_classes=0, layers=tuple(sink.layers), meta=meta)
