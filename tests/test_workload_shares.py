"""Shared weights in the layer IR (``Layer.shares``): parameter counts, tables, cost keys,
validation and the layer-list YAML round trip."""

from __future__ import annotations

import pytest
import yaml

from accelsim.errors import WorkloadError
from accelsim.workload import Builder, Layer, Op, Workload, load_workload
from accelsim.workload.yamlio import save_workload_yaml, workload_from_dict, workload_to_dict


def _twice() -> Workload:
    """One Linear(8, 8) + LayerNorm(8) module pair called twice on 4 tokens."""
    b = Builder()
    x = b.reshape(b.input(8, 2, 2), 8, 4, 1)
    for call in range(2):
        x = b.linear(f"fc@{call}", x, 8)
        x = b.norm(f"ln@{call}", x)
    layers = [layer.with_(shares=layer.name[:-1] + "0") if layer.name.endswith("@1") else layer
              for layer in b.layers]
    return Workload("twice", "test", "t", (2, 2), 8, layers)


def test_shared_call_counts_no_weights_but_keeps_its_work():
    wl = _twice()
    first, again = wl.layer("fc@0"), wl.layer("fc@1")
    # hand count: Linear(8, 8) = 64 weights + 8 bias; LayerNorm(8) = 8 scale + 8 shift
    assert first.params == first.static_params == again.static_params == 72
    assert again.params == 0 and wl.layer("ln@1").params == 0
    assert wl.params == 72 + 16  # the module's own count: weights once
    # the call still does its MACs and fetches its weights: same cost key, bytes and work
    assert again.macs == first.macs == 4 * 8 * 8
    assert again.shape_key() == first.shape_key()
    assert again.weight_bytes() == first.weight_bytes() == 64
    assert again.row()["shares"] == "fc@0" and first.row()["shares"] == ""
    assert wl.to_frame()["params"].sum() == wl.params


def test_extra_params_still_counted_on_a_shared_call():
    layer = Layer("fc@1", Op.LINEAR, k=8, c=8, bias=True, extra_params=5, shares="fc@0")
    assert layer.params == 5 and layer.static_params == 72


def test_yaml_round_trip_keeps_shares(tmp_path):
    wl = _twice()
    d = workload_to_dict(wl)
    assert d["layers"][2]["shares"] == "fc@0" and "shares" not in d["layers"][0]
    back = load_workload(save_workload_yaml(wl, tmp_path / "twice.yaml"))
    assert back.layers == wl.layers and back.params == wl.params


def test_registry_model_with_shared_calls_round_trips(tmp_path):
    wl = load_workload("dab-detr-r50", input_size=(256, 384))
    assert sum(1 for layer in wl.layers if layer.shares) > 0
    back = load_workload(save_workload_yaml(wl, tmp_path / "dab.yaml"))
    assert back.layers == wl.layers and back.params == wl.params  # exact: same layers


@pytest.mark.parametrize("shares, needle", [
    ("nowhere", "shares the weights of 'nowhere', which is not a layer before it"),
    ("ln@1", "shares the weights of 'ln@1', which is not a layer before it"),  # later layer
    ("ln@0", "has 72 static parameters but shares those of 'ln@0', which has 16"),
])
def test_bad_shares_target(shares, needle):
    layers = [layer.with_(shares=shares) if layer.name == "fc@1" else layer
              for layer in _twice().layers]
    with pytest.raises(ValueError, match=needle):
        Workload("bad", "test", "t", (2, 2), 8, layers)


def test_bad_shares_target_in_yaml_names_the_file(tmp_path):
    d = workload_to_dict(_twice())
    d["layers"][2]["shares"] = "fc@9"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d))
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    msg = str(err.value)
    assert str(path) in msg and "'fc@9', which is not a layer before it" in msg and "\n" not in msg


def test_layer_cannot_share_itself():
    with pytest.raises(ValueError, match="names the layer itself"):
        Layer("fc", Op.LINEAR, k=8, c=8, shares="fc")
    with pytest.raises(WorkloadError, match=r"layers\[0\] \(fc\)"):
        workload_from_dict({"layers": [{"name": "fc", "op": "linear", "k": 8, "c": 8,
                                        "shares": "fc"}]}, "x.yaml")


def test_cost_model_charges_a_shared_call_its_own_weight_traffic():
    """Documented choice: each call fetches its weights again (no cross-call reuse), so a
    shared call costs exactly what the same layer without ``shares`` costs."""
    from accelsim.arch.config import load_arch
    from accelsim.cost import map_layer

    arch = load_arch("E")
    first = Layer("fc@0", Op.LINEAR, k=64, c=64, p=16, q=16, bias=True)
    again = first.with_(name="fc@1", shares="fc@0")
    a, b = map_layer(first, arch, scope="system").row(), map_layer(again, arch, scope="system").row()
    a.pop("name"), b.pop("name")
    assert b == a and b["energy_dram_j"] > 0  # identical, DRAM traffic included
