"""Derived settings follow their parents (ppu_elems_per_cycle defaults to k0), the area fit
warns outside Table II's range, and ``arch show`` prints units, on-chip SRAM and the area used."""

from __future__ import annotations

import json
import warnings

import pytest
import yaml

from accelsim.arch import load_arch
from accelsim.arch.area import AreaExtrapolationWarning, fit_ranges, outside_fit_range, pe_array_area
from accelsim.arch.config import arch_dir
from accelsim.arch.noc import mesh
from accelsim.cli.main import main
from accelsim.sweep.spec import ArchSpace, expand_arch_space


def test_ppu_rate_follows_k0_unless_set():
    e = load_arch("E")
    assert e.ppu_follows_k0 and e.ppu_elems_per_cycle == 32  # one element per lane
    assert load_arch("H").ppu_elems_per_cycle == 16
    h = e.replace(k0=16, c0=16)
    assert h.ppu_elems_per_cycle == 16 and h.name == "E[k0=16,c0=16]"  # not a change of its own
    fixed = e.replace(ppu_elems_per_cycle=8)
    assert not fixed.ppu_follows_k0 and fixed.replace(k0=16).ppu_elems_per_cycle == 8


def test_grid_over_k0_carries_the_ppu_rate_along():
    archs = expand_arch_space(ArchSpace(base="E", grid={"k0": [8, 16, 64]})).archs
    assert [a.ppu_elems_per_cycle for a in archs] == [8, 16, 64]


def test_custom_yaml_without_the_key_uses_k0(tmp_path):
    data = yaml.safe_load((arch_dir() / "E.yaml").read_text())
    data.update(name="mine", k0=16, tech=str(arch_dir() / "tech" / "5nm.yaml"))
    data.pop("ppu_elems_per_cycle", None)
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(data))
    assert load_arch(str(tmp_path / "mine.yaml")).ppu_elems_per_cycle == 16
    data["ppu_elems_per_cycle"] = 4
    (tmp_path / "set.yaml").write_text(yaml.safe_dump(data))
    assert load_arch(str(tmp_path / "set.yaml")).ppu_elems_per_cycle == 4


def test_area_fit_warns_once_outside_table_ii():
    assert fit_ranges()["k0"] == (16, 32) and fit_ranges()["num_pe"] == (16, 64)
    e = load_arch("E")
    assert pe_array_area(e)[1] == "synthesised" and outside_fit_range(e) == []
    wide = e.replace(k0=64, c0=64)
    assert outside_fit_range(wide) == ["k0 = 64 outside [16, 32]", "c0 = 64 outside [16, 32]"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        for _ in range(3):  # a sweep costs the point many times: one warning per parameter
            assert pe_array_area(wide)[1] == "fit"
        pe_array_area(e.replace(k0=16, c0=16))  # inside the range: no warning
    texts = [str(w.message) for w in seen if issubclass(w.category, AreaExtrapolationWarning)]
    assert len(texts) == 2
    assert "k0 outside [16, 32]" in texts[0] and "c0 outside [16, 32]" in texts[1]


def test_mesh_geometry():
    # 4 x 4 mesh, GB port at a corner: 1 + mean(x + y) = 1 + 3 = 4 hops; 8 x 8: 8 hops
    assert (mesh(16).cols, mesh(16).rows, mesh(16).unicast_hops) == (4, 4, 4.0)
    assert mesh(64).unicast_hops == 8.0
    # 32 PEs on 6 columns: 5 full rows and 2 PEs; sum(x) = 5*15 + 1, sum(y) = 6*10 + 2*5 (hand)
    assert mesh(32).unicast_hops == pytest.approx(1 + (76 + 70) / 32)
    assert mesh(1).unicast_hops == 1.0 and mesh(16).multicast_links(4) == 7.0


def test_arch_show_prints_units_sram_and_the_area_used(capsys):
    assert main(["arch", "show", "E", "--format", "json"]) in (0, None)
    rows = {r["parameter"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["weight_buffer_kb"]["unit"] == "KiB per PE"
    assert rows["pe_sram_total_kb"]["value"] == (128 + 32 + 32) * 16  # per-PE buffers x num_pe
    assert rows["on_chip_sram_total_kb"]["value"] == (128 + 32 + 32) * 16 + 2048
    assert rows["pe_array_area_mm2_used"]["value"] == 1.9 and "synthesised" in rows["pe_array_area_mm2_used"]["unit"]
    assert "follows k0" in rows["ppu_elems_per_cycle"]["unit"]


def test_tech_ranges_are_checked(tmp_path):
    from accelsim.arch.config import load_tech
    from accelsim.errors import ConfigError

    tech = yaml.safe_load((arch_dir() / "tech" / "5nm.yaml").read_text())
    entry = tech["energy"]["control_per_pe_cycle_pj"]
    assert entry["range"][0] <= entry["value"] <= entry["range"][1] and entry["range_source"]
    tech["energy"]["noc_pj_per_bit_hop"].update(range=[0.1, 0.3], range_source="SPEC.md section 5")
    (tmp_path / "ok.yaml").write_text(yaml.safe_dump(tech))
    assert load_tech(tmp_path / "ok.yaml").energy["noc_pj_per_bit_hop"].range == [0.1, 0.3]
    for bad, fragment in (([0.3, 0.5], "low <= value"), ([0.1], "at least 2 items"),
                          ([0.1, float("inf")], "finite")):
        tech["energy"]["noc_pj_per_bit_hop"]["range"] = bad
        (tmp_path / "bad.yaml").write_text(yaml.safe_dump(tech))
        with pytest.raises(ConfigError, match=fragment) as err:
            load_tech(tmp_path / "bad.yaml")
        assert "energy.noc_pj_per_bit_hop" in str(err.value) and "range" in str(err.value)
