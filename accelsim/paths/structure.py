"""Structural path transforms: block bypass, channel pruning, model switching, and the
DynaSegFormer decoder sum and neuron gating (SPEC.md section 8).

Each function maps a :class:`~accelsim.workload.ir.Workload` to a new one with the same
layer names (added layers get new names under the layer they serve).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from ..errors import WorkloadError
from ..workload.ir import Layer, Op, Workload, norm_layer, pool_layer
from .graphops import bypass_group, consumers_of, is_channelwise, prune_input_channels, rewire

#: parts of a model that hold the encoder blocks that block bypass and token methods act on
ENCODER_PARTS = ("backbone", "encoder")

#: path key -> layer whose input channels it prunes (SPEC.md section 8 targets of the study)
PRUNE_TARGETS: dict[str, str] = {
    "c1_in": "decode_head.linear_c1",
    "fuse_in": "decode_head.linear_fuse",
    "pred_in": "decode_head.linear_pred",
    "fpn_in": "decode_head.fpn_bottleneck",
}


# ------------------------------------------------------------------ block bypass
def encoder_blocks(wl: Workload) -> dict[str, list[str]]:
    """Stage -> block ids (program order) of the encoder blocks, from the layer tags.

    A model without ``stage`` tags on its blocks (a plain ViT) is one stage ``""``.
    """
    stages: dict[str, list[str]] = {}
    for layer in wl.layers:
        tag = layer.tag
        if tag.get("part") in ENCODER_PARTS and "block" in tag:
            blocks = stages.setdefault(tag.get("stage", ""), [])
            if tag["block"] not in blocks:
                blocks.append(tag["block"])
    return stages


def block_layers(wl: Workload, stage: str, block: str) -> list[str]:
    """Names of the layers of one encoder block."""
    return [layer.name for layer in wl.layers
            if layer.tag.get("part") in ENCODER_PARTS and layer.tag.get("block") == block
            and layer.tag.get("stage", "") == stage]


def bypass_blocks(wl: Workload, keep: Sequence[int]) -> Workload:
    """Run only the first ``keep[i]`` blocks of encoder stage i; the others vanish and their
    residual passes the input through (SPEC.md section 8, block bypass)."""
    stages = encoder_blocks(wl)
    if not stages:
        raise WorkloadError(f"blocks: {wl.name} has no tagged encoder blocks to bypass")
    depths = [len(b) for b in stages.values()]
    if len(keep) != len(stages):
        raise WorkloadError(f"blocks={'-'.join(map(str, keep))}: {wl.name} has {len(stages)} encoder "
                            f"stage(s) with {'-'.join(map(str, depths))} blocks; give one count per stage")
    for n, d in zip(keep, depths):
        if n > d:
            raise WorkloadError(f"blocks={'-'.join(map(str, keep))}: {wl.name} has "
                                f"{'-'.join(map(str, depths))} blocks per stage; each count must be "
                                "between 0 and the stage depth")
    layers = wl.layers
    for (stage, blocks), n in zip(stages.items(), keep):
        for block in blocks[n:]:
            layers = bypass_group(layers, block_layers(wl, stage, block))
    return wl.replace(layers=layers)


# -------------------------------------------------------------- channel pruning
def prune_channels(wl: Workload, keys: Mapping[str, int]) -> Workload:
    """Apply the ``*_in`` keys: keep the first n input channels of their target layers."""
    first_n: dict[str, int] = {}
    for key, n in keys.items():
        target = PRUNE_TARGETS[key]
        if target not in wl:
            raise WorkloadError(f"{key}={n}: {wl.name} has no layer {target!r} (removed by another "
                                "transform of this path, or not of this family)")
        c = wl.layer(target).c
        if not 1 <= n <= c:
            raise WorkloadError(f"{key}={n}: {target} has {c} input channels; allowed 1..{c}")
        first_n[target] = n
    return wl.replace(layers=prune_input_channels(wl.layers, first_n))


# -------------------------------------------------------------- model switching
def switch_model(wl: Workload, variant: str) -> Workload:
    """The same family at another retrained variant, same input size and classes."""
    from ..workload.registry import list_models

    specs = [s for s in list_models() if s.family == wl.family]
    match = [s for s in specs if s.variant.lower() == variant.lower()]
    if not match:
        raise WorkloadError(f"variant={variant}: family {wl.family!r} has variants "
                            f"{', '.join(sorted({s.variant for s in specs})) or 'none registered'}")
    new = match[0].build(input_size=wl.input_size, num_classes=wl.num_classes)
    return new.replace(dataset=wl.dataset or new.dataset)


# ----------------------------------------------------------------- decoder sum
def _fused_tail(layers: Sequence[Layer], start: str) -> list[str]:
    """``start`` and the chain of fused channel-wise layers (BN, activation) that follow it."""
    users = consumers_of(layers)
    by_name = {layer.name: layer for layer in layers}
    chain = [start]
    while len(users.get(chain[-1], [])) == 1:
        nxt = by_name[users[chain[-1]][0]]
        if not (nxt.fused and is_channelwise(nxt)):
            break
        chain.append(nxt.name)
    return chain


def decoder_sum(wl: Workload, fuse: str = "decode_head.linear_fuse") -> Workload:
    """DynaSegFormer decoder: the 4-way concat becomes an element-wise sum of the E-channel
    maps and the fuse conv (with its BN/ReLU) is dropped; the prediction conv reads the sum
    (SPEC.md section 8, dynamic neuron gating)."""
    if fuse not in wl:
        raise WorkloadError(f"decoder_sum: {wl.name} has no layer {fuse!r}")
    by_name = {layer.name: layer for layer in wl.layers}
    (cat_name,) = by_name[fuse].inputs
    cat = by_name[cat_name]
    widths = {by_name[s].k for s in cat.inputs}
    if cat.op is not Op.CONCAT or len(widths) != 1:
        raise WorkloadError(f"decoder_sum: {fuse} must read a concat of equal-width maps; "
                            f"{cat_name} joins widths {sorted(widths)} (conflicts with channel pruning)")
    e = widths.pop()
    total = Layer(f"{cat_name}.sum", Op.ELTWISE, k=e, c=e, p=cat.p, q=cat.q, fn="add",
                  ops_per_element=len(cat.inputs) - 1, inputs=cat.inputs, tags=cat.tags)
    tail = _fused_tail(wl.layers, fuse)
    drop = {cat_name, *tail}
    layers = []
    for layer in wl.layers:
        if layer.name == cat_name:
            layers.append(total)
        elif layer.name not in drop:
            layers.append(layer)
    layers = rewire(layers, {tail[-1]: total.name})
    for i, layer in enumerate(layers):
        if total.name in layer.inputs and layer.op in (Op.CONV2D, Op.LINEAR) and layer.c != e:
            layers[i] = layer.with_(c=e)
    return wl.replace(layers=tuple(layers))


# -------------------------------------------------------------- neuron gating
def kept(n: int, prune: float) -> int:
    """Neurons kept of ``n`` when a fraction ``prune`` is pruned (at least one)."""
    return max(1, int(round(n * (1.0 - prune))))


def gate_predictor(name: str, tokens: int, c_in: int, n_out: int,
                   src: str, tags) -> list[Layer]:
    """Gate predictor of one gated linear (SPEC.md section 8, DynaSegFormer): average pool over
    tokens, the pooled vector times the layer's weight W1 (c_in -> n_out), LayerNorm, a
    two-layer MLP (n_out -> n_out/4 -> n_out; hidden ratio 4 is an assumption), top-k."""
    hid = max(1, n_out // 4)
    pool = pool_layer(f"{name}.gate.pool", c_in, 1, 1, 1, 1, 1, 0, "avg", (src,), tokens, 1,
                      window=tokens).with_(tags=tags)
    w1 = Layer(f"{name}.gate.w1", Op.LINEAR, k=n_out, c=c_in, inputs=(pool.name,), tags=tags)
    norm = norm_layer(f"{name}.gate.norm", n_out, 1, 1, "layernorm_noaffine", False,
                      (w1.name,)).with_(tags=tags)
    fc1 = Layer(f"{name}.gate.fc1", Op.LINEAR, k=hid, c=n_out, bias=True, inputs=(norm.name,), tags=tags)
    act = Layer(f"{name}.gate.act", Op.ELTWISE, k=hid, c=hid, fn="relu", fused=True,
                inputs=(fc1.name,), tags=tags)
    fc2 = Layer(f"{name}.gate.fc2", Op.LINEAR, k=n_out, c=hid, bias=True, inputs=(act.name,), tags=tags)
    # top-k selection: a partial sort, about log2(n) compares per neuron
    topk = Layer(f"{name}.gate.topk", Op.OTHER, k=n_out, c=n_out, fn="topk",
                 ops_per_element=max(1, math.ceil(math.log2(n_out))), inputs=(fc2.name,), tags=tags)
    return [pool, w1, norm, fc1, act, fc2, topk]


def _gate_block(layers: dict[str, Layer], order: list[str], pre: str, prune: float) -> None:
    """Gate q, kv and fc1 of the MiT block ``pre`` in place (``layers``/``order`` updated)."""
    q, kv = layers[f"{pre}.attn.q"], layers[f"{pre}.attn.kv"]
    qk, av, proj = (layers[f"{pre}.attn.{n}"] for n in ("qk", "av", "proj"))
    fc1, dw, act, fc2 = (layers[f"{pre}.mlp.{n}"] for n in ("fc1", "dwconv.dwconv", "act", "fc2"))
    heads = qk.batch
    dh = kept(qk.c, prune)  # per-head width of q, k and v after pruning
    hid = kept(fc1.k, prune)
    gates = []
    for lin, n_out in ((q, heads * dh), (kv, 2 * heads * dh), (fc1, hid)):
        src = lin.inputs[0]
        gates.append(gate_predictor(lin.name, lin.p * lin.q, lin.c, n_out, src, lin.tags))
    new = {
        q.name: q.with_(k=heads * dh, inputs=q.inputs + (gates[0][-1].name,)),
        kv.name: kv.with_(k=2 * heads * dh, inputs=kv.inputs + (gates[1][-1].name,)),
        qk.name: qk.with_(c=dh),
        av.name: av.with_(k=dh),
        proj.name: proj.with_(c=heads * dh),
        fc1.name: fc1.with_(k=hid, inputs=fc1.inputs + (gates[2][-1].name,)),
        dw.name: dw.with_(k=hid, c=hid, groups=hid),
        act.name: act.with_(k=hid, c=hid),
        fc2.name: fc2.with_(c=hid),
    }
    layers.update(new)
    for lin, gate in zip((q, kv, fc1), gates):
        at = order.index(lin.name)
        order[at:at] = [g.name for g in gate]
        layers.update({g.name: g for g in gate})


def gate_neurons(wl: Workload, prune: float) -> Workload:
    """DynaSegFormer gating: prune a fraction of the q/k/v and Mix-FFN hidden neurons in every
    MiT block, skipping them in the producing and consuming layers, plus each gate predictor."""
    layers = {layer.name: layer for layer in wl.layers}
    order = [layer.name for layer in wl.layers]
    blocks = sorted({n.rsplit(".attn.q", 1)[0] for n in order if n.endswith(".attn.q")})
    if not blocks:
        raise WorkloadError(f"gate_prune: {wl.name} has no MiT blocks (layers *.attn.q)")
    for pre in blocks:
        try:
            _gate_block(layers, order, pre, prune)
        except KeyError as exc:
            raise WorkloadError(f"gate_prune: block {pre} lacks layer {exc.args[0]}") from None
    return wl.replace(layers=tuple(layers[n] for n in order))
