"""A real Dask cluster on 127.0.0.1: a `dask scheduler` and two `dask worker` processes.

One worker is killed mid-sweep: no row is lost or repeated and the rows equal the local
pool's (exact: the fake model is closed-form; the issue asks for 10 significant digits).
Then the scheduler is killed under a running sweep: one error line, exit 2, and the rows
finished so far stay on disk for the resume. No process is left behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("distributed", reason="the dask executor needs the dask extra")

from accelsim.sweep import run_sweep  # noqa: E402
from accelsim.sweep.store import read_csv_rows  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {here!r})
    import cloudpickle, test_sweep_engine
    cloudpickle.register_pickle_by_value(test_sweep_engine)
    from test_sweep_stream import BIG
    from accelsim.sweep import run_sweep
    from accelsim.errors import AccelsimError
    try:
        run_sweep(BIG, output=sys.argv[1], scheduler=sys.argv[2], chunk_size=1,
                  simulate=test_sweep_engine.fake_simulate, worker_timeout=float(sys.argv[3]))
    except AccelsimError as exc:
        print("error:", exc, file=sys.stderr)
        sys.exit(2)
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args, env):
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _rows(out: Path) -> int:
    return max(0, len(out.read_text().splitlines()) - 1) if out.exists() else 0


def _in_groups(groups: set[int]) -> list[int]:
    """Processes still alive in the given process groups (the scheduler's and the workers':
    a `dask worker` runs its worker in a child process of its nanny)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in groups and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


def _wait_rows(out: Path, n: int, proc, limit: float = 60) -> None:
    end = time.time() + limit
    while time.time() < end and _rows(out) < n and proc.poll() is None:
        time.sleep(0.1)


@pytest.mark.slow
def test_sweep_on_a_real_cluster_survives_a_killed_worker(tmp_path):
    from test_sweep_engine import fake_simulate
    from test_sweep_stream import BIG

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)]), "ACCELSIM_FAKE_DELAY": "0.3"}
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = [_start([*dask, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], env)]
    worker = [sys.executable, "-m", "distributed.cli.dask_worker", addr, "--nthreads", "1", "--no-dashboard",
              "--host", "127.0.0.1"]
    try:
        procs += [_start(worker, env), _start(worker, env)]
        script = tmp_path / "run.py"
        script.write_text(SCRIPT.format(here=str(HERE)))
        out = tmp_path / "r.csv"
        sweep = subprocess.Popen([sys.executable, str(script), str(out), addr, "60"], env=env,
                                 stderr=subprocess.PIPE, text=True)
        _wait_rows(out, 6, sweep)
        assert sweep.poll() is None, sweep.stderr.read()
        os.killpg(procs[1].pid, signal.SIGKILL)  # one worker dies mid-run
        _, err = sweep.communicate(timeout=120)
        assert sweep.returncode == 0, err[-2000:]
        got = read_csv_rows(out)
        ref = run_sweep(BIG, workers=2, chunk_size=2, simulate=fake_simulate)  # the local pool
        assert len(got) == 32 and not got.duplicated(["arch", "workload", "exec_path"]).any()
        pd.testing.assert_frame_equal(got, ref, rtol=1e-10)

        # the scheduler dies under a running sweep: one line, exit 2, the rows so far stay
        out2 = tmp_path / "r2.csv"
        sweep = subprocess.Popen([sys.executable, str(script), str(out2), addr, "60"], env=env,
                                 stderr=subprocess.PIPE, text=True)
        _wait_rows(out2, 3, sweep)
        kept = _rows(out2)
        os.killpg(procs[0].pid, signal.SIGKILL)
        _, err = sweep.communicate(timeout=120)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert sweep.returncode == 2 and len(lines) == 1, err[-3000:]
        assert "lost the dask scheduler" in lines[0] and "re-run the same command to resume" in lines[0]
        assert _rows(out2) >= kept >= 3
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=30)
    assert all(p.poll() is not None for p in procs)
    end = time.time() + 20
    while _in_groups({p.pid for p in procs}) and time.time() < end:
        time.sleep(0.2)
    assert _in_groups({p.pid for p in procs}) == []  # nothing left behind, grandchildren included


@pytest.mark.slow
def test_no_worker_is_reported_after_the_timeout(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    sched = _start([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                    str(port), "--no-dashboard"], env)
    try:
        end = time.time() + 30
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        script = tmp_path / "run.py"
        script.write_text(SCRIPT.format(here=str(HERE)))
        t0 = time.time()
        done = subprocess.run([sys.executable, str(script), str(tmp_path / "r.csv"), addr, "3"], env=env,
                              capture_output=True, text=True, timeout=120)
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        assert done.returncode == 2 and len(lines) == 1, done.stderr[-2000:]
        assert "has had no worker for 3 s" in lines[0] and "--worker-timeout 0" in lines[0]
        assert time.time() - t0 < 60
    finally:
        os.killpg(sched.pid, signal.SIGKILL)
        sched.wait(timeout=30)
    end = time.time() + 20
    while _in_groups({sched.pid}) and time.time() < end:
        time.sleep(0.2)
    assert _in_groups({sched.pid}) == []
