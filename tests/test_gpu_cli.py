"""``accelsim gpu`` commands: CUDA refusal without a device, CPU measure -> file -> table."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="the gpu commands time PyTorch ops")

import accelsim.gpu as gpu  # noqa: E402
from accelsim.cli.main import main  # noqa: E402

FAST = ["--min-repeats", "2", "--max-repeats", "2", "--budget-s", "0.01"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA; the refusal needs none")
@pytest.mark.parametrize("cmd", [["measure", "--workload", "segformer-b0"],
                                 ["whole-model", "--workload", "segformer-b0"]])
def test_cuda_without_cuda_exits_2_with_a_clear_message(tmp_path, capsys, cmd):
    out = tmp_path / "x.csv"
    assert main(["gpu", *cmd, "--device", "cuda", "--dtype", "fp16", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --device cuda: no CUDA device") and "\n" not in err
    assert not out.exists()  # never fake numbers


@pytest.mark.parametrize("args, expect", [
    (["measure", "--workload", "nope", "--device", "cpu"], "unknown workload 'nope'"),
    (["measure", "--workload", "segformer-b0", "--device", "tpu"], "--device 'tpu'"),
    (["measure", "--workload", "segformer-b0", "--device", "cpu", "--dtype", "fp8"], "fp8"),
    (["whole-model", "--workload", "nope", "--device", "cpu"], "no transformers model definition"),
    (["whole-model", "--workload", "segformer-b0", "--device", "cpu", "--dtype", "int8"], "int8"),
    (["measure", "--workload", "segformer-b0", "--device", "cpu", "--cpu-clock", "thread", "--threads", "2"],
     "--cpu-clock thread needs --device cpu and --threads 1"),
    (["measure", "--workload", "segformer-b0", "--device", "cpu", "--max-repeats", "1"], "--max-repeats 1"),
])
def test_bad_input_exits_2(capsys, args, expect):
    assert main(["gpu", *args]) == 2
    assert expect in capsys.readouterr().err


def test_measure_cpu_then_table(tmp_path, capsys):
    out = tmp_path / "b0.csv"
    assert main(["gpu", "measure", "--workload", "segformer-b0", "--input", "64x64", "--device", "cpu",
                 "--dtype", "fp32", "--cpu-clock", "thread", *FAST, "-o", str(out)]) == 0
    assert "CPU (not a GPU measurement)" in capsys.readouterr().out
    df = gpu.load(out)
    assert (df.loc[df["macs"] > 0, "median_s"] > 0).all() and set(df["device"]) == {"cpu"}
    assert set(df["method"]) == {"thread_time_ns"} and df.attrs["meta"][str(out)]["threads"] == "1"
    readme = tmp_path / "README.md"
    assert main(["gpu", "table", "--glob", str(tmp_path / "*.csv"), "--readme", str(readme)]) == 0
    assert "| segformer-b0 | 64x64 |" in readme.read_text()
