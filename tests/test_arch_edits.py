"""Validated config edits (ArchConfig.replace, SweepSpec.replace) and tech-file paths that
resolve against the arch YAML's own folder."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
import yaml

from accelsim.arch import load_arch, load_tech
from accelsim.arch.config import ArchConfig, arch_dir
from accelsim.cli.main import main
from accelsim.cost import simulate
from accelsim.errors import ConfigError
from accelsim.sweep.spec import load_spec
from accelsim.workload import Layer, Op, Workload


@pytest.mark.parametrize("change, fragment", [
    ({"k0": 0}, "field 'k0': Input should be greater than 0 (got 0)"),
    ({"dram_type": "ddr9"}, "field 'dram_type': must be one of 'lpddr4', 'hbm2' or 'hbm3' (got 'ddr9')"),
    ({"num_pe": 8.5}, "field 'num_pe'"),
    ({"bogus": 1}, "field 'bogus': unknown key"),
    # a 32 x 32 8-bit weight tile is 1 KiB: 0.5 KiB cannot hold it
    ({"weight_buffer_kb": 0.5}, "cannot hold one K0 x C0 weight tile"),
])
def test_replace_validates_and_names_the_field(change, fragment):
    with pytest.raises(ConfigError) as err:
        load_arch("E").replace(**change)
    msg = str(err.value)
    assert fragment in msg and msg.startswith("E[") and "\n" not in msg


def test_model_copy_skips_validation_replace_does_not():
    # the reason replace exists: pydantic's model_copy accepts k0 = 0 silently
    assert load_arch("E").model_copy(update={"k0": 0}).k0 == 0
    with pytest.raises(ConfigError):
        load_arch("E").replace(k0=0)


def test_replace_name_area_and_numpy_values():
    e = load_arch("E")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pydantic serializer warning for numpy integers
        a = e.replace(num_pe=np.int64(8), k0=np.int64(16), c0=16)
        a.model_dump()
    assert type(a.num_pe) is int and (a.num_pe, a.k0, a.c0) == (8, 16, 16)
    assert a.name == "E[num_pe=8,k0=16,c0=16]"
    assert a.pe_array_area_mm2 is None  # the synthesised 1.9 mm2 is for E's PE array only
    # a change that leaves the PE array alone keeps the synthesised area; a given name wins
    b = e.replace(global_buffer_kb=1024.0, name="E-1MB")
    assert (b.name, b.pe_array_area_mm2, b.global_buffer_kb) == ("E-1MB", 1.9, 1024.0)
    assert e.replace() == e and e.replace(k0=32) == e  # nothing changed: an equal config


def test_sweep_spec_replace_validates():
    spec, _ = load_spec({"arch": "E", "workloads": ["segformer-b0"]})
    assert spec.replace(objective="energy").objective == "energy"
    with pytest.raises(ConfigError, match="field 'objective'"):
        spec.replace(objective="speed")


def _user_arch(tmp_path, tech_rel: str, folder: str = "cfgs") -> "tuple":
    """An arch YAML in tmp_path/folder naming tech_rel, plus a copy of the 5 nm tech file at
    tmp_path/folder/tech7.yaml whose MAC energy is doubled (so the file used is visible)."""
    d = tmp_path / folder
    d.mkdir(parents=True, exist_ok=True)
    tech = yaml.safe_load((arch_dir() / "tech" / "5nm.yaml").read_text())
    tech["name"] = "my 7 nm"
    tech["energy"]["mac_pj"]["value"] *= 2
    tech["energy"]["mac_pj"]["range"] = [2 * x for x in tech["energy"]["mac_pj"].get("range", [0.0, 1.0])]
    (d / "tech7.yaml").write_text(yaml.safe_dump(tech))
    arch = yaml.safe_load((arch_dir() / "E.yaml").read_text())
    arch.update(name="mine", tech=tech_rel)
    path = d / "mine.yaml"
    path.write_text(yaml.safe_dump(arch))
    return path, d / "tech7.yaml"


def test_relative_tech_resolves_next_to_the_arch_yaml(tmp_path, monkeypatch):
    path, tech_file = _user_arch(tmp_path, "tech7.yaml")
    monkeypatch.chdir(tmp_path)  # the working directory is neither folder
    a = load_arch(path)
    assert a.tech == str(tech_file.resolve())
    assert load_tech(a).name == "my 7 nm"
    # the doubled MAC energy reaches the cost: 2x E's MAC energy for the same layer, exactly
    wl = Workload("w", "t", "t", (8, 8), 1, (Layer("c", Op.CONV2D, k=64, c=64, p=8, q=8),))
    mine, base = simulate(wl, a), simulate(wl, "E")
    assert mine.energy_breakdown["mac"] == pytest.approx(2 * base.energy_breakdown["mac"], rel=1e-12)
    # a derived config keeps pointing at the same file
    assert load_tech(a.replace(k0=16, c0=16)).name == "my 7 nm"


def test_shipped_relative_tech_still_works_from_a_copy(tmp_path, arch_e_dict, write_yaml):
    # a copy of E.yaml elsewhere names tech/5nm.yaml: not next to it, so the shipped file
    a = load_arch(write_yaml(arch_e_dict))
    assert a.tech == "tech/5nm.yaml" and a == load_arch("E")
    # and a copy that ships its own tech/5nm.yaml uses that one
    shutil.copytree(arch_dir() / "tech", tmp_path / "tech")
    b = load_arch(write_yaml(arch_e_dict, "other.yaml"))
    assert b.tech == str((tmp_path / "tech" / "5nm.yaml").resolve())
    for label in "ABCDEFGHIJKLM":
        assert load_arch(label).tech == "tech/5nm.yaml"


def test_missing_tech_is_one_line_naming_the_field(tmp_path, capsys):
    path, _ = _user_arch(tmp_path, "tech9.yaml")
    with pytest.raises(ConfigError) as err:
        load_arch(path)
    msg = str(err.value)
    assert msg.startswith(str(path)) and "field 'tech'" in msg and "tech9.yaml" in msg
    assert main(["arch", "show", str(path)]) == 2
    out = capsys.readouterr().err.strip()
    assert out.startswith("error: ") and "field 'tech'" in out and len(out.splitlines()) == 1


def test_arch_config_has_replace_documented():
    assert "validated" in ArchConfig.replace.__doc__
