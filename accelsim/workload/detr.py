"""DETR, Conditional DETR, DAB-DETR and Anchor DETR on a ResNet-50 C5 backbone (SPEC.md section 7).

Layer names follow the official repositories (facebookresearch/detr,
Atten4Vis/ConditionalDETR, IDEA-Research/DAB-DETR, megvii-research/AnchorDETR); the
mapping to Hugging Face ``transformers`` module names is in ``docs/workloads_cnn_detr.md``
and :data:`HF_NAME_RULES`. Conventions:

- The backbone is torchvision ResNet-50 (``backbone.0.body.*``) with ``FrozenBatchNorm2d``
  (scale/shift are buffers: fused, not counted as parameters); only C5 is used.
- Input padding: the longer image side is padded up to a multiple of ``pad_to`` pixels
  (default 32, SPEC.md section 7; ``pad_to=1`` disables it, which is what the reference
  code does for a single image); the shorter side is left as given. The pad is an
  explicit ``pad`` layer (a copy) when it changes the size.
- ``nn.MultiheadAttention``'s packed ``in_proj_weight`` is emitted as three linears
  ``q_proj``/``k_proj``/``v_proj``; the 1/sqrt(d_head) scaling is folded into ``q_proj``.
  Attention is ``qk`` (Q @ K^T per head), ``softmax`` and ``av`` (A @ V per head).
- Sine positional encodings, mask handling, sigmoid and inverse-sigmoid updates are
  element ops (``other``/``eltwise``), never MACs (SPEC.md section 1).
- A module applied more than once (e.g. DAB-DETR's ``query_scale`` in every layer) gets
  one layer per call named ``<module>@<call>``; later calls set ``Layer.shares`` to the
  first call, so the parameter total counts the weights once, as ``torch`` does.
- Class and box heads run on the outputs of all decoder layers (auxiliary outputs);
  where the reference applies a head to the stacked decoder outputs, one layer over
  ``layers x queries`` tokens is emitted (same MACs as one call per layer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..errors import WorkloadError
from .builder import Builder, T, attention, check_input, ffn
from .ir import Workload, pad_to as round_up  # renamed: the models' option is called pad_to
from .catalog import model
from .resnet import resnet50_body

D_MODEL = 256
HEADS = 8
ENC_LAYERS = 6
DEC_LAYERS = 6
#: Default detection input (SPEC.md section 7: images around 800 x 1200).
DEFAULT_INPUT = (800, 1200)
PAD_MULTIPLE = 32
BACKBONE_PREFIX = "backbone.0.body."

#: Regex rules (pattern, replacement) mapping official DETR names to ``transformers``'
#: ``DetrForObjectDetection`` module names (applied in order; ``@<call>`` suffixes and the
#: ``qk``/``softmax``/``av`` functional steps have no module and are left as they are).
HF_NAME_RULES: tuple[tuple[str, str], ...] = (
    (r"^backbone\.0\.body\.", "model.backbone.model."),
    (r"^input_proj$", "model.input_projection"),
    (r"^query_embed$", "model.query_position_embeddings"),
    (r"^transformer\.encoder\.layers\.(\d+)\.self_attn\.out_proj$", r"model.encoder.layers.\1.self_attn.o_proj"),
    (r"^transformer\.encoder\.layers\.(\d+)\.norm1$", r"model.encoder.layers.\1.self_attn_layer_norm"),
    (r"^transformer\.encoder\.layers\.(\d+)\.linear([12])$", r"model.encoder.layers.\1.mlp.fc\2"),
    (r"^transformer\.encoder\.layers\.(\d+)\.norm2$", r"model.encoder.layers.\1.final_layer_norm"),
    (r"^transformer\.decoder\.layers\.(\d+)\.multihead_attn\.", r"model.decoder.layers.\1.encoder_attn."),
    (r"^transformer\.decoder\.layers\.(\d+)\.self_attn\.out_proj$", r"model.decoder.layers.\1.self_attn.o_proj"),
    (r"^model\.decoder\.layers\.(\d+)\.encoder_attn\.out_proj$", r"model.decoder.layers.\1.encoder_attn.o_proj"),
    (r"^transformer\.decoder\.layers\.(\d+)\.norm1$", r"model.decoder.layers.\1.self_attn_layer_norm"),
    (r"^transformer\.decoder\.layers\.(\d+)\.norm2$", r"model.decoder.layers.\1.encoder_attn_layer_norm"),
    (r"^transformer\.decoder\.layers\.(\d+)\.linear([12])$", r"model.decoder.layers.\1.mlp.fc\2"),
    (r"^transformer\.decoder\.layers\.(\d+)\.norm3$", r"model.decoder.layers.\1.final_layer_norm"),
    (r"^transformer\.decoder\.layers\.", "model.decoder.layers."),
    (r"^transformer\.encoder\.layers\.", "model.encoder.layers."),
    (r"^transformer\.decoder\.norm", "model.decoder.layernorm"),
    (r"^class_embed$", "class_labels_classifier"),
    (r"^bbox_embed\.", "bbox_predictor."),
)


def hf_detr_name(name: str) -> str:
    """The ``transformers`` DETR module name of an official DETR layer name (best effort)."""
    import re

    for pat, rep in HF_NAME_RULES:
        name = re.sub(pat, rep, name)
    return name


# ----------------------------------------------------------------------------- helpers
@dataclass
class SharedCalls:
    """Per-build record of modules called more than once: module -> name of its first call."""

    owner: dict[str, str] = field(default_factory=dict)

    def mark(self, b: Builder, module: str) -> None:
        """Mark the layer just emitted as a call of ``module`` (weights counted at first call)."""
        last = b.layers[-1]
        if module not in self.owner:
            self.owner[module] = last.name
            return
        b.layers[-1] = last.with_(shares=self.owner[module])


def _call(name: str, call: str | int | None) -> str:
    return name if call is None else f"{name}@{call}"


def mlp(b: Builder, prefix: str, x: T, dims: Sequence[int], call: str | int | None = None,
        shared: SharedCalls | None = None, sigmoid: bool = False, share_as: str | None = None) -> T:
    """DETR ``MLP``: ``layers.<j>`` linears with ReLU between (fused), optional final sigmoid.

    With ``shared``, each linear is recorded as a call of ``<share_as or prefix>.layers.<j>``.
    """
    for j, k in enumerate(dims):
        module = f"{prefix}.layers.{j}"
        x = b.linear(_call(module, call), x, k)
        if shared is not None:
            shared.mark(b, f"{share_as or prefix}.layers.{j}")
        if j < len(dims) - 1:
            x = b.act(_call(f"{module}.relu", call), x, fn="relu")
    if sigmoid:
        x = b.act(_call(f"{prefix}.sigmoid", call), x, fn="sigmoid")
    return x


def mha(b: Builder, prefix: str, q_in: T, k_in: T, v_in: T, heads: int = HEADS) -> T:
    """``nn.MultiheadAttention`` (packed in-projection emitted as q/k/v_proj)."""
    d = v_in.c
    q = b.linear(f"{prefix}.q_proj", q_in, d)
    k = b.linear(f"{prefix}.k_proj", k_in, d)
    v = b.linear(f"{prefix}.v_proj", v_in, d)
    return attention(b, prefix, q, k, v, heads)


def add_norm(b: Builder, add: str, norm: str, x: T, res: T) -> T:
    """Residual add then (unfused) LayerNorm: the post-norm transformer step."""
    return b.norm(norm, b.add(add, x, res))


def stack(b: Builder, name: str, outs: Sequence[T]) -> T:
    """Stack per-layer query outputs into one ``layers x queries`` token tensor (a copy)."""
    cat = b.concat(name, outs)
    return b.reshape(cat, outs[0].c, len(outs), outs[0].tokens)


def padded_size(size: tuple[int, int], multiple: int) -> tuple[int, int]:
    """Pad the longer side up to a multiple of ``multiple`` pixels (both sides if square)."""
    h, w = size
    return (round_up(h, multiple) if h >= w else h, round_up(w, multiple) if w >= h else w)


def _stem(b: Builder, model_name: str, input_size, pad_to: int) -> tuple[T, tuple[int, int]]:
    """Input (+ pad layer) and the frozen-BN ResNet-50 C5 features."""
    try:
        pad_to = int(pad_to)
    except (TypeError, ValueError):
        pad_to = 0
    if pad_to < 1:
        raise WorkloadError(f"{model_name}: option pad_to must be a positive integer (1 = no padding)")
    h, w = check_input(model_name, input_size, multiple=1, lo=32)
    hp, wp = padded_size((h, w), pad_to)
    x = b.input(3, h, w)
    if (hp, wp) != (h, w):
        b.set_tags(part="backbone", stage="input")
        x = b.other("pad", [x], 3, hp, wp, fn="pad")
    feats = resnet50_body(b, x, prefix=BACKBONE_PREFIX, frozen_bn=True)
    return feats.c5, (hp, wp)


def _input_proj(b: Builder, c5: T) -> T:
    b.set_tags(part="neck")
    return b.conv("input_proj", c5, D_MODEL, 1, bias=True)


def _sine_pos(b: Builder, src: T) -> T:
    """``PositionEmbeddingSine`` (normalised, 128 features per axis): 256 x H x W element ops."""
    b.set_tags(part="backbone", stage="position_embedding")
    return b.other("backbone.1", [src], D_MODEL, src.h, src.w, fn="sine_pos_embed", ops_per_element=4)


def _embedding(b: Builder, name: str, n: int, c: int) -> T:
    """A learned table (``nn.Embedding.weight``) read as an ``n``-token tensor."""
    return b.other(name, [], c, n, 1, fn="embedding", extra_params=n * c)


def _workload(b: Builder, name: str, family: str, size, classes: int, padded, **meta) -> Workload:
    return b.workload(name=name, family=family, variant="r50", input_size=tuple(size),
                      num_classes=classes, dataset="coco2017",
                      meta={"padded_input": f"{padded[0]}x{padded[1]}", **meta})


# ----------------------------------------------------------------------------- DETR
def _front(b: Builder, model_name: str, input_size, pad_to: int, shared: SharedCalls | None = None,
           query_scale: bool = False, act: str = "relu") -> tuple[T, T, tuple[int, int]]:
    """Padded input, ResNet-50 C5, ``input_proj``, sine positions and the 6-layer encoder.

    Returns (memory, positional encoding, padded input size); later layers are decoder-tagged.
    """
    c5, padded = _stem(b, model_name, input_size, pad_to)
    src = _input_proj(b, c5)
    pos = _sine_pos(b, c5)
    memory = _detr_encoder(b, src, pos, 2048, shared=shared, query_scale=query_scale, act=act)
    b.set_tags(part="decoder", stage="decoder")
    return memory, pos, padded


def _zeros(b: Builder, queries: int) -> T:
    """The decoder's initial target ``torch.zeros(num_queries, d_model)``."""
    return b.other("transformer.tgt", [], D_MODEL, queries, 1, fn="zeros")


def _detr_encoder(b: Builder, src: T, pos: T, dff: int, shared: SharedCalls | None = None,
                  query_scale: bool = False, act: str = "relu") -> T:
    """Post-norm DETR encoder; DAB-DETR adds ``transformer.encoder.query_scale`` per layer."""
    for i in range(ENC_LAYERS):
        L = f"transformer.encoder.layers.{i}"
        b.set_tags(part="encoder", stage="encoder", block=L)
        p = pos
        if query_scale:
            scale = mlp(b, "transformer.encoder.query_scale", src, [D_MODEL, D_MODEL], call=i, shared=shared)
            p = b.add(f"transformer.encoder.pos_scale@{i}", pos, scale, fn="mul")
        qk = b.add(f"{L}.pos_add", src, p)
        a = mha(b, f"{L}.self_attn", qk, qk, src)
        src = add_norm(b, f"{L}.add1", f"{L}.norm1", src, a)
        src = add_norm(b, f"{L}.add2", f"{L}.norm2", src, ffn(b, L, src, dff, act=act))
    return src


def _detr_decoder_layer(b: Builder, L: str, tgt: T, memory: T, pos: T, query_pos: T, dff: int) -> T:
    q = b.add(f"{L}.query_pos_add", tgt, query_pos)
    tgt = add_norm(b, f"{L}.add1", f"{L}.norm1", tgt, mha(b, f"{L}.self_attn", q, q, tgt))
    q = b.add(f"{L}.cross_query_pos_add", tgt, query_pos)
    k = b.add(f"{L}.memory_pos_add", memory, pos)
    tgt = add_norm(b, f"{L}.add2", f"{L}.norm2", tgt, mha(b, f"{L}.multihead_attn", q, k, memory))
    return add_norm(b, f"{L}.add3", f"{L}.norm3", tgt, ffn(b, L, tgt, dff))


def _decoder_norm(b: Builder, x: T, i: int, shared: SharedCalls) -> T:
    """The decoder's final LayerNorm, applied to every layer's output (return_intermediate)."""
    y = b.norm(f"transformer.decoder.norm@{i}", x)
    shared.mark(b, "transformer.decoder.norm")
    return y


@model("detr-r50", family="detr", variant="r50", default_input=DEFAULT_INPUT, default_classes=92,
       dataset="coco2017",
       description="DETR ResNet-50 (6+6 layers, d=256, 100 queries); 92 logits = 91 COCO ids + no-object")
def detr_r50(input_size: tuple[int, int] = DEFAULT_INPUT, num_classes: int = 92,
             pad_to: int = PAD_MULTIPLE) -> Workload:
    """DETR-R50 (facebookresearch/detr ``detr.py``/``transformer.py``)."""
    b, shared = Builder(), SharedCalls()
    memory, pos, padded = _front(b, "detr-r50", input_size, pad_to)
    query_pos = _embedding(b, "query_embed", 100, D_MODEL)
    tgt = _zeros(b, 100)
    outs = []
    for i in range(DEC_LAYERS):
        L = f"transformer.decoder.layers.{i}"
        b.set_tags(part="decoder", stage="decoder", block=L)
        tgt = _detr_decoder_layer(b, L, tgt, memory, pos, query_pos, 2048)
        outs.append(_decoder_norm(b, tgt, i, shared))
    b.set_tags(part="head")
    hs = stack(b, "transformer.decoder.stack", outs)
    b.linear("class_embed", hs, num_classes)
    mlp(b, "bbox_embed", hs, [D_MODEL, D_MODEL, 4], sigmoid=True)
    return _workload(b, "detr-r50", "detr", input_size, num_classes, padded, queries=100)


# ----------------------------------------------------------------------------- Conditional / DAB
def _cond_decoder_layer(b: Builder, L: str, tgt: T, memory: T, pos: T, query_pos: T, sine: T,
                        first: bool, dff: int = 2048, act: str = "relu") -> T:
    """Conditional-DETR decoder layer: content/position linears, 512-wide cross-attention QK."""
    lin = b.linear
    qc, qp = lin(f"{L}.sa_qcontent_proj", tgt, D_MODEL), lin(f"{L}.sa_qpos_proj", query_pos, D_MODEL)
    kc, kp = lin(f"{L}.sa_kcontent_proj", tgt, D_MODEL), lin(f"{L}.sa_kpos_proj", query_pos, D_MODEL)
    v = lin(f"{L}.sa_v_proj", tgt, D_MODEL)
    q, k = b.add(f"{L}.sa_q_add", qc, qp), b.add(f"{L}.sa_k_add", kc, kp)
    tgt = add_norm(b, f"{L}.add1", f"{L}.norm1", tgt, attention(b, f"{L}.self_attn", q, k, v, HEADS))
    qc = lin(f"{L}.ca_qcontent_proj", tgt, D_MODEL)
    kc = lin(f"{L}.ca_kcontent_proj", memory, D_MODEL)
    v = lin(f"{L}.ca_v_proj", memory, D_MODEL)
    kp = lin(f"{L}.ca_kpos_proj", pos, D_MODEL)
    if first:
        qp = lin(f"{L}.ca_qpos_proj", query_pos, D_MODEL)
        qc, kc = b.add(f"{L}.ca_q_add", qc, qp), b.add(f"{L}.ca_k_add", kc, kp)
    s = lin(f"{L}.ca_qpos_sine_proj", sine, D_MODEL)
    q = b.concat(f"{L}.ca_q_cat", [qc, s])     # per head [content 32 | sine 32] = 64
    k = b.concat(f"{L}.ca_k_cat", [kc, kp])
    tgt = add_norm(b, f"{L}.add2", f"{L}.norm2", tgt, attention(b, f"{L}.cross_attn", q, k, v, HEADS))
    return add_norm(b, f"{L}.add3", f"{L}.norm3", tgt, ffn(b, L, tgt, dff, act=act))


@model("conditional-detr-r50", family="conditional_detr", variant="r50", default_input=DEFAULT_INPUT,
       default_classes=91, dataset="coco2017",
       description="Conditional DETR ResNet-50 (300 queries, 512-wide cross-attention QK, 91 focal logits)")
def conditional_detr_r50(input_size: tuple[int, int] = DEFAULT_INPUT, num_classes: int = 91,
                         pad_to: int = PAD_MULTIPLE) -> Workload:
    """Conditional DETR-R50 (Atten4Vis/ConditionalDETR)."""
    nq = 300
    b, shared = Builder(), SharedCalls()
    memory, pos, padded = _front(b, "conditional-detr-r50", input_size, pad_to)
    query_pos = _embedding(b, "query_embed", nq, D_MODEL)
    tgt = _zeros(b, nq)
    ref = mlp(b, "transformer.decoder.ref_point_head", query_pos, [D_MODEL, 2], sigmoid=True)
    outs = []
    for i in range(DEC_LAYERS):
        L = f"transformer.decoder.layers.{i}"
        b.set_tags(part="decoder", stage="decoder", block=L)
        sine = b.other(f"transformer.decoder.query_sine_embed@{i}", [ref], D_MODEL, nq, 1,
                       fn="sine_embed", ops_per_element=4)
        if i > 0:
            scale = mlp(b, "transformer.decoder.query_scale", tgt, [D_MODEL, D_MODEL], call=i, shared=shared)
            sine = b.add(f"transformer.decoder.pos_transformation@{i}", sine, scale, fn="mul")
        tgt = _cond_decoder_layer(b, L, tgt, memory, pos, query_pos, sine, first=(i == 0))
        outs.append(_decoder_norm(b, tgt, i, shared))
    b.set_tags(part="head")
    hs = stack(b, "transformer.decoder.stack", outs)
    b.linear("class_embed", hs, num_classes)
    box = mlp(b, "bbox_embed", hs, [D_MODEL, D_MODEL, 4])
    box = b.add("bbox_embed.reference_add", box, ref)
    b.act("bbox_embed.sigmoid", box, fn="sigmoid", fused=False)
    return _workload(b, "conditional-detr-r50", "conditional_detr", input_size, num_classes, padded,
                     queries=nq)


@model("dab-detr-r50", family="dab_detr", variant="r50", default_input=DEFAULT_INPUT,
       default_classes=91, dataset="coco2017",
       description="DAB-DETR ResNet-50 (300 4-D anchor queries, encoder query_scale, per-layer "
                   "anchor refinement)")
def dab_detr_r50(input_size: tuple[int, int] = DEFAULT_INPUT, num_classes: int = 91,
                 pad_to: int = PAD_MULTIPLE) -> Workload:
    """DAB-DETR-R50 (IDEA-Research/DAB-DETR ``models/DAB_DETR``; modulate_hw_attn, iter_update,
    PReLU transformer activation)."""
    nq = 300
    b, shared = Builder(), SharedCalls()
    memory, pos, padded = _front(b, "dab-detr-r50", input_size, pad_to, shared=shared,
                                 query_scale=True, act="prelu")
    anchors = _embedding(b, "refpoint_embed", nq, 4)
    ref = b.act("transformer.decoder.refpoint_sigmoid", anchors, fn="sigmoid", fused=False)
    tgt = _zeros(b, nq)
    outs = []
    for i in range(DEC_LAYERS):
        L = f"transformer.decoder.layers.{i}"
        b.set_tags(part="decoder", stage="decoder", block=L)
        sine512 = b.other(f"transformer.decoder.query_sine_embed@{i}", [ref], 2 * D_MODEL, nq, 1,
                          fn="sine_embed", ops_per_element=4)
        query_pos = mlp(b, "transformer.decoder.ref_point_head", sine512, [D_MODEL, D_MODEL],
                        call=i, shared=shared)
        sine = T(sine512.src, D_MODEL, nq, 1)  # query_sine_embed[..., :d_model]: a view
        if i > 0:
            scale = mlp(b, "transformer.decoder.query_scale", tgt, [D_MODEL, D_MODEL], call=i, shared=shared)
            sine = b.add(f"transformer.decoder.pos_transformation@{i}", scale, sine, fn="mul")
        ref_hw = mlp(b, "transformer.decoder.ref_anchor_head", tgt, [D_MODEL, 2], call=i,
                     shared=shared, sigmoid=True)
        sine = b.other(f"transformer.decoder.modulate_hw@{i}", [sine, ref_hw, ref], D_MODEL, nq, 1,
                       fn="mul", ops_per_element=2)
        tgt = _cond_decoder_layer(b, L, tgt, memory, pos, query_pos, sine, first=(i == 0), act="prelu")
        delta = mlp(b, "bbox_embed", tgt, [D_MODEL, D_MODEL, 4], call=i, shared=shared)
        ref = b.other(f"transformer.decoder.ref_update@{i}", [delta, ref], 4, nq, 1,
                      fn="inverse_sigmoid_add_sigmoid", ops_per_element=3)
        outs.append(_decoder_norm(b, tgt, i, shared))
    b.set_tags(part="head")
    hs = stack(b, "transformer.decoder.stack", outs)
    b.linear("class_embed", hs, num_classes)
    box = mlp(b, "bbox_embed", hs, [D_MODEL, D_MODEL, 4], call="out", shared=shared)
    b.other("bbox_embed.reference_add_sigmoid", [box], 4, box.h, box.w, fn="add_sigmoid",
            ops_per_element=2)
    return _workload(b, "dab-detr-r50", "dab_detr", input_size, num_classes, padded, queries=nq)


# ----------------------------------------------------------------------------- Anchor DETR
def rcda(b: Builder, prefix: str, q_row: T, q_col: T, k_row: T, k_col: T, v_in: T,
         heads: int = HEADS) -> T:
    """Row-column decoupled attention (``multi_head_rcda_forward``, efficient_compute=True).

    Keys are projected over all H x W positions and then averaged over rows (-> W keys)
    or columns (-> H keys). The value aggregation runs the shorter key axis last:
    with H < W it is ``A_row [Lq x W] @ V [W x H*dh]`` then ``A_col [1 x H] @ [H x dh]``
    per query; otherwise the same with H and W swapped.
    """
    d, h, w = v_in.c, v_in.h, v_in.w
    dh = d // heads
    qr = b.linear(f"{prefix}.q_row_proj", q_row, d)
    qc = b.linear(f"{prefix}.q_col_proj", q_col, d)
    kr = b.linear(f"{prefix}.k_row_proj", k_row, d)
    kc = b.linear(f"{prefix}.k_col_proj", k_col, d)
    v = b.linear(f"{prefix}.v_proj", v_in, d)
    kr = b.pool(f"{prefix}.k_row_mean", kr, 1, 1, fn="avg", out_hw=(1, w))
    kc = b.pool(f"{prefix}.k_col_mean", kc, 1, 1, fn="avg", out_hw=(h, 1))
    lq = qr.tokens
    sr = b.softmax(f"{prefix}.softmax_row", b.matmul(f"{prefix}.qk_row", qr, kr, m=lq, k=w, c=dh, batch=heads),
                   batch=heads)
    sc = b.softmax(f"{prefix}.softmax_col", b.matmul(f"{prefix}.qk_col", qc, kc, m=lq, k=h, c=dh, batch=heads),
                   batch=heads)
    if h < w:
        first, second, n1, n2 = sr, sc, w, h
    else:
        first, second, n1, n2 = sc, sr, h, w
    o = b.matmul(f"{prefix}.av_1", first, v, m=lq, k=n2 * dh, c=n1, batch=heads)
    o = b.matmul(f"{prefix}.av_2", second, o, m=1, k=dh, c=n2, batch=heads * lq)
    return b.linear(f"{prefix}.out_proj", T(o.src, d, q_row.h, q_row.w), d)


def _anchor_ffn(b: Builder, prefix: str, x: T, dff: int) -> T:
    return add_norm(b, f"{prefix}.ffn.add", f"{prefix}.ffn.norm2", x, ffn(b, f"{prefix}.ffn", x, dff))


@model("anchor-detr-r50", family="anchor_detr", variant="r50", default_input=DEFAULT_INPUT,
       default_classes=91, dataset="coco2017",
       description="Anchor DETR ResNet-50 C5 (300 anchors x 3 patterns = 900 queries, FFN 1024, "
                   "row-column decoupled attention)")
def anchor_detr_r50(input_size: tuple[int, int] = DEFAULT_INPUT, num_classes: int = 91,
                    pad_to: int = PAD_MULTIPLE) -> Workload:
    """Anchor DETR-R50 C5 (megvii-research/AnchorDETR ``transformer.py``, RCDA attention)."""
    n_pos, n_pat, dff = 300, 3, 1024
    nq = n_pos * n_pat
    b, shared = Builder(), SharedCalls()
    c5, padded = _stem(b, "anchor-detr-r50", input_size, pad_to)
    b.set_tags(part="neck")
    src = b.conv("input_proj.0.0", c5, D_MODEL, 1, bias=True)
    src = b.norm("input_proj.0.1", src, fn="groupnorm")
    h, w = src.h, src.w

    def adapt(module: str, x: T, call: str) -> T:
        y = b.linear(f"{module}.0@{call}", x, D_MODEL)
        shared.mark(b, f"{module}.0")
        y = b.act(f"{module}.1@{call}", y, fn="relu")
        y = b.linear(f"{module}.2@{call}", y, D_MODEL)
        shared.mark(b, f"{module}.2")
        return y

    b.set_tags(part="encoder", stage="position_embedding")
    rows = b.other("transformer.mask2pos", [c5], 1, 1, h + w, fn="mask2pos", ops_per_element=3)
    pe_row = b.other("transformer.pos2posemb1d@row", [rows], D_MODEL, 1, w, fn="sine_embed", ops_per_element=4)
    pe_col = b.other("transformer.pos2posemb1d@col", [rows], D_MODEL, h, 1, fn="sine_embed", ops_per_element=4)
    pos_row = adapt("transformer.adapt_pos1d", pe_row, "row")
    pos_col = adapt("transformer.adapt_pos1d", pe_col, "col")
    # posemb_row / posemb_col broadcast over the other axis: the adds read them per position
    for i in range(ENC_LAYERS):
        L = f"transformer.encoder_layers.{i}"
        b.set_tags(part="encoder", stage="encoder", block=L)
        xr = b.add(f"{L}.row_pos_add", src, pos_row)
        xc = b.add(f"{L}.col_pos_add", src, pos_col)
        a = rcda(b, f"{L}.self_attn", xr, xc, xr, xc, src)
        src = _anchor_ffn(b, L, add_norm(b, f"{L}.add1", f"{L}.norm1", src, a), dff)
    memory = src
    b.set_tags(part="decoder", stage="decoder")
    ref = _embedding(b, "transformer.position", n_pos, 2)
    ref = b.other("transformer.reference_points", [ref], 2, nq, 1, fn="repeat")
    tgt = b.other("transformer.pattern", [], D_MODEL, nq, 1, fn="embedding_repeat",
                  extra_params=n_pat * D_MODEL)
    for i in range(DEC_LAYERS):
        L = f"transformer.decoder_layers.{i}"
        b.set_tags(part="decoder", stage="decoder", block=L)
        pe2 = b.other(f"transformer.pos2posemb2d@{i}", [ref], D_MODEL, nq, 1, fn="sine_embed", ops_per_element=4)
        query_pos = adapt("transformer.adapt_pos2d", pe2, str(i))
        pex = b.other(f"transformer.pos2posemb1d@{i}x", [ref], D_MODEL, nq, 1, fn="sine_embed", ops_per_element=4)
        pey = b.other(f"transformer.pos2posemb1d@{i}y", [ref], D_MODEL, nq, 1, fn="sine_embed", ops_per_element=4)
        qpx = adapt("transformer.adapt_pos1d", pex, f"{i}x")
        qpy = adapt("transformer.adapt_pos1d", pey, f"{i}y")
        q = b.add(f"{L}.query_pos_add", tgt, query_pos)
        tgt = add_norm(b, f"{L}.add2", f"{L}.norm2", tgt, mha(b, f"{L}.self_attn", q, q, tgt))
        kr = b.add(f"{L}.row_pos_add", memory, pos_row)
        kc = b.add(f"{L}.col_pos_add", memory, pos_col)
        qr = b.add(f"{L}.query_pos_x_add", tgt, qpx)
        qc = b.add(f"{L}.query_pos_y_add", tgt, qpy)
        a = rcda(b, f"{L}.cross_attn", qr, qc, kr, kc, memory)
        tgt = _anchor_ffn(b, L, add_norm(b, f"{L}.add1", f"{L}.norm1", tgt, a), dff)
        b.set_tags(part="head", block=L)
        b.linear(f"transformer.class_embed.{i}", tgt, num_classes)
        shared.mark(b, "transformer.class_embed")
        # the same MLP object sits in every slot of the ModuleList: weights counted once
        box = mlp(b, f"transformer.bbox_embed.{i}", tgt, [D_MODEL, D_MODEL, 4], shared=shared,
                  share_as="transformer.bbox_embed")
        b.other(f"transformer.bbox_embed.{i}.reference_add_sigmoid", [box, ref], 4, nq, 1,
                fn="add_sigmoid", ops_per_element=2)
    return _workload(b, "anchor-detr-r50", "anchor_detr", input_size, num_classes, padded,
                     queries=nq)

