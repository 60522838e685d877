"""Layer-list YAML: round trip through save/load and clear errors for malformed files."""

from __future__ import annotations

import pytest
import yaml

from accelsim.errors import WorkloadError
from accelsim.workload import Builder, load_workload
from accelsim.workload.yamlio import save_workload_yaml, workload_from_dict, workload_to_dict


def _tiny():
    b = Builder()
    x = b.input(3, 16, 16)
    b.set_tags(part="backbone", stage=0)
    y = b.conv("stem.conv", x, 8, 3, stride=2, pad=1, bias=False)
    y = b.norm("stem.bn", y, "batchnorm", fused=True)
    y = b.act("stem.relu", y)
    z = b.conv("stem.dw", y, 8, 3, pad=1, groups=8)
    y = b.add("stem.add", y, z)
    b.set_tags(part="head")
    t = b.reshape(y, 8, 64, 1)
    q = b.linear("head.q", t, 8)
    a = b.matmul("head.qk", q, q, m=64, k=64, c=4, batch=2)
    a = b.softmax("head.softmax", a, batch=2)
    return b.workload(name="tiny", family="test", variant="t", input_size=(16, 16), num_classes=8,
                      dataset="none", meta={"note": "hand built"})


def test_round_trip_hand_built(tmp_path):
    wl = _tiny()
    path = save_workload_yaml(wl, tmp_path / "sub" / "tiny.yaml")
    back = load_workload(path)
    # every field of every layer survives (dataclass equality), so MACs/bytes/graph do too
    assert back.layers == wl.layers
    assert (back.name, back.family, back.variant, back.input_size, back.num_classes,
            back.dataset, back.meta) == (wl.name, wl.family, wl.variant, wl.input_size,
                                         wl.num_classes, wl.dataset, wl.meta)
    # hand count: conv 8*3*9*8*8 = 13824, dw 8*9*8*8 = 4608, linear 8*8*64 = 4096,
    # matmul 2*64*4*64 = 32768
    assert back.macs == 13824 + 4608 + 4096 + 32768
    assert set(back.graph().edges) == set(wl.graph().edges)


def test_round_trip_registry_model(tmp_path):
    wl = load_workload("segformer-b0", input_size=(128, 128), num_classes=19)
    back = load_workload(save_workload_yaml(wl, tmp_path / "b0.yaml"))
    assert back.layers == wl.layers
    assert back.macs == wl.macs and back.params == wl.params  # exact: same layers


def test_only_non_default_fields_written():
    d = workload_to_dict(_tiny())
    conv = d["layers"][0]
    assert conv["inputs"] == ["input"] and conv["tags"] == {"part": "backbone", "stage": "0"}
    assert "groups" not in conv and "batch" not in conv  # defaults are left out
    yaml.safe_dump(d)  # plain YAML types only


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d["layers"][0].pop("k"), "field 'k' is missing"),
    (lambda d: d["layers"][0].update(op="convolution"), "allowed: conv2d"),
    (lambda d: d["layers"][1].update(k=-4), "field 'k' = -4 must be in 1..1,048,576"),
    (lambda d: d["layers"][0].update(k=2**20, c=2**20, p=2**20), "over the limit of 2.81e+14 (2^48)"),
    (lambda d: d["layers"][1].update(k="eight"), "field 'k' must be an integer"),
    (lambda d: d["layers"][1].update(fused="yes"), "field 'fused' must be true or false"),
    (lambda d: d["layers"][1].update(inputs=["nowhere"]), "'nowhere'"),
    (lambda d: d["layers"][1].update(colour=3), "unknown field(s) colour"),
    (lambda d: d.update(layer=[]), "unknown key(s) layer"),
    (lambda d: d.update(input="big"), "field 'input'"),
    (lambda d: d.update(layers=[]), "non-empty list"),
    (lambda d: d["layers"].append(dict(d["layers"][0])), "duplicate layer names"),
    (lambda d: d["layers"][3].update(groups=3), "groups=3 must divide"),
])
def test_bad_field_names_file_and_field(tmp_path, mutate, needle):
    d = workload_to_dict(_tiny())
    mutate(d)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d))
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    msg = str(err.value)
    assert str(path) in msg and needle in msg and "\n" not in msg


def test_layer_error_names_index_and_layer():
    d = workload_to_dict(_tiny())
    d["layers"][2]["p"] = 0
    with pytest.raises(WorkloadError, match=r"src.yaml: layers\[2\] \(stem.relu\): field 'p'"):
        workload_from_dict(d, "src.yaml")
