"""A model with an execution path: the one place where :mod:`accelsim.workload` (models) and
:mod:`accelsim.paths` (what a path does to a model's graph) meet.

``accelsim.load_workload(name, exec_path=...)`` lives here, above both packages, so that
neither imports the other's upper half: ``workload`` knows nothing of paths, and ``paths``
transforms workloads it is given.
"""

from __future__ import annotations

from pathlib import Path

from .paths.apply import apply_path
from .safeio import about, short
from .workload.ir import Workload
from .workload.registry import open_workload


def load_workload(name: "str | Path | Workload", input_size=None, num_classes: int | None = None,
                  exec_path: str = "", **options) -> Workload:
    """A workload from a registry name, a named-workload YAML (name or path), or as given,
    with execution path ``exec_path`` (SPEC.md section 8) applied.

    A named workload's own ``exec_path`` field applies when ``exec_path`` is not given;
    ``''`` and ``(full model)`` mean the full model. Errors name the field or option.
    """
    opened = open_workload(name, input_size, num_classes, **options)
    source = ""
    if not exec_path and opened.exec_path:
        exec_path, source = opened.exec_path, opened.source
    wl = opened.workload
    if exec_path:
        where = f"execution path {short(exec_path)}"
        with about(f"{source}: {where}" if source else where):
            wl = apply_path(wl, exec_path)
    return wl
