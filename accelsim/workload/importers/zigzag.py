"""ZigZag / Stream workload YAML -> layer list (and back: :func:`to_zigzag`).

ZigZag's workload file is a list of layers, each a loop nest written as an equation over
named loop dimensions::

    - id: 0
      name: conv1
      operator_type: Conv
      equation: O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]
      dimension_relations: [ix=2*ox+1*fx, iy=2*oy+1*fy]
      loop_dims: [B, K, C, OY, OX, FY, FX]
      loop_sizes: [1, 64, 3, 112, 112, 7, 7]
      operand_precision: {W: 8, I: 8, O: 16, O_final: 8}
      operand_source: {I: 0, W: 0}
      pr_loop_dims: [IY, IX]         # optional, with padding [[top, bottom], [left, right]]
      padding: [[3, 2], [3, 2]]

The layer is read from the equation, not from ``operator_type``: output dimensions are
those of ``O``; a dimension of both inputs and not of the output is a reduction; a
``dimension_relations`` entry ``ix = s*ox + d*fx`` makes ``OX``/``FX`` a conv axis with
stride ``s`` and dilation ``d``. So

- ``*`` with a conv axis: a conv (``G``, in all three tensors, is the group count; a
  ``G`` conv with no ``K``/``C`` is depthwise); ``operator_type`` Pooling/MaxPool/
  AveragePool/GlobalAveragePool: a pool over the window;
- ``*`` without conv axes: a GEMM; a ``linear`` when ``W`` is a constant (its
  ``operand_source`` is the layer itself or absent), else a ``matmul`` between two layers;
  the dimensions only in ``I`` and ``O`` are the rows (``OY``, ``OX`` keep their ``p x q``
  split), those only in ``W`` and ``O`` the columns, those in all three a batch;
- ``+`` or ``*`` without a reduction: an element-wise layer (``Add``, ``Mul``).

``operand_source`` gives the graph: ``I: 3`` reads layer 3's output. An ``I`` whose source
is the layer itself (or absent, on the first layer) is the network input. Padding is
``padding[0][0]``/``padding[1][0]`` (accelsim layers have one padding for both axes;
different values are refused); ``B`` is the image count. Stream reads the same format.
``operand_precision`` is not used (accelsim's precision is the architecture's).

Bad files get one :class:`~accelsim.errors.WorkloadError` line naming the file, the layer
and the field. The file goes through :mod:`accelsim.safeio` (bounded, libyaml, no tags).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from ...errors import WorkloadError
from ...safeio import short
from ..ir import INPUT, MAC_OPS, Layer, Op, Workload, pool_layer
from .common import LayerSink, elementwise_layer

#: most layers read from one file
MAX_LAYERS = 100_000
_TENSOR = re.compile(r"([A-Za-z_]\w*)((?:\[\w*\])+)")
_EQUATION = re.compile(r"^\s*(\w+(?:\[\w*\])+)\s*(\+?=)\s*(\w+(?:\[\w*\])+)\s*([*+])\s*(\w+(?:\[\w*\])*)\s*$")
_RELATION = re.compile(r"^\s*(\w+)\s*=\s*(?:(\d+)\s*\*\s*)?(\w+)\s*\+\s*(?:(\d+)\s*\*\s*)?(\w+)\s*$")
_POOL_TYPES = {"pooling": "avg", "pool": "avg", "averagepool": "avg", "globalaveragepool": "avg",
               "maxpool": "max", "max": "max"}


def looks_like_zigzag(data: Any) -> bool:
    """True for a ZigZag/Stream workload: a list of mappings with ``loop_dims`` or ``equation``."""
    return (isinstance(data, list) and bool(data) and isinstance(data[0], dict)
            and ("loop_dims" in data[0] or "equation" in data[0]))


def _tensor(text: str) -> tuple[str, list[str]]:
    m = _TENSOR.fullmatch(text.replace(" ", ""))
    if m is None:
        raise ValueError(text)
    return m.group(1), [d.upper() for d in re.findall(r"\[(\w*)\]", m.group(2)) if d]


class _Layer:
    """One ZigZag layer, checked and indexed."""

    def __init__(self, doc: Mapping[str, Any], where: str) -> None:
        self.where = where
        self.doc = doc
        self.id = self.int_field("id", 0)
        eq = doc.get("equation")
        m = _EQUATION.match(eq) if isinstance(eq, str) else None
        if m is None:
            raise WorkloadError(f"{where}: field 'equation' must read O[..]+=W[..]*I[..] (or O[..]=W[..]+I[..]), "
                                f"got {short(eq)}")
        try:
            (self.o_name, self.o), (a_name, a), (b_name, b) = (_tensor(m.group(i)) for i in (1, 3, 5))
        except ValueError as exc:
            raise WorkloadError(f"{where}: field 'equation': tensor {short(str(exc))} is malformed") from None
        self.accumulate, self.sign = m.group(2) == "+=", m.group(4)
        # I is the activation input, W the other operand, whatever order the equation uses
        if a_name.upper() == "I" or (b_name.upper() != "I" and a_name.upper() != "W"):
            (self.i_name, self.i), (self.w_name, self.w) = (a_name, a), (b_name, b)
        else:
            (self.i_name, self.i), (self.w_name, self.w) = (b_name, b), (a_name, a)
        dims, sizes = doc.get("loop_dims"), doc.get("loop_sizes")
        if not isinstance(dims, list) or not isinstance(sizes, list) or len(dims) != len(sizes):
            raise WorkloadError(f"{where}: fields 'loop_dims' and 'loop_sizes' must be lists of the same length")
        self.size: dict[str, int] = {}
        for d, v in zip(dims, sizes):
            if not isinstance(d, str) or isinstance(v, bool) or not isinstance(v, int) or v < 1 or v > 2**40:
                raise WorkloadError(f"{where}: field 'loop_sizes': {short(d)} = {short(v)} must be an integer in "
                                    "1..2^40")
            self.size[d.upper()] = v
        self.conv: dict[str, tuple[str, str, int, int]] = {}  # input dim -> (out dim, filter dim, stride, dil)
        rels = doc.get("dimension_relations") or []
        if not isinstance(rels, list):
            raise WorkloadError(f"{where}: field 'dimension_relations' must be a list such as [ix=1*ox+1*fx]")
        for rel in rels:
            r = _RELATION.match(rel) if isinstance(rel, str) else None
            if r is None:
                raise WorkloadError(f"{where}: field 'dimension_relations': {short(rel)} is not of the form "
                                    "ix=s*ox+d*fx")
            self.conv[r.group(1).upper()] = (r.group(3).upper(), r.group(5).upper(), int(r.group(2) or 1),
                                             int(r.group(4) or 1))
        for d in set(self.o + self.i + self.w) - set(self.conv):
            if d not in self.size:
                self.size[d] = 1  # ZigZag: a dimension not listed has size 1
        for od, fd, _, _ in self.conv.values():
            self.size.setdefault(od, 1)
            self.size.setdefault(fd, 1)
        src = doc.get("operand_source") or {}
        if not isinstance(src, dict):
            raise WorkloadError(f"{where}: field 'operand_source' must be a mapping such as {{I: 3, W: 4}}")
        self.source = {str(k).upper(): v for k, v in src.items()}
        name = doc.get("name")
        if name is not None and (not isinstance(name, (str, int)) or isinstance(name, bool) or len(str(name)) > 200):
            raise WorkloadError(f"{where}: field 'name' must be text of at most 200 characters, got {short(name)}")
        self.name = str(name) if name not in (None, "") else f"Layer{self.id}"
        self.kind = str(doc.get("operator_type") or "")

    def int_field(self, key: str, least: int) -> int:
        v = self.doc.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or not least <= v <= 2**40:
            raise WorkloadError(f"{self.where}: field '{key}' must be an integer >= {least}, got {short(v)}")
        return v

    def prod(self, dims: Sequence[str]) -> int:
        out = 1
        for d in dict.fromkeys(dims):
            out *= self.size.get(d, 1)
        return out


def _padding(z: _Layer) -> int:
    pad = z.doc.get("padding")
    if pad is None:
        return 0
    if not (isinstance(pad, list) and all(isinstance(p, list) and len(p) == 2 and
                                          all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 4096
                                              for x in p) for p in pad)):
        raise WorkloadError(f"{z.where}: field 'padding' must be a list of [before, after] integer pairs, "
                            f"got {short(pad)}")
    befores = {p[0] for p in pad}
    if len(befores) > 1:
        raise WorkloadError(f"{z.where}: field 'padding' = {short(pad)}: accelsim layers have one padding for "
                            "both axes")
    return befores.pop() if befores else 0


def _layer(z: _Layer, inputs: tuple[str, ...], w_static: bool) -> Layer:
    """The accelsim layer of one ZigZag layer (see the module docstring)."""
    o, i, w = set(z.o), set(z.i), set(z.w)
    red = (i & w) - o
    axes = [(z.conv[d], d) for d in z.i if d in z.conv]  # conv axes in I's order (rows, then columns)
    n = z.size.get("B", 1)
    if z.sign == "+" or (not red and not axes):
        ew = o - {"B"}
        chans = z.prod([d for d in z.o if d in ("K", "G", "C")]) or 1
        rows = [d for d in z.o if d in ew and d not in ("K", "G", "C")]
        fn = "add" if z.sign == "+" else "mul"
        y = [n, chans, z.prod(rows[:-1]) if len(rows) > 1 else 1, z.size.get(rows[-1], 1) if rows else 1]
        return elementwise_layer(z.name, Op.ELTWISE, y, fn=fn, inputs=inputs)
    if axes:
        if len(axes) > 2:
            raise WorkloadError(f"{z.where}: {len(axes)} conv axes; at most two (rows and columns) are read")
        (row, _), (col, _) = (axes[0], axes[-1]) if len(axes) == 2 else ((("_", "_", 1, 1), "_"), axes[0])
        strides = {a[2] for a, _ in axes}
        dils = {a[3] for a, _ in axes}
        if len(strides) > 1 or len(dils) > 1:
            raise WorkloadError(f"{z.where}: field 'dimension_relations': strides {sorted(strides)} or dilations "
                                f"{sorted(dils)} differ between axes; accelsim layers have one of each")
        stride, dil = strides.pop(), dils.pop()
        p, q = z.size.get(row[0], 1), z.size.get(col[0], 1)
        r0, s0 = z.size.get(row[1], 1), z.size.get(col[1], 1)
        r, s = (r0 - 1) * dil + 1, (s0 - 1) * dil + 1
        pad = _padding(z)
        kw = {}
        pr = z.doc.get("pr_loop_sizes")
        if isinstance(pr, list) and len(pr) == len(axes) and all(isinstance(v, int) and v > 0 for v in pr):
            kw = {"in_h": pr[0] if len(pr) == 2 else 1, "in_w": pr[-1]}
        if z.kind.lower().replace("_", "") in _POOL_TYPES:
            chans = z.prod(o & i - {"B", row[0], col[0]})
            hw = kw or {"in_h": max((p - 1) * stride + r - 2 * pad, 1), "in_w": max((q - 1) * stride + s - 2 * pad, 1)}
            return pool_layer(z.name, chans, p, q, r, s, stride, pad, _POOL_TYPES[z.kind.lower().replace("_", "")],
                              inputs=inputs, n=n, **hw)
        grouped = "G" in o & i & w
        g = z.size.get("G", 1) if grouped else 1
        k = z.prod((o & w) - i - {"G"})
        c = z.prod(red - {row[1], col[1]})
        op = Op.DWCONV2D if grouped and k == 1 and c == 1 else Op.CONV2D
        return Layer(z.name, op, k=k * g, c=c * g, p=p, q=q, r=r, s=s, stride=stride, padding=pad, groups=g, n=n,
                     inputs=inputs, **kw)
    # a GEMM: rows (I and O), columns (W and O), reduction, batch (all three)
    rows = [d for d in z.o if d in i and d not in w]
    cols = [d for d in z.o if d in w and d not in i]
    batch = z.prod((o & i & w) - {"B"})
    k, c = z.prod(cols), z.prod(red)
    if "OY" in rows and "OX" in rows:  # keep a p x q token grid, B images
        p, q = z.prod([d for d in rows if d != "OX" and d != "B"]), z.size["OX"]
    else:  # B is one more row dimension (ZigZag's Gemm: O[b][k] += I[b][c] * W[c][k])
        p, q, n = z.prod(rows), 1, 1
    if w_static:
        return Layer(z.name, Op.LINEAR, k=k, c=c, p=p, q=q, n=n, batch=batch, inputs=inputs)
    return Layer(z.name, Op.MATMUL, k=k, c=c, p=p, q=q, n=n, batch=batch, inputs=inputs)


def from_zigzag(data: Any, source: str, name: str) -> Workload:
    """A :class:`Workload` from a parsed ZigZag/Stream workload (a list of layer mappings)."""
    if not isinstance(data, list) or not data:
        raise WorkloadError(f"{source}: a ZigZag workload is a list of layers (id, equation, loop_dims, loop_sizes)")
    if len(data) > MAX_LAYERS:
        raise WorkloadError(f"{source}: {len(data):,} layers; at most {MAX_LAYERS:,} are read")
    sink = LayerSink()
    by_id: dict[int, str] = {}
    previous = ""
    for idx, doc in enumerate(data):
        where = f"{source}: layer {idx}"
        if not isinstance(doc, dict):
            raise WorkloadError(f"{where}: must be a mapping (id, equation, loop_dims, loop_sizes)")
        z = _Layer(doc, f"{where} (id {short(doc.get('id'))})")
        if z.id in by_id:
            raise WorkloadError(f"{z.where}: field 'id' repeats id {z.id}")
        inputs: list[str] = []
        w_static = True
        for operand in ("I", "W"):
            src = z.source.get(operand)
            if src is None or src == z.id:
                if operand == "I":
                    inputs.append(previous or INPUT if src is None else INPUT)
                continue
            if isinstance(src, bool) or not isinstance(src, int) or src not in by_id:
                raise WorkloadError(f"{z.where}: field 'operand_source.{operand}' = {short(src)} names no earlier "
                                    f"layer id (ids so far: {short(sorted(by_id))})")
            inputs.append(by_id[src])
            if operand == "W":
                w_static = False
        try:
            layer = _layer(z, tuple(dict.fromkeys(inputs)), w_static)
        except ValueError as exc:  # a Layer field out of range
            raise WorkloadError(f"{z.where}: {exc}") from None
        layer = sink.add(layer)
        by_id[z.id] = layer.name
        previous = layer.name
    if not any(layer.op in MAC_OPS for layer in sink.layers) and not sink.layers:
        raise WorkloadError(f"{source}: no layers")
    first = sink.layers[0]
    meta = {"source": source, "format": "zigzag workload"}
    return Workload(name=name, family="imported", variant="zigzag", input_size=first.input_hw, num_classes=0,
                    layers=tuple(sink.layers), meta=meta)


# ------------------------------------------------------------------ export
def to_zigzag(layers: Sequence[Layer]) -> tuple[list[dict], list[str]]:
    """ZigZag workload layers for ``layers`` (MAC layers, pools and element-wise layers with
    two inputs), and the names of the layers the format cannot express (skipped; their
    consumers read what the skipped layer read). ZigZag marks a constant operand by naming
    the layer itself as its source, so a ``matmul`` whose operands both come from the
    network input (no producing layer) comes back as a ``linear``."""
    ids: dict[str, int] = {}
    alias: dict[str, str] = {}
    out: list[dict] = []
    skipped: list[str] = []

    def source(name: str, own: int) -> int:
        name = alias.get(name, name)
        return ids.get(name, own)

    for layer in layers:
        ins = [alias.get(x, x) for x in layer.inputs]
        doc = _export_one(layer, len(out))
        if doc is None:
            skipped.append(layer.name)
            alias[layer.name] = ins[0] if ins else INPUT
            continue
        own = len(out)
        first = source(ins[0], own) if ins else own
        doc["operand_source"] = {"I": first, "W": source(ins[1], own) if len(ins) > 1 else own}
        if layer.op is Op.MATMUL and len(ins) < 2:
            doc["operand_source"]["W"] = first
        ids[layer.name] = own
        out.append(doc)
    return out, skipped


def _export_one(layer: Layer, lid: int) -> dict | None:
    prec = {"W": 8, "I": 8, "O": 16, "O_final": 8}
    base = {"id": lid, "name": layer.name}
    if layer.op in (Op.CONV2D, Op.DWCONV2D):
        g = layer.groups
        rel = [f"ix={layer.stride}*ox+1*fx", f"iy={layer.stride}*oy+1*fy"]
        if layer.op is Op.DWCONV2D:
            eq, dims, sizes = ("O[b][g][oy][ox]+=W[g][fy][fx]*I[b][g][iy][ix]", ["B", "G", "OY", "OX", "FY", "FX"],
                               [layer.n, g, layer.p, layer.q, layer.r, layer.s])
        elif g > 1:
            eq = "O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix]"
            dims = ["B", "G", "K", "C", "OY", "OX", "FY", "FX"]
            sizes = [layer.n, g, layer.k_per_group, layer.c_per_group, layer.p, layer.q, layer.r, layer.s]
        else:
            eq, dims = "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]", ["B", "K", "C", "OY", "OX", "FY", "FX"]
            sizes = [layer.n, layer.k, layer.c, layer.p, layer.q, layer.r, layer.s]
        doc = {**base, "operator_type": "Conv", "equation": eq, "dimension_relations": rel, "loop_dims": dims,
               "loop_sizes": sizes, "operand_precision": prec}
        if layer.padding:
            doc.update(pr_loop_dims=["IY", "IX"], padding=[[layer.padding, layer.padding]] * 2)
        return doc
    if layer.op in (Op.LINEAR, Op.MATMUL):
        eq = "O[b][h][k][oy][ox]+=W[h][k][c]*I[b][h][c][oy][ox]"
        return {**base, "operator_type": "Gemm", "equation": eq, "dimension_relations": [],
                "loop_dims": ["B", "H", "K", "C", "OY", "OX"],
                "loop_sizes": [layer.n, layer.batch, layer.k, layer.c, layer.p, layer.q], "operand_precision": prec}
    if layer.op is Op.POOL and layer.fn in ("max", "avg") and layer.r * layer.s > 1:
        return {**base, "operator_type": "MaxPool" if layer.fn == "max" else "AveragePool",
                "equation": "O[b][g][oy][ox]+=W[fy][fx]*I[b][g][iy][ix]",
                "dimension_relations": [f"ix={layer.stride}*ox+1*fx", f"iy={layer.stride}*oy+1*fy"],
                "loop_dims": ["B", "G", "OY", "OX", "FY", "FX"],
                "loop_sizes": [layer.n, layer.c, layer.p, layer.q, layer.r, layer.s],
                "operand_precision": {**prec, "W": 0}}
    if layer.op is Op.ELTWISE and layer.fn in ("add", "mul") and len(layer.inputs) == 2:
        sign = "+" if layer.fn == "add" else "*"
        return {**base, "operator_type": "Add" if sign == "+" else "Mul",
                "equation": f"O[b][g][oy][ox]=W[b][g][oy][ox]{sign}I[b][g][oy][ox]",
                "loop_dims": ["B", "G", "OY", "OX"], "loop_sizes": [layer.n, layer.c, layer.p, layer.q],
                "operand_precision": prec}
    return None


def read_zigzag(path: "str | Path", data: Any, name: str | None = None) -> Workload:
    """:func:`from_zigzag` for a file already parsed (``data``)."""
    path = Path(path)
    return from_zigzag(data, str(path), name or path.stem)
