"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def arch_e_dict() -> dict:
    """Arch E's YAML as a dict, to derive broken variants from."""
    return yaml.safe_load((ROOT / "arch_configs" / "E.yaml").read_text())


@pytest.fixture
def write_yaml(tmp_path):
    def _write(data, name: str = "cfg.yaml") -> Path:
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
        return path

    return _write
