"""ONNX files whose external weight data is absent import from shapes alone.

ResNet-18 (He et al. 2016) has 21 MAC layers (20 convs and the classifier) and
1.814 GMACs at 224x224 (the published 1.8 GFLOPs, counted as multiply-adds; torchvision
lists 1.81): the hand count below gives 1,814,073,344 exactly.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx", reason="the ONNX importer needs the onnx extra")
torch = pytest.importorskip("torch", reason="exporting the test network needs torch")
nn = torch.nn

from accelsim.cli.main import cli  # noqa: E402
from accelsim.workload import from_onnx, load_workload  # noqa: E402
from accelsim.workload.importers import MissingWeightsWarning  # noqa: E402


def resnet18_hand_macs() -> tuple[int, int]:
    """(MAC layers, MACs) of ResNet-18 at 224x224, by hand: K * C * R * S * P * Q per conv."""
    convs = [(64, 3, 7, 112)]  # stem: 7x7 stride 2 -> 112x112
    for c_in, k, size in ((64, 64, 56), (64, 128, 28), (128, 256, 14), (256, 512, 7)):
        down = c_in != k
        convs += [(k, c_in, 3, size), (k, k, 3, size), (k, k, 3, size), (k, k, 3, size)]
        if down:
            convs.append((k, c_in, 1, size))  # 1x1 stride-2 projection shortcut
    macs = sum(k * c * r * r * p * p for k, c, r, p in convs) + 1000 * 512  # + classifier
    return len(convs) + 1, macs


class Block(nn.Module):
    def __init__(self, c_in: int, k: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, k, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(k)
        self.conv2 = nn.Conv2d(k, k, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(k)
        self.down = (nn.Sequential(nn.Conv2d(c_in, k, 1, stride, bias=False), nn.BatchNorm2d(k))
                     if stride != 1 or c_in != k else nn.Identity())

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.down(x))


class ResNet18(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks, c_in = [], 64
        for k, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            blocks += [Block(c_in, k, stride), Block(k, k, 1)]
            c_in = k
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def _trained_like() -> ResNet18:
    """A ResNet-18 with distinct BN statistics: folded biases then differ, so the exporter
    keeps one initializer per conv weight and per folded bias (equal constants are merged)."""
    torch.manual_seed(0)
    model = ResNet18().eval()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.bias.data.uniform_(-1, 1)
    return model


@pytest.fixture(scope="module")
def shapes_only_onnx(tmp_path_factory) -> Path:
    """ResNet-18 exported with every weight in an external file, which is then deleted."""
    folder = tmp_path_factory.mktemp("r18")
    path = folder / "resnet18.onnx"
    torch.onnx.export(_trained_like(), (torch.zeros(1, 3, 224, 224),), str(path),
                      dynamo=False, input_names=["x"], opset_version=17)
    model = onnx.load(str(path))
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="resnet18.weights", size_threshold=0)
    (folder / "resnet18.weights").unlink()
    return path


def _check_resnet18(wl) -> None:
    mac_layers = [layer for layer in wl.layers if layer.is_mac]
    n_layers, macs = resnet18_hand_macs()
    assert (n_layers, macs) == (21, 1_814_073_344)  # the hand count itself: 1.814 GMACs
    assert len(mac_layers) == n_layers  # exact: 20 convs + fc
    assert wl.macs == macs  # exact MAC count (hand count, published 1.814 GMACs)


def test_missing_external_weights_import_from_shapes(shapes_only_onnx):
    with pytest.warns(MissingWeightsWarning, match=r"resnet18\.weights not found; imported from shapes alone"):
        wl = from_onnx(shapes_only_onnx)
    _check_resnet18(wl)
    meta = dict(wl.meta)
    assert meta["weights"] == "shapes only" and meta["missing_weight_files"] == "resnet18.weights"
    # the exporter folds BN into the convs: 20 conv weights + 20 folded biases + fc weight + bias
    names = meta["missing_weights"].split(",")
    assert len(names) == 42 and {"fc.weight", "fc.bias"} <= set(names)
    # parameter count from the shapes alone (exact): torchvision's 11,689,512 holds 2 x 4,800
    # BN scale and shift values; the exporter folds each BN into a 4,800-element conv bias
    assert int(meta["model_params"]) == 11_689_512 - 2 * 4800 + 4800


def test_complete_file_has_no_missing_weights(tmp_path):
    path = tmp_path / "r18.onnx"
    torch.onnx.export(ResNet18().eval(), (torch.zeros(1, 3, 64, 64),), str(path), dynamo=False,
                      opset_version=17)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingWeightsWarning)
        wl = from_onnx(path)
    assert "missing_weights" not in dict(wl.meta)
    assert sum(layer.is_mac for layer in wl.layers) == 21


def test_cli_import_warns_in_one_line(shapes_only_onnx, tmp_path):
    from click.testing import CliRunner

    out = tmp_path / "r18.yaml"
    res = CliRunner().invoke(cli, ["workload", "import", str(shapes_only_onnx), "-o", str(out)])
    assert res.exit_code == 0, res.output
    warned = [line for line in res.output.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and "42 of 42 initializers" in warned[0]
    _check_resnet18(load_workload(out))


def _zigzag_resnet18() -> Path | None:
    spec = importlib.util.find_spec("zigzag")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "inputs" / "workload" / "resnet18.onnx"
    return path if path.is_file() else None


@pytest.mark.skipif(_zigzag_resnet18() is None, reason="zigzag-dse is not installed in this python")
def test_zigzag_bundled_resnet18():
    """ZigZag's bundled ResNet-18 points at a weight file it does not ship."""
    with pytest.warns(MissingWeightsWarning):
        wl = from_onnx(_zigzag_resnet18())
    _check_resnet18(wl)
