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


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="process check reads /proc")
def test_explore_on_dask_cluster_with_a_killed_worker(tmp_path, monkeypatch):
    token = f"ACCELSIM_DASK_TEST={uuid.uuid4().hex}"
    log = tmp_path / "calls.log"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(Path(__file__).parent)]),
               ACCELSIM_TEST_DELAY="0.15", ACCELSIM_TEST_LOG=str(log), ACCELSIM_DASK_TEST=token.split("=")[1])
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([*_dask(), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen([*_dask(), "worker", address, "--nthreads", "1", "--no-nanny",
                                           "--no-dashboard", "--host", "127.0.0.1"],
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:  # both workers registered
            try:
                with Client(address, timeout="5s") as c:
                    if len(c.scheduler_info()["workers"]) == 2:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the dask cluster did not start"
            time.sleep(0.5)
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
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    st = dist.attrs["explore"]
    assert st["evaluations"] == 32 and st["evaluated_here"] == 32  # none lost
    evaluated = dist[~dist["error"].fillna("").str.startswith("not simulated")]
    assert evaluated["trial"].is_unique and len(evaluated) == 32  # none duplicated
    # the same trials as the local pool, numbers equal to 10 significant digits
    assert list(dist["trial"]) == list(local["trial"]) and list(dist["arch"]) == list(local["arch"])
    for col in NUMBERS:
        np.testing.assert_allclose(dist[col].to_numpy(float), local[col].to_numpy(float), rtol=1e-10, equal_nan=True)
    assert dist.attrs["front"] == local.attrs["front"]
    assert _marked(token.split("=")[1]) == []  # scheduler and workers all gone
