"""``accelsim validate``: check the model against every published figure it knows and write
``reports/validation.md``, or the checks as a CSV or JSON table (exit status 1 when a check
leaves its tolerance without a stated conflict; conflicts are listed, see docs/cost_model.md, Scope)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import output_option

#: --format -> file suffixes it writes
VALIDATE_FORMATS = {"md": (".md",), "csv": (".csv",), "json": (".json",)}


def check_record(check) -> dict:
    """One check as a table row: the report's columns plus the numbers behind them (model
    value and the accepted band, unformatted)."""
    return {**check.row(), "model_value": check.model, "reference": check.reference, "low": check.low,
            "high": check.high, "passed": check.passed, "conflict": bool(check.conflict)}


def register(cli: click.Group) -> None:
    @cli.command("validate")
    @click.option("--format", "fmt", type=click.Choice(list(VALIDATE_FORMATS)), default=None,
                  help="md: the markdown report; csv or json: one row per check (the report's columns plus "
                       "model_value, reference, low, high, passed) [default: from -o's suffix, else md]")
    @output_option("-o", "out", default=None, metavar="FILE",
                   help="where to write [default: reports/validation.md for md; standard output for csv/json]")
    def validate_cmd(fmt: str | None, out: str | None) -> None:
        """Model totals, the reference study's calibration point, the 5 nm silicon and the area fit."""
        from ..errors import ConfigError
        from ..report.validation import validation_rows, write_validation

        if out:
            suffix = Path(out).suffix.lower()
            found = [f for f, sufs in VALIDATE_FORMATS.items() if suffix in sufs]
            if not found:
                raise ConfigError(f"{out}: validation output suffix {suffix or '(none)'!r} is not supported; "
                                  "use .md, .csv or .json")
            if fmt not in (None, found[0]):
                raise ConfigError(f"{out}: --format {fmt} contradicts the file suffix ({found[0]}); "
                                  "the suffix decides, drop --format")
            fmt = found[0]
        fmt = fmt or "md"
        progress = lambda s: click.echo(f"checking {s}", err=True)  # noqa: E731
        if fmt == "md":
            path, rows = write_validation(out or "reports/validation.md", progress=progress)
        else:
            import pandas as pd

            from .common import emit_table

            rows = validation_rows(progress)
            emit_table(pd.DataFrame([check_record(r) for r in rows]), fmt, out)
            path = out
        failed = [r for r in rows if not r.passed and not r.conflict]
        conflicts = [r for r in rows if r.conflict]
        click.echo(f"{sum(r.passed for r in rows)} of {len(rows)} checks pass, {len(conflicts)} stated conflicts"
                   + (f"; wrote {path}" if path else ""), err=True)
        for r in conflicts + failed:
            click.echo(f"{r.result} {r.group}: {r.figure} = {r.fmt.format(r.model)}, published {r.published} "
                       f"({r.tolerance})", err=True)
        if failed:
            raise SystemExit(1)
