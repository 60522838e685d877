"""Options and output helpers shared by the CLI commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import click

if TYPE_CHECKING:  # pandas is imported by the commands that print tables, when they do
    import pandas as pd

OBJECTIVE_CHOICES = ("latency", "energy", "edp")
SCOPE_CHOICES = ("accelerator", "system")
SCOPE_HELP = ("what the numbers describe: the accelerator with an ideal off-chip supply (the "
              "reference study's scope) or the system with global buffer and DRAM")


def scope_option(default: "str | None" = "accelerator") -> Callable:
    """``--scope accelerator|system`` (docs/cost_model.md, Scope)."""
    return click.option("--scope", type=click.Choice(SCOPE_CHOICES), default=default,
                        show_default=default is not None, help=SCOPE_HELP)


def tolerance_option(default: "float | None" = 0.01) -> Callable:
    """``--tolerance FRACTION`` of the mapping objective (docs/cost_model.md, Objectives)."""
    return click.option("--tolerance", type=click.FloatRange(0.0, 1.0, max_open=True), default=default,
                        show_default=default is not None,
                        help="mappings within this fraction of the best objective are ranked by the "
                             "secondary one (energy for latency, latency for energy and edp)")


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
                      arch: str, objective: str, max_candidates: int | None = None,
                      scope: str = "accelerator", tolerance: float = 0.01, memo: dict | None = None):
    """(workload, SimResult) for the CLI options; the arch is validated before the workload
    is built, so a bad config fails fast. ``memo`` receives the per-shape layer costs."""
    import accelsim

    arch_cfg = accelsim.load_arch(arch)
    wl = accelsim.load_workload(workload, input_size=input_size, num_classes=classes, exec_path=exec_path)
    return wl, accelsim.simulate(wl, arch_cfg, objective=objective, max_candidates=max_candidates,
                                 scope=scope, tolerance=tolerance, memo=memo)


def mac_layer(wl, name: str):
    """The MAC layer ``name`` of workload ``wl``; an error naming close matches otherwise."""
    import difflib

    from ..errors import AccelsimError

    if name not in wl:
        names = [layer.name for layer in wl.layers if layer.is_mac]
        near = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(near)}?" if near else \
            f"; see `accelsim workload show {wl.name}` for its {len(names)} MAC layers"
        raise AccelsimError(f"workload {wl.name!r} has no layer {name!r}{hint}")
    layer = wl.layer(name)
    if not layer.is_mac:
        raise AccelsimError(f"layer {name!r} is a {layer.op.value} layer: only MAC layers "
                            "(conv2d, dwconv2d, linear, matmul) have a mapping")
    return layer


def emit(text: str, out: str | None) -> None:
    """Print ``text`` or write it to ``out``."""
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text)


def frame_text(df: pd.DataFrame, fmt: str, totals: dict | None = None) -> str:
    """A DataFrame as an aligned table, CSV or JSON (``{"totals": ..., "layers": [...]}``)."""
    import pandas as pd

    if fmt == "csv":
        return df.to_csv(index=False)
    if fmt == "json":
        return json.dumps({"totals": totals or {}, "layers": json.loads(df.to_json(orient="records"))},
                          indent=2, default=float)
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250,
                           "display.max_colwidth", 48):
        return df.to_string(index=False)
