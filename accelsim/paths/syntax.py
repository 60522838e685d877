"""Execution-path strings (SPEC.md section 8): parse, validate the values, format canonically.

A path is ``key=value`` pairs separated by ``;``, the same syntax as the ``path`` column
of ``accuracy.csv``, e.g. ``blocks=2-3-5-3;fuse_in=896``, ``pause=3:0.2,5:0.2``,
``cluster=28x28;alpha=10;beta=14``, ``gate_prune=0.3;decoder_sum=1``,
``cts_reduction=0.3``, ``variant=b1``. The empty string is the full model.

Parsing checks the syntax and each value's own range (fractions in [0, 1), positive
channel counts, ...); whether a key applies to a workload, and values that depend on
the model (channels that exist, layers that exist) are checked by the transforms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from ..errors import WorkloadError
from .ofa import format_value as _fmt_ofa

#: families the path keys know (registry ``family`` values)
SEGFORMER = "segformer"
SWIN = "swin_upernet"
SEGMENTER = "segmenter"
VIT_FAMILIES = (SEGMENTER,)
OFA = "ofa_resnet50"


def _int(key: str, text: str, lo: int = 1) -> int:
    try:
        v = int(text)
    except ValueError:
        raise WorkloadError(f"path key {key}={text!r}: expected an integer >= {lo}") from None
    if v < lo:
        raise WorkloadError(f"path key {key}={text!r}: expected an integer >= {lo}")
    return v


def _fraction(key: str, text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise WorkloadError(f"path key {key}={text!r}: expected a fraction in [0, 1)") from None
    if not 0.0 <= v < 1.0:
        raise WorkloadError(f"path key {key}={text!r}: fraction must be in [0, 1)")
    return v


def _fmt_float(v: float) -> str:
    return format(float(v), "g")


def _parse_blocks(key: str, text: str) -> tuple[int, ...]:
    return tuple(_int(key, part, lo=0) for part in text.split("-"))


def _parse_pause(key: str, text: str) -> tuple[tuple[int, float], ...]:
    points: dict[int, float] = {}
    for item in text.split(","):
        layer, sep, frac = item.partition(":")
        if not sep:
            raise WorkloadError(f"path key {key}={text!r}: expected LAYER:FRACTION[,LAYER:FRACTION...] "
                                "(e.g. pause=3:0.2,5:0.2)")
        n = _int(key, layer.strip(), lo=1)
        if n in points:
            raise WorkloadError(f"path key {key}={text!r}: layer {n} given twice")
        points[n] = _fraction(key, frac.strip())
    return tuple(sorted(points.items()))


def _parse_hw(key: str, text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    if len(parts) != 2:
        raise WorkloadError(f"path key {key}={text!r}: expected HxW (e.g. 28x28)")
    return _int(key, parts[0]), _int(key, parts[1])


def _parse_bool(key: str, text: str) -> bool:
    if text not in ("0", "1"):
        raise WorkloadError(f"path key {key}={text!r}: expected 0 or 1")
    return text == "1"


def _parse_ofa_macs(key: str, text: str) -> tuple[float, int | None]:
    """``4.1`` / ``4.1g`` / ``4.1@224`` -> (GMACs, resolution or None)."""
    budget, sep, res = text.lower().partition("@")
    try:
        gmacs = float(budget.strip().removesuffix("g"))
    except ValueError:
        gmacs = float("nan")
    if not gmacs > 0 or gmacs == float("inf"):
        raise WorkloadError(f"path key {key}={text!r}: expected a MAC budget in GMACs > 0, "
                            "optionally @RESOLUTION (e.g. ofa_macs=2.4 or ofa_macs=0.6@160)")
    return gmacs, (_int(key, res.strip()) if sep else None)


def _parse_variant(key: str, text: str) -> str:
    if not text or not all(ch.isalnum() or ch in "._-" for ch in text):
        raise WorkloadError(f"path key {key}={text!r}: expected a variant name such as b1")
    return text.lower()


@dataclass(frozen=True)
class KeySpec:
    """One path key: how to parse and print its value, and the families it applies to."""

    name: str
    parse: Callable[[str, str], Any]
    fmt: Callable[[Any], str]
    families: tuple[str, ...]
    help: str


#: options of the token-clustering method (``cluster=HxW`` plus these)
CLUSTER_OPTS = ("alpha", "beta", "gamma", "kappa", "lambda", "k")

_ints = lambda v: "-".join(str(x) for x in v)  # noqa: E731
_all = ("*",)

#: every key, in canonical order (the order of ``exec_path`` strings and of application)
KEYS: tuple[KeySpec, ...] = (
    KeySpec("variant", _parse_variant, str, _all,
         "model switching: another retrained variant of the same family (e.g. b1, t, vit_s16_mask)"),
    KeySpec("blocks", _parse_blocks, _ints, (SEGFORMER, SWIN, SEGMENTER),
         "block bypass: blocks kept per encoder stage, first ones kept (e.g. 2-3-5-3)"),
    KeySpec("c1_in", lambda k, t: _int(k, t), str, (SEGFORMER,),
         "channel pruning: input channels kept by decode_head.linear_c1 (DecodeLinear0)"),
    KeySpec("fuse_in", lambda k, t: _int(k, t), str, (SEGFORMER,),
         "channel pruning: input channels kept by decode_head.linear_fuse (Conv2DFuse)"),
    KeySpec("pred_in", lambda k, t: _int(k, t), str, (SEGFORMER,),
         "channel pruning: input channels kept by decode_head.linear_pred (Conv2DPred)"),
    KeySpec("fpn_in", lambda k, t: _int(k, t), str, (SWIN,),
         "channel pruning: input channels kept by decode_head.fpn_bottleneck"),
    KeySpec("gate_prune", _fraction, _fmt_float, (SEGFORMER,),
         "DynaSegFormer neuron gating: fraction of q/k/v and Mix-FFN hidden neurons pruned"),
    KeySpec("decoder_sum", _parse_bool, lambda v: "1" if v else "0", (SEGFORMER,),
         "DynaSegFormer decoder: 4-way concat replaced by a sum, no fuse conv (0/1)"),
    KeySpec("pause", _parse_pause, lambda v: ",".join(f"{n}:{_fmt_float(f)}" for n, f in v),
         VIT_FAMILIES,
         "PAUMER token pausing: LAYER:FRACTION pairs, fraction of the active patch tokens paused after LAYER"),
    KeySpec("cts_reduction", _fraction, _fmt_float, VIT_FAMILIES,
         "CTS token sharing: fraction of patch tokens removed by sharing (3 per 2x2 superpatch)"),
    KeySpec("cts_share", lambda k, t: _int(k, t, lo=0), str, VIT_FAMILIES,
         "CTS token sharing: number S of shared 2x2 superpatches (N - 3S tokens)"),
    KeySpec("cluster", _parse_hw, lambda v: f"{v[0]}x{v[1]}", VIT_FAMILIES,
         "token clustering: cluster centres h x w (Expedite)"),
    KeySpec("alpha", lambda k, t: _int(k, t), str, VIT_FAMILIES,
         "token clustering: layers run on all tokens before clustering"),
    KeySpec("beta", lambda k, t: _int(k, t), str, VIT_FAMILIES,
         "token clustering: layers run on the clustered tokens"),
    KeySpec("gamma", lambda k, t: _int(k, t, lo=0), str, VIT_FAMILIES,
         "token clustering: layers after reconstruction (must equal depth - alpha - beta)"),
    KeySpec("kappa", lambda k, t: _int(k, t), str, VIT_FAMILIES,
         "token clustering: k-means iterations (default 5)"),
    KeySpec("lambda", lambda k, t: _int(k, t), str, VIT_FAMILIES,
         "token clustering: neighbourhood side, lambda x lambda centres per token (default 5)"),
    KeySpec("k", lambda k, t: _int(k, t), str, VIT_FAMILIES,
         "token clustering: nearest centres used by the reconstruction (default 20)"),
    KeySpec("ofa_macs", _parse_ofa_macs, lambda v: _fmt_ofa(*v), (OFA,),
         "model switching to an OFA-ResNet50D subnet: the one closest to (not above) B GMACs, "
         "at resolution R when given as B@R (e.g. 2.4@224)"),
)

KEY_BY_NAME: dict[str, KeySpec] = {spec.name: spec for spec in KEYS}
KEY_ORDER: dict[str, int] = {spec.name: i for i, spec in enumerate(KEYS)}


#: How listings write the empty path (the full model); :func:`parse_path` reads it back.
FULL_MODEL = "(full model)"


def parse_path(text: "str | Mapping[str, Any] | None") -> dict[str, Any]:
    """``"blocks=2-3-5-3;fuse_in=896"`` -> ``{"blocks": (2, 3, 5, 3), "fuse_in": 896}``.

    Keys come back in canonical order. A mapping is accepted and re-validated (values
    may be strings or already-parsed values). The full model is the empty path, also
    written :data:`FULL_MODEL` (how listings show it). Raises :class:`WorkloadError` on
    unknown keys, repeated keys, malformed pairs or out-of-range values.
    """
    if text is None or (isinstance(text, str) and text.strip().lower() == FULL_MODEL):
        return {}
    if isinstance(text, Mapping):
        pairs = [(str(k).strip(), v if isinstance(v, str) else KEY_BY_NAME[k].fmt(v)
                  if k in KEY_BY_NAME else str(v)) for k, v in text.items()]
    else:
        pairs = []
        for item in str(text).split(";"):
            item = item.strip()
            if not item:
                continue
            key, sep, value = item.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise WorkloadError(f"execution path {text!r}: {item!r} is not key=value")
            pairs.append((key.strip().lower(), value.strip()))
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key not in KEY_BY_NAME:
            raise WorkloadError(f"execution path: unknown key {key!r}; allowed: {', '.join(KEY_ORDER)}")
        if key in out:
            raise WorkloadError(f"execution path: key {key!r} given twice")
        out[key] = KEY_BY_NAME[key].parse(key, str(value).strip())
    return dict(sorted(out.items(), key=lambda kv: KEY_ORDER[kv[0]]))


def format_path(keys: Mapping[str, Any]) -> str:
    """Parsed keys -> the canonical string (keys in :data:`KEYS` order, values normalised)."""
    items = sorted(keys.items(), key=lambda kv: KEY_ORDER[kv[0]])
    return ";".join(f"{k}={KEY_BY_NAME[k].fmt(v)}" for k, v in items)


def canonical_path(text: "str | Mapping[str, Any] | None") -> str:
    """The canonical form of a path string (``"fuse_in=896;blocks=2-3-5-3"`` ->
    ``"blocks=2-3-5-3;fuse_in=896"``, ``cts_reduction=0.30`` -> ``cts_reduction=0.3``)."""
    return format_path(parse_path(text))


def keys_for_family(family: str) -> list[str]:
    """The path keys that apply to ``family``, in canonical order."""
    return [s.name for s in KEYS if s.families == _all or family in s.families]


def check_family(keys: Iterable[str], family: str) -> None:
    """Raise when a key does not apply to ``family``, naming the keys that do."""
    allowed = keys_for_family(family)
    for key in keys:
        if key not in allowed:
            raise WorkloadError(f"execution path key {key!r} does not apply to family {family!r}; "
                                f"keys for {family}: {', '.join(allowed)}")


def merge_paths(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Union of two parsed paths; a key in both is a conflict (each transform applies once)."""
    both = sorted(set(old) & set(new), key=KEY_ORDER.get)
    if both:
        raise WorkloadError(f"execution path conflict: {', '.join(both)} already applied "
                            f"(path {format_path(old)!r}); give each key once")
    merged = {**old, **new}
    return dict(sorted(merged.items(), key=lambda kv: KEY_ORDER[kv[0]]))
