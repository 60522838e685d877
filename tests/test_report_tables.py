"""The committed report is what the code produces now: its tables are regenerated and compared.

When the cost model or a workload changes on purpose, run ``accelsim report`` and commit
``reports/``; this test then passes again.
"""

from __future__ import annotations

import re

import pytest

from accelsim.report import STUDY_WORKLOADS, collect, report_tables
from accelsim.resources import project_root

REPORT = project_root() / "reports" / "report.md"


@pytest.fixture(scope="module")
def committed() -> str:
    if not REPORT.exists():
        pytest.fail(f"{REPORT} is missing: run `accelsim report`")
    return REPORT.read_text()


@pytest.fixture(scope="module")
def tables() -> dict[str, str]:
    # regenerate everything the tables cite: the 13-config sweep and the per-layer simulations
    return report_tables(collect(workers=2, gpu_dir=REPORT.parent / "gpu"))


def test_every_table_matches(committed, tables):
    stale = [name for name, text in tables.items() if text not in committed]
    assert not stale, f"report tables differ from the code's output: {stale}; run `accelsim report`"


def test_sections_and_figures(committed, tables):
    for w in STUDY_WORKLOADS:
        assert f"### {w}" in committed
    assert "## Model assumptions" in committed and "docs/cost_model.md" in committed
    for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", committed):
        assert (REPORT.parent / target).is_file(), f"report cites a missing figure {target}"
    assert (REPORT.parent / "sweeps" / "study13.csv").is_file()


def test_pareto_rows_are_on_the_front(tables):
    # the Pareto table lists, per workload, exactly the rows marked "yes" in its sweep table
    for w in STUDY_WORKLOADS:
        marked = [line.split("|")[1].strip() for line in tables[f"sweep_{w}"].splitlines()[2:]
                  if line.rstrip().endswith("| yes |")]
        row = next(line for line in tables["pareto"].splitlines() if line.startswith(f"| {w} |"))
        assert row.split("|")[2].strip() == ", ".join(marked)
