"""Validation of the model against every published figure the project knows.

:func:`validation_rows` computes one :class:`Check` per figure: model MAC and parameter
totals against their papers, the reference study's calibration point (SegFormer-B2 on
configuration E, in the accelerator scope), the PE energy-per-MAC sanity band and the
5 nm silicon's TOPS/W (SPEC.md section 5), and the area fit against Table II (section 6).
:func:`write_validation` renders them into ``reports/validation.md`` (``accelsim validate``);
a test regenerates the file and fails when a row leaves its tolerance or the text differs
from the committed one. The independent-model comparison with ZigZag is generated on
demand (``benchmarks/peers/``) and embedded when its table is present.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

#: the committed peer comparison embedded in the report when present (not recomputed here)
ZIGZAG_TABLE = "zigzag_comparison.md"


@dataclass(frozen=True)
class Check:
    """One validated figure. ``low``/``high`` bound the model value (inclusive); ``published``
    is the figure as the source states it; ``ratio`` is model / reference value."""

    group: str
    figure: str
    model: float
    published: str
    reference: float
    low: float
    high: float
    tolerance: str
    source: str
    scope: str
    fmt: str = "{:.4g}"

    @property
    def ratio(self) -> float:
        return self.model / self.reference if self.reference else float("nan")

    @property
    def passed(self) -> bool:
        return self.low <= self.model <= self.high

    def row(self) -> dict[str, Any]:
        return {"group": self.group, "figure": self.figure, "model": self.fmt.format(self.model),
                "published": self.published, "ratio": f"{self.ratio:.3f}", "tolerance": self.tolerance,
                "result": "pass" if self.passed else "FAIL", "source": self.source, "scope": self.scope}


def _rel(group: str, figure: str, model: float, ref: float, rel: float, source: str, scope: str = "workload",
         published: str | None = None, fmt: str = "{:.4g}") -> Check:
    """A check that ``model`` is within ``rel`` (relative) of ``ref``."""
    return Check(group, figure, model, published or fmt.format(ref), ref, ref * (1 - rel), ref * (1 + rel),
                 f"±{rel:.1%}".replace(".0%", "%"), source, scope, fmt)


def _band(group: str, figure: str, model: float, low: float, high: float, source: str, scope: str,
          unit: str = "", fmt: str = "{:.4g}") -> Check:
    """A check that ``model`` lies in the published band [low, high] (ratio to its middle)."""
    return Check(group, figure, model, f"{low:g}-{high:g}{unit}", (low + high) / 2, low, high, "within band",
                 source, scope, fmt)


# ------------------------------------------------------------------ groups
def workload_checks() -> list[Check]:
    """MAC and parameter totals of the analytic extractors against their papers."""
    from ..workload import load_workload

    g = "model totals"
    b0, b2 = load_workload("segformer-b0"), load_workload("segformer-b2")
    r50 = load_workload("resnet50")
    out = [
        _rel(g, "SegFormer-B0 512x512 GMACs", b0.macs / 1e9, 8.4, 0.01, "SegFormer paper Table 1 (8.4 G)"),
        _rel(g, "SegFormer-B2 512x512 GMACs", b2.macs / 1e9, 62.4, 0.01, "SegFormer paper Table 1 (62.4 G)"),
        _rel(g, "SegFormer-B0 params (M)", b0.params / 1e6, 3.8, 0.02, "SegFormer paper Table 1, rounded to 0.1 M"),
        _rel(g, "SegFormer-B2 params (M)", b2.params / 1e6, 27.5, 0.01, "SegFormer paper Table 1, rounded to 0.1 M"),
        _rel(g, "ResNet-50 224x224 GMACs", r50.macs / 1e9, 4.09, 0.005, "torchvision model card (4.09 G)"),
        _rel(g, "ResNet-50 params", r50.params, 25_557_032, 0.0, "torchvision model card", fmt="{:,.0f}"),
        _rel(g, "Swin-T UPerNet 512x512 GMACs", load_workload("swin-t-upernet").macs / 1e9, 237, 0.005,
             "mmseg model zoo, UPerNet Swin-T ADE20K (237 G)"),
    ]
    for v, ref in (("t", 945), ("s", 1038), ("b", 1188)):
        wl = load_workload(f"swin-{v}-upernet", input_size=(512, 2048))
        out.append(_rel(g, f"Swin-{v.upper()} UPerNet 512x2048 GMACs", wl.macs / 1e9, ref, 0.002,
                        "Swin paper Table 3 (rounded to 1 G)"))
    # DETR papers average over COCO val images (short side 800); 800x1133 is the middle shape
    for name, ref, label in (("detr-r50", 86, "DETR"), ("conditional-detr-r50", 90, "Conditional DETR")):
        wl = load_workload(name, input_size=(800, 1133), pad_to=1)
        out.append(_rel(g, f"{label} R50 800x1133 GMACs", wl.macs / 1e9, ref, 0.02,
                        f"{label} paper Table 1 (averaged over COCO val images: 2 %)"))
    eff = load_workload("efficientnet-lite0")
    out += [
        _rel(g, "EfficientNet-Lite0 params", eff.params, 4_652_008, 0.0, "timm efficientnet_lite0", fmt="{:,.0f}"),
        _rel(g, "OFA-ResNet50D study subnet GMACs", load_workload("ofa-resnet50").macs / 1e9, 4.1, 0.01,
             "once-for-all README, resnet50D_MAC@4.1B (MAC-matched stand-in)"),
    ]
    return out


def study_results(memo: dict | None = None) -> dict[str, Any]:
    """SegFormer-B2 ADE20K 512x512 on configurations E, B and D in the accelerator scope
    (the results the calibration and silicon checks read)."""
    import accelsim

    memo = {} if memo is None else memo
    wl = accelsim.load_workload("segformer-b2")
    return {a: accelsim.simulate(wl, a, memo=memo, scope="accelerator") for a in ("E", "B", "D")}


def calibration_checks(res: dict[str, Any]) -> list[Check]:
    """The reference study's calibration point: SegFormer-B2 ADE20K 512x512 on configuration E,
    and the B-versus-D efficiency statement, all in the accelerator scope (``res``: see
    :func:`study_results`)."""
    from ..workload.ir import CONV_OPS

    g, scope, src = "calibration (Sreedhar et al.)", "accelerator", "Sreedhar et al."
    e = res["E"]
    lay = e.layers
    conv = lay["op"].isin([op.value for op in CONV_OPS])
    fuse = lay["name"] == "decode_head.linear_fuse"
    t, en = lay["latency_s"].sum(), lay["energy_j"].sum()
    mac = lay[lay["macs"] > 0].assign(epf=lambda d: d["energy_j"] / (2 * d["macs"]))
    poorly_filled = (mac["op"] == "dwconv2d") | (mac["name"] == "backbone.patch_embed1.proj")
    top = set(mac.nlargest(int(poorly_filled.sum()), "epf")["name"])
    pct = "{:.1f}"
    checks = [
        _rel(g, "latency on E (ms)", e.latency_s * 1e3, 3.6, 0.10, f"{src}: 3.6 ms per inference", scope),
        Check(g, "convolution share of execution time (%)", 100 * lay.loc[conv, "latency_s"].sum() / t, "74",
              74, 69, 79, "±5 points", f"{src}: convolutions 74 % of time", scope, pct),
        Check(g, "convolution share of energy (%)", 100 * lay.loc[conv, "energy_j"].sum() / en, "74",
              74, 69, 79, "±5 points", f"{src}: convolutions 74 % of energy", scope, pct),
        Check(g, "convolution share of FLOPs (%)", 100 * lay.loc[conv, "macs"].sum() / lay["macs"].sum(), "68",
              68, 66, 70, "±2 points", f"{src}: 68 % of the FLOPs", "workload", pct),
        Check(g, "decode_head.linear_fuse share of time (%)", 100 * lay.loc[fuse, "latency_s"].sum() / t,
              "> 50", 50, 50, 100, ">= 50 %", f"{src}: more than half of the time", scope, pct),
        Check(g, "decode_head.linear_fuse share of energy (%)", 100 * lay.loc[fuse, "energy_j"].sum() / en,
              "> 50", 50, 50, 100, ">= 50 %", f"{src}: more than half of the energy", scope, pct),
        Check(g, "patch_embed1 + MLP dwconvs among the highest energy/FLOP layers (of "
              f"{int(poorly_filled.sum())})", float(len(top & set(mac.loc[poorly_filled, 'name']))),
              str(int(poorly_filled.sum())), float(poorly_filled.sum()), float(poorly_filled.sum()),
              float(poorly_filled.sum()), "all", f"{src}: poorly filled vector MAC units", scope, "{:.0f}"),
    ]
    b, d = res["B"].summary(), res["D"].summary()
    checks += [
        _rel(g, "B / D speed", res["D"].latency_s / res["B"].latency_s, 2.0, 0.10,
             f"{src}: B has twice D's compute and is twice as fast", scope),
        _rel(g, "B / D throughput per mm2 (PE-array area)",
             b["throughput_ops_per_s_per_mm2"] / d["throughput_ops_per_s_per_mm2"], 1.0, 0.10,
             f"{src}: B looks identical to D (twice as big)", scope),
        _rel(g, "B / D energy per op", b["energy_per_op_j"] / d["energy_per_op_j"], 1.0, 0.10,
             f"{src}: B looks identical to D", scope),
    ]
    return checks


def silicon_checks(res_e: Any, memo: dict | None = None) -> list[Check]:
    """SPEC.md section 5: the PE energy per MAC of the silicon's PE and, from ``res_e``
    (SegFormer-B2 on E, accelerator scope), the TOPS/W at 0.67 V."""
    from ..cost import map_layer
    from ..workload import Layer, Op

    g, scope = "5 nm silicon (Keller et al.)", "accelerator"
    fuse = Layer("decode_head.linear_fuse", Op.CONV2D, k=768, c=3072, p=128, q=128)
    cost = map_layer(fuse, "B", scope=scope, memo=memo)
    pe = sum(cost.energy[c] for c in ("mac", "accumulation", "weight_buffer", "input_buffer", "control", "ppu"))
    tops_w = 1.0 / (res_e.energy_j / res_e.flops) / 1e12  # ops per joule / 1e12
    return [
        _band(g, "PE energy per 8-bit MAC, fully used K0=C0=32 PE (fJ)", pe / cost.macs * 1e15, 100, 130,
              "SPEC.md section 5: about 110-120 fJ (band 100-130)", scope, " fJ", "{:.1f}"),
        _band(g, "SegFormer-B2 on E, TOPS/W at 0.67 V", tops_w, 13.2, 19.9,
              "Keller et al. JSSC 2023: INT8 13.2-19.9 TOPS/W on BERT and DeiT", scope, "", "{:.2f}"),
    ]


def area_checks() -> list[Check]:
    """SPEC.md section 6: the fitted PE-array area against each synthesised one of Table II."""
    from ..arch.area import fit_area

    fit = fit_area()
    return [_rel("area fit (Table II)", f"PE array of {r.label} (mm2)", float(r.fit_area_mm2),
                 float(r.pe_array_area_mm2), 0.07, "Sreedhar et al. Table II (rounded to 0.1 mm2; SPEC.md 6: "
                 "max error under 7 %)", "PE array", fmt="{:.3f}")
            for r in fit.table.itertuples(index=False)]


def validation_rows(progress: Callable[[str], None] = lambda s: None) -> list[Check]:
    """Every check, in report order."""
    memo: dict = {}
    progress("model totals")
    rows = workload_checks()
    progress("calibration point")
    res = study_results(memo)
    rows += calibration_checks(res)
    rows += silicon_checks(res["E"], memo)
    progress("area fit")
    return rows + area_checks()


def render(rows: list[Check], zigzag: str | None = None) -> str:
    """The markdown report of ``rows`` (plus the embedded ZigZag comparison, if given)."""
    from .build import markdown_table

    failed = [r for r in rows if not r.passed]
    lines = [
        "# Validation against published figures",
        "",
        "Regenerated by `accelsim validate`; a test regenerates it and fails when a row leaves its "
        "tolerance. *ratio* is model / published (for a band, / its middle). *scope*: `accelerator` is "
        "the PE array with an ideal off-chip supply (the reference study's scope), `workload` a property "
        "of the layer list alone, `PE array` the area model. Calibration rows use the reference study's "
        "published figures for SegFormer-B2 on configuration E; its other results are not used here.",
        "",
        f"**{len(rows) - len(failed)} of {len(rows)} checks pass.**",
        "",
    ]
    df = pd.DataFrame([r.row() for r in rows])
    for group, part in df.groupby("group", sort=False):
        lines += [f"## {group}", "", markdown_table(part.drop(columns="group")), ""]
    lines += ["## Independent model: ZigZag", ""]
    if zigzag:
        lines += [zigzag.strip(), ""]
    else:
        lines += ["Not generated yet: run the one command in `benchmarks/peers/README.md`; its table lands in "
                  f"`reports/{ZIGZAG_TABLE}` and is embedded here on the next `accelsim validate`.", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_validation(out: "str | Path" = "reports/validation.md",
                     progress: Callable[[str], None] = lambda s: None) -> tuple[Path, list[Check]]:
    """Compute every check and write the markdown report; returns (path, checks)."""
    out = Path(out)
    rows = validation_rows(progress)
    peer = out.parent / ZIGZAG_TABLE
    text = render(rows, _embedded(peer.read_text()) if peer.is_file() else None)
    from ..safeio import write_text

    write_text(out, text)
    return out, rows


def _embedded(markdown: str) -> str:
    """A peer report embedded one heading level down (its title dropped)."""
    lines = markdown.strip().splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join("#" + ln if ln.startswith("#") else ln for ln in lines)
