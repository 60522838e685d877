"""Shared pieces of the benchmark scripts: the report file, the machine line, and running a
snippet of code against this checkout or a baseline checkout (A/B in the same run).

A baseline is ``LABEL=DIR``: a checkout of another commit (``git worktree add DIR COMMIT``)
whose ``accelsim`` package is put first on ``PYTHONPATH`` for the snippets of that side.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "reports" / "benchmarks.md"
HEADER = "# Benchmarks\n\nAppended by the benchmark scripts; newest last.\n"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    """CPU, cores, load average, Python and numba versions, for the report."""
    import numba
    import numpy

    load = f", load average {os.getloadavg()[0]:.1f} at the start" if hasattr(os, "getloadavg") else ""
    return (f"Machine: {cpu_model()}, {os.cpu_count()} cores{load}; Python {platform.python_version()}, "
            f"numba {numba.__version__}, numpy {numpy.__version__}.")


def parser(doc: str, repeat: int) -> argparse.ArgumentParser:
    """The options every benchmark takes: ``--baseline LABEL=DIR`` (repeatable), ``--repeat``
    and ``--out`` (the report to append to)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--baseline", action="append", default=[], metavar="LABEL=DIR",
                    help="a checkout of another commit to measure in the same run")
    ap.add_argument("--repeat", type=int, default=repeat)
    ap.add_argument("--out", type=Path, default=REPORT, help="report file to append to")
    return ap


def sides(baselines: list[str]) -> list[tuple[str, Path]]:
    """``[("this branch", ROOT), (label, dir), ...]`` from ``LABEL=DIR`` arguments."""
    out = [("this branch", ROOT)]
    for item in baselines:
        label, _, path = item.partition("=")
        if not path or not (Path(path) / "accelsim" / "__init__.py").is_file():
            raise SystemExit(f"--baseline {item!r}: expected LABEL=DIR with DIR a checkout holding accelsim/")
        out.append((label, Path(path).resolve()))
    return out


def env_for(root: Path, **extra: str) -> dict[str, str]:
    """The environment of a snippet run against the checkout at ``root``."""
    env = dict(os.environ, PYTHONPATH=str(root), **extra)
    env.setdefault("NUMBA_NUM_THREADS", "1")
    return env


def run_json(code: str, root: Path, timeout: float = 3600, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter against ``root``; its last stdout line is JSON."""
    out = subprocess.run([sys.executable, "-c", code], env=env_for(root, **env), cwd=root,
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode:
        raise SystemExit(f"snippet failed against {root}:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def wall(cmd: list[str], root: Path, **env: str) -> float:
    """Wall seconds of a command run against ``root`` (output discarded)."""
    t = time.perf_counter()
    subprocess.run(cmd, env=env_for(root, **env), cwd=root, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def median(values) -> float:
    return float(statistics.median(values))


def append_report(text: str, out: Path = REPORT) -> None:
    """Print ``text`` and append it to the report."""
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        out.write_text(HEADER)
    with out.open("a") as fh:
        fh.write(text)


def stamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M")
