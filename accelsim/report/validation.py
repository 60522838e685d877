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
    #: for an energy figure: the model value without the PE array's NoC (see :data:`STUDY_EXCLUDED`)
    without_noc: float | None = None
    #: for an energy figure: the model value with the NoC at the bottom of its sourced range
    at_low_noc: float | None = None

    @property
    def ratio(self) -> float:
        return self.model / self.reference if self.reference else float("nan")

    @property
    def passed(self) -> bool:
        return self.low <= self.model <= self.high

    @property
    def conflict(self) -> bool:
        """A failing energy figure that passes without the NoC: the stated conflict between the
        calibration and a physical buffer trade-off (docs/cost_model.md, Scope)."""
        return (not self.passed and self.without_noc is not None
                and self.low <= self.without_noc <= self.high)

    @property
    def result(self) -> str:
        return "pass" if self.passed else ("CONFLICT" if self.conflict else "FAIL")

    def gap(self) -> str:
        """How far the model is outside its tolerance, in the row's units."""
        if self.passed:
            return ""
        bound = self.low if self.model < self.low else self.high
        side = "below" if self.model < self.low else "above"
        return (f"{self.fmt.format(abs(self.model - bound))} {side} the bound {self.fmt.format(bound)} "
                f"(model / bound = {self.model / bound:.3f})")

    def row(self) -> dict[str, Any]:
        return {"group": self.group, "figure": self.figure, "model": self.fmt.format(self.model),
                "published": self.published, "ratio": f"{self.ratio:.3f}", "tolerance": self.tolerance,
                "result": self.result, "source": self.source, "scope": self.scope}


#: What the study's energies contain (docs/cost_model.md, Scope): the PE array with the routers
#: and links of its mesh NoC (every MAGNet/Simba PE holds its router), not the global buffer
#: (never specified by the study, SPEC.md section 2) and no DRAM. Energy rows compare this part
#: of the accelerator scope's energy.
STUDY_EXCLUDED = ("global_buffer", "dram")


def study_energy(layers: pd.DataFrame, without: tuple[str, ...] = ()) -> pd.Series:
    """Each layer's energy in J as the study counts it (:data:`STUDY_EXCLUDED` left out), and
    without the components ``without`` too."""
    drop = [f"energy_{c}_j" for c in (*STUDY_EXCLUDED, *without)]
    return layers["energy_j"] - layers[drop].sum(axis=1)


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


#: the bottom of the NoC energy's sourced range (SPEC.md section 5: 0.1-0.3 pJ/bit/hop)
LOW_NOC_PJ_PER_BIT_HOP = 0.1


def study_results(memo: dict | None = None, noc_pj_per_bit_hop: float | None = None) -> dict[str, Any]:
    """SegFormer-B2 ADE20K 512x512 on configurations E, B and D in the accelerator scope
    (the results the calibration and silicon checks read); with ``noc_pj_per_bit_hop``, under a
    copy of their technology file with that NoC energy (mapped afresh)."""
    import tempfile

    import yaml

    import accelsim
    from ..arch.config import load_tech

    memo = {} if memo is None else memo
    wl = accelsim.load_workload("segformer-b2")
    if noc_pj_per_bit_hop is None:
        return {a: accelsim.simulate(wl, a, memo=memo, scope="accelerator") for a in ("E", "B", "D")}
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for a in ("E", "B", "D"):
            arch = accelsim.load_arch(a)
            tech = load_tech(arch).model_dump(exclude_none=True)
            tech["energy"]["noc_pj_per_bit_hop"]["value"] = noc_pj_per_bit_hop
            path = Path(tmp) / f"tech_{a}.yaml"
            path.write_text(yaml.safe_dump(tech))
            out[a] = accelsim.simulate(wl, arch.replace(tech=str(path), name=a), memo=memo, scope="accelerator")
    return out


def calibration_checks(res: dict[str, Any], low: dict[str, Any] | None = None) -> list[Check]:
    """The reference study's calibration point: SegFormer-B2 ADE20K 512x512 on configuration E,
    and the B-versus-D efficiency statement, all in the accelerator scope (``res``: see
    :func:`study_results`)."""
    from ..workload.ir import CONV_OPS

    from dataclasses import replace

    g, scope, src = "calibration (Sreedhar et al.)", "accelerator", "Sreedhar et al."
    e = res["E"]
    lay = e.layers
    conv = lay["op"].isin([op.value for op in CONV_OPS])
    fuse = lay["name"] == "decode_head.linear_fuse"
    t = lay["latency_s"].sum()
    pct = "{:.1f}"
    escope = "accelerator (PE array + NoC)"

    def energy_rows(en: pd.Series, b_per_op: float, d_per_op: float) -> list[Check]:
        """The energy figures from per-layer energies ``en`` of E and B's / D's energy per op."""
        mac = lay[lay["macs"] > 0].assign(epf=en[lay["macs"] > 0] / (2 * lay.loc[lay["macs"] > 0, "macs"]))
        poorly_filled = (mac["op"] == "dwconv2d") | (mac["name"] == "backbone.patch_embed1.proj")
        top = set(mac.nlargest(int(poorly_filled.sum()), "epf")["name"])
        n = float(poorly_filled.sum())
        return [
            Check(g, "convolution share of energy (%)", 100 * en[conv].sum() / en.sum(), "74",
                  74, 69, 79, "±5 points", f"{src}: convolutions 74 % of energy", escope, pct),
            Check(g, "decode_head.linear_fuse share of energy (%)", 100 * en[fuse].sum() / en.sum(),
                  "> 50", 50, 50, 100, ">= 50 %", f"{src}: more than half of the energy", escope, pct),
            Check(g, f"patch_embed1 + MLP dwconvs among the highest energy/FLOP layers (of {int(n)})",
                  float(len(top & set(mac.loc[poorly_filled, 'name']))), str(int(n)), n, n, n, "all",
                  f"{src}: poorly filled vector MAC units", escope, "{:.0f}"),
            _rel(g, "B / D energy per op", b_per_op / d_per_op, 1.0, 0.10, f"{src}: B looks identical to D",
                 escope),
        ]

    def per_op(name: str, without: tuple[str, ...] = (), results: dict[str, Any] = res) -> float:
        return study_energy(results[name].layers, without).sum() / results[name].flops

    with_noc = energy_rows(study_energy(lay), per_op("B"), per_op("D"))
    no_noc = energy_rows(study_energy(lay, ("noc",)), per_op("B", ("noc",)), per_op("D", ("noc",)))
    energy = [replace(a, without_noc=b.model) for a, b in zip(with_noc, no_noc)]
    if low is not None:  # the same figures with the NoC at the bottom of its range
        lay_low = low["E"].layers
        assert list(lay_low["name"]) == list(lay["name"])
        lows = energy_rows(study_energy(lay_low), per_op("B", results=low), per_op("D", results=low))
        energy = [replace(a, at_low_noc=b.model) for a, b in zip(energy, lows)]
    b, d = res["B"].summary(), res["D"].summary()
    return [
        _rel(g, "latency on E (ms)", e.latency_s * 1e3, 3.6, 0.10, f"{src}: 3.6 ms per inference", scope),
        Check(g, "convolution share of execution time (%)", 100 * lay.loc[conv, "latency_s"].sum() / t, "74",
              74, 69, 79, "±5 points", f"{src}: convolutions 74 % of time", scope, pct),
        energy[0],
        Check(g, "convolution share of FLOPs (%)", 100 * lay.loc[conv, "macs"].sum() / lay["macs"].sum(), "68",
              68, 66, 70, "±2 points", f"{src}: 68 % of the FLOPs", "workload", pct),
        Check(g, "decode_head.linear_fuse share of time (%)", 100 * lay.loc[fuse, "latency_s"].sum() / t,
              "> 50", 50, 50, 100, ">= 50 %", f"{src}: more than half of the time", scope, pct),
        *energy[1:3],
        _rel(g, "B / D speed", res["D"].latency_s / res["B"].latency_s, 2.0, 0.10,
             f"{src}: B has twice D's compute and is twice as fast", scope),
        _rel(g, "B / D throughput per mm2 (PE-array area)",
             b["throughput_ops_per_s_per_mm2"] / d["throughput_ops_per_s_per_mm2"], 1.0, 0.10,
             f"{src}: B looks identical to D (twice as big)", scope),
        energy[3],
    ]


def silicon_checks(res_e: Any, memo: dict | None = None, low_e: Any = None) -> list[Check]:
    """SPEC.md section 5: the PE energy per MAC of the silicon's PE and, from ``res_e``
    (SegFormer-B2 on E, accelerator scope), the TOPS/W at 0.67 V."""
    from ..cost import map_layer
    from ..workload import Layer, Op

    g, scope = "5 nm silicon (Keller et al.)", "accelerator"
    fuse = Layer("decode_head.linear_fuse", Op.CONV2D, k=768, c=3072, p=128, q=128)
    cost = map_layer(fuse, "B", scope=scope, memo=memo)
    pe = sum(cost.energy[c] for c in ("mac", "accumulation", "weight_buffer", "input_buffer", "control", "ppu"))
    def tops_w(without: tuple[str, ...] = (), r: Any = res_e) -> float:  # ops per joule / 1e12
        return r.flops / study_energy(r.layers, without).sum() / 1e12

    from dataclasses import replace

    return [
        _band(g, "PE energy per 8-bit MAC, fully used K0=C0=32 PE (fJ)", pe / cost.macs * 1e15, 100, 130,
              "SPEC.md section 5: about 110-120 fJ (band 100-130)", scope, " fJ", "{:.1f}"),
        replace(_band(g, "SegFormer-B2 on E, TOPS/W at 0.67 V", tops_w(), 13.2, 19.9,
                      "Keller et al. JSSC 2023: INT8 13.2-19.9 TOPS/W on BERT and DeiT",
                      "accelerator (PE array + NoC)", "", "{:.2f}"), without_noc=tops_w(("noc",)),
                at_low_noc=None if low_e is None else tops_w(r=low_e)),
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
    low = study_results(noc_pj_per_bit_hop=LOW_NOC_PJ_PER_BIT_HOP)
    rows += calibration_checks(res, low)
    rows += silicon_checks(res["E"], memo, low["E"])
    progress("area fit")
    return rows + area_checks()


def render(rows: list[Check], zigzag: str | None = None, zigzag_where: str = f"reports/{ZIGZAG_TABLE}") -> str:
    """The markdown report of ``rows`` (plus the embedded ZigZag comparison, if given;
    ``zigzag_where`` names the file it would come from)."""
    from .build import markdown_table

    failed = [r for r in rows if not r.passed]
    conflicts = [r for r in rows if r.conflict]
    lines = [
        "# Validation against published figures",
        "",
        "Regenerated by `accelsim validate`; a test regenerates it and fails when a row leaves its "
        "tolerance without a stated conflict. *ratio* is model / published (for a band, / its middle). "
        "*scope*: `accelerator` is the study's accelerator without DRAM (PE array, its NoC and the global "
        "buffer, with unbounded global-buffer and NoC bandwidth); `accelerator (PE array + NoC)` is the "
        "part of its energy the study's figures contain (the global buffer left out, docs/cost_model.md, "
        "Scope); `workload` a property of the layer list alone, `PE array` the area model. Calibration "
        "rows use the reference study's published figures for SegFormer-B2 on configuration E; its other "
        "results are not used here.",
        "",
        f"**{len(rows) - len(failed)} of {len(rows)} checks pass; {len(conflicts)} conflict (stated below); "
        f"{len(failed) - len(conflicts)} fail.**",
        "",
    ]
    df = pd.DataFrame([r.row() for r in rows])
    for group, part in df.groupby("group", sort=False):
        lines += [f"## {group}", "", markdown_table(part.drop(columns="group")), ""]
    if conflicts:
        lines += [
            "## Conflicts: calibration against a physical buffer trade-off", "",
            "Every byte that enters a PE now pays its global-buffer read and its hops on the PE array's "
            "mesh NoC (0.2 pJ/bit/hop, SPEC.md section 5), so larger PE buffers can save energy. With the "
            "NoC in the PE-array energy the study measured, the rows below leave their tolerance; without "
            "the NoC they pass. No constant was changed to hide this: the NoC energy is the midpoint of "
            "its sourced 0.1-0.3 pJ/bit/hop range, and the PE-internal energies are the silicon's. "
            + (f"Even at the bottom of that range ({LOW_NOC_PJ_PER_BIT_HOP:g} pJ/bit/hop, every layer mapped "
               "again) the rows marked *still out* stay outside their tolerance, so no sourced value of the "
               "NoC energy satisfies both the calibration and a refill cost. "
               if any(r.at_low_noc is not None and not r.low <= r.at_low_noc <= r.high for r in conflicts)
               else f"At the bottom of that range ({LOW_NOC_PJ_PER_BIT_HOP:g} pJ/bit/hop) every row passes. ")
            + "The rows conflict by:", "",
        ]
        for r in conflicts:
            low = ""
            if r.at_low_noc is not None:
                inside = r.low <= r.at_low_noc <= r.high
                low = (f"; at {LOW_NOC_PJ_PER_BIT_HOP:g} pJ/bit/hop {r.fmt.format(r.at_low_noc)}"
                       + (" (passes)" if inside else " (*still out*)"))
            lines.append(f"- {r.figure}: model {r.fmt.format(r.model)}, published {r.published} "
                         f"({r.tolerance}): {r.gap()}; without the NoC {r.fmt.format(r.without_noc)}{low}.")
        lines.append("")
    lines += ["## Independent model: ZigZag", ""]
    if zigzag:
        lines += [zigzag.strip(), ""]
    else:
        lines += ["Not generated yet: run the one command in `benchmarks/peers/README.md`; its table lands in "
                  f"`{zigzag_where}` and is embedded here on the next `accelsim validate`.", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_validation(out: "str | Path" = "reports/validation.md",
                     progress: Callable[[str], None] = lambda s: None) -> tuple[Path, list[Check]]:
    """Compute every check and write the markdown report; returns (path, checks)."""
    out = Path(out)
    rows = validation_rows(progress)
    peer = out.parent / ZIGZAG_TABLE
    if not peer.is_file():  # a report written outside the project embeds the project's table
        from ..resources import project_root

        shipped = project_root() / "reports" / ZIGZAG_TABLE
        peer = shipped if shipped.is_file() else peer
    text = render(rows, _embedded(peer.read_text()) if peer.is_file() else None,
                  f"reports/{ZIGZAG_TABLE}" if peer.parent.name == "reports" else str(peer))
    from ..safeio import write_text

    write_text(out, text)
    return out, rows


def _embedded(markdown: str) -> str:
    """A peer report embedded one heading level down (its title dropped)."""
    lines = markdown.strip().splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join("#" + ln if ln.startswith("#") else ln for ln in lines)
