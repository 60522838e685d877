"""The notebooks run top to bottom (nbclient, python3 kernel) without an error."""

from __future__ import annotations

import pytest

from accelsim.resources import project_root

nbformat = pytest.importorskip("nbformat", reason="notebook tests need the test extra (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="notebook tests need the test extra (nbclient)")

NOTEBOOKS = sorted((project_root() / "notebooks").glob("*.ipynb"))


def test_all_three_exist():
    assert [p.stem for p in NOTEBOOKS] == ["01_quickstart", "02_design_space", "03_dynamic_paths"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError with the cell and traceback on failure
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    # every code cell produced something (a table, a figure or printed numbers)
    assert all(c.get("outputs") for c in nb.cells if c.cell_type == "code")
