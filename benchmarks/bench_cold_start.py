"""Cold start of a second copy: the default job (``accelsim simulate``) in a fresh copy of the
sources on a machine where another copy already ran, against its warm run; and the search
speed (candidates per second) of both. Appends a section to reports/benchmarks.md.

A second checkout, a non-editable install and a fresh Dask worker started from another
folder are all "a copy in another folder": before, each compiled the search again (numba
filed the code under the folder's path); now identical sources share it.

    python benchmarks/bench_cold_start.py [--baseline LABEL=DIR ...]

Target: the first run of the second copy at most 2x its warm run; candidates/s within 5 %.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from bench_first_run import JOB, RATE
from common import append_report, machine_line, parser, run_json, sides, stamp, wall

SKIP = shutil.ignore_patterns(".git", "__pycache__", "reports", "tests", "notebooks", "benchmarks", "*.pyc")


DASK = """
import json, sys, time
from accelsim.sweep import run_sweep
spec = {"arch": {"base": "E", "grid": {"num_pe": [4, 8, 16, 32, 64], "k0": [8, 16, 32, 64], "c0": [8, 16, 32, 64]},
                 "sample": {"n": 60, "seed": 0}}, "workloads": [{"name": "segformer-b0", "input": "64x64"}]}
if __name__ == "__main__":
    t = time.perf_counter()
    df = run_sweep(spec, executor="dask", workers=2)
    print(json.dumps({"points": len(df), "seconds": time.perf_counter() - t}))
"""


def dask_fresh_workers(root: Path, tmp: str) -> list[float]:
    """Seconds of a 60-point Dask sweep (a LocalCluster of 2 fresh worker processes each run)
    with an empty compiled-code cache, then twice with it filled."""
    script = Path(tmp) / "dask_sweep.py"
    script.write_text(DASK)
    env = {"ACCELSIM_CACHE_DIR": f"{tmp}/dask-user-cache"}
    return [run_json(f"import runpy; runpy.run_path({str(script)!r}, run_name='__main__')", root, **env)["seconds"]
            for _ in range(3)]


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, 1)
    ap.add_argument("--dask-only", action="store_true", help="only the Dask fresh-worker sweep, this branch")
    args = ap.parse_args(argv)
    if args.dask_only:
        from common import ROOT

        with tempfile.TemporaryDirectory() as tmp:
            cold, warm1, warm2 = dask_fresh_workers(ROOT, tmp)
        append_report(f"\n## Fresh Dask workers (`benchmarks/bench_cold_start.py --dask-only`, {stamp()})\n\n"
                      f"{machine_line()}\nA 60-point SegFormer-B0 (64x64) sweep on a LocalCluster of 2 fresh worker "
                      f"processes: {cold:.1f} s with an empty compiled-code cache (each worker compiles), "
                      f"{warm1:.1f} s and {warm2:.1f} s with it filled (each run starts new workers, which load "
                      f"the shared code): fresh workers start warm, {warm1 / warm2:.2f}x the second run.\n",
                      args.out)
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, root in sides(args.baseline):
            tag = label.replace(" ", "_")
            copies = [Path(tmp) / f"{tag}-copy{i}" for i in (1, 2)]
            for c in copies:
                shutil.copytree(root, c, ignore=SKIP)
            env = {"ACCELSIM_CACHE_DIR": f"{tmp}/{tag}-user-cache"}  # ignored by older versions
            first = wall([sys.executable, *JOB], copies[0], **env)  # the machine's very first run
            second = wall([sys.executable, *JOB], copies[1], **env)  # a second copy's first run
            warm = wall([sys.executable, *JOB], copies[1], **env)
            rate = run_json(RATE, copies[1], **env)["one"]["rate"]
            rows.append((label, first, second, warm, rate))
    lines = ["", f"## Cold start of a second copy (`benchmarks/bench_cold_start.py`, {stamp()})", "",
             machine_line(),
             "`accelsim simulate` (SegFormer-B2 on E) in fresh processes: the machine's first run in one "
             "copy of the sources, then the first and a warm run in a second copy in another folder "
             "(a second checkout, an installed copy, a worker started elsewhere). Search speed: "
             "candidates per second of the full enumeration on E with one PE and AD = 1 (the same "
             "candidates on every side). Target: second copy's first run at most 2x its warm run.", "",
             "| side | machine's first run (s) | second copy, first run (s) | warm (s) | first / warm | "
             "candidates/s |", "|---|---:|---:|---:|---:|---:|"]
    for label, first, second, warm, rate in rows:
        lines.append(f"| {label} | {first:.1f} | {second:.1f} | {warm:.1f} | {second / warm:.2f}x | "
                     f"{rate / 1e6:.2f} M |")
    append_report("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
