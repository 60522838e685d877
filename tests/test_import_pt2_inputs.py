""".pt2 and ONNX models with dynamic spatial sizes (``--input HxW``), module-path layer names
for .pt2, and the .pt2 reader's bounds on graph size and run time.

MACs by hand: conv 3 -> 8 channels, 3x3, padding 1 over an H x W map is 8 * 3 * 9 * H * W;
the linear 8 -> 4 over H * W tokens is 32 * H * W."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="the .pt2 route needs torch")
nn = torch.nn

from accelsim.cli.main import main  # noqa: E402
from accelsim.errors import WorkloadError  # noqa: E402
from accelsim.workload.importers import import_model_file, pt2_archive  # noqa: E402


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c, self.l = nn.Conv2d(3, 8, 3, padding=1), nn.Linear(8, 4)

    def forward(self, x):
        return self.l(self.c(x).flatten(2).transpose(1, 2))


def _macs(h, w):
    return 8 * 3 * 9 * h * w + 32 * h * w


@pytest.fixture(scope="module")
def dynamic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dyn")
    h, w = torch.export.Dim("h", min=16, max=1024), torch.export.Dim("w", min=16, max=1024)
    x = torch.randn(1, 3, 32, 32)
    ep = torch.export.export(Net().eval(), (x,), dynamic_shapes={"x": {2: h, 3: w}})
    torch.export.save(ep, folder / "dyn.pt2")
    pytest.importorskip("onnx")
    torch.onnx.export(Net().eval(), (x,), str(folder / "dyn.onnx"), dynamo=False, input_names=["x"],
                      dynamic_axes={"x": {2: "height", 3: "width"}})
    return folder


@pytest.mark.parametrize("suffix", [".pt2", ".onnx"])
def test_dynamic_sizes_need_input(dynamic, tmp_path, capsys, suffix):
    path = dynamic / f"dyn{suffix}"
    out = str(tmp_path / "o.yaml")
    assert main(["workload", "import", str(path), "-o", out]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "give the input size with --input HxW" in err, err
    shown = "[1, 3, s" if suffix == ".pt2" else "[1, 3, 'height', 'width']"
    assert err.startswith(f"error: {path}: input 'x' has symbolic sizes {shown}"), err
    assert main(["workload", "import", str(path), "-o", out, "--input", "64x48"]) == 0
    assert "2 layers" in capsys.readouterr().err
    assert import_model_file(path, input_hw=(64, 48)).macs == _macs(64, 48)


def test_pt2_layer_names_from_module_stack(dynamic):
    wl = import_model_file(dynamic / "dyn.pt2", input_hw=(16, 16))
    assert [layer.name for layer in wl.layers] == ["c", "l"]
    assert dict(wl.layers[1].tags)["module"] == "l"


def test_graph_walk_is_bounded(dynamic, monkeypatch):
    monkeypatch.setattr(pt2_archive, "MAX_RUN_S", -1.0)  # any run is over the budget
    with pytest.raises(WorkloadError, match=r"the graph ran for over -1 s \(stopped at node 0 of 4\)"):
        import_model_file(dynamic / "dyn.pt2", input_hw=(16, 16))
    monkeypatch.setattr(pt2_archive, "MAX_RUN_S", 60.0)
    # the conv of a 16 x 16 input is 8 * 3 * 9 * 256 = 55,296 MACs (the estimate is exact at stride 1)
    monkeypatch.setattr(pt2_archive, "MAX_NODE_MACS", 55_295)
    with pytest.raises(WorkloadError, match=r"node 0 \(aten.conv2d.default\) would run about 5.53e\+04 MACs"):
        import_model_file(dynamic / "dyn.pt2", input_hw=(16, 16))
    monkeypatch.setattr(pt2_archive, "MAX_NODE_MACS", 55_296)
    assert import_model_file(dynamic / "dyn.pt2", input_hw=(16, 16)).macs == _macs(16, 16)
    monkeypatch.setattr(pt2_archive, "MAX_NODES", 3)
    with pytest.raises(WorkloadError, match="has over 3 nodes"):
        import_model_file(dynamic / "dyn.pt2", input_hw=(16, 16))


def test_input_over_the_bounds_is_refused_before_allocation(dynamic):
    with pytest.raises(WorkloadError, match="at most 268,435,456 are allocated"):
        import_model_file(dynamic / "dyn.pt2", input_hw=(1 << 20, 1 << 20))


def test_failing_node_is_one_message(tmp_path, capsys):
    # a graph whose conv gets a mismatched weight fails at that node: named once, not wrapped
    import json
    import zipfile

    src = tmp_path / "ok.pt2"
    torch.export.save(torch.export.export(Net().eval(), (torch.randn(1, 3, 8, 8),)), src)
    with zipfile.ZipFile(src) as z:
        entries = {i.filename: z.read(i) for i in z.infolist()}
    key = next(k for k in entries if k.endswith("models/model.json"))
    doc = json.loads(entries[key])
    doc["graph_module"]["graph"]["tensor_values"]["x"]["sizes"][1] = {"as_int": 5}
    entries[key] = json.dumps(doc).encode()
    bad = tmp_path / "bad.pt2"
    with zipfile.ZipFile(bad, "w") as z:
        for k, v in entries.items():
            z.writestr(k, v)
    assert main(["workload", "import", str(bad), "-o", str(tmp_path / "o.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {bad}: node 0 (aten.conv2d.default) failed: RuntimeError: ") and \
        err.count(str(bad)) == 1 and "from_torch" not in err and len(err.splitlines()) == 1, err
