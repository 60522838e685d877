"""The device campaign: priority order, one time budget, clean stop, one archive (CPU rehearsal)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from accelsim.errors import AccelsimError
from accelsim.gpu.campaign import Item, Settings, file_stem, item_args, run_campaign, shrink, study_items

ROOT = Path(__file__).resolve().parents[1]


def _fake_runner(delays: dict[str, float], fail: set[str]):
    def run(args):
        wl = args[args.index("--workload") + 1]
        out = Path(args[args.index("-o") + 1])
        if wl in fail:
            raise AccelsimError(f"{wl}: no such thing\nsecond line")
        time.sleep(delays.get(wl, 0.0))
        out.write_text("x\n")
        return f"wrote {out}"
    return run


def test_budget_cuts_the_running_item_and_skips_the_rest(tmp_path):
    items = [Item(1, "per-layer", "a", "64x64"), Item(1, "per-layer", "bad", "64x64"),
             Item(2, "per-layer", "slow", "64x64"), Item(3, "per-layer", "late", "64x64")]
    t0 = time.monotonic()
    out = run_campaign(items, Settings(device="cpu", dtype="fp32"), tmp_path, budget_s=1.5,
                       runner=_fake_runner({"a": 0.1, "slow": 30.0}, {"bad"}), log=lambda s: None,
                       min_item_s=0.2)
    wall = time.monotonic() - t0
    assert [o.status for o in out] == ["done", "failed", "cut", "skipped"]
    # the deadline interrupts the 30 s item: the whole run ends within the 1.5 s budget + 0.5 s slack
    assert wall < 2.0
    assert out[1].message == "AccelsimError: bad: no such thing"  # one line
    assert out[0].files == ["a_64x64.csv"] and out[2].files == []
    doc = json.loads((tmp_path / "campaign.json").read_text())
    assert doc["counts"] == {"done": 1, "failed": 1, "cut": 1, "skipped": 1}
    assert [i["status"] for i in doc["items"]] == ["done", "failed", "cut", "skipped"]
    assert (tmp_path / "bad_64x64.error.txt").exists()


def test_study_list_is_in_priority_order_and_complete():
    items = study_items()
    groups = [it.group for it in items]
    assert groups == sorted(groups) and set(groups) == set(range(1, 8))
    assert len({it.key for it in items}) == len(items)
    dry = Settings(device="cpu", dtype="fp32", shrink_to=64)
    assert len({file_stem(it, dry) for it in items}) == len(items)  # no dry-run file overwrites another
    assert items[0] == Item(1, "per-layer", "segformer-b2", "512x512")
    assert items[1].kind == "whole-model" and items[1].energy
    sweep = {(it.workload, it.input) for it in items if it.group == 2}
    for wl in ("segformer-b2", "swin-t-upernet"):
        assert {s for w, s in sweep if w == wl} | ({"512x512"} if wl == "segformer-b2" else set()) == {
            f"{s}x{s}" for s in (256, 384, 512, 768, 1024, 1536, 2048)}
    paths = [it.exec_path for it in items if it.group == 3 and it.exec_path]
    assert len(paths) == 9 and "pred_in=736" in paths  # B2_a..B2_f, pred_in, DynaSegFormer 30/50 %
    assert {"swin-s-upernet", "swin-b-upernet", "detr-r50", "ofa-resnet50",
            "segmenter-vit-s16-linear"} <= {it.workload for it in items}


def test_dry_run_shrinks_inputs_and_keeps_aspect():
    assert shrink("512x512", 64) == "64x64"
    assert shrink("800x1200", 64) == "32x64"
    s = Settings(device="cpu", dtype="fp32", shrink_to=64)
    args = item_args(Item(5, "per-layer", "ofa-resnet50", "224x224"), s, Path("/x"))
    assert args[args.index("--input") + 1] == "128x128"  # OFA's smallest resolution
    assert args[args.index("-o") + 1] == "/x/ofa-resnet50_224x224_as-128x128.csv"


@pytest.mark.torch
def test_cpu_rehearsal_writes_loadable_files(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import accelsim.gpu as gpu

    items = [Item(1, "per-layer", "segformer-b0", "512x512"), Item(1, "whole-model", "segformer-b0", "512x512")]
    settings = Settings(device="cpu", dtype="fp32", layer_budget_s=0.002, whole_budget_s=0.05,
                        min_repeats=1, max_repeats=3, shrink_to=64)
    out = run_campaign(items, settings, tmp_path, budget_s=300, log=lambda s: None)
    assert [o.status for o in out] == ["done", "done"], [o.message for o in out]
    df = gpu.load(tmp_path)
    whole = df[df["kind"] == "whole-model"]
    assert len(whole) == 1 and whole["input"].iloc[0] == "64x64"
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == [
        "segformer-b0_512x512_as-64x64.csv", "segformer-b0_512x512_whole_as-64x64.csv"]
    # the whole-model file found its per-layer file, so it carries the ratio
    assert whole["ratio"].iloc[0] > 0


@pytest.mark.torch
@pytest.mark.slow
def test_device_script_dry_run_packs_one_archive(tmp_path):
    pytest.importorskip("transformers")
    env = dict(os.environ, BUDGET_S="120", GPU_GROUPS="1", DEST=str(tmp_path), PYTHON=sys.executable,
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("OUT", None)
    r = subprocess.run(["bash", str(ROOT / "reports/gpu/device_run.sh"), "--dry-run"], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    with tarfile.open(tmp_path / "gpu_run.tar.gz") as tar:
        names = set(tar.getnames())
        doc = json.load(tar.extractfile("gpu-run/campaign.json"))
    assert {"gpu-run/gpu_info.txt", "gpu-run/campaign.log", "gpu-run/summary.txt",
            "gpu-run/segformer-b2_512x512_as-64x64.csv",
            "gpu-run/segformer-b2_512x512_whole_energy_as-64x64.csv"} <= names
    assert doc["counts"] == {"done": 2}
