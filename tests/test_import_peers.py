"""Layer lists from the peer tools: Timeloop problem YAMLs and SCALE-Sim topology CSVs.

The examples under examples/ describe torchvision's ResNet-50 at 224x224 in each tool's
own conventions; imported, they must have exactly the MACs of accelsim's resnet50
extractor, layer by layer (the same shapes, so exact integer equality).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml

import accelsim
from accelsim.cli.main import main
from accelsim.errors import WorkloadError
from accelsim.resources import project_root
from accelsim.workload import Op
from accelsim.workload.importers import import_model_file
from accelsim.workload.importers.scalesim import from_scalesim
from accelsim.workload.importers.timeloop import from_timeloop

EXAMPLES = project_root() / "examples"


def _mac_shapes(wl) -> Counter:
    """Multiset of (MACs, K, C per group, R, S, output positions) of the MAC layers."""
    return Counter((layer.macs, layer.k, layer.c_per_group, layer.r, layer.s, layer.p * layer.q)
                   for layer in wl.layers if layer.is_mac)


@pytest.fixture(scope="module")
def resnet50():
    return accelsim.load_workload("resnet50")


@pytest.mark.parametrize("rel", ["timeloop/resnet50", "scalesim/resnet50.csv"])
def test_conv_examples_match_resnet50_exactly(rel, resnet50):
    wl = import_model_file(EXAMPLES / rel)
    assert len(wl.layers) == 54 and wl.macs == resnet50.macs == 4_089_184_256
    assert _mac_shapes(wl) == _mac_shapes(resnet50)
    # strides too (the fc is a linear in accelsim and a 1x1 conv in the peers' formats)
    strides = Counter(layer.stride for layer in wl.layers)
    assert strides == Counter(layer.stride for layer in resnet50.layers if layer.is_mac)


def test_scalesim_gemm_example_matches_resnet50_exactly(resnet50):
    # the GEMM form is im2col: M = P*Q, N = K, K = C*R*S; per layer the same MACs
    wl = from_scalesim(EXAMPLES / "scalesim" / "resnet50_gemm.csv")
    assert wl.macs == resnet50.macs
    assert sorted(layer.macs for layer in wl.layers) == \
        sorted(layer.macs for layer in resnet50.layers if layer.is_mac)
    assert {layer.op for layer in wl.layers} == {Op.LINEAR}
    conv2 = wl.layer("layer1.0.conv2")
    assert (conv2.p, conv2.k, conv2.c) == (56 * 56, 64, 64 * 9)


def test_timeloop_single_file_example():
    (layer,) = from_timeloop(EXAMPLES / "timeloop" / "conv3x3.yaml").layers
    ref = accelsim.load_workload("resnet50").layer("layer3.1.conv2")
    assert (layer.k, layer.c, layer.r, layer.s, layer.p, layer.q, layer.macs) == \
        (ref.k, ref.c, ref.r, ref.s, ref.p, ref.q, ref.macs)
    # Timeloop's projection: (P-1)*stride + R = 16 input rows, padding included
    assert layer.input_hw == (16, 16)


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


BASE = """problem_base_ignore: &problem_base
  version: 0.4
  instance: {N: 1, C: 1, M: 1, G: 1, R: 1, S: 1, P: 1, Q: 1, H: 1, W: 1,
             Hstride: 1, Wstride: 1, Hdilation: 1, Wdilation: 1}
  shape: {name: CNN_Layer, dimensions: [C, M, R, S, N, P, Q, G]}
"""


def test_timeloop_spellings(tmp_path):
    # older files: instance keys beside shape, K for the output channels, N images
    old = from_timeloop(_write(tmp_path, "old.yaml", (
        "problem:\n  shape: {name: CNN-Layer, dimensions: [C, K, R, S, N, P, Q]}\n"
        "  C: 256\n  K: 512\n  R: 3\n  S: 3\n  P: 56\n  Q: 56\n  N: 16\n"))).layers[0]
    assert (old.k, old.c, old.n, old.macs) == (512, 256, 16, 16 * 512 * 256 * 9 * 56 * 56)
    # a built-in shape named by a string
    named = from_timeloop(_write(tmp_path, "named.yaml", (
        "problem:\n  shape: cnn-layer\n  instance: {C: 8, M: 4, P: 2, Q: 3}\n"))).layers[0]
    assert (named.k, named.c, named.p, named.q) == (4, 8, 2, 3)
    # timeloopfe template as in the Timeloop/Accelergy exercises: the included base, a
    # recursive merge, and HStride written over the base's Hstride
    _write(tmp_path, "problem_base.yaml", BASE)
    folder = tmp_path / "net"
    _write(folder, "0.yaml", "{{include_text('../problem_base.yaml')}}\nproblem:\n"
           "  <<<: *problem_base\n  instance: {C: 3, M: 64, P: 112, Q: 112, R: 7, S: 7, "
           "HStride: 2, WStride: 2}\n")
    _write(folder, "1.yaml", "{{include_text('../problem_base.yaml')}}\nproblem:\n"
           "  <<<: *problem_base\n  instance: {G: 16, P: 112, Q: 112, R: 3, S: 3}\n")
    _write(folder, "10.yaml", "{{include_text('../problem_base.yaml')}}\nproblem:\n"
           "  <<<: *problem_base\n  instance: {G: 4, C: 8, M: 16, P: 7, Q: 7, R: 3, S: 3, "
           "Hdilation: 2, Wdilation: 2}\n")
    _write(folder, "notes.txt", "not a problem file")
    wl = from_timeloop(folder)
    assert [layer.name for layer in wl.layers] == ["0", "1", "10"]  # natural order
    stem, dw, grouped = wl.layers
    assert (stem.stride, stem.input_hw, stem.macs) == (2, (229, 229), 64 * 3 * 49 * 112 * 112)
    assert (dw.op, dw.k, dw.c, dw.groups, dw.macs) == (Op.DWCONV2D, 16, 16, 16, 16 * 9 * 112 * 112)
    # dilation 2 runs as the 5 x 5 effective kernel: 4 groups x 16 x 8 x 25 x 49 MACs
    assert (grouped.op, grouped.k, grouped.c, grouped.groups, grouped.r, grouped.s) == \
        (Op.CONV2D, 64, 32, 4, 5, 5)
    assert grouped.macs == 4 * 16 * 8 * 25 * 49
    assert dict(wl.meta)["dilated"] == "10: 3x3 dilation 2 -> 5x5 effective kernel"


def test_scalesim_conventions(tmp_path):
    path = _write(tmp_path, "t.csv", (
        "\ufeffLayer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
        "Num Filter, Strides,\n"
        "Conv1, 230, 230, 7, 7, 3, 64, 2,\n"
        "\n"
        "DP_conv, 114, 114, 3, 3, 32, 1, 1\n"       # no trailing comma; depthwise by name
        "DP_mult, 114, 114, 3, 3, 32, 2, 1,\n"      # depthwise with 2 filters per channel
        "Conv1, 56, 56, 1, 1, 64, 64, 1,,,\n"))     # repeated name, empty extra columns
    wl = from_scalesim(path)
    stem, dw, mult, again = wl.layers
    # SCALE-Sim's output size is ceil((230 - 7 + 2) / 2) = 113 (floor would give 112)
    assert (stem.p, stem.q, stem.input_hw) == (113, 113, (230, 230))
    assert (dw.op, dw.k, dw.c, dw.groups, dw.p) == (Op.DWCONV2D, 32, 32, 32, 112)
    assert (mult.op, mult.k, mult.groups, mult.macs) == (Op.CONV2D, 64, 32, 32 * 2 * 9 * 112 * 112)
    assert again.name == "Conv1_1"
    two = from_scalesim(_write(tmp_path, "s.csv", (
        "Layer name,IFMAP height,IFMAP width,Filter height,Filter width,Channels,Num filter,"
        "Stride height,Stride width,\nc,9,9,3,3,4,8,2,2,\n"))).layers[0]
    assert (two.p, two.stride, two.macs) == (4, 2, 8 * 4 * 9 * 16)
    gemm = from_scalesim(_write(tmp_path, "g.csv", "Layer Name, M, N, K,\nTest 1, 128, 64, 256,\n"))
    assert (gemm.layers[0].op, gemm.layers[0].macs) == (Op.LINEAR, 128 * 64 * 256)


def test_import_then_simulate(tmp_path, capsys, resnet50):
    out = tmp_path / "r50.yaml"
    assert main(["workload", "import", str(EXAMPLES / "timeloop" / "resnet50"), "-o", str(out)]) == 0
    assert "54 layers, 4.0892 GMACs" in capsys.readouterr().err
    assert main(["simulate", "-w", str(out), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["macs"] == resnet50.macs and len(data["layers"]) == 54
    assert all(r["cycles"] > 0 for r in data["layers"])
    csv_out = tmp_path / "r50c.yaml"
    assert main(["workload", "import", str(EXAMPLES / "scalesim" / "resnet50.csv"), "-o",
                 str(csv_out), "--name", "r50-scalesim"]) == 0
    assert accelsim.load_workload(csv_out).name == "r50-scalesim"
    dil = _write(tmp_path, "d.yaml", "problem:\n  instance: {C: 8, M: 8, P: 8, Q: 8, R: 3, S: 3, "
                 "Hdilation: 2, Wdilation: 2}\n")
    assert main(["workload", "import", str(dil), "-o", str(tmp_path / "d_out.yaml")]) == 0
    assert "note: dilated convs run as their effective kernel: d: 3x3 dilation 2 -> 5x5" in \
        capsys.readouterr().err


TL_BAD = [
    ("problem:\n  instance: {C: 8, M: 8, densities: {A: 0.5}}\n",
     "sparse problems are not supported (densities of A in 'problem.instance.densities')"),
    ("problem:\n  instance: {C: 8, M: eight}\n",
     "field 'problem.instance.M' must be an integer >= 1, got 'eight'"),
    ("problem:\n  instance: {C: 8, M: 8, K: 8}\n", "fields 'problem.instance.M' and 'problem.instance.K'"),
    ("problem:\n  instance: {C: 8, M: 8, Hstride: 2}\n",
     "fields 'problem.instance.Hstride'=2 and 'problem.instance.Wstride'=1 differ"),
    ("problem:\n  shape: {name: gemm_ABZ, dimensions: [M, N, K, X]}\n  instance: {M: 8}\n",
     "field 'problem.shape': shape 'gemm_ABZ' with dimensions ['M', 'N', 'K', 'X'] is not a "
     "CNN-layer problem"),
    ("problem:\n  shape: einsum\n  instance: {M: 8}\n", "field 'problem.shape' is 'einsum'; allowed"),
    ("{% set x = 1 %}\nproblem:\n  instance: {C: 1}\n", "line 1: Jinja template"),
    ("architecture: {}\n", "field 'problem' is missing"),
    ("problem:\n  instance: [1, 2\n", "malformed YAML at line"),
    ("name: x\nlayers:\n- {name: a, op: linear, k: 1, c: 1}\n", "this is an accelsim layer list"),
]
SS_BAD = [
    ("Name, A, B\nx, 1, 2\n", "is neither SCALE-Sim's conv form"),
    ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
     "Strides,\nc1, 8, 8, 3, x, 4, 4, 1,\n", "row 2 (c1): field 'Filter Width' must be a positive "
     "integer, got 'x'"),
    ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
     "Strides,\nc1, 8, 8, 9, 3, 4, 4, 1,\n", "field 'Filter Height'=9 exceeds 'IFMAP Height'=8"),
    ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
     "Stride height, Stride width,\nc1, 8, 8, 3, 3, 4, 4, 1, 2,\n",
     "fields 'Stride height'=1 and 'Stride width'=2 differ"),
    ("Layer, M, N, K,\nfc, 8, 8,\n", "row 2 (fc): expected the fields M, N, K; got 8, 8, (empty)"),
    ("Layer, M, N, K,\nfc, 0, 8, 8,\n", "field 'M' must be a positive integer, got '0'"),
    ("\n\n", "empty file"),
]


@pytest.mark.parametrize("suffix, content, fragment",
                         [(".yaml", c, f) for c, f in TL_BAD] + [(".csv", c, f) for c, f in SS_BAD])
def test_bad_peer_files_one_line_exit_2(tmp_path, capsys, suffix, content, fragment):
    path = _write(tmp_path, "bad" + suffix, content)
    assert main(["workload", "import", str(path), "-o", str(tmp_path / "out.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}") and fragment in err, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out.yaml").exists()


def test_bad_folders(tmp_path):
    with pytest.raises(WorkloadError, match="no Timeloop problem files"):
        from_timeloop(tmp_path)
    _write(tmp_path, "a.yaml", "{{include_text('missing_base.yaml')}}\nproblem: {}\n")
    with pytest.raises(WorkloadError, match=r"missing_base\.yaml: file not found"):
        from_timeloop(tmp_path)


def test_example_files_are_what_the_docs_say():
    # every example layer file of the folder uses the timeloopfe template over problem_base
    files = sorted((EXAMPLES / "timeloop" / "resnet50").glob("*.yaml"))
    assert len(files) == 54
    assert all(f.read_text().startswith("{{include_text('../problem_base.yaml')}}") for f in files)
    assert yaml.safe_load((EXAMPLES / "timeloop" / "conv3x3.yaml").read_text())["problem"]["version"] == 0.4
