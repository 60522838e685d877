"""A layer list written in the peers' formats: Timeloop v0.4 problem files and ZigZag workload YAML.

- Timeloop: one problem file per MAC layer. Convs (grouped, depthwise, dilated as their
  effective kernel) and linears are CNN-layer problems (a linear is the 1 x 1 case over
  its ``p x q`` tokens); a ``matmul`` (and a linear with a ``batch``) is a GEMM problem,
  ``Z[b,m,n] += A[b,m,k] * B[b,k,n]``. Both shapes are written out in full (dimensions,
  coefficients, data spaces and projections) so Timeloop reads them without a template.
  Timeloop models MAC layers only; the others are listed as skipped.
- ZigZag/Stream: one workload YAML with the MAC layers, max/avg pools and two-input adds
  and multiplies, with ``operand_source`` giving the graph; other layers (norms,
  activations, softmax ...) are skipped and their consumers read what they read.

Importing the export gives the same MAC layers back (``tests/test_import_export.py``):
the same shapes, strides, groups and MACs, in order (for ZigZag also the graph, pools and
adds). A linear exported to Timeloop comes back as its 1 x 1 ``conv2d``, with the same
MACs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import yaml

from ...safeio import check_folder, check_output, writing
from ..ir import Layer, Op, Workload
from .zigzag import to_zigzag

_CNN_SHAPE = {
    "name": "CNN_Layer",
    "dimensions": ["C", "M", "R", "S", "N", "P", "Q", "G"],
    "coefficients": [{"name": n, "default": 1} for n in ("Wstride", "Hstride", "Wdilation", "Hdilation")],
    "data_spaces": [
        {"name": "Weights", "projection": [[["G"]], [["C"]], [["M"]], [["R"]], [["S"]]]},
        {"name": "Inputs", "projection": [[["N"]], [["G"]], [["C"]], [["R", "Hdilation"], ["P", "Hstride"]],
                                          [["S", "Wdilation"], ["Q", "Wstride"]]]},
        {"name": "Outputs", "projection": [[["N"]], [["G"]], [["M"]], [["P"]], [["Q"]]], "read_write": True},
    ],
}
_GEMM_SHAPE = {
    "name": "GEMM",
    "dimensions": ["B", "M", "N", "K"],
    "data_spaces": [
        {"name": "A", "projection": [[["B"]], [["M"]], [["K"]]]},
        {"name": "B", "projection": [[["B"]], [["K"]], [["N"]]]},
        {"name": "Z", "projection": [[["B"]], [["M"]], [["N"]]], "read_write": True},
    ],
}


def timeloop_problem(layer: Layer) -> dict | None:
    """The Timeloop v0.4 problem of one MAC layer (None for other kinds)."""
    if layer.op is Op.MATMUL or (layer.op is Op.LINEAR and layer.batch > 1):
        inst = {"B": layer.batch * layer.n, "M": layer.p * layer.q, "N": layer.k, "K": layer.c}
        return {"problem": {"version": 0.4, "shape": _GEMM_SHAPE, "instance": inst}}
    if layer.op not in (Op.CONV2D, Op.DWCONV2D, Op.LINEAR):
        return None
    g = layer.groups
    inst = {"C": layer.c // g, "M": layer.k // g, "R": layer.r, "S": layer.s, "N": layer.n, "P": layer.p,
            "Q": layer.q, "G": g, "Hstride": layer.stride, "Wstride": layer.stride, "Hdilation": 1,
            "Wdilation": 1}
    return {"problem": {"version": 0.4, "shape": _CNN_SHAPE, "instance": inst}}


def _dump(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=110)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:80] or "layer"


def export_timeloop(wl: Workload, out: "str | Path", layer: str | None = None) -> tuple[list[Path], list[str]]:
    """Write ``wl``'s MAC layers as Timeloop problem files: a folder ``out`` with one
    ``NNNN_<layer>.yaml`` per layer (in layer order, so a folder import keeps the order), or
    the single file ``out`` (``*.yaml``) for ``layer`` (or the only MAC layer). Returns the
    files written and the layers skipped (not MAC layers)."""
    out = Path(out)
    chosen = [x for x in wl.layers if layer is None or x.name == layer]
    if layer is not None and not chosen:
        from ...errors import WorkloadError

        raise WorkloadError(f"--layer {layer!r}: no such layer in {wl.name}")
    problems = [(x, timeloop_problem(x)) for x in chosen]
    skipped = [x.name for x, doc in problems if doc is None]
    problems = [(x, doc) for x, doc in problems if doc is not None]
    if out.suffix.lower() in (".yaml", ".yml"):
        if len(problems) != 1:
            from ...errors import WorkloadError

            raise WorkloadError(f"{out}: a single problem file holds one layer; {wl.name} has {len(problems)} "
                                "MAC layers: give --layer NAME or a folder")
        real = check_output(out, "Timeloop problem file", (".yaml", ".yml"))
        with writing(out):
            real.write_text(_dump(problems[0][1]))
        return [out], skipped
    folder = check_folder(out, "Timeloop problem folder")
    stale = sorted(p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
    if stale:
        from ...errors import WorkloadError

        raise WorkloadError(f"{out}: the folder already holds problem files ({stale[0]} ...), which a folder "
                            "import would read with the new ones; choose an empty or new folder")
    written = []
    width = max(4, len(str(len(problems))))
    for i, (x, doc) in enumerate(problems):
        path = folder / f"{i:0{width}d}_{_safe(x.name)}.yaml"
        with writing(path):
            path.write_text(f"# {x.name} ({x.op.value}, {x.macs:,} MACs)\n" + _dump(doc))
        written.append(path)
    return written, skipped


def export_zigzag(wl: Workload, out: "str | Path") -> tuple[Path, list[str]]:
    """Write ``wl`` as one ZigZag/Stream workload YAML; returns the file and the layers skipped."""
    out = Path(out)
    real = check_output(out, "ZigZag workload", (".yaml", ".yml"))
    docs, skipped = to_zigzag(wl.layers)
    if not docs:
        from ...errors import WorkloadError

        raise WorkloadError(f"{wl.name}: no layer that ZigZag can express (MAC layers, pools, adds)")
    with writing(out):
        real.write_text(_dump(docs))
    return out, skipped


def same_mac_layers(a: Sequence[Layer], b: Sequence[Layer]) -> list[str]:
    """Differences between the MAC layers of ``a`` and ``b`` (in order): shapes, strides,
    groups and MACs; empty when they agree."""
    ma, mb = [x for x in a if x.is_mac], [x for x in b if x.is_mac]
    if len(ma) != len(mb):
        return [f"{len(ma)} MAC layers against {len(mb)}"]
    out = []
    for x, y in zip(ma, mb):
        kx = (x.macs, x.k, x.c_per_group, x.groups, x.r, x.s, x.stride, x.p * x.q, x.n * x.batch)
        ky = (y.macs, y.k, y.c_per_group, y.groups, y.r, y.s, y.stride, y.p * y.q, y.n * y.batch)
        if kx != ky:
            out.append(f"{x.name}: {kx} against {y.name}: {ky}")
    return out
