"""The notebooks run top to bottom (nbclient, python3 kernel) without an error, through the
README's own command, into a temporary folder: the checkout stays as it was."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import warnings
from pathlib import Path

import pytest

from accelsim.resources import project_root

nbformat = pytest.importorskip("nbformat", reason="notebook tests need the test extra (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="notebook tests need the test extra (nbclient)")

NOTEBOOKS = sorted((project_root() / "notebooks").glob("*.ipynb"))
#: notebooks that import a model through PyTorch (the torch extra, which CI installs)
NEEDS = {"02_design_space": ("torch", "transformers")}


def readme_command() -> list[str]:
    """The README's command that executes the notebooks, without its file arguments."""
    text = (project_root() / "README.md").read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith('python -c "import sys, tempfile'))
    return shlex.split(line.rsplit(" notebooks/*.ipynb", 1)[0])


def git_status() -> "str | None":
    """``git status --porcelain`` of the checkout (untracked files included), or None
    outside a git checkout."""
    try:
        r = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=project_root(),
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout if r.returncode == 0 else None


def test_all_three_exist():
    assert [p.stem for p in NOTEBOOKS] == ["01_quickstart", "02_design_space", "03_dynamic_paths"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cells_have_normalised_ids(path):
    """Every cell has a unique 8-hex-digit id, so nbformat reads it without a warning."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    ids = [c.get("id", "") for c in cells]
    assert all(re.fullmatch(r"[0-9a-f]{8}", i) for i in ids) and len(set(ids)) == len(ids)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nbformat.validate(nbformat.read(path, as_version=4))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path):
    for module in NEEDS.get(path.stem, ()):
        pytest.importorskip(module, reason=f"{path.name} needs the torch extra ({module})")
    before = git_status()
    run = subprocess.run([*readme_command(), str(path.relative_to(project_root()))], cwd=project_root(),
                         env={**os.environ, "TMPDIR": str(tmp_path)}, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]  # CellExecutionError names the cell and traceback
    folder = Path(run.stdout.strip().rsplit("executed notebooks in ", 1)[-1])
    assert folder.parent == tmp_path  # a temporary folder, not the checkout
    nb = nbformat.read(folder / path.name, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    # every code cell but the imports produced something (a table, a figure or printed numbers)
    silent = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "code" and not c.get("outputs")
              and not all(line.startswith(("%", "import ", "from ")) or not line.strip()
                          for line in c.source.splitlines())]
    assert not silent, f"code cells without output: {silent}"
    if before is not None:
        assert git_status() == before, "running the notebook changed the checkout"
