"""``accelsim report``: regenerate ``reports/report.md`` with its figures, tables and sweep data."""

from .build import (BREAKDOWN_WORKLOADS, STUDY_WORKLOADS, ReportData, build_report, collect, markdown_table,
                    report_tables)

__all__ = ["BREAKDOWN_WORKLOADS", "STUDY_WORKLOADS", "ReportData", "build_report", "collect",
           "markdown_table", "report_tables"]
