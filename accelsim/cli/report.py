"""``accelsim report``: regenerate ``reports/report.md`` (figures, tables, sweep rows) from scratch."""

from __future__ import annotations

import click

from .common import WORKERS, scope_option


def register(cli: click.Group) -> None:
    @cli.command("report")
    @click.option("--out", "out_dir", default="reports", show_default=True, help="report folder")
    @click.option("--workers", type=WORKERS, default=None, help="sweep processes (default: all cores)")
    @click.option("--cache", default=None, help="per-layer cost cache folder reused across runs")
    @click.option("--paths/--no-paths", default=True, show_default=True,
                  help="also regenerate the execution-path report (paths.md)")
    @click.option("--progress/--no-progress", default=True, show_default=True)
    @scope_option()
    @click.option("--force", is_flag=True,
                  help="write into a non-empty folder no report was written to (other files are kept)")
    def report_cmd(out_dir: str, workers: int | None, cache: str | None, paths: bool, progress: bool,
                   scope: str, force: bool) -> None:
        """Sweep the 13 study configs on SegFormer-B2, Swin-T UPerNet, OFA-ResNet-50 in both scopes;
        write the report.

        The folder must be new, empty, or one an earlier report was written to (it holds
        .accelsim-report.json, the list of files the report wrote); --force writes into any
        other folder. Only files of the earlier report that this one does not write again
        are removed."""
        from ..report import build_report
        from .common import note_jit

        path = build_report(out_dir, workers=workers, cache=cache, paths=paths, progress=progress,
                            log=lambda s: click.echo(s, err=True), scope=scope, force=force,
                            on_start=note_jit)
        click.echo(f"wrote {path}", err=True)
