"""ZigZag's own virtual environment and the worker call (project python).

ZigZag 3.9.1 pins versions of numpy, pandas, onnx ... that need not match the project's,
so it lives in ``benchmarks/peers/.venv`` (git-ignored), created on first use with
``python -m venv`` and ``pip install zigzag-dse==3.9.1 six``. Raw ZigZag inputs and
outputs go to ``benchmarks/peers/out/`` (git-ignored).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV = HERE / ".venv"
OUT = HERE / "out"
WORKER = HERE / "zigzag_worker.py"
ZIGZAG = "zigzag-dse==3.9.1"
REQUIREMENTS = (ZIGZAG, "six")


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def ensure_venv() -> Path:
    """The venv's python; creates the venv and installs ZigZag when missing (about 1 min)."""
    py = venv_python()
    probe = [str(py), "-c", "from importlib.metadata import version; "
             f"assert version('zigzag-dse') == '{ZIGZAG.split('==')[1]}'"]
    if py.is_file() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    print(f"setting up {VENV.relative_to(ROOT)}: pip install {' '.join(REQUIREMENTS)}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", *REQUIREMENTS], check=True)
    return py


def zigzag_package_dir() -> Path:
    """The installed zigzag package folder inside the venv (holds inputs/workload/*.onnx)."""
    out = subprocess.run([str(ensure_venv()), "-c", "import zigzag, os; print(os.path.dirname(zigzag.__file__))"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def job_hash(job: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(job, sort_keys=True).encode()).hexdigest()[:16]


def run_worker(mode: str, job: dict[str, Any], name: str, force: bool = False) -> dict[str, Any]:
    """Run ``zigzag_worker.py MODE`` on ``job`` in the venv; the result is kept in
    ``out/NAME-<hash of the job>.json`` and reused while the job (layers, hardware, costs)
    is unchanged, unless ``force``."""
    OUT.mkdir(parents=True, exist_ok=True)
    h = job_hash(job)
    result = OUT / f"{name}-{h}.json"
    if result.is_file() and not force:
        print(f"reusing {result.relative_to(ROOT)} (same ZigZag inputs; --force reruns)", flush=True)
        return json.loads(result.read_text())
    job = dict(job, out=str(OUT / f"{name}-{h}"))
    job_file = OUT / f"{name}-{h}.job.json"
    job_file.write_text(json.dumps(job))
    subprocess.run([str(ensure_venv()), str(WORKER), mode, str(job_file), str(result)], check=True)
    return json.loads(result.read_text())


def cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
