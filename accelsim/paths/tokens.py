"""Token methods for ViT encoders (SPEC.md section 8): PAUMER token pausing, CTS token
sharing, Expedite token clustering/reconstruction. Each changes how many tokens later
encoder layers process and adds the method's own layers (named ``paumer.*``, ``cts.*``,
``expedite.*``) with their costs.

The encoder is the ``part=encoder`` layers with ``block`` tags (Segmenter's ViT): ``N`` =
patch tokens + the class token, which is never paused, shared or clustered.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from ..errors import WorkloadError
from ..workload.ir import Layer, Op, Workload, pool_layer, softmax_layer
from .graphops import consumers_of, rewire

def _tags(**extra: str) -> tuple:
    return tuple(sorted({"part": "encoder", **extra}.items()))


def _encoder(wl: Workload) -> tuple[list[str], int, int, int]:
    """(block ids in order, tokens N incl. the class token, width d, patch tokens)."""
    blocks: list[str] = []
    for layer in wl.layers:
        tag = layer.tag
        if tag.get("part") == "encoder" and "block" in tag and tag["block"] not in blocks:
            blocks.append(tag["block"])
    first = next((l for l in wl.layers if l.tag.get("part") == "encoder"
                  and l.tag.get("block") == blocks[0] and l.op is Op.LINEAR), None) if blocks else None
    if first is None:
        raise WorkloadError(f"{wl.name} has no ViT encoder blocks (part=encoder, block=i); token "
                            "methods apply to Segmenter/ViT workloads")
    n = first.p * first.q
    return blocks, n, first.c, n - 1


def _scaled(layer: Layer, n_old: int, n_new: int) -> Layer:
    """``layer`` with every token dimension equal to ``n_old`` set to ``n_new``."""
    ch: dict[str, int] = {}
    if layer.op in (Op.MATMUL, Op.SOFTMAX):
        if layer.p * layer.q == n_old:
            ch.update(p=n_new, q=1)
        if layer.k == n_old:
            ch["k"] = n_new
        if layer.c == n_old:
            ch["c"] = n_new
    elif layer.p * layer.q == n_old and layer.op is not Op.CONV2D:
        ch.update(p=n_new, q=1)
    return layer.with_(**ch) if ch else layer


def _block_of(layer: Layer) -> str | None:
    tag = layer.tag
    return tag.get("block") if tag.get("part") == "encoder" else None


def _rescale(wl: Workload, blocks: Sequence[str], counts: Mapping[str, int], after: int,
             n: int) -> list[Layer]:
    """Encoder blocks take ``counts[block]`` tokens; encoder layers after the last block
    (the final norm) take ``after`` tokens."""
    last = max(i for i, l in enumerate(wl.layers) if _block_of(l) in blocks)
    out = []
    for i, layer in enumerate(wl.layers):
        blk = _block_of(layer)
        if blk in counts:
            layer = _scaled(layer, n, counts[blk])
        elif i > last and layer.tag.get("part") == "encoder":
            layer = _scaled(layer, n, after)
        out.append(layer)
    return out


def _insert(layers: list[Layer], anchor: str, new: Sequence[Layer]) -> list[Layer]:
    """Insert ``new`` after ``anchor``; later readers of ``anchor`` read the last new layer."""
    pos = next(i for i, l in enumerate(layers) if l.name == anchor) + 1
    return layers[:pos] + list(new) + list(rewire(layers[pos:], {anchor: new[-1].name}))


def _block_out(layers: Sequence[Layer], block: str) -> str:
    """The layer of ``block`` that later layers read (its residual output)."""
    members = [l.name for l in layers if _block_of(l) == block]
    users = consumers_of(layers)
    outs = [m for m in members if any(u not in members for u in users.get(m, []))]
    if len(outs) != 1:
        raise WorkloadError(f"encoder block {block} exposes {len(outs)} outputs; expected one")
    return outs[0]


def _final_encoder_layer(layers: Sequence[Layer]) -> str:
    return [l.name for l in layers if l.tag.get("part") == "encoder"][-1]


def _assembler(layers: list[Layer], name: str, d: int, patches: int) -> list[Layer]:
    """Scatter/unshare all patch tokens back to the full grid before the decoder."""
    final = _final_encoder_layer(layers)
    asm = Layer(name, Op.OTHER, k=d, c=d, p=patches, q=1, fn="scatter_tokens", inputs=(final,),
                tags=_tags())
    return _insert(layers, final, [asm])


# ------------------------------------------------------------------- PAUMER
def pause_tokens(wl: Workload, points: Sequence[tuple[int, float]]) -> Workload:
    """PAUMER (Courdier et al., BMVC 2022; SPEC.md section 8): after encoder layer ``l``
    (1-based) an auxiliary 1x1 decoder scores the active patch tokens, their entropy and a
    top-k pause ``round(tau * active patches)`` of them; later layers run on the rest; a patch
    assembler scatters all patch tokens back before the decoder.

    ``tau`` is taken relative to the tokens still active: PAUMER's Table 1 pauses 0.4 after
    each of layers 3, 5 and 7, which cannot be 0.4 of all tokens three times (SPEC.md says
    "of all N tokens"; for a single pause point both readings agree)."""
    blocks, n, d, patches = _encoder(wl)
    depth = len(blocks)
    for l, _ in points:
        if not 1 <= l < depth:
            raise WorkloadError(f"pause={l}:...: {wl.name} has {depth} encoder layers; pause after "
                                f"layer 1..{depth - 1}")
    classes = wl.num_classes
    counts: dict[str, int] = {}
    active = n
    schedule = dict(points)
    new_by_anchor: dict[str, list[Layer]] = {}
    for i, blk in enumerate(blocks):
        if i in schedule:  # pause after layer i (1-based) = before block index i
            paused = int(round(schedule[i] * (active - 1)))
            if paused >= active - 1:
                raise WorkloadError(f"pause: pausing {paused} more tokens leaves none active")
            pre = f"paumer.pause{i}"
            t = _tags()
            aux = Layer(f"{pre}.aux_decoder", Op.LINEAR, k=classes, c=d, p=active - 1, bias=True,
                        inputs=("?",), tags=t)
            # entropy -sum p log p over the classes of each token: softmax (3) + log, mul, add (3)
            ent = Layer(f"{pre}.entropy", Op.OTHER, k=classes, c=classes, p=active - 1, fn="entropy",
                        ops_per_element=6, inputs=(aux.name,), tags=t)
            topk = Layer(f"{pre}.topk", Op.OTHER, k=1, c=1, p=active - 1, fn="topk",
                         ops_per_element=max(1, math.ceil(math.log2(active - 1))),
                         inputs=(ent.name,), tags=t)
            active -= paused
            gather = Layer(f"{pre}.gather", Op.OTHER, k=d, c=d, p=active, fn="gather_tokens",
                           inputs=("?", topk.name), tags=t)
            new_by_anchor[blocks[i - 1]] = [aux, ent, topk, gather]
        counts[blk] = active
    layers = _rescale(wl, blocks, counts, active, n)
    for blk, new in new_by_anchor.items():
        anchor = _block_out(layers, blk)
        new = [l.with_(inputs=tuple(anchor if s == "?" else s for s in l.inputs)) for l in new]
        layers = _insert(layers, anchor, new)
    layers = _assembler(layers, "paumer.assembler", d, patches)
    return wl.replace(layers=tuple(layers))


# ---------------------------------------------------------------------- CTS
def policy_network(wl: Workload) -> list[Layer]:
    """CTS policy network (Lu et al., CVPR 2023; SPEC.md section 8): EfficientNet-Lite0 on the
    image to 1/32 resolution plus a 1x1 conv to 2 classes, layers renamed ``cts.policy.*``."""
    from ..workload.registry import load_workload

    pol = load_workload("efficientnet-lite0", input_size=wl.input_size, features_only=True)
    ren = {l.name: f"cts.policy.{l.name}" for l in pol.layers}
    tag = tuple(sorted({"part": "policy"}.items()))
    layers = [l.with_(name=ren[l.name], inputs=tuple(ren.get(s, s) for s in l.inputs), tags=tag)
              for l in pol.layers]
    last = layers[-1]
    layers.append(Layer("cts.policy.classifier", Op.CONV2D, k=2, c=last.k, p=last.p, q=last.q,
                        bias=True, inputs=(last.name,), tags=tag))
    return layers


def share_tokens(wl: Workload, reduction: float | None = None, shared: int | None = None) -> Workload:
    """CTS: ``S`` 2x2-patch superpatches share one token each, so the encoder (patch embedding
    included) runs on ``N - 3S`` tokens; ``reduction`` gives ``3S`` as a fraction of the
    patch tokens. Adds the policy network and the unsharing copy before the decoder."""
    blocks, n, d, patches = _encoder(wl)
    embed = next(l for l in wl.layers if l.tag.get("part") == "encoder" and l.op is Op.CONV2D)
    superpatches = (embed.p // 2) * (embed.q // 2)
    s = shared if shared is not None else int(round((reduction or 0.0) * patches / 3))
    if s > superpatches:
        raise WorkloadError(f"cts: {s} shared superpatches but the {embed.p}x{embed.q} patch grid has "
                            f"{superpatches} 2x2 superpatches")
    m = n - 3 * s
    layers = []
    for layer in wl.layers:
        if layer.name == embed.name:
            layer = layer.with_(p=m - 1, q=1, in_h=0, in_w=0)
        elif layer.tag.get("part") == "encoder":
            layer = _scaled(layer, n, m)
        layers.append(layer)
    layers = policy_network(wl) + layers
    layers = _assembler(layers, "cts.unshare", d, patches)
    return wl.replace(layers=tuple(layers))


# ---------------------------------------------------------------- Expedite
def _local_attention(pre: str, src: tuple[str, ...], cells: int, per_cell: int, d: int,
                     width: int, tags: tuple) -> list[Layer]:
    """Tokens grouped by their initial cell (``per_cell`` tokens in each of ``cells``) against
    the ``width`` centres around that cell: similarity, softmax, weighted sum, as two batched
    matmuls with the centres as the dynamic right operand shared within a cell."""
    sim = Layer(f"{pre}.sim", Op.MATMUL, k=width, c=d, p=per_cell, batch=cells, inputs=src, tags=tags)
    sm = softmax_layer(f"{pre}.softmax", width, per_cell, batch=cells, inputs=(sim.name,)).with_(tags=tags)
    agg = Layer(f"{pre}.aggregate", Op.MATMUL, k=d, c=width, p=per_cell, batch=cells,
                inputs=(sm.name,) + src, tags=tags)
    return [sim, sm, agg]


def cluster_tokens(wl: Workload, cluster: tuple[int, int], alpha: int | None = None,
                   beta: int | None = None, gamma: int | None = None, kappa: int = 5,
                   k: int = 20, **opts) -> Workload:
    """Expedite (Liang et al., NeurIPS 2022; SPEC.md section 8): after layer ``alpha`` local
    k-means (centres by adaptive average pooling to h x w, ``kappa`` iterations over a
    ``lambda x lambda`` neighbourhood) turns the patch tokens into ``h*w``; layers
    ``alpha+1 .. alpha+beta`` run on them; a reconstruction layer (``k`` nearest centres)
    restores all tokens for the last ``gamma`` layers and the decoder."""
    lam = int(opts.pop("lambda", 5))
    blocks, n, d, patches = _encoder(wl)
    depth = len(blocks)
    embed = next(l for l in wl.layers if l.tag.get("part") == "encoder" and l.op is Op.CONV2D)
    gh, gw = embed.p, embed.q
    h, w = cluster
    alpha = int(round(depth * 10 / 24)) if alpha is None else alpha  # 10 of 24 (SPEC.md s. 8)
    beta = depth - alpha if beta is None else beta
    if alpha + beta > depth:
        raise WorkloadError(f"cluster: alpha + beta = {alpha + beta} exceeds the {depth} encoder layers")
    if gamma is not None and gamma != depth - alpha - beta:
        raise WorkloadError(f"cluster: gamma={gamma} must equal depth - alpha - beta = "
                            f"{depth - alpha - beta}")
    if h > gh or w > gw or h * w >= patches:
        raise WorkloadError(f"cluster={h}x{w}: must be smaller than the {gh}x{gw} patch grid")
    m = h * w
    if lam * lam > m or k > m:
        raise WorkloadError(f"cluster={h}x{w}: lambda^2={lam * lam} and k={k} must not exceed "
                            f"the {m} centres")
    counts = {blk: m + 1 for blk in blocks[alpha:alpha + beta]}
    layers = _rescale(wl, blocks, counts, n, n)
    t = _tags()
    src = _block_out(layers, blocks[alpha - 1])
    pool = pool_layer("expedite.cluster.init", d, h, w, 1, 1, 1, 0, "adaptive_avg", (src,), gh, gw,
                      window=max(1, -(-gh // h)) * max(1, -(-gw // w))).with_(tags=t)
    new = [pool]
    prev = pool.name
    per_cell = max(1, int(round(patches / m)))  # tokens per initial cell (rounded)
    for it in range(kappa):  # each iteration: assign tokens to lambda^2 centres, update centres
        new += _local_attention(f"expedite.cluster.iter{it}", (src, prev), m, per_cell, d,
                                lam * lam, t)
        prev = new[-1].name
    new.append(Layer("expedite.cluster.tokens", Op.OTHER, k=d, c=d, p=m + 1, fn="concat_cls",
                     inputs=(prev, src), tags=t))
    layers = _insert(layers, src, new)
    end = _block_out(layers, blocks[alpha + beta - 1])
    rec = _local_attention("expedite.reconstruct", (end, src), m, per_cell, d, k, t)
    rec.append(Layer("expedite.reconstruct.tokens", Op.OTHER, k=d, c=d, p=n, fn="concat_cls",
                     inputs=(rec[-1].name,), tags=t))
    layers = _insert(layers, end, rec)
    return wl.replace(layers=tuple(layers))
