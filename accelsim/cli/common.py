"""Options and output helpers shared by the CLI commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import click
import pandas as pd

OBJECTIVE_CHOICES = ("latency", "energy", "edp")


def workload_options(fn: Callable) -> Callable:
    """``--workload/--input/--classes/--exec-path`` (one workload)."""
    fn = click.option("--exec-path", "exec_path", default="", show_default=False,
                      help="execution path, e.g. 'blocks=2-3-5-3;fuse_in=896'")(fn)
    fn = click.option("--classes", type=int, default=None, help="number of classes (default: the model's)")(fn)
    fn = click.option("--input", "input_size", default=None, metavar="HxW",
                      help="input size, e.g. 512x512 (default: the model's)")(fn)
    fn = click.option("--workload", "-w", default="segformer-b2", show_default=True,
                      help="registry name (see `accelsim workload list`) or workload YAML")(fn)
    return fn


def simulate_workload(workload: str, input_size: str | None, classes: int | None, exec_path: str,
                      arch: str, objective: str, max_candidates: int | None = None):
    """(workload, SimResult) for the CLI options; the arch is validated before the workload
    is built, so a bad config fails fast."""
    import accelsim

    arch_cfg = accelsim.load_arch(arch)
    wl = accelsim.load_workload(workload, input_size=input_size, num_classes=classes, exec_path=exec_path)
    return wl, accelsim.simulate(wl, arch_cfg, objective=objective, max_candidates=max_candidates)


def checked_output(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback of ``-o FILE`` options: the file must be writable (a folder, a
    non-regular file or an unwritable location is refused before any work)."""
    from ..safeio import check_output

    if value:
        check_output(value, "output file")
    return value


def output_option(*names: str, **kw) -> Callable:
    """``-o FILE`` checked by :func:`checked_output` when the command line is parsed."""
    return click.option(*(names or ("-o", "out")), callback=checked_output, **kw)


def emit(text: str, out: str | None) -> None:
    """Print ``text`` or write it to ``out`` (one error line naming the file if that fails)."""
    from ..safeio import check_output, writing

    if out:
        real = check_output(out, "output file")
        with writing(out):
            real.write_text(text)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text)


def frame_text(df: pd.DataFrame, fmt: str, totals: dict | None = None) -> str:
    """A DataFrame as an aligned table, CSV or JSON (``{"totals": ..., "layers": [...]}``)."""
    if fmt == "csv":
        return df.to_csv(index=False)
    if fmt == "json":
        return json.dumps({"totals": totals or {}, "layers": json.loads(df.to_json(orient="records"))},
                          indent=2, default=float)
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250,
                           "display.max_colwidth", 48):
        return df.to_string(index=False)
