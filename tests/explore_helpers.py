"""Helpers of the explore tests: a fast analytic stand-in for ``accelsim.simulate`` (same
signature) and a small exploration spec, importable by subprocesses and Dask workers."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from accelsim.arch.area import scope_area_mm2
from accelsim.errors import AccelsimError

AXES = {"num_pe": [4, 8, 16, 32, 64], "k0": [8, 16, 32, 64], "c0": [8, 16, 32, 64],
        "weight_buffer_kb": [32, 64, 128, 256, 512], "input_buffer_kb": [16, 32, 64, 128]}


def fake_simulate(wl, arch, memo=None, scope="system", **settings):
    """Closed-form costs of ``arch`` (deterministic, about a millisecond): bigger arrays are
    faster but cost area, bigger buffers save energy; a tile that cannot fit is unmappable.
    ``ACCELSIM_TEST_DELAY`` (s) slows each call; ``ACCELSIM_TEST_LOG`` logs each finished call."""
    delay = float(os.environ.get("ACCELSIM_TEST_DELAY", "0"))
    if delay:
        time.sleep(delay)
    if arch.k0 * arch.c0 > 16 * arch.weight_buffer_kb:
        raise AccelsimError(f"smallest tile does not fit weight_buffer_kb={arch.weight_buffer_kb}")
    macs = wl.macs
    lanes = arch.num_pe * arch.k0 * arch.c0
    latency = macs / (lanes * arch.frequency_ghz * 1e9) * (1 + 64 / arch.weight_buffer_kb + 16 / arch.input_buffer_kb)
    energy = 2 * macs * 1e-13 * (1 + 4 / arch.k0 + 4 / arch.c0 + arch.weight_buffer_kb / 2048
                                 + arch.input_buffer_kb / 1024 + 8 / arch.num_pe)
    log = os.environ.get("ACCELSIM_TEST_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()} {arch.name}\n")
    return SimpleNamespace(macs=macs, latency_s=latency, energy_j=energy, area_mm2=scope_area_mm2(arch, scope),
                           utilization=0.5, layers=None)


def spec(evaluations: int = 40, batch: int = 4, **explore) -> dict:
    return {"name": "t", "arch": {"base": "E", "grid": {k: list(v) for k, v in AXES.items()}},
            "workloads": [{"name": "segformer-b0", "input": "256x256"}], "scope": "system",
            "explore": {"objectives": {"energy_per_op": "min", "throughput_per_mm2": "max"},
                        "budget": {"evaluations": evaluations}, "batch": batch, "init": 8, **explore}}


def main() -> None:
    """``python explore_helpers.py OUTPUT EVALS [--resume] [key=value ...]``: run an exploration
    with :func:`fake_simulate` (for kill and two-process tests)."""
    from accelsim.errors import AccelsimError
    from accelsim.safeio import one_line
    from accelsim.sweep.explore import run_explore

    out, evals = sys.argv[1], int(sys.argv[2])
    extra = dict(a.split("=", 1) for a in sys.argv[3:] if "=" in a)
    s = spec(evals, **{k: json.loads(v) for k, v in extra.items()})
    scheduler = os.environ.get("ACCELSIM_TEST_SCHEDULER")
    where = {"executor": "dask", "scheduler": scheduler} if scheduler else {"workers": 1}
    try:
        df = run_explore(s, output=out, resume="--resume" in sys.argv, simulate=fake_simulate, **where)
    except AccelsimError as exc:  # as the command line reports it
        print(f"error: {one_line(exc)}", file=sys.stderr)
        sys.exit(2)
    print(json.dumps(df.attrs["explore"]))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
