"""SCALE-Sim topology CSVs -> layer list, in SCALE-Sim's conv form or its GEMM (M, N, K) form.

Conv form (the header is SCALE-Sim's)::

    Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
    Conv1,229,229,7,7,3,64,2,

``Strides`` may also be two columns, ``Stride height, Stride width`` (as SCALE-Sim writes
them); accelsim layers have one stride, so the two must agree. SCALE-Sim has no padding:
the IFMAP is the padded input, and the output is ``ceil((IFMAP - Filter + Stride) /
Stride)`` per axis, SCALE-Sim's own formula. A layer whose name contains ``DP`` is
depthwise, as in SCALE-Sim (which splits it into one single-channel layer per channel):
``Channels`` groups of ``Num Filter`` filters each.

GEMM form, ``Layer, M, N, K``: an M x K by K x N product, i.e. a linear layer with K
inputs and N outputs over M rows (SCALE-Sim maps it onto a conv with IFMAP M x K and N
filters of 1 x K: the same M*N*K MACs).

The form is read from the header (M, N, K in columns 2-4: GEMM; else at least 8 columns:
conv). Rows may end with SCALE-Sim's trailing comma; blank
rows and columns after the known ones are ignored. Repeated layer names get ``_1``,
``_2`` suffixes. Bad files get one :class:`~accelsim.errors.WorkloadError` line naming
the file, the row, the field and what is allowed.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ...errors import WorkloadError
from ..ir import Layer, Op, Workload
from .common import LayerSink

#: SCALE-Sim's column names of the two forms (as its files and its writer spell them)
CONV_HEADER = ("Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
               "Channels", "Num Filter", "Strides")
CONV_HEADER_2STRIDES = (*CONV_HEADER[:7], "Stride height", "Stride width")
GEMM_HEADER = ("Layer", "M", "N", "K")


def _norm(cell: str) -> str:
    return " ".join(cell.strip().lower().split())


def _form(header: list[str], source: str) -> tuple[str, tuple[str, ...]]:
    """("conv" | "gemm", the field names) from the header row. Like SCALE-Sim, the conv
    columns are read by position (its own files spell the header in several ways); a 9th
    column is the stride width only when its header names a stride."""
    h = tuple(_norm(c) for c in header)
    if len(h) >= 4 and h[1:4] == ("m", "n", "k"):
        return "gemm", GEMM_HEADER
    if len(h) >= 9 and "stride" in h[8]:
        return "conv", CONV_HEADER_2STRIDES
    if len(h) >= 8:
        return "conv", CONV_HEADER
    raise WorkloadError(
        f"{source}: header {','.join(c.strip() for c in header)!r} is neither SCALE-Sim's conv "
        "form (Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num "
        "Filter, Strides) nor its GEMM form (Layer, M, N, K)")


def _ints(cells: list[str], names: tuple[str, ...], where: str) -> list[int]:
    out = []
    for cell, name in zip(cells, names):
        text = cell.strip()
        if not text.isdigit() or int(text) < 1:
            raise WorkloadError(f"{where}: field '{name}' must be a positive integer, got {text!r}")
        out.append(int(text))
    return out


def _conv_layer(name: str, v: list[int], names: tuple[str, ...], where: str) -> Layer:
    h, w, fh, fw, ch, nf, sh = v[:7]
    sw = v[7] if len(v) > 7 else sh
    if sh != sw:
        raise WorkloadError(f"{where}: fields 'Stride height'={sh} and 'Stride width'={sw} differ; "
                            "accelsim layers have one stride for both axes")
    for f, i, lim, li in ((fh, 3, h, 1), (fw, 4, w, 2)):
        if f > lim:
            raise WorkloadError(f"{where}: field '{names[i]}'={f} exceeds '{names[li]}'={lim}")
    p = -(-(h - fh + sh) // sh)  # SCALE-Sim: ceil((IFMAP - Filter + Stride) / Stride)
    q = -(-(w - fw + sw) // sw)
    if "DP" in name:  # SCALE-Sim's depthwise marker
        op = Op.DWCONV2D if nf == 1 else Op.CONV2D
        return Layer(name, op, k=ch * nf, c=ch, p=p, q=q, r=fh, s=fw, stride=sh, groups=ch,
                     in_h=h, in_w=w)
    return Layer(name, Op.CONV2D, k=nf, c=ch, p=p, q=q, r=fh, s=fw, stride=sh, in_h=h, in_w=w)


def from_scalesim(path: "str | Path", name: str | None = None) -> Workload:
    """A :class:`Workload` from a SCALE-Sim topology CSV (conv or GEMM form, by header)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise WorkloadError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkloadError(f"{path}: cannot read the file ({exc})") from None
    rows = [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text)), 1)
            if any(cell.strip() for cell in row)]
    if not rows:
        raise WorkloadError(f"{path}: empty file: a SCALE-Sim topology has a header and one row "
                            "per layer")
    form, names = _form(rows[0][1], str(path))
    sink = LayerSink()
    for n, row in rows[1:]:
        label = row[0].strip()
        where = f"{path}: row {n} ({label or 'no name'})"
        if not label:
            raise WorkloadError(f"{where}: field '{names[0]}' is empty")
        cells = [c for c in row[1:len(names)]]
        if len(cells) < len(names) - 1 or not all(c.strip() for c in cells):
            raise WorkloadError(f"{where}: expected the {len(names)} fields {', '.join(names)}; "
                                f"got {', '.join(c.strip() or '(empty)' for c in row[:len(names)])}")
        v = _ints(cells, names[1:], where)
        if form == "gemm":
            m, n_out, k = v
            sink.add(Layer(label, Op.LINEAR, k=n_out, c=k, p=m))
        else:
            sink.add(_conv_layer(label, v, names, where))
    if not sink.layers:
        raise WorkloadError(f"{path}: no layer rows after the header")
    first = sink.layers[0]
    meta = {"source": str(path), "format": f"scale-sim topology ({form})"}
    return Workload(name=name or path.stem, family="imported", variant="scalesim",
                    input_size=first.input_hw, num_classes=0, layers=tuple(sink.layers), meta=meta)
