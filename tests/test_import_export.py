"""ZigZag/Stream workload YAML in and out, Timeloop problems out (and GEMM problems in), AccelForge
refusals, and the round trip: export then import gives the same layers.

The ZigZag file is checked against the same network written by torch.onnx.export and read by
the ONNX importer (an independent route: ONNX shapes come from onnx's shape inference)."""

from __future__ import annotations

from pathlib import Path

import pytest

import accelsim
from accelsim.cli.main import main
from accelsim.workload import Op
from accelsim.workload.importers import import_model_file
from accelsim.workload.importers.export import export_timeloop, export_zigzag, same_mac_layers

ZIGZAG_NET = """\
- id: 0
  name: conv1
  operator_type: Conv
  equation: O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]
  dimension_relations: [ix=2*ox+1*fx, iy=2*oy+1*fy]
  loop_dims: [B, K, C, OY, OX, FY, FX]
  loop_sizes: [1, 16, 3, 16, 16, 7, 7]
  operand_precision: {W: 8, I: 8, O: 16, O_final: 8}
  operand_source: {I: 0, W: 0}
  pr_loop_dims: [IY, IX]
  padding: [[3, 3], [3, 3]]
- id: 1
  name: pool
  operator_type: MaxPool
  equation: O[b][g][oy][ox]+=W[fx][fy]*I[b][g][iy][ix]
  dimension_relations: [ix=2*ox+1*fx, iy=2*oy+1*fy]
  loop_dims: [B, G, OY, OX, FX, FY]
  loop_sizes: [1, 16, 8, 8, 3, 3]
  operand_precision: {I: 8, W: 0, O: 16, O_final: 8}
  operand_source: {I: 0, W: 1}
  pr_loop_dims: [IY, IX]
  padding: [[1, 1], [1, 1]]
- id: 2
  name: dw
  operator_type: Conv
  equation: O[b][g][oy][ox]+=W[g][fy][fx]*I[b][g][iy][ix]
  dimension_relations: [ix=1*ox+1*fx, iy=1*oy+1*fy]
  loop_dims: [B, G, OY, OX, FY, FX]
  loop_sizes: [1, 16, 8, 8, 3, 3]
  operand_precision: {W: 8, I: 8, O: 16, O_final: 8}
  operand_source: {I: 1, W: 2}
  pr_loop_dims: [IY, IX]
  padding: [[1, 1], [1, 1]]
- id: 3
  name: add
  operator_type: Add
  equation: O[b][g][oy][ox]=W[b][g][oy][ox]+I[b][g][oy][ox]
  loop_dims: [B, G, OY, OX]
  loop_sizes: [1, 16, 8, 8]
  operand_precision: {W: 8, I: 8, O: 16, O_final: 8}
  operand_source: {W: 1, I: 2}
- id: 4
  name: pw
  operator_type: Conv
  equation: O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]
  dimension_relations: [ix=1*ox+1*fx, iy=1*oy+1*fy]
  loop_dims: [B, K, C, OY, OX, FY, FX]
  loop_sizes: [1, 32, 16, 8, 8, 1, 1]
  operand_precision: {W: 8, I: 8, O: 16, O_final: 8}
  operand_source: {I: 3, W: 4}
- id: 5
  name: fc
  operator_type: Gemm
  equation: O[b][k]+=I[b][c]*W[c][k]
  loop_dims: [B, C, K]
  loop_sizes: [1, 2048, 10]
  operand_precision: {W: 8, I: 8, O: 16, O_final: 8}
  operand_source: {I: 4, W: 5}
"""


def _shape(layer):
    return (layer.op, layer.k, layer.c, layer.p, layer.q, layer.r, layer.s, layer.stride, layer.padding,
            layer.groups, layer.macs)


def _edges(wl):
    index = {layer.name: i for i, layer in enumerate(wl.layers)}
    index["input"] = -1
    return [sorted(index[x] for x in layer.inputs) for layer in wl.layers]


def test_zigzag_yaml_matches_the_same_network_as_onnx(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 7, stride=2, padding=3)
            self.pool = nn.MaxPool2d(3, 2, padding=1)
            self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16)
            self.pw = nn.Conv2d(16, 32, 1)
            self.fc = nn.Linear(2048, 10)

        def forward(self, x):
            y = self.pool(self.conv1(x))
            return self.fc(self.pw(y + self.dw(y)).flatten(1))

    onnx_path = tmp_path / "net.onnx"
    torch.onnx.export(Net().eval(), (torch.randn(1, 3, 32, 32),), str(onnx_path), dynamo=False)
    via_onnx = import_model_file(onnx_path)
    zz = tmp_path / "net.yaml"
    zz.write_text(ZIGZAG_NET)
    via_zigzag = import_model_file(zz)
    assert [_shape(x) for x in via_zigzag.layers] == [_shape(x) for x in via_onnx.layers]
    assert _edges(via_zigzag) == _edges(via_onnx)
    assert [x.op for x in via_zigzag.layers] == [Op.CONV2D, Op.POOL, Op.DWCONV2D, Op.ELTWISE, Op.CONV2D, Op.LINEAR]
    assert via_zigzag.macs == via_onnx.macs == 16 * 3 * 49 * 256 + 16 * 9 * 64 + 32 * 16 * 64 + 2048 * 10


@pytest.mark.parametrize("model", ["resnet50", "segformer-b0"])
def test_round_trip_zigzag_and_timeloop(tmp_path, model):
    wl = accelsim.load_workload(model)
    zz, skipped_zz = export_zigzag(wl, tmp_path / "w.yaml")
    back = import_model_file(zz)
    assert same_mac_layers(wl.layers, back.layers) == []
    kept = [x for x in wl.layers if x.name not in set(skipped_zz)]
    assert [x.name for x in back.layers] == [x.name for x in kept]
    # pools and adds come back as they were; MAC layers with their op (linear, matmul, conv)
    assert [(x.op, x.macs, x.nonmac_ops) for x in back.layers] == [(x.op, x.macs, x.nonmac_ops) for x in kept]
    files, skipped_tl = export_timeloop(wl, tmp_path / "tl")
    again = import_model_file(tmp_path / "tl")
    assert len(files) == sum(x.is_mac for x in wl.layers) and same_mac_layers(wl.layers, again.layers) == []
    assert again.macs == wl.macs


def test_graph_survives_the_zigzag_round_trip(tmp_path):
    wl = accelsim.load_workload("resnet50")
    zz, skipped = export_zigzag(wl, tmp_path / "w.yaml")
    back = import_model_file(zz)
    gone = set(skipped)
    by_name = {x.name: x for x in wl.layers}

    def producers(names):  # skipped layers pass their own producers on
        out = []
        for n in names:
            out += producers(by_name[n].inputs) if n in gone else [n]
        return out

    for layer in back.layers:
        if layer.op is not Op.POOL and layer.name != back.layers[0].name:
            assert sorted(layer.inputs) == sorted(dict.fromkeys(producers(by_name[layer.name].inputs))), layer.name


def test_export_cli(tmp_path, capsys):
    assert main(["workload", "export", "resnet50", "--to", "timeloop", "-o", str(tmp_path / "one.yaml"),
                 "--layer", "layer3.1.conv2"]) == 0
    (layer,) = import_model_file(tmp_path / "one.yaml").layers
    ref = accelsim.load_workload("resnet50").layer("layer3.1.conv2")
    assert (layer.k, layer.c, layer.r, layer.p, layer.macs) == (ref.k, ref.c, ref.r, ref.p, ref.macs)
    capsys.readouterr()
    assert main(["workload", "export", "resnet50", "--to", "timeloop", "-o", str(tmp_path / "all.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {tmp_path / 'all.yaml'}: a single problem file holds one layer") and \
        len(err.splitlines()) == 1
    assert main(["workload", "export", "resnet50", "--to", "zigzag", "-o", str(tmp_path / "z.txt")]) == 2
    capsys.readouterr()
    assert main(["workload", "export", "resnet50", "--to", "timeloop", "-o", str(tmp_path / "tl")]) == 0
    assert main(["workload", "export", "resnet50", "--to", "timeloop", "-o", str(tmp_path / "tl")]) == 2
    assert "the folder already holds problem files (0000_conv1.yaml ...)" in capsys.readouterr().err
    assert main(["workload", "import", str(tmp_path / "one.yaml"), "-o", str(tmp_path / "x.yaml"),
                 "--input", "64x64"]) == 2
    assert "--input (input_hw) applies to .onnx and .pt2 models" in capsys.readouterr().err


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_timeloop_gemm_problems(tmp_path):
    plain = _write(tmp_path, "g.yaml", "problem:\n  instance: {M: 128, N: 64, K: 256}\n")
    (g,) = import_model_file(plain).layers
    assert (g.op, g.p, g.k, g.c, g.macs) == (Op.MATMUL, 128, 64, 256, 128 * 64 * 256)
    dot = _write(tmp_path, "d.yaml", "problem:\n  shape: {name: dot_product, dimensions: [M, K]}\n"
                 "  instance: {M: 1000, K: 300}\n")
    (d,) = import_model_file(dot).layers
    assert (d.op, d.p, d.k, d.c, d.macs) == (Op.MATMUL, 1000, 1, 300, 300_000)
    spaces = _write(tmp_path, "s.yaml", """problem:
  shape:
    name: bmm
    dimensions: [H, M, N, K]
    data_spaces:
    - {name: A, projection: [[[H]], [[M]], [[K]]]}
    - {name: B, projection: [[[H]], [[K]], [[N]]]}
    - {name: Z, projection: [[[H]], [[M]], [[N]]], read_write: true}
  instance: {H: 12, M: 197, N: 197, K: 64}
""")
    (b,) = import_model_file(spaces).layers
    assert (b.batch, b.p, b.k, b.c, b.macs) == (12, 197, 197, 64, 12 * 197 * 197 * 64)


TL_REFUSALS = [
    ("problem:\n  instance: {C: 8, M: 8, densities: {A: 0.5, B: 0.25}}\n",
     "sparse problems are not supported (densities of A, B in 'problem.instance.densities'); remove the "
     "densities to import the dense problem"),
    ("problem:\n  shape: {name: mttkrp, dimensions: [I, J, K, L]}\n  instance: {I: 8}\n",
     "field 'problem.shape': shape 'mttkrp' with dimensions ['I', 'J', 'K', 'L'] is not a CNN-layer problem "
     "(dimensions C, G, K, M, N, P, Q, R, S) nor a plain GEMM (Z[m,n] += A[m,k]*B[k,n]: dimensions M, N, K); "
     "not supported"),
    ("problem:\n  shape:\n    name: odd\n    dimensions: [M, N, K]\n    data_spaces:\n"
     "    - {name: A, projection: [[[M]], [[K]]]}\n    - {name: B, projection: [[[M]], [[N]]]}\n"
     "    - {name: Z, projection: [[[M]], [[N]]], read_write: true}\n  instance: {M: 4, N: 4, K: 4}\n",
     "problem with dimensions K, M, N is not a plain GEMM (Z[m,n] += A[m,k]*B[k,n]: dimensions M, N, K) "
     "(K fit no GEMM role)"),
]


@pytest.mark.parametrize("text, message", TL_REFUSALS)
def test_timeloop_refusals_one_line(tmp_path, capsys, text, message):
    path = _write(tmp_path, "p.yaml", text)
    assert main(["workload", "import", str(path), "-o", str(tmp_path / "o.yaml")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {path}: {message}"


ACCELFORGE = """workload:
  rank_sizes:
    {% set BATCH_SIZE = BATCH_SIZE | default(1) %}
    B: {{BATCH_SIZE}}
    M: 128
  einsums:
  - name: Matmul
    tensor_accesses:
    - {name: I, projection: [m, k]}
    - {name: W, projection: [k, n]}
    - {name: O, projection: [m, n], output: True}
"""


@pytest.mark.parametrize("jinja", [True, False])
def test_accelforge_workloads_are_refused_without_running_templates(tmp_path, capsys, jinja):
    text = ACCELFORGE if jinja else ACCELFORGE.replace("    {% set BATCH_SIZE = BATCH_SIZE | default(1) %}\n", "") \
        .replace("{{BATCH_SIZE}}", "1")
    path = _write(tmp_path, "w.yaml", text)
    assert main(["workload", "import", str(path), "-o", str(tmp_path / "o.yaml")]) == 2
    extra = ", Jinja templates" if jinja else ""
    assert capsys.readouterr().err.strip() == (
        f"error: {path}: this is an AccelForge workload (einsums with tensor_accesses{extra}); it is not "
        "supported: no template code is run; write the layers as a Timeloop problem, ZigZag workload YAML or "
        "an accelsim layer list")


def test_include_text_is_bounded_and_kept_inside_the_root(tmp_path, capsys):
    out = str(tmp_path / "o.yaml")
    problem = "problem:\n  instance: {C: 8, M: 8}\n"
    # a fan-out bomb: 8 levels of 16 includes each would paste 16^7 times
    for level in range(8):
        body = f"{{{{include_text('l{level + 1}.yaml')}}}}\n" * 16 if level < 7 else "# leaf\n"
        _write(tmp_path / "bomb", f"l{level}.yaml", body)
    top = _write(tmp_path / "bomb", "top.yaml", "{{include_text('l0.yaml')}}\n" + problem)
    assert main(["workload", "import", str(top), "-o", out]) == 2
    assert "more than 64 include_text pastes in all" in capsys.readouterr().err
    # large pastes: 3 x 3 MiB is over the 8 MiB total
    _write(tmp_path / "big", "blob.yaml", ("# " + "x" * 1000 + "\n") * 3000)
    many = _write(tmp_path / "big", "p.yaml", "{{include_text('blob.yaml')}}\n" * 3 + problem)
    assert main(["workload", "import", str(many), "-o", out]) == 2
    assert "include_text pastes more than 8,388,608 bytes in all" in capsys.readouterr().err
    # absolute and climbing includes are refused, naming the path; --include-root allows a root
    for target in ("/etc/passwd", "../../../../../../etc/hostname"):
        p = _write(tmp_path / "a" / "b", "p.yaml", f"{{{{include_text('{target}')}}}}\n" + problem)
        assert main(["workload", "import", str(p), "-o", out]) == 2
        err = capsys.readouterr().err.strip()
        assert f"include_text('{target}') is outside {tmp_path / 'a'}; pass --include-root" in err, err
    elsewhere = _write(tmp_path / "shared", "base.yaml", "# shared base\n")
    p = _write(tmp_path / "a" / "b", "p.yaml", f"{{{{include_text('{elsewhere}')}}}}\n" + problem)
    assert main(["workload", "import", str(p), "-o", out]) == 2
    capsys.readouterr()
    assert main(["workload", "import", str(p), "-o", out, "--include-root", str(tmp_path)]) == 0


# ------------------------------------------------------------------ property: any MAC layer survives the trip
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from accelsim.workload import Layer, Workload  # noqa: E402

_dims = st.integers(1, 64)


@st.composite
def mac_layers(draw):
    kind = draw(st.sampled_from(["conv", "dw", "grouped", "linear", "matmul"]))
    p, q, n = draw(_dims), draw(_dims), draw(st.integers(1, 4))
    if kind == "linear":
        return Layer("l", Op.LINEAR, k=draw(_dims), c=draw(_dims), p=p, q=q, n=n, batch=draw(st.integers(1, 4)))
    if kind == "matmul":
        return Layer("m", Op.MATMUL, k=draw(_dims), c=draw(_dims), p=p, q=q, n=n, batch=draw(st.integers(1, 8)))
    r, s, stride = draw(st.integers(1, 7)), draw(st.integers(1, 7)), draw(st.integers(1, 4))
    pad = draw(st.integers(0, 3))
    if kind == "dw":
        g = draw(_dims)
        return Layer("d", Op.DWCONV2D, k=g, c=g, p=p, q=q, r=r, s=s, stride=stride, padding=pad, groups=g, n=n)
    g = draw(st.integers(1, 4)) if kind == "grouped" else 1
    return Layer("c", Op.CONV2D, k=g * draw(_dims), c=g * draw(_dims), p=p, q=q, r=r, s=s, stride=stride,
                 padding=pad, groups=g, n=n)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layer=mac_layers())
def test_any_mac_layer_survives_both_exports(tmp_path_factory, layer):
    folder = tmp_path_factory.mktemp("trip")
    pre = Layer("pre", Op.CONV2D, k=8, c=3, p=8, q=8, r=3, s=3, inputs=("input",))
    wl = Workload(name="w", family="test", variant="t", input_size=(10, 10), num_classes=0,
                  layers=(pre, layer.with_(inputs=("pre",))))
    back_zz = import_model_file(export_zigzag(wl, folder / "w.yaml")[0])
    z = back_zz.layers[1]
    assert z.inputs == ("pre",)
    # ZigZag keeps everything the layer's MACs and mapping depend on (a matmul's n folds into batch)
    assert (z.op, z.macs, z.k, z.c, z.r, z.s, z.stride, z.groups, z.p, z.q) == \
        (layer.op, layer.macs, layer.k, layer.c, layer.r, layer.s, layer.stride, layer.groups, layer.p, layer.q)
    if layer.op in (Op.CONV2D, Op.DWCONV2D):
        assert (z.padding, z.n) == (layer.padding, layer.n)
    export_timeloop(wl, folder / "tl")
    assert same_mac_layers(wl.layers, import_model_file(folder / "tl").layers) == []
