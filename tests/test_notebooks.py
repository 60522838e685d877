"""The notebooks run top to bottom (nbclient, python3 kernel) without an error."""

from __future__ import annotations

import pytest

from accelsim.resources import project_root

nbformat = pytest.importorskip("nbformat", reason="notebook tests need the test extra (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="notebook tests need the test extra (nbclient)")

NOTEBOOKS = sorted((project_root() / "notebooks").glob("*.ipynb"))
#: notebooks that import a model through PyTorch (the torch extra, which CI installs)
NEEDS = {"02_design_space": ("torch", "transformers")}


def test_all_three_exist():
    assert [p.stem for p in NOTEBOOKS] == ["01_quickstart", "02_design_space", "03_dynamic_paths"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path):
    for module in NEEDS.get(path.stem, ()):
        pytest.importorskip(module, reason=f"{path.name} needs the torch extra ({module})")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError with the cell and traceback on failure
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    # every code cell but the imports produced something (a table, a figure or printed numbers)
    silent = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "code" and not c.get("outputs")
              and not all(line.startswith(("%", "import ", "from ")) or not line.strip()
                          for line in c.source.splitlines())]
    assert not silent, f"code cells without output: {silent}"
