"""Saved figures are byte-stable: regenerating a report does not change its figures."""

import subprocess
import sys

import pandas as pd
import pytest

from accelsim.errors import AccelsimError
from accelsim.plots.accuracy import plot_accuracy_tradeoff
from accelsim.plots.common import save_figure, write_figure

ROWS = pd.DataFrame({
    "exec_path": ["", "blocks=2-3-5-3;fuse_in=896", "variant=b1", "fuse_in=1800"],
    "latency_s": [4.0e-3, 2.5e-3, 2.0e-3, 3.5e-3], "energy_j": [40e-3, 25e-3, 20e-3, 35e-3],
    "accuracy": [0.4651, 0.3649, 0.422, "unknown"], "arch": ["E"] * 4,
})


#: builds the test figure; run here and in a child process
FIGURE_CODE = """
from accelsim.plots.common import figure
fig, ax = figure()
ax.plot([0, 1, 2], [1, 3, 2], label="a")
ax.set_title("stable")
ax.legend()
"""


def _line_figure():
    scope: dict = {}
    exec(FIGURE_CODE, scope)
    return scope["fig"]


@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf"])
def test_same_figure_twice_gives_identical_bytes(tmp_path, suffix):
    fig = _line_figure()
    a = write_figure(fig, tmp_path / f"a{suffix}").read_bytes()
    b = write_figure(fig, tmp_path / f"b{suffix}").read_bytes()
    assert a == b


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_redrawn_plot_gives_identical_bytes(tmp_path, suffix):
    # a fresh figure from the same data, as when a report is regenerated: SVG ids come
    # from a fixed salt, not a random uuid
    a = tmp_path / f"a{suffix}"
    b = tmp_path / f"b{suffix}"
    plot_accuracy_tradeoff(ROWS, path=a)
    plot_accuracy_tradeoff(ROWS, path=b)
    assert a.read_bytes() == b.read_bytes()


def test_no_dates_in_metadata(tmp_path):
    assert [p.name for p in save_figure(_line_figure(), tmp_path / "fig")] == ["fig.png", "fig.svg"]
    assert "<dc:date>" not in (tmp_path / "fig.svg").read_text()
    assert b"CreationDate" not in write_figure(_line_figure(), tmp_path / "fig.pdf").read_bytes()


def test_svg_identical_across_processes(tmp_path):
    # the failure mode of regenerated reports: another process, another random id
    child = tmp_path / "child.svg"
    code = FIGURE_CODE + "import sys\nfrom accelsim.plots.common import write_figure\nwrite_figure(fig, sys.argv[1])\n"
    subprocess.run([sys.executable, "-c", code, str(child)], check=True)
    here = write_figure(_line_figure(), tmp_path / "here.svg")
    assert child.read_bytes() == here.read_bytes()


def test_unsupported_format_is_an_error(tmp_path):
    with pytest.raises(AccelsimError, match="not supported"):
        save_figure(_line_figure(), tmp_path / "fig.jpg")
