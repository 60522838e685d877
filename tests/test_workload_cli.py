"""``accelsim workload list|show|table|import``, named workloads and the workloads report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accelsim.cli.main import main
from accelsim.workload import list_models, list_named_workloads, load_workload
from accelsim.workload.report import workloads_report, workloads_table


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_list_shows_models_and_named(capsys):
    rc, out, _ = run(capsys, "workload", "list")
    assert rc == 0
    assert "segformer-b2" in out and "swin-t-upernet" in out and "segmenter-vit-s16-mask" in out
    assert "segformer-b2-ade20k-512" in out and "detr-r50-coco-800x1200" in out
    rc, out, _ = run(capsys, "workload", "list", "--format", "json")
    data = json.loads(out)
    assert {m["name"] for m in data["models"]} == {m.name for m in list_models()}
    assert len(data["named_workloads"]) == len(list_named_workloads())


def test_show_json_totals(capsys):
    rc, out, _ = run(capsys, "workload", "show", "segformer-b2", "--input", "512x512", "--json")
    assert rc == 0
    data = json.loads(out)
    t = data["totals"]
    # equal to the extractor (SegFormer-B2 at 512: 62.34 GMACs, tested against the paper)
    assert t["macs"] == load_workload("segformer-b2").macs
    assert t["flops"] == 2 * t["macs"]  # SPEC.md section 1
    assert sum(t["macs_by_op"].values()) == t["macs"]
    assert sum(row["macs"] for row in data["layers"]) == t["macs"]
    fuse = next(r for r in data["layers"] if r["name"] == "decode_head.linear_fuse")
    assert (fuse["c"], fuse["k"], fuse["p"]) == (3072, 768, 128)


def test_show_table_named_workload(capsys):
    rc, out, _ = run(capsys, "workload", "show", "segformer-b0-cityscapes-1024")
    assert rc == 0
    assert "MACs by op:" in out and "dwconv2d" in out
    assert "cityscapes" in out and "1024x1024" in out
    # linear_pred has 19 outputs on Cityscapes
    line = next(l for l in out.splitlines() if l.strip().startswith("decode_head.linear_pred "))
    assert line.split()[2] == "19"


@pytest.mark.parametrize("argv,needle", [
    (("workload", "show", "segformer-b9"), "unknown workload"),
    (("workload", "show", "segformer-b0", "--input", "500x500"), "divisible by 32"),
    (("workload", "show", "segformer-b0", "--input", "big"), "512x512"),
    (("workload", "show", "missing.yaml"), "not found"),
    (("workload", "import", "model.txt", "-o", "x.yaml"), "unsupported model file suffix"),
])
def test_bad_input_one_line_exit_2(capsys, argv, needle):
    rc, _, err = run(capsys, *argv)
    assert rc == 2
    assert err.startswith("error: ") and needle in err and err.count("\n") == 1


def test_named_yaml_bad_key(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmodel: segformer-b0\nresolution: 512\n")
    rc, _, err = run(capsys, "workload", "show", str(bad))
    assert rc == 2 and "unknown key(s) resolution" in err


@pytest.mark.parametrize("path", list_named_workloads(), ids=lambda p: p.stem)
def test_named_workloads_load(path):
    wl = load_workload(str(path))
    assert wl.name == path.stem
    assert wl.macs > 0 and wl.dataset in {"ade20k", "cityscapes", "coco2017", "imagenet"}


def test_named_workload_set():
    stems = {p.stem for p in list_named_workloads()}
    for v in ("b0", "b1", "b2"):
        assert {f"segformer-{v}-ade20k-512", f"segformer-{v}-cityscapes-1024"} <= stems
    assert {f"swin-{v}-upernet-ade20k-512" for v in "tsb"} <= stems
    assert {"detr-r50-coco-800x1200", "conditional-detr-r50-coco-800x1200",
            "dab-detr-r50-coco-800x1200", "anchor-detr-r50-coco-800x1200",
            "ofa-resnet50-imagenet-224", "segmenter-vit-l16-mask-ade20k-640"} <= stems


def test_report_numbers(tmp_path):
    path = [p for p in list_named_workloads() if p.stem == "segformer-b2-ade20k-512"]
    row = workloads_table(path).iloc[0]
    # decoder MACs by hand (SPEC.md section 7, E = 768, 1/4 map 128x128 = 16384 tokens):
    # linear_c4..c1 on 256/1024/4096/16384 tokens, linear_fuse 3072->768, linear_pred 768->150
    dec = (256 * 512 + 1024 * 320 + 4096 * 128 + 16384 * 64) * 768 \
        + 16384 * 3072 * 768 + 16384 * 768 * 150
    total = load_workload("segformer-b2").macs
    assert row["decoder_share"] == pytest.approx(dec / total, rel=1e-12)
    assert row["largest_layer"] == "decode_head.linear_fuse"
    assert row["largest_share"] == pytest.approx(16384 * 3072 * 768 / total, rel=1e-12)
    assert row["gmacs"] == pytest.approx(62.4, rel=5e-3)  # SegFormer paper (SPEC.md section 7)
    text = workloads_report(workloads_table(path))
    assert "| segformer-b2-ade20k-512 | segformer/b2 |" in text and "62.34" in text


def test_table_command_writes_report(capsys, tmp_path):
    out = tmp_path / "workloads.md"
    rc, _, err = run(capsys, "workload", "table", "-o", str(out))
    assert rc == 0 and "wrote" in err
    text = out.read_text()
    for path in list_named_workloads():
        assert f"| {path.stem} |" in text
    assert "unavailable" not in text  # every named workload's model is registered
    # the committed report is what the command generates now
    committed = Path(__file__).resolve().parents[1] / "reports" / "workloads.md"
    assert committed.read_text() == text


def test_import_roundtrip(capsys, tmp_path):
    torch = pytest.importorskip("torch", reason="torch extra not installed: no .pt2 import")

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.fc = torch.nn.Linear(8, 4)

        def forward(self, x):
            return self.fc(self.conv(x).mean((2, 3)))

    pt2 = tmp_path / "tiny.pt2"
    torch.export.save(torch.export.export(Tiny(), (torch.randn(1, 3, 16, 16),)), pt2)
    out = tmp_path / "tiny.yaml"
    rc, _, err = run(capsys, "workload", "import", str(pt2), "-o", str(out))
    assert rc == 0 and out.exists()
    rc, text, _ = run(capsys, "workload", "show", str(out), "--json")
    # hand calc: conv 8 x 3 x 3 x 3 x 16 x 16 = 55,296 MACs; linear 8 x 4 = 32 MACs
    assert rc == 0 and json.loads(text)["totals"]["macs"] == 55_296 + 32
