"""Where a report written to any folder finds the project's documents and data.

A report inside the project (``reports/``) links the docs relatively (``../docs/...``) and
reads the project's GPU measurements; one written elsewhere (``report --out /elsewhere``)
gets a copy of the docs beside it, so its links work wherever the folder goes, and falls
back to the project's measurements when its own folder has none.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..resources import project_root
from ..safeio import writing

#: the project's folders of documents and GPU measurements
DOCS = "docs"
PROJECT_GPU = Path("reports") / "gpu"


def inside_project(folder: Path) -> bool:
    """True when ``folder`` lies in the project's source tree."""
    root = project_root().resolve()
    real = folder.resolve()
    return real == root or root in real.parents


def docs_link(out: Path) -> "str | None":
    """The link prefix of the docs as seen from report folder ``out``: relative inside the
    project (``../docs``), else ``docs`` after copying the docs into ``out/docs``; ``None``
    when this installation ships no docs."""
    docs = project_root() / DOCS
    if not docs.is_dir():
        return None
    if inside_project(out):
        return Path(os.path.relpath(docs.resolve(), out.resolve())).as_posix()
    target = out / DOCS
    with writing(target):
        target.mkdir(parents=True, exist_ok=True)
        for f in sorted(docs.glob("*.md")):
            shutil.copyfile(f, target / f.name)
    return DOCS


def has_measurements(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("*.csv"))


def gpu_folder(out: Path, name: str = "gpu") -> Path:
    """Where the report reads GPU measurements: ``out/name`` when it holds some, else the
    project's ``reports/gpu`` when that does, else ``out/name`` (which then says where they
    would come from)."""
    own = out / name
    project = project_root() / PROJECT_GPU
    if has_measurements(own) or not has_measurements(project):
        return own
    return project


def shown(folder: Path) -> str:
    """How the report names a folder: relative to the project when inside it
    (``reports/gpu/``), else its absolute path; always with a trailing slash."""
    real = folder.resolve()
    text = real.relative_to(project_root().resolve()).as_posix() if inside_project(folder) else real.as_posix()
    return text.rstrip("/") + "/"
