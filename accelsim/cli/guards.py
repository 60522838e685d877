"""Checks every command gets from its option names, applied when the command tree is built.

Each command's options are classified by their parameter name (:data:`PATH_KINDS`); the
command-tree walk in ``tests/test_cli_paths.py`` fails when an option that names a file
or folder is missing here, so a new command is covered without anyone remembering it.
:func:`guard` then adds to each option, before the command runs (no work is lost):

- a path option refuses an empty value (``-o ""``) in one line;
- an output file option without a check of its own is checked as ``-o`` is
  (:func:`accelsim.safeio.check_output`: not a folder or device, parent folders
  creatable, writable now);
- a float option refuses ``nan`` and infinities.

Integer options carry their own ranges (``click.IntRange`` with both bounds); the same
walk checks that none is unbounded.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import click

#: parameter name -> what it holds: ``output`` (file written), ``folder`` (folder written),
#: ``input`` (file read), ``search`` (file, folder or glob read), ``name-or-file`` (a
#: registry name or a YAML file)
PATH_KINDS: dict[str, str] = {
    "out": "output", "output": "output", "save_mapping": "output", "readme": "output",
    "out_dir": "folder", "cache": "folder",
    "results": "input", "spec": "input", "per_layer": "input", "mapping_file": "input",
    "accuracy_csv": "input", "model_file": "input", "layers": "output", "data": "output", "figure": "output",
    "layers_path": "input", "paths_file": "input", "include_root": "search", "workloads": "name-or-file",
    "gpu_path": "search", "pattern": "search",
    "workload": "name-or-file", "arch": "name-or-file", "name": "name-or-file", "base": "name-or-file",
}


def path_kind(param: click.Parameter) -> "str | None":
    """What ``param`` holds (:data:`PATH_KINDS`), or ``None`` when it takes no path. A
    ``--name`` option names a thing (``workload import --name``); a ``NAME`` argument is a
    registry name or a file (``workload show NAME``)."""
    if isinstance(param.type, click.types.BoolParamType):
        return None
    if param.name == "name" and isinstance(param, click.Option):
        return None
    return PATH_KINDS.get(param.name or "")


def _refuse_empty(param: click.Parameter, value: Any) -> None:
    values = value if isinstance(value, (tuple, list)) else (value,)
    if any(isinstance(v, str) and not v.strip() for v in values):
        from ..errors import ConfigError

        raise ConfigError(f"option {param.opts[0]}: the path is empty; give a file or folder name")


def _refuse_non_finite(param: click.Parameter, value: Any) -> None:
    values = value if isinstance(value, (tuple, list)) else (value,)
    for v in values:
        if isinstance(v, float) and not math.isfinite(v):
            from ..errors import ConfigError

            raise ConfigError(f"option {param.opts[0]}: {v} is not a finite number")


def _chain(param: click.Parameter, check: Callable[[click.Parameter, Any], None],
           then: "Callable | None") -> Callable:
    def callback(ctx: click.Context, p: click.Parameter, value: Any) -> Any:
        check(p, value)
        return then(ctx, p, value) if then is not None else value
    return callback


def _check_output_file(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    from ..safeio import check_output

    if isinstance(value, str):
        check_output(value, "output file")
    return value


def guard(command: click.Command) -> click.Command:
    """Add the checks above to ``command`` and, for a group, to every subcommand."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            guard(sub)
    if getattr(command, "_accelsim_guarded", False):
        return command
    command._accelsim_guarded = True  # type: ignore[attr-defined]
    for param in command.params:
        kind = path_kind(param)
        if kind is not None:
            then = param.callback
            if kind == "output" and then is None:
                then = _check_output_file
            param.callback = _chain(param, _refuse_empty, then)
        elif isinstance(param.type, (click.types.FloatParamType, click.FloatRange)):
            param.callback = _chain(param, _refuse_non_finite, param.callback)
    return command
