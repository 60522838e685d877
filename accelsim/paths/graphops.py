"""Generic transforms on a workload's layer graph (SPEC.md section 8).

All functions are pure: they take a tuple of :class:`~accelsim.workload.ir.Layer` in
topological order and return a new tuple in the same order, keeping layer names.

Channel pruning with backward propagation (:func:`prune_input_channels`) is a liveness
analysis: a boolean mask of live output channels per layer, computed in reverse
topological order as the union of what every consumer needs. Channel-wise layers
(element-wise ops, BatchNorm, resize, pooling, depthwise conv) need exactly the
channels they produce; a concat maps its live output channels back onto its inputs;
every other consumer (a conv/linear, LayerNorm, softmax, matmul, unknown ops, the
network output) needs all channels, which stops the walk.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

from ..errors import WorkloadError
from ..workload.ir import INPUT, Layer, Op

#: kinds whose output channel j depends only on input channel j
_CHANNELWISE = frozenset({Op.ELTWISE, Op.RESIZE, Op.POOL, Op.DWCONV2D})
#: norms computed per channel (LayerNorm/GroupNorm mix channels and stop the walk)
_CHANNELWISE_NORMS = ("batchnorm",)


def is_channelwise(layer: Layer) -> bool:
    """True when output channel j of ``layer`` reads only channel j of each input."""
    if layer.op is Op.NORM:
        return layer.fn.split("_")[0] in _CHANNELWISE_NORMS
    if layer.op is Op.DWCONV2D:
        return layer.groups == layer.c == layer.k
    return layer.op in _CHANNELWISE


def consumers_of(layers: Sequence[Layer]) -> dict[str, list[str]]:
    """Producer name -> names of the layers that read it, in program order."""
    out: dict[str, list[str]] = {layer.name: [] for layer in layers}
    for layer in layers:
        for src in layer.inputs:
            out.setdefault(src, []).append(layer.name)
    return out


def _input_demand(layer: Layer, src: str, live_out: np.ndarray, by_name: Mapping[str, Layer],
                  first_n: Mapping[str, int]) -> np.ndarray | None:
    """Channels of ``src``'s output that ``layer`` needs (``None``: all of them)."""
    prod = by_name.get(src)
    if prod is None:  # the network input
        return None
    if layer.name in first_n:
        if prod.k != layer.c:
            return None
        mask = np.zeros(prod.k, dtype=bool)
        mask[: first_n[layer.name]] = True
        return mask
    if layer.op is Op.CONCAT:
        widths = [by_name[s].k if s in by_name else -1 for s in layer.inputs]
        if -1 in widths or sum(widths) != layer.c or len(set(layer.inputs)) != len(layer.inputs):
            return None
        start = sum(widths[: layer.inputs.index(src)])
        return live_out[start:start + prod.k].copy()
    if is_channelwise(layer) and prod.k == layer.c == layer.k:
        return live_out.copy()
    return None


def live_channels(layers: Sequence[Layer], first_n: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Live-output-channel mask of every layer when each layer in ``first_n`` reads only
    its first ``first_n[name]`` input channels (a backward liveness analysis)."""
    by_name = {layer.name: layer for layer in layers}
    users = consumers_of(layers)
    live: dict[str, np.ndarray] = {}
    for layer in reversed(layers):
        readers = users.get(layer.name, [])
        if not readers:  # a network output: everything it produces is used
            live[layer.name] = np.ones(layer.k, dtype=bool)
            continue
        mask = np.zeros(layer.k, dtype=bool)
        for reader_name in dict.fromkeys(readers):
            reader = by_name[reader_name]
            need = _input_demand(reader, layer.name, live[reader_name], by_name, first_n)
            if need is None:
                mask[:] = True
                break
            mask |= need
        live[layer.name] = mask
    return live


def _shrink(layer: Layer, k_live: int, c_live: int, inputs: tuple[str, ...]) -> Layer:
    if layer.op is Op.DWCONV2D:
        return layer.with_(k=k_live, c=k_live, groups=k_live, inputs=inputs)
    if layer.op is Op.CONCAT or is_channelwise(layer):
        return layer.with_(k=k_live, c=k_live, inputs=inputs)
    return layer.with_(k=k_live, c=c_live, inputs=inputs)


def prune_input_channels(layers: Sequence[Layer], first_n: Mapping[str, int]) -> tuple[Layer, ...]:
    """Keep the first ``n`` input channels of each named layer and remove the work that
    only produced the dropped channels (SPEC.md section 8, channel pruning).

    Producers whose every output channel is dead vanish; producers with some dead
    channels shrink their output channels; concats drop dead inputs.
    """
    by_name = {layer.name: layer for layer in layers}
    for name, n in first_n.items():
        if name not in by_name:
            raise WorkloadError(f"channel pruning: the workload has no layer {name!r}")
        target = by_name[name]
        if target.op not in (Op.CONV2D, Op.LINEAR) or target.groups != 1 or len(target.inputs) != 1:
            raise WorkloadError(f"channel pruning: {name!r} is not a dense conv/linear with one input")
        if not 1 <= n <= target.c:
            raise WorkloadError(f"channel pruning: {name!r} has {target.c} input channels; "
                                f"keep between 1 and {target.c}, got {n}")
    live = live_channels(layers, first_n)
    out: list[Layer] = []
    for layer in layers:
        k_live = int(live[layer.name].sum())
        if k_live == 0:
            continue
        inputs = tuple(s for s in layer.inputs if s == INPUT or s not in live or live[s].any())
        c_live = first_n.get(layer.name, layer.c)
        if k_live == layer.k and c_live == layer.c and inputs == layer.inputs:
            out.append(layer)
        else:
            out.append(_shrink(layer, k_live, c_live, inputs))
    return tuple(out)


# --------------------------------------------------------------------- rewiring
def rewire(layers: Iterable[Layer], mapping: Mapping[str, str]) -> tuple[Layer, ...]:
    """Replace producer names in every layer's ``inputs`` (``old -> new``)."""
    out = []
    for layer in layers:
        new = tuple(mapping.get(s, s) for s in layer.inputs)
        out.append(layer if new == layer.inputs else layer.with_(inputs=new))
    return tuple(out)


def bypass_group(layers: Sequence[Layer], names: Iterable[str]) -> tuple[Layer, ...]:
    """Remove a residual block (the layers ``names``) and connect its readers to its input.

    The group must read exactly one tensor from outside and be read through exactly one
    of its layers, with the same shape, so the residual passes the input through.
    """
    group = set(names)
    by_name = {layer.name: layer for layer in layers}
    ext_in = {s for n in group for s in by_name[n].inputs if s not in group}
    ext_out = {s for layer in layers if layer.name not in group for s in layer.inputs if s in group}
    label = sorted(group)[0] if group else "?"
    if len(ext_in) != 1 or len(ext_out) != 1:
        raise WorkloadError(f"block bypass: the block of {label!r} reads {len(ext_in)} and "
                            f"exposes {len(ext_out)} tensors; only single-input residual blocks "
                            "can be bypassed")
    (src,), (dst,) = ext_in, ext_out
    if src != INPUT:
        a, b = by_name[src], by_name[dst]
        if (a.k, a.p * a.q) != (b.k, b.p * b.q):
            raise WorkloadError(f"block bypass: block output {dst!r} differs in shape from its input "
                                f"{src!r}; not a residual block")
    return rewire((layer for layer in layers if layer.name not in group), {dst: src})
