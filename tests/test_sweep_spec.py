"""Sweep spec validation and expansion: grids, ranges, constraints, sampling, clear errors."""

from __future__ import annotations

import pytest

from accelsim.errors import ConfigError
from accelsim.sweep import ArchSpace, expand_arch_names, expand_arch_space, load_spec
from accelsim.sweep.constraints import parse_constraint
from accelsim.sweep.spec import RangeSpec, sweep_points, workload_items


def test_label_ranges_and_paths():
    assert expand_arch_names("A..M") == list("ABCDEFGHIJKLM")
    assert expand_arch_names(["C..E", "x.yaml", "A"]) == ["C", "D", "E", "x.yaml", "A"]
    assert expand_arch_names("B,D") == ["B", "D"]


def test_ranges():
    assert RangeSpec(start=64, stop=256, step=64).values() == [64, 128, 192, 256]
    assert RangeSpec(start=4, stop=64, factor=2).values() == [4, 8, 16, 32, 64]


def test_grid_constraints_and_names():
    r = expand_arch_space(ArchSpace(base="E", grid={"num_pe": [8, 16], "k0": {"values": [16, 32]},
                                                    "c0": [16, 32]}, constraints=["k0 == c0"]))
    # 2 x 2 x 2 = 8 combinations, 4 with k0 != c0 removed
    assert r.grid_size == 8 and r.rejected_constraints == 4
    names = [a.name for a in r.archs]
    assert names == ["E[num_pe=8,k0=16,c0=16]", "E[num_pe=8]", "E[k0=16,c0=16]", "E"]
    # a changed PE array invalidates the synthesised area; unchanged E keeps it
    assert r.archs[0].pe_array_area_mm2 is None and r.archs[-1].pe_array_area_mm2 == 1.9


def test_area_constraint_uses_area_model():
    from accelsim.arch.area import arch_area_mm2

    r = expand_arch_space(ArchSpace(configs=["A..M"], constraints=["area_mm2 <= 3"]))
    assert r.archs and all(arch_area_mm2(a) <= 3 for a in r.archs)
    assert r.rejected_constraints == 13 - len(r.archs)


def test_sample_is_reproducible_and_ordered():
    space = ArchSpace(base="E", grid={"num_pe": [4, 8, 16, 32], "weight_buffer_kb": [32, 64, 128, 256],
                                      "input_buffer_kb": [16, 32, 64]}, sample={"n": 10, "seed": 3})
    a = [x.name for x in expand_arch_space(space).archs]
    b = [x.name for x in expand_arch_space(space).archs]
    assert a == b and len(a) == 10 and len(set(a)) == 10


def test_points_are_arch_major():
    space = expand_arch_space(ArchSpace(configs=["A", "B"]))
    items = workload_items(load_spec({"arch": "A", "workloads": [
        {"name": "segformer-b0", "exec_paths": ["", "blocks=1-1-1-1"]}, "segformer-b1"]})[0].workloads)
    pts = sweep_points(space.archs, items)
    assert [(p.arch.name, p.workload, p.exec_path) for p in pts][:4] == [
        ("A", "segformer-b0", ""), ("A", "segformer-b0", "blocks=1-1-1-1"), ("A", "segformer-b1", ""),
        ("B", "segformer-b0", "")]


@pytest.mark.parametrize("spec, message", [
    ({"arch": {"grid": {"num_pes": [1]}}, "workloads": ["x"]}, "unknown arch parameter(s) num_pes"),
    ({"arch": "A", "workloads": ["x"], "objective": "speed"}, "field 'objective'"),
    ({"arch": "A", "workloads": []}, "field 'workloads'"),
    ({"arch": "A", "workloads": ["x"], "colour": 1}, "field 'colour': unknown key"),
    ({"arch": {"base": "E", "grid": {"k0": {"start": 8, "stop": 4, "step": 1}}}, "workloads": ["x"]},
     "stop=4.0 is below start=8.0"),
    ({"arch": {"base": "E", "grid": {"k0": {"start": 8, "stop": 64}}}, "workloads": ["x"]},
     "exactly one of step"),
    ({"arch": {"base": "E", "configs": ["A"]}, "workloads": ["x"]}, "either base"),
])
def test_bad_specs(spec, message):
    with pytest.raises(ConfigError, match=None) as err:
        load_spec(spec)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("space, message", [
    (ArchSpace(configs=["M..A"]), "reversed"),
    (ArchSpace(configs=["A..Z"]), "both ends must be shipped configs"),
    (ArchSpace(configs=["Q"]), "unknown architecture 'Q'"),
    (ArchSpace(base="E", grid={"k0": [1.5]}), "arch.grid.k0: 1.5 is not an integer"),
    (ArchSpace(base="E", grid={"k0": [8]}, constraints=["k0 ==="]), "cannot parse"),
    (ArchSpace(base="E", grid={"k0": [8]}, constraints=["kk0 == 8"]), "unknown name(s) kk0"),
    (ArchSpace(base="E", grid={"k0": [8]}, constraints=["__import__('os')"]), "only the functions"),
    (ArchSpace(base="E", grid={"k0": [8]}, constraints=["k0.real == 8"]), "Attribute is not allowed"),
    (ArchSpace(base="E", grid={"k0": [8]}, constraints=["k0 > 100"]), "no architecture is left"),
    (ArchSpace(base="E", grid={"weight_buffer_kb": [0.5]}), "cannot hold one K0 x C0 weight tile"),
])
def test_bad_spaces(space, message):
    with pytest.raises(ConfigError) as err:
        expand_arch_space(space)
    assert message in str(err.value)


def test_constraint_grammar():
    c = parse_constraint("k0 == c0 and max(num_pe, 2) * 2 >= 8 or not k0 < 4", {"k0", "c0", "num_pe"})
    assert c({"k0": 8, "c0": 8, "num_pe": 4}) is True
    assert c({"k0": 8, "c0": 16, "num_pe": 1}) is True   # `not k0 < 4` holds
    assert c({"k0": 2, "c0": 16, "num_pe": 1}) is False


def test_yaml_file_errors(tmp_path):
    bad = tmp_path / "s.yaml"
    bad.write_text("arch: [A\n")
    with pytest.raises(ConfigError, match="malformed YAML at line"):
        load_spec(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_spec(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="listed twice"):
        workload_items(load_spec({"arch": "A", "workloads": ["segformer-b0", "segformer-b0"]})[0].workloads)
