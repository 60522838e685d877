"""A report written outside the project (``report --out /elsewhere``): working doc links,
the project's GPU measurements and ZigZag table found, and sections without data saying
where the data would come from."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from accelsim.report import validation
from accelsim.report.build import ReportData, render
from accelsim.report.locations import docs_link, gpu_folder, has_measurements, shown
from accelsim.resources import project_root

REPORTS = project_root() / "reports"


class AnyTable(dict):
    """Report tables for a render test: every table is a one-cell placeholder."""

    def __missing__(self, key):
        return "| table |\n|---|"


def fake_data(gpu=None) -> ReportData:
    return ReportData(sweep=pd.DataFrame({"workload": ["segformer-b2"]}), workloads={}, breakdowns={}, gpu=gpu)


def local_links(text: str) -> list[str]:
    """Targets of the markdown links and images that point at files (no URL, no anchor)."""
    return [t for t in re.findall(r"\]\(([^)#\s]+)\)", text) if "://" not in t]


def test_docs_links_work_from_any_folder(tmp_path):
    out = tmp_path / "elsewhere"
    out.mkdir()
    prefix = docs_link(out)
    assert prefix == "docs" and (out / "docs" / "cost_model.md").is_file()  # copied beside the report
    text = render(AnyTable(), {}, fake_data(), None, docs=prefix, gpu_where=shown(out / "gpu"))
    docs = [t for t in local_links(text) if t.startswith("docs/")]
    assert docs == ["docs/cost_model.md"]
    assert all((out / t).is_file() for t in docs)
    assert "../docs" not in text


def test_inside_the_project_links_stay_relative():
    assert docs_link(REPORTS) == "../docs"
    assert shown(REPORTS / "gpu") == "reports/gpu/"


def test_gpu_section_without_data_says_where_it_comes_from(tmp_path):
    text = render(AnyTable(), {}, fake_data(), None, docs="docs", gpu_where=shown(tmp_path / "gpu"))
    section = text.split("## GPU baseline: MAC share vs time share", 1)[1]
    assert f"No GPU measurements were found in `{(tmp_path / 'gpu').resolve().as_posix()}/`" in section
    assert "accelsim gpu measure -w WORKLOAD -o" in section and "CUDA" in section


@pytest.mark.skipif(not has_measurements(REPORTS / "gpu"), reason="the project ships no GPU measurements")
def test_report_elsewhere_reads_the_project_gpu_data(tmp_path):
    assert gpu_folder(tmp_path) == project_root() / "reports" / "gpu"
    own = tmp_path / "gpu"
    own.mkdir()
    (own / "m.csv").write_text("x\n")
    assert gpu_folder(tmp_path) == own  # its own measurements win


@pytest.mark.skipif(not (REPORTS / validation.ZIGZAG_TABLE).is_file(), reason="no ZigZag table in reports/")
def test_validation_elsewhere_embeds_the_project_zigzag_table(tmp_path, monkeypatch):
    rows = [validation._rel("model totals", "SegFormer-B2 GMACs", 62.0, 62.4, 0.01, "paper")]
    monkeypatch.setattr(validation, "validation_rows", lambda progress=None: rows)
    path, _ = validation.write_validation(tmp_path / "v.md")
    text = path.read_text()
    section = text.split("## Independent model: ZigZag", 1)[1]
    assert "Not generated yet" not in section and len(section.strip()) > 200
