"""explore on a real Dask cluster: a scheduler and two workers started as separate processes
on 127.0.0.1, one worker killed mid-run. No trial is lost or duplicated, the results equal
the local pool's to 10 significant digits, and no process is left behind."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("optuna")
pytest.importorskip("distributed")

from accelsim.sweep.explore import run_explore  # noqa: E402

from explore_helpers import fake_simulate, spec  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NUMBERS = ["latency_s", "energy_j", "area_mm2", "energy_per_op_j", "throughput_ops_per_s_per_mm2"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask() -> list[str]:
    exe = shutil.which("dask")
    return [exe] if exe else [sys.executable, "-m", "distributed.cli.dask_spec"]


def _marked(token: str) -> list[int]:
    """Pids of live processes whose environment holds ``token``."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if token.encode() in (d / "environ").read_bytes():
                found.append(int(d.name))
        except OSError:
            continue
    return found


def _wait_for(path: Path, lines: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and len(path.read_text().splitlines()) >= lines:
            return True
        time.sleep(0.05)
    return False


def _cluster(env: dict, workers: int = 2) -> tuple[str, list[subprocess.Popen]]:
    """A ``dask scheduler`` and ``workers`` single-threaded ``dask worker`` processes on
    127.0.0.1 (a free port); returns the address and the processes, scheduler first."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([*_dask(), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    for _ in range(workers):
        procs.append(subprocess.Popen([*_dask(), "worker", address, "--nthreads", "1", "--no-nanny",
                                       "--no-dashboard", "--host", "127.0.0.1"],
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    deadline = time.monotonic() + 60
    while True:  # every worker registered
        try:
            with Client(address, timeout="5s") as c:
                if len(c.scheduler_info()["workers"]) == workers:
                    return address, procs
        except OSError:
            pass
        if time.monotonic() > deadline:
            _stop(procs)
            raise AssertionError("the dask cluster did not start")
        time.sleep(0.5)


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _env(log: Path, token: str) -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(Path(__file__).parent)]),
                ACCELSIM_TEST_DELAY="0.15", ACCELSIM_TEST_LOG=str(log), ACCELSIM_DASK_TEST=token)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="process check reads /proc")
def test_explore_on_dask_cluster_with_a_killed_worker(tmp_path):
    token = uuid.uuid4().hex
    log = tmp_path / "calls.log"
    address, procs = _cluster(_env(log, token))
    try:
        killed = []

        def kill_one() -> None:
            if _wait_for(log, 8, 120):
                procs[1].send_signal(signal.SIGKILL)
                killed.append(time.monotonic())

        killer = threading.Thread(target=kill_one)
        killer.start()
        dist = run_explore(spec(32), output=tmp_path / "dask.csv", executor="dask", scheduler=address,
                           simulate=fake_simulate)
        killer.join()
        assert killed, "the worker was not killed mid-run"
        assert procs[1].wait(timeout=10) == -signal.SIGKILL
        local = run_explore(spec(32), output=tmp_path / "local.csv", workers=2, simulate=fake_simulate)
    finally:
        _stop(procs)
    st = dist.attrs["explore"]
    assert st["evaluations"] == 32 and st["evaluated_here"] == 32  # none lost
    evaluated = dist[~dist["error"].fillna("").str.startswith("not simulated")]
    assert evaluated["trial"].is_unique and len(evaluated) == 32  # none duplicated
    # the same trials as the local pool, numbers equal to 10 significant digits
    assert list(dist["trial"]) == list(local["trial"]) and list(dist["arch"]) == list(local["arch"])
    for col in NUMBERS:
        np.testing.assert_allclose(dist[col].to_numpy(float), local[col].to_numpy(float), rtol=1e-10, equal_nan=True)
    assert dist.attrs["front"] == local.attrs["front"]
    assert _marked(token) == []  # scheduler and workers all gone


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="process check reads /proc")
def test_explore_scheduler_killed_mid_run(tmp_path):
    """The scheduler dies mid-run: one error line (no traceback), exit 2, the evaluations
    finished before it are kept in the study, and a resume on the local pool completes it."""
    token = uuid.uuid4().hex
    log = tmp_path / "calls.log"
    env = _env(log, token)
    address, procs = _cluster(env)
    out = tmp_path / "r.csv"
    helper = Path(__file__).with_name("explore_helpers.py")
    run = subprocess.Popen([sys.executable, str(helper), str(out), "32", "--resume"],
                           env={**env, "ACCELSIM_TEST_SCHEDULER": address}, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(log, 8, 120), "no evaluation finished"
        procs[0].send_signal(signal.SIGKILL)
        _, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
        _stop(procs)
    assert run.returncode == 2, err[-2000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the evaluations stopped"), err[-1000:]
    import optuna

    study = optuna.load_study(study_name="t", storage=f"sqlite:///{tmp_path / 'r.study.db'}")
    kept = [t for t in study.trials if t.user_attrs.get("rows")]
    assert len(kept) >= 4
    env.pop("ACCELSIM_TEST_LOG")
    done = subprocess.run([sys.executable, str(helper), str(out), "32", "--resume"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    assert json.loads(done.stdout.strip().splitlines()[-1])["evaluations"] == 32
    assert _marked(token) == []
