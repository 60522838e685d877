"""SCALE-Sim topology CSVs -> layer list, in SCALE-Sim's conv form or its GEMM (M, N, K) form.

Columns are found by their header names, spelled as SCALE-Sim v2 and v3 spell them (case,
spaces and punctuation do not matter; see :data:`ALIASES`). Conv form::

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

SCALE-Sim's own files also write GEMMs in the conv form, as that conversion does: filter
height 1 and filter width = IFMAP width (or the transposed form, filter width 1 and
filter height = IFMAP height). Such rows are read as the linear layer they describe
(``c`` = filter width x channels), so a reduction longer than a kernel may be does not
hit the kernel-size limit. An output grid over the per-field limit (a 2048 x 2048 map
written as one column) is folded into ``p x q`` with the same product, so the MACs do not
change; the cost model's limits stay as they are.

SCALE-Sim v3 adds an optional ``Batch``/``Batch Size`` column and a ``Sparsity`` column
(``N:M``). accelsim imports one dense image per layer: a batch other than 1 and any
sparsity ratio are ignored, with one :class:`IgnoredFieldsWarning`. A v3 *layout* file
(``IFMAP Height Intraline Factor, ...``) describes memory layouts, not layers, and is
refused in one line.

The file is read through :mod:`accelsim.safeio` (regular files only, at most
:data:`MAX_BYTES`) and at most :data:`MAX_ROWS` layer rows. Rows may end with SCALE-Sim's
trailing comma; blank rows and empty columns are ignored. Repeated layer names get
``_1``, ``_2`` suffixes. Bad files get one :class:`~accelsim.errors.WorkloadError` line
naming the file, the row, the field and what is allowed.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import warnings
from pathlib import Path

from ...errors import WorkloadError
from ...safeio import clip, read_text
from ..ir import FIELD_LIMITS, Layer, Op, Workload
from .common import IgnoredFieldsWarning, LayerSink

#: largest topology file read (bytes): a 100,000-layer topology is about 5 MB
MAX_BYTES = 64 * 1024**2
#: most layer rows read
MAX_ROWS = 100_000
#: longest cell (characters); csv's own limit is 131,072
MAX_CELL = 4096

#: canonical column -> header spellings (normalised: lower case, letters and digits only)
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("layername", "layer", "name"),
    "ifmap_h": ("ifmapheight", "ifmaph"),
    "ifmap_w": ("ifmapwidth", "ifmapw"),
    "filt_h": ("filterheight", "filterh", "filth"),
    "filt_w": ("filterwidth", "filterw", "filtw"),
    "channels": ("channels", "channel", "numchannels", "numch"),
    "num_filt": ("numfilter", "numfilters", "numfilt"),
    "stride": ("strides", "stride"),
    "stride_h": ("strideheight", "strideh"),
    "stride_w": ("stridewidth", "stridew"),
    "m": ("m",), "n": ("n",), "k": ("k",),
    "batch": ("batch", "batchsize"),
    "sparsity": ("sparsity", "sparsityratio"),
}
#: the names SCALE-Sim writes, for messages
SHOWN = {"name": "Layer name", "ifmap_h": "IFMAP Height", "ifmap_w": "IFMAP Width",
         "filt_h": "Filter Height", "filt_w": "Filter Width", "channels": "Channels",
         "num_filt": "Num Filter", "stride": "Strides", "stride_h": "Stride height",
         "stride_w": "Stride width", "m": "M", "n": "N", "k": "K", "batch": "Batch",
         "sparsity": "Sparsity"}
CONV_FIELDS = ("ifmap_h", "ifmap_w", "filt_h", "filt_w", "channels", "num_filt")
GEMM_FIELDS = ("m", "n", "k")
_LOOKUP = {alias: key for key, names in ALIASES.items() for alias in names}


def _norm(cell: str) -> str:
    return re.sub(r"[^a-z0-9]", "", cell.lower())


def _columns(header: list[str], source: str) -> tuple[str, dict[str, int], list[str]]:
    """("conv" | "gemm", canonical column -> index, header cells not understood)."""
    cols: dict[str, int] = {}
    unknown = []
    for i, cell in enumerate(header):
        key = _LOOKUP.get(_norm(cell))
        if key is None:
            if cell.strip():
                unknown.append(cell.strip())
        elif key in cols:
            raise WorkloadError(f"{source}: header names column {SHOWN[key]!r} twice "
                                f"(columns {cols[key] + 1} and {i + 1})")
        else:
            cols[key] = i
    if any("intraline" in _norm(c) or "interline" in _norm(c) for c in header):
        raise WorkloadError(f"{source}: this is a SCALE-Sim v3 layout file (header "
                            f"{clip(','.join(c.strip() for c in header[:3]), 70)!r}, ...: memory layouts "
                            "of the operands, not layers); import the topology CSV it goes with")
    if "name" in cols and all(k in cols for k in GEMM_FIELDS) and not any(k in cols for k in CONV_FIELDS):
        return "gemm", cols, unknown
    if "name" in cols and all(k in cols for k in CONV_FIELDS) and ("stride" in cols or "stride_h" in cols):
        return "conv", cols, unknown
    raise WorkloadError(
        f"{source}: header {clip(','.join(c.strip() for c in header), 120)!r} is neither SCALE-Sim's conv "
        "form (Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num "
        "Filter, Strides [or Stride height, Stride width][, Batch][, Sparsity]) nor its GEMM form "
        "(Layer, M, N, K[, Batch][, Sparsity])")


def _int(cell: str, key: str, where: str) -> int:
    text = cell.strip()
    if not text.isdigit() or len(text) > 18 or int(text) < 1:
        raise WorkloadError(f"{where}: field '{SHOWN[key]}' must be a positive integer"
                            f"{' of at most 18 digits' if len(text) > 18 else ''}, got {clip(text, 40)!r}")
    return int(text)


def fold(p: int, q: int) -> tuple[int, int] | None:
    """``(p2, q2)`` with ``p2 * q2 == p * q`` and both within the per-field limit, as square
    as possible; None when the product has no such factorisation. Unchanged if both fit."""
    limit = FIELD_LIMITS["p"]
    if p <= limit and q <= limit:
        return p, q
    total = p * q
    for a in range(min(math.isqrt(total), limit), 0, -1):
        if total % a == 0:
            return (total // a, a) if total // a <= limit else None
    return None


def _conv_layer(name: str, v: dict[str, int], where: str) -> tuple[Layer, str]:
    """The layer of one conv-form row, and a note when it was read as a GEMM or folded."""
    h, w, fh, fw, ch, nf = (v[k] for k in CONV_FIELDS)
    sh = v.get("stride_h", v.get("stride", 1))
    sw = v.get("stride_w", sh)
    if sh != sw:
        raise WorkloadError(f"{where}: fields 'Stride height'={sh} and 'Stride width'={sw} differ; "
                            "accelsim layers have one stride for both axes")
    for f, lim, fk, lk in ((fh, h, "filt_h", "ifmap_h"), (fw, w, "filt_w", "ifmap_w")):
        if f > lim:
            raise WorkloadError(f"{where}: field '{SHOWN[fk]}'={f} exceeds '{SHOWN[lk]}'={lim}")
    p = -(-(h - fh + sh) // sh)  # SCALE-Sim: ceil((IFMAP - Filter + Stride) / Stride)
    q = -(-(w - fw + sw) // sw)
    depthwise = "DP" in name  # SCALE-Sim's depthwise marker
    note = ""
    if not depthwise and ((fh == 1 and fw == w > 1) or (fw == 1 and fh == h > 1)):
        # SCALE-Sim's GEMM written as a conv: rows x (filter taps x channels) x filters
        rows, red = (p, fw * ch) if fh == 1 and fw == w else (q, fh * ch)
        shape = fold(rows, 1)
        if shape is None:
            raise WorkloadError(f"{where}: {rows:,} GEMM rows cannot be split into p x q within "
                                f"1..{FIELD_LIMITS['p']:,} each")
        note = f"{name}: GEMM written as a conv ({fh}x{fw} filter over {h}x{w}) -> linear M={rows} K={red} N={nf}"
        return Layer(name, Op.LINEAR, k=nf, c=red, p=shape[0], q=shape[1]), note
    shape = fold(p, q)
    if shape is None:
        big = "p" if p > FIELD_LIMITS["p"] else "q"
        raise WorkloadError(f"{where}: output {p:,} x {q:,} ({big} over 1..{FIELD_LIMITS[big]:,}) "
                            "cannot be folded into p x q with the same product")
    if shape != (p, q):
        note = f"{name}: output {p}x{q} folded into {shape[0]}x{shape[1]} (same MACs)"
        p, q = shape
        kw = {}
    else:
        kw = {"in_h": h, "in_w": w}
    if depthwise:
        op = Op.DWCONV2D if nf == 1 else Op.CONV2D
        return Layer(name, op, k=ch * nf, c=ch, p=p, q=q, r=fh, s=fw, stride=sh, groups=ch, **kw), note
    return Layer(name, Op.CONV2D, k=nf, c=ch, p=p, q=q, r=fh, s=fw, stride=sh, **kw), note


def _rows(text: str, source: str):
    """(line number, cells) of the non-blank rows, each cell bounded."""
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                if any(len(cell) > MAX_CELL for cell in row):
                    raise WorkloadError(f"{source}: line {reader.line_num}: a cell of over {MAX_CELL:,} "
                                        "characters")
                yield reader.line_num, row
    except csv.Error as exc:
        raise WorkloadError(f"{source}: line {reader.line_num}: not CSV ({exc})") from None


def from_scalesim(path: "str | Path", name: str | None = None) -> Workload:
    """A :class:`Workload` from a SCALE-Sim topology CSV (conv or GEMM form, by header)."""
    path = Path(path)
    text = read_text(path, MAX_BYTES, "SCALE-Sim topology")  # regular file, bounded; errors name it
    rows = list(itertools.islice(_rows(text, str(path)), MAX_ROWS + 2))  # never more than the limit
    if len(rows) > MAX_ROWS + 1:
        raise WorkloadError(f"{path}: more than {MAX_ROWS:,} layer rows; at most {MAX_ROWS:,} are read")
    first = rows[0] if rows else None
    if first is None:
        raise WorkloadError(f"{path}: empty file: a SCALE-Sim topology has a header and one row "
                            "per layer")
    form, cols, unknown = _columns(first[1], str(path))
    fields = GEMM_FIELDS if form == "gemm" else CONV_FIELDS + (("stride_h", "stride_w") if "stride_h" in cols
                                                               else ("stride",))
    sink = LayerSink()
    notes: list[str] = []
    batches: set[str] = set()
    ratios: set[str] = set()
    for n, row in rows[1:]:
        label = row[cols["name"]].strip() if cols["name"] < len(row) else ""
        where = f"{path}: row {n} ({clip(label, 40) or 'no name'})"
        if not label:
            raise WorkloadError(f"{where}: field 'Layer name' is empty")
        needed = [cols[k] for k in fields]
        if max(needed) >= len(row) or not all(row[i].strip() for i in needed):
            got = ", ".join(clip(row[cols[k]].strip(), 20) if cols[k] < len(row) and row[cols[k]].strip()
                            else "(empty)" for k in fields)
            raise WorkloadError(f"{where}: expected the fields {', '.join(SHOWN[k] for k in fields)}; got {got}")
        v = {k: _int(row[cols[k]], k, where) for k in fields}
        for key, seen in (("batch", batches), ("sparsity", ratios)):
            if key in cols and cols[key] < len(row) and row[cols[key]].strip():
                seen.add(clip(row[cols[key]].strip(), 20))
        if form == "gemm":
            shape = fold(v["m"], 1)
            if shape is None:
                raise WorkloadError(f"{where}: field 'M'={v['m']:,} cannot be split into p x q within "
                                    f"1..{FIELD_LIMITS['p']:,} each")
            if shape[1] > 1:
                notes.append(f"{label}: M={v['m']} folded into {shape[0]}x{shape[1]} rows")
            layer = Layer(label, Op.LINEAR, k=v["n"], c=v["k"], p=shape[0], q=shape[1])
        else:
            layer, note = _conv_layer(label, v, where)
            if note:
                notes.append(note)
        sink.add(layer)
    if not sink.layers:
        raise WorkloadError(f"{path}: no layer rows after the header")
    ignored = []
    if batches - {"1"}:
        ignored.append(f"'Batch' ({', '.join(sorted(batches))}): one image per layer is imported")
    ratios = {r for r in ratios if r.replace(" ", "") not in ("1:1", "0:0")}  # dense
    if ratios:
        ignored.append(f"'Sparsity' (N:M {', '.join(sorted(ratios)[:4])}): the layers are imported dense")
    if unknown:
        ignored.append(f"unknown columns {', '.join(clip(u, 30) for u in unknown[:4])}")
    if ignored:
        warnings.warn(f"{path}: ignored {'; '.join(ignored)}", IgnoredFieldsWarning, stacklevel=2)
    meta = {"source": str(path), "format": f"scale-sim topology ({form})"}
    if notes:
        meta["converted"] = "; ".join(notes[:20]) + (f"; ... ({len(notes)} in all)" if len(notes) > 20 else "")
    return Workload(name=name or path.stem, family="imported", variant="scalesim",
                    input_size=sink.layers[0].input_hw, num_classes=0, layers=tuple(sink.layers), meta=meta)
