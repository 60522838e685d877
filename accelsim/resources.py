"""Locations of the project's data folders (``arch_configs/``, ``workloads/``, ``reports/``).

They live at the top of the project; an installed copy may also ship them inside the
package under ``accelsim/_resources/``. ``ACCELSIM_ROOT`` overrides the project root.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"


def project_root() -> Path:
    env = os.environ.get("ACCELSIM_ROOT")
    return Path(env) if env else PACKAGE_DIR.parent


def resource_dir(name: str) -> Path:
    """The folder ``name`` (e.g. ``arch_configs``): bundled copy first, then the project's."""
    bundled = PACKAGE_DIR / "_resources" / name
    if bundled.is_dir() and not os.environ.get("ACCELSIM_ROOT"):
        return bundled
    return project_root() / name
