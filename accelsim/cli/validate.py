"""``accelsim validate``: check the model against every published figure it knows and write
``reports/validation.md`` (exit status 1 when a check leaves its tolerance without a stated
conflict; conflicts are listed, see docs/cost_model.md, Scope)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    @cli.command("validate")
    @click.option("-o", "out", default="reports/validation.md", show_default=True, help="markdown report")
    def validate_cmd(out: str) -> None:
        """Model totals, the reference study's calibration point, the 5 nm silicon and the area fit."""
        from ..report.validation import write_validation

        path, rows = write_validation(out, progress=lambda s: click.echo(f"checking {s}", err=True))
        failed = [r for r in rows if not r.passed and not r.conflict]
        conflicts = [r for r in rows if r.conflict]
        click.echo(f"{sum(r.passed for r in rows)} of {len(rows)} checks pass, {len(conflicts)} stated "
                   f"conflicts; wrote {path}", err=True)
        for r in conflicts + failed:
            click.echo(f"{r.result} {r.group}: {r.figure} = {r.fmt.format(r.model)}, published {r.published} "
                       f"({r.tolerance})", err=True)
        if failed:
            raise SystemExit(1)
