"""``accelsim sensitivity`` and the tech file's ranges: hand-checkable properties and bad input.

Properties: a constant whose range is collapsed to its value has a zero tornado bar; at fixed
mappings energy is monotone in every energy constant and the MAC component is proportional
to ``mac_pj``; re-costing the nominal mappings with the nominal constants reproduces
``simulate`` exactly; Latin-hypercube samples stay in their ranges, fill one stratum each and
repeat with their seed; Pareto-membership frequencies lie in [0, 1] and equal 1 for a
configuration that dominates in every sample of a constructed case.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings as hsettings, strategies as st

import accelsim
from accelsim.arch.config import Uncertain, arch_dir, load_tech
from accelsim.cli.main import main
from accelsim.errors import ConfigError
from accelsim.sweep.sensitivity import (Settings, lhs_samples, membership, pareto_membership, recost,
                                        shared_constants, tornado)

HERE = Path(__file__).resolve().parent
TINY = HERE / "fuzz" / "corpus" / "ok" / "tiny_layers.yaml"
TECH = yaml.safe_load((arch_dir() / "tech" / "5nm.yaml").read_text())


@pytest.fixture(scope="module")
def tiny():
    return accelsim.load_workload(str(TINY))


@pytest.fixture(scope="module")
def arch_e():
    return accelsim.load_arch("E")


def _user_arch(tmp_path: Path, tech: dict, name: str = "mine") -> Path:
    """An arch YAML (E's numbers) that names its own copy of the tech file."""
    (tmp_path / f"{name}_tech.yaml").write_text(yaml.safe_dump(tech))
    arch = yaml.safe_load((arch_dir() / "E.yaml").read_text())
    arch.update(name=name, tech=f"{name}_tech.yaml")
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(arch))
    return path


def _one_error_line(argv: list[str], capsys) -> str:
    rc = main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert rc == 2 and len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


# ------------------------------------------------------------------ tech-file ranges
def test_shipped_tech_declares_sourced_ranges_that_bracket_each_value():
    tech = load_tech(accelsim.load_arch("E"))
    found = {u.name: u for u in tech.uncertain()}
    # the examples, with the ranges of SPEC.md section 5 (exact: copied numbers)
    assert (found["energy.noc_pj_per_bit_hop"].low, found["energy.noc_pj_per_bit_hop"].high) == (0.1, 0.3)
    assert (found["energy.global_buffer_read_pj"].low, found["energy.global_buffer_read_pj"].high) == (26.0, 44.0)
    assert {"energy.ppu_op_pj", "energy.leakage_mw_per_mm2", "sram_exponent", "sram_write_factor"} <= set(found)
    for u in found.values():
        assert u.low <= u.value <= u.high and u.range_source.strip(), u


@pytest.mark.parametrize("edit, words", [
    (lambda t: t["energy"]["noc_pj_per_bit_hop"].update(range=[0.25, 0.3]), ["energy.noc_pj_per_bit_hop", "low <= value"]),
    (lambda t: t["energy"]["noc_pj_per_bit_hop"].update(range=[0.1, 0.2, 0.3]), ["energy.noc_pj_per_bit_hop.range"]),
    (lambda t: t["energy"]["noc_pj_per_bit_hop"].update(range=["low", 0.3]), ["energy.noc_pj_per_bit_hop.range"]),
    (lambda t: t["energy"]["noc_pj_per_bit_hop"].update(range=[float("nan"), 0.3]), ["energy.noc_pj_per_bit_hop.range"]),
    (lambda t: t["energy"]["noc_pj_per_bit_hop"].update(range=0.3), ["energy.noc_pj_per_bit_hop.range"]),
    (lambda t: t["energy"]["noc_pj_per_bit_hop"].pop("range_source"), ["energy.noc_pj_per_bit_hop", "range_source"]),
    (lambda t: t["energy"]["ppu_op_pj"].update(range=[-0.1, 0.5]), ["energy.ppu_op_pj", "low must be >= 0"]),
    (lambda t: t["scalar_ranges"].update(node_nm={"range": [3, 7], "range_source": "x"}), ["scalar_ranges", "node_nm"]),
    (lambda t: t["scalar_ranges"]["sram_exponent"].update(range=[0.65, 0.7]), ["scalar_ranges.sram_exponent",
                                                                              "low <= value"]),
])
def test_bad_range_is_one_line_naming_file_and_field(tmp_path, capsys, edit, words):
    tech = copy.deepcopy(TECH)
    edit(tech)
    arch = _user_arch(tmp_path, tech)
    line = _one_error_line(["simulate", "-w", str(TINY), "--arch", str(arch)], capsys)
    assert "mine_tech.yaml" in line
    for w in words:
        assert w in line, line


def test_with_values_refuses_unknown_names_and_values_outside_the_range():
    tech = load_tech(accelsim.load_arch("E"))
    assert tech.with_values({"energy.noc_pj_per_bit_hop": 0.3}).e("noc_pj_per_bit_hop") == 0.3
    with pytest.raises(ConfigError, match="no constant 'energy.colour'"):
        tech.with_values({"energy.colour": 1.0})
    with pytest.raises(ConfigError, match="low <= value"):
        tech.with_values({"energy.noc_pj_per_bit_hop": 0.5})


# ------------------------------------------------------------------ tornado
def test_collapsed_range_gives_a_zero_bar_and_a_wide_one_does_not(tmp_path, tiny):
    tech = copy.deepcopy(TECH)
    v = tech["energy"]["mac_pj"]["value"]
    tech["energy"]["mac_pj"]["range"] = [v, v]
    arch = accelsim.load_arch(str(_user_arch(tmp_path, tech)))
    df = tornado(tiny, arch).set_index("constant")
    for m in ("latency_s", "energy_j", "energy_per_op_j"):
        assert df.loc["energy.mac_pj", f"{m}_swing"] == 0.0  # the same values: exactly the same costs
    # the PE's own energies do enter: each moves the total (a 10 % wider MAC energy alone would
    # move it by about its share of the total, tens of percent of 10 %)
    pe = [c for c in df.index if c.startswith(("energy.control_per_mac", "energy.ppu", "energy.accumulation"))]
    assert len(pe) == 3 and (df.loc[pe, "energy_j_swing"] > 0.001).all()
    # E's PEs have 1024 slots, the reference PE's: moving the per-PE share of control moves the
    # per-slot rest the other way and keeps the measured 23 fJ/MAC (docs/cost_model.md), so no swing
    assert df.loc["energy.control_per_pe_cycle_pj", "energy_j_swing"] == pytest.approx(0.0, abs=1e-12)
    # accelerator scope: refills pay their GB read and NoC hops, DRAM costs nothing (docs/cost_model.md, Scope)
    assert df.loc["energy.dram_lpddr4_pj_per_bit", "energy_j_swing"] == 0.0
    assert (df.loc[["energy.noc_pj_per_bit_hop", "energy.global_buffer_read_pj"], "energy_j_swing"] > 0.001).all()
    # rows are sorted by the energy-per-op swing, largest first
    sw = df["energy_per_op_j_swing"].to_numpy()
    assert (np.diff(sw) <= 0).all()


def test_recost_with_nominal_constants_reproduces_simulate(arch_e):
    wl = accelsim.load_workload("segformer-b2")
    for scope in ("accelerator", "system"):
        s = Settings(scope=scope)
        nominal = accelsim.simulate(wl, arch_e, scope=scope)
        again = recost(wl, arch_e, nominal, load_tech(arch_e), s)
        # the same mappings and constants: the same floating-point operations, so equal exactly
        assert again.energy_j == nominal.energy_j and again.latency_s == nominal.latency_s
        assert again.energy_breakdown == nominal.energy_breakdown


ENERGY_CONSTANTS = [u for u in load_tech(accelsim.load_arch("E")).uncertain()
                    if u.name.startswith("energy.") and "area" not in u.name]


@pytest.mark.parametrize("scope", ["accelerator", "system"])
@hsettings(max_examples=15, deadline=None)
@given(data=st.data())
def test_energy_is_monotone_in_each_energy_constant_at_fixed_mappings(scope, data):
    wl, arch = accelsim.load_workload(str(TINY)), accelsim.load_arch("E")
    tech = load_tech(arch)
    nominal = accelsim.simulate(wl, arch, scope=scope)
    base = {u.name: data.draw(st.floats(u.low, u.high)) for u in ENERGY_CONSTANTS}
    u = data.draw(st.sampled_from(ENERGY_CONSTANTS))
    lo, hi = sorted(data.draw(st.floats(u.low, u.high)) for _ in range(2))
    e = [recost(wl, arch, nominal, tech.with_values({**base, u.name: x}), Settings(scope=scope)) for x in (lo, hi)]
    # every energy is a count x a per-event energy >= 0: a larger constant never lowers it
    assert e[1].energy_j >= e[0].energy_j * (1 - 1e-12)
    assert e[1].latency_s == e[0].latency_s  # mappings fixed: cycles do not depend on energies


def test_mac_component_is_proportional_to_mac_energy(tiny, arch_e):
    tech = load_tech(arch_e)
    nominal = accelsim.simulate(tiny, arch_e)
    lo = recost(tiny, arch_e, nominal, tech.with_values({"energy.mac_pj": 0.054}))
    hi = recost(tiny, arch_e, nominal, tech.with_values({"energy.mac_pj": 0.066}))
    # hand check: E_mac = events x mac_pj, so the ratio is 0.066 / 0.054 (rounding only)
    assert hi.energy_breakdown["mac"] / lo.energy_breakdown["mac"] == pytest.approx(0.066 / 0.054, rel=1e-12)
    rest = {k: v for k, v in hi.energy_breakdown.items() if k != "mac"}
    assert rest == {k: v for k, v in lo.energy_breakdown.items() if k != "mac"}


# ------------------------------------------------------------------ Latin hypercube
CONS = [Uncertain("a", 1.0, 0.5, 2.0, "", "", "x"), Uncertain("b", 0.2, 0.1, 0.3, "", "", "x"),
        Uncertain("c", 5.0, 5.0, 5.0, "", "", "x")]


@hsettings(max_examples=25, deadline=None)
@given(n=st.integers(1, 200), seed=st.integers(0, 2**31 - 1))
def test_lhs_samples_stay_in_range_fill_each_stratum_and_repeat_by_seed(n, seed):
    s = lhs_samples(CONS, n, seed)
    assert list(s.columns) == ["a", "b", "c"] and len(s) == n
    for c in CONS:
        col = s[c.name].to_numpy()
        assert ((col >= c.low) & (col <= c.high)).all()
        if c.high > c.low:  # Latin property: one sample in each of the n equal strata
            strata = np.minimum(np.floor((col - c.low) / (c.high - c.low) * n), n - 1).astype(int)
            assert sorted(strata) == list(range(n))
    assert (s["c"] == 5.0).all()  # a collapsed range is its value
    pd.testing.assert_frame_equal(s, lhs_samples(CONS, n, seed))
    if n > 1:
        assert not s.equals(lhs_samples(CONS, n, seed + 1))


# ------------------------------------------------------------------ Pareto membership
def _costs(rows: list[tuple[int, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"sample": s, "workload": "w", "arch": a, "scope": "accelerator", "remap": False,
                          "energy_per_op_j": e, "throughput_ops_per_s_per_mm2": t, "error": ""}
                         for s, a, e, t in rows])


def test_membership_of_a_constructed_case():
    # nominal: X dominates Y and Z (Z ties X's throughput at more energy): front {X}.
    # Samples: Z is cheaper than X in the even samples (front {Z}), dearer in the odd ones ({X})
    rows = [(-1, "X", 1.0, 10.0), (-1, "Y", 2.0, 5.0), (-1, "Z", 1.5, 10.0)]
    for s in range(4):
        rows += [(s, "X", 1.0 + s, 10.0), (s, "Y", 3.0 + s, 5.0), (s, "Z", (0.5 if s % 2 == 0 else 9.0) + s, 10.0)]
    t = membership(_costs(rows)).set_index("arch")
    assert list(t["on_front_nominal"]) == [True, False, False]
    assert list(t["front_frequency"]) == [0.5, 0.0, 0.5]  # X in samples 1, 3; Z in 0, 2; Y never
    assert list(t["flip_frequency"]) == [0.5, 0.0, 0.5]
    assert (t["front_change_frequency"] == 0.5).all()  # fronts {Z}, {X}, {Z}, {X} against {X}
    assert (t["samples"] == 4).all()


def test_membership_is_one_for_a_configuration_that_dominates_every_sample():
    rows = []
    for s in range(-1, 5):
        rows += [(s, "W", 0.1, 20.0), (s, "X", 2.0 + s, 10.0), (s, "Y", 3.0 - 0.5 * s, 5.0 + s)]
    t = membership(_costs(rows)).set_index("arch")
    assert t.loc["W", "front_frequency"] == 1.0 and t.loc["W", "flip_frequency"] == 0.0
    assert t.loc["X", "front_frequency"] == 0.0 and t.loc["Y", "front_frequency"] == 0.0
    assert (t["front_change_frequency"] == 0.0).all()


def test_membership_of_real_configurations_is_a_frequency(arch_e):
    wl = accelsim.load_workload(str(TINY))
    res = pareto_membership({"tiny": wl}, [arch_e, accelsim.load_arch("G"), accelsim.load_arch("M")],
                            samples=6, seed=3)
    t = res.table
    assert len(res.costs) == 7 * 3 and len(res.samples) == 6
    for col in ("front_frequency", "flip_frequency", "front_change_frequency"):
        assert t[col].between(0, 1).all()
    assert t["front_frequency"].sum() >= 1.0  # every sample has a front of at least one point
    ep = t.set_index("arch")
    assert (ep["energy_per_op_j_p05"] <= ep["energy_per_op_j_p95"]).all()


# ------------------------------------------------------------------ CLI
def test_cli_tornado_and_membership_write_table_and_figure(tmp_path, capsys):
    out, fig = tmp_path / "t.csv", tmp_path / "t.png"
    assert main(["sensitivity", "-w", str(TINY), "-a", "E", "-o", str(out), "--figure", str(fig),
                 "--no-progress"]) == 0
    df = pd.read_csv(out)
    assert len(df) == len(load_tech(accelsim.load_arch("E")).uncertain()) and fig.stat().st_size > 10_000
    out2, fig2 = tmp_path / "m.json", tmp_path / "m.png"
    assert main(["sensitivity", "-w", str(TINY), "-a", "E", "-a", "G", "--samples", "4", "--seed", "1",
                 "-o", str(out2), "--figure", str(fig2), "--no-progress"]) == 0
    m = accelsim.read_results(out2)
    assert sorted(m["arch"]) == ["E", "G"] and (m["samples"] == 4).all() and fig2.stat().st_size > 5_000


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    line = _one_error_line(["sensitivity", "-w", str(TINY), "-a", "E", "--samples", "4"], capsys)
    assert "--samples" in line
    line = _one_error_line(["sensitivity", "-w", str(TINY), "-a", "E", "--figure", str(tmp_path / "f.txt")], capsys)
    assert "f.txt" in line and ".png" in line
    line = _one_error_line(["sensitivity", "-w", str(TINY), "-w", "segformer-b2", "-a", "E"], capsys)
    assert "one --workload" in line
    line = _one_error_line(["sensitivity", "-w", str(TINY), "-a", "E", "-o", str(tmp_path / "x.xlsx")], capsys)
    assert "x.xlsx" in line
    # a tech file without ranges has nothing to vary
    bare = copy.deepcopy(TECH)
    for ent in bare["energy"].values():
        ent.pop("range", None), ent.pop("range_source", None)
    bare.pop("scalar_ranges")
    line = _one_error_line(["sensitivity", "-w", str(TINY), "-a", str(_user_arch(tmp_path, bare))], capsys)
    assert "no constant has a range" in line
    # configurations of two technologies with different ranges are not sampled together
    other = copy.deepcopy(TECH)
    other["energy"]["noc_pj_per_bit_hop"]["range"] = [0.15, 0.3]
    line = _one_error_line(["sensitivity", "-w", str(TINY), "-a", "E", "-a",
                            str(_user_arch(tmp_path, other, "other"))], capsys)
    assert "other" in line and "one technology" in line


def test_shared_constants_accepts_one_technology():
    cons = shared_constants([accelsim.load_arch(x) for x in "AEM"])
    assert [c.name for c in cons] == [u.name for u in load_tech(accelsim.load_arch("E")).uncertain()]
    assert all(math.isfinite(c.low) and math.isfinite(c.high) for c in cons)


def test_report_section_writes_its_figures_and_rows(tmp_path):
    from accelsim.report.sensitivity import MEMBERSHIP_FILE, TORNADO_FILE, sensitivity_section

    text = sensitivity_section(tmp_path, "accelerator", {"segformer-b2": accelsim.load_workload("segformer-b2")},
                               samples=3, seed=0)
    assert text.startswith("## Sensitivity to the technology constants")
    for target in ("figures/sensitivity_tornado_segformer-b2_E.png", "figures/sensitivity_membership.png",
                   TORNADO_FILE, MEMBERSHIP_FILE):
        assert (tmp_path / target).is_file() and target in text
    m = accelsim.read_results(tmp_path / MEMBERSHIP_FILE)
    assert sorted(m["arch"]) == list("ABCDEFGHIJKLM") and (m["samples"] == 3).all()
    assert "| G |" in text  # one row per configuration in the membership table


def test_the_constants_studied_are_the_ones_the_file_ranges(tmp_path, tiny):
    # nothing is hard-coded: drop every range but one, give one to a reference entry, and the
    # tornado has exactly those two rows
    tech = copy.deepcopy(TECH)
    for key, ent in tech["energy"].items():
        if key != "ppu_op_pj":
            ent.pop("range", None), ent.pop("range_source", None)
    tech.pop("scalar_ranges")
    tech["reference"]["input_buffer_kb"].update(range=[48, 96], range_source="a test's own assumption")
    arch = accelsim.load_arch(str(_user_arch(tmp_path, tech)))
    df = tornado(tiny, arch)
    assert sorted(df["constant"]) == ["energy.ppu_op_pj", "reference.input_buffer_kb"]
    # a larger reference input buffer makes E's 64 KiB one relatively smaller: cheaper reads (SPEC.md 5)
    row = df.set_index("constant").loc["reference.input_buffer_kb"]
    assert row["energy_j_at_high"] < row["energy_j_nominal"] < row["energy_j_at_low"]


def test_remap_with_a_cache_repeats_and_matches_the_search_at_nominal_values(tmp_path, tiny, arch_e):
    from accelsim.sweep.sensitivity import Point

    p = Point(tiny, arch_e, Settings(remap=True))
    same = p.cost({"energy.noc_pj_per_bit_hop": 0.2})  # the nominal value: the nominal search's answer
    assert same.energy_j == p.nominal.energy_j and same.latency_s == p.nominal.latency_s
    outs = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for out in outs:
        assert main(["sensitivity", "-w", str(TINY), "-a", "E", "-a", "G", "--samples", "3", "--remap",
                     "--cache", str(tmp_path / "cache"), "-o", str(out), "--no-progress"]) == 0
    assert outs[0].read_text() == outs[1].read_text()
    assert any((tmp_path / "cache").rglob("costs.sqlite"))  # the per-layer cost table
