"""CLI of execution paths (`accelsim paths ...`, `accelsim rdd`) and the accuracy plot."""

import pandas as pd
import pytest

from accelsim.cli.main import main
from accelsim.plots.accuracy import plot_accuracy_tradeoff


@pytest.fixture
def results(tmp_path):
    # hand-made evaluated paths (as a GPU measurement file would be): no simulation needed
    df = pd.DataFrame({"exec_path": ["", "variant=b0", "fuse_in=1920", "fuse_in=1800"],
                       "latency_s": [4e-3, 1e-3, 3e-3, 2e-3], "energy_j": [4e-2, 1e-2, 3e-2, 2e-2],
                       "accuracy": [0.4651, 0.374, 0.4565, "unknown"], "arch": "E"})
    f = tmp_path / "res.csv"
    df.to_csv(f, index=False)
    return f, df


def test_rdd_from_results(results, capsys):
    f, _ = results
    assert main(["rdd", "--results", str(f), "--budget-latency", "3.5ms", "--format", "csv"]) == 0
    out = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), keep_default_na=False)
    # unknown accuracy (fuse_in=1800) is never chosen; the full model needs 4 ms > 3.5 ms
    assert list(out.exec_path) == ["variant=b0", "fuse_in=1920"]
    assert out.budget_latency_s.tolist() == pytest.approx([1e-3, 3e-3])


@pytest.mark.parametrize("args, message", [
    (["rdd", "--budget-latency", "3 parsecs"], "expected a number"),
    (["rdd"], "exactly one of"),
    (["paths", "show", "--exec-path", "fuse_in=99999"], "allowed 1..3072"),
    (["paths", "show", "--exec-path", "bogus=1"], "unknown key 'bogus'"),
])
def test_bad_input_exits_2(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_paths_show(capsys):
    assert main(["paths", "show", "--exec-path", "fuse_in=2304"]) == 0
    out = capsys.readouterr().out
    assert "decode_head.linear_c1 removed" in out
    assert "accuracy     unknown" in out  # fuse_in=2304 has no published mIoU
    assert "62.3378 -> 51.8689" in out  # 62.33784 - 0.80531 - 9.66368 GMACs (hand count in test_paths_pruning)


def test_plot_renders(results, tmp_path):
    _, df = results
    out = tmp_path / "acc.png"
    fig = plot_accuracy_tradeoff(df, x="energy_j", path=out, gpu_df=df)
    # two panels, each with its "accuracy unknown" strip underneath
    assert len(fig.axes) == 4 and out.stat().st_size > 10_000
    strip = fig.axes[1]
    assert [len(c.get_offsets()) for c in strip.collections] == [1]  # fuse_in=1800: unknown, still drawn
    assert [t.get_text() for t in strip.texts] == ["1 point(s) without a published accuracy, unlabelled"]
    # front points ringed: 3 known, non-dominated rows (b0, fuse_in=1920, full)
    rings = [c for c in fig.axes[0].collections if c.get_label() == "Pareto-optimal"]
    assert len(rings[0].get_offsets()) == 3
