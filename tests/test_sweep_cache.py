"""The per-layer cost cache: one SQLite table, every entry validated on read, --verify-cache.

A poisoned cache (infinite, negative, text, null, garbage or inconsistent entries) must
change no result: each bad entry is recomputed, replaced and counted in one warning.
A uniformly scaled entry is consistent, so only --verify-cache (a recomputation) finds it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pandas as pd
import pytest

from accelsim.cli.main import main
from accelsim.errors import ConfigError
from accelsim.sweep import run_sweep
from accelsim.sweep.cache import DB_NAME, DiskMemo, check_cost, pack_value, unpack_value

SPEC = {"arch": "A..C", "workloads": [{"name": "segformer-b0", "input": "64x64", "classes": 19}]}


def _db(cache):
    (path,) = list(cache.glob(f"*/{DB_NAME}"))
    return sqlite3.connect(path)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Results without a cache, and a warm cache folder made by the same sweep."""
    base = tmp_path_factory.mktemp("ref")
    plain = run_sweep(SPEC, workers=1)
    cached = run_sweep(SPEC, workers=1, cache=base / "cache")
    pd.testing.assert_frame_equal(plain, cached)  # the cache is exact: same numbers, not close ones
    return plain, base / "cache"


def _copy_cache(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def _cost_rows(db):
    rows = [(g, s, unpack_value(v)) for g, s, v in db.execute("SELECT grp, shape, value FROM entries")]
    return [r for r in rows if "cost" in r[2]]


def _poison(cache, how, n=3, first_conv=False):
    """Rewrite ``n`` cost entries; returns how many were changed. ``first_conv``: only the
    network's first conv (3 input channels), whose cost always reaches the result (a tail
    layer's entry may be one the latency search re-mapped with a PPU backlog)."""
    db = _db(cache)
    rows = [r for r in _cost_rows(db) if r[2]["cost"][2] > 0  # MAC layers
            and (not first_conv or json.loads(r[1])[2] == 3)][:n]
    for grp, shape, val in rows:
        body = val["cost"]
        if how == "garbage":
            text = b"\x00{not json"
        elif how == "null":
            body[3] = None
            text = json.dumps(val)
        elif how == "text":
            body[3] = "fast"
            text = json.dumps(val)
        elif how == "plain-text":  # an entry of the old text layout
            text = json.dumps(val).encode().decode("latin-1")
            db.execute("UPDATE entries SET value = ? WHERE grp = ? AND shape = ?", (text, grp, shape))
            continue
        elif how == "inf":
            text = json.dumps(val).replace(json.dumps(body[3]), "Infinity", 1)
        elif how == "negative":
            body[5][0] = -abs(body[5][0]) - 1e-12  # a negative MAC energy
            text = json.dumps(val)
        elif how == "inconsistent":
            body[3] = body[3] * 0.5  # cycles below the largest term: components no longer add up
            text = json.dumps(val)
        elif how == "dict-key":
            text = json.dumps({"cost": {"a": 1}})
        elif how == "bomb":  # 2 GB of zeros in 2 MB: refused at 1 MiB, never inflated
            text = __import__("zlib").compress(b"0" * (64 << 20))
        elif how == "scaled":  # every energy 1.5x: consistent, so only a recomputation can tell
            body[5] = [e * 1.5 for e in body[5]]
            text = json.dumps(val)
        if isinstance(text, str):
            text = pack_value(json.loads(text)) if how not in ("inf",) else __import__("zlib").compress(text.encode())
        db.execute("UPDATE entries SET value = ? WHERE grp = ? AND shape = ?", (text, grp, shape))
    db.commit()
    db.close()
    return len(rows)


@pytest.mark.parametrize("how", ["garbage", "null", "text", "inf", "negative", "inconsistent", "dict-key", "bomb",
                                 "plain-text"])
def test_poisoned_entries_change_no_result(tmp_path, reference, how):
    plain, warm = reference
    cache = _copy_cache(warm, tmp_path / "cache")
    n = _poison(cache, how)
    assert n == 3
    with pytest.warns(UserWarning, match=rf"cache: {n} entries failed validation .* recomputed and replaced"):
        again = run_sweep(SPEC, workers=1, cache=cache)
    pd.testing.assert_frame_equal(plain, again)  # exact: a bad entry never reaches a result
    assert again.attrs["sweep"]["cache_bad"] == n
    # the bad entries were replaced: a third run reads a clean cache
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        third = run_sweep(SPEC, workers=1, cache=cache)
    assert third.attrs["sweep"]["memo_misses"] == 0
    pd.testing.assert_frame_equal(plain, third)


def test_verify_cache_finds_a_scaled_entry(tmp_path, reference, capsys):
    plain, warm = reference
    cache = _copy_cache(warm, tmp_path / "cache")
    assert _poison(cache, "scaled", n=1, first_conv=True) == 1
    # without verification the scaled entry passes every check and changes a result
    fooled = run_sweep(SPEC, workers=1, cache=cache)
    assert not fooled["energy_j"].equals(plain["energy_j"])
    cache = _copy_cache(warm, tmp_path / "cache2")
    _poison(cache, "scaled", n=1, first_conv=True)
    args = ["sweep", "--arch", "A..C", "-w", "segformer-b0", "--input", "64x64", "--classes", "19",
            "--workers", "1", "--no-progress", "--cache"]
    capsys.readouterr()
    assert main([*args, str(cache), "--verify-cache", "100000"]) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "--verify-cache: 1 of" in lines[0] and "differ from the stored ones" in lines[0], err
    # a clean cache verifies
    assert main([*args, str(warm), "--verify-cache", "20"]) == 0
    assert "hit(s) recomputed, all equal" in capsys.readouterr().err


def test_world_writable_cache_folder_is_refused(tmp_path):
    cache = tmp_path / "shared"
    cache.mkdir()
    os.chmod(cache, 0o777)
    with pytest.raises(ConfigError, match="writable by every user and not sticky"):
        run_sweep(SPEC, workers=1, cache=cache)
    os.chmod(cache, 0o777 | stat.S_ISVTX)  # like /tmp: others cannot replace our files
    run_sweep({"arch": "A", "workloads": SPEC["workloads"]}, workers=1, cache=cache)


def test_memo_is_bounded_by_bytes():
    memo = DiskMemo(None, max_bytes=10_000)
    for i in range(1000):
        memo[(("shape", i), ("arch",))] = float(i)
    per = memo._entry_bytes
    assert 0 < len(memo) <= 10_000 // per + 1
    assert memo[(("shape", 999), ("arch",))] == 999.0  # the most recent stay
    with pytest.raises(KeyError):
        memo[(("shape", 0), ("arch",))]
    assert not memo._new  # nothing else holds the evicted entries


def test_memo_with_a_store_flushes_before_it_outgrows_the_bound(tmp_path):
    memo = DiskMemo(tmp_path / "c", max_bytes=20_000)
    for i in range(1000):
        memo[(("shape", i), ("arch",))] = float(i)
    assert len(memo._new) * memo._entry_bytes <= 20_000 // 4
    memo.flush()
    fresh = DiskMemo(tmp_path / "c")
    assert all(fresh[(("shape", i), ("arch",))] == float(i) for i in (0, 500, 999))  # all stored


def test_check_cost_rejects_what_the_model_never_makes(reference):
    from accelsim.arch import load_arch
    from accelsim.cost.model import map_layer
    from accelsim.workload.registry import load_workload

    wl = load_workload("segformer-b0", input_size=(64, 64))
    layer = next(l for l in wl.layers if l.is_mac)
    memo = {}
    cost = map_layer(layer, load_arch("E"), memo=memo)
    (key,) = memo
    check_cost(cost, key)  # a genuine entry passes
    import dataclasses

    for change in (dict(cycles=-1.0), dict(cycles=float("nan")), dict(latency_s=cost.latency_s * 2),
                   dict(utilization=1.5), dict(bound="fast"), dict(macs=1.5)):
        with pytest.raises(ValueError):
            check_cost(dataclasses.replace(cost, **change), key)


CONCURRENT = """
import sys, warnings
sys.path.insert(0, {here!r})
from test_sweep_engine import SPEC, fake_simulate
from accelsim.sweep import run_sweep
warnings.simplefilter("error")  # a cache problem (locked, unwritable) would be a warning
spec = dict(SPEC, workloads=[SPEC["workloads"][int(sys.argv[2])]])
run_sweep(spec, workers=2, chunk_size=1, cache=sys.argv[1], simulate=fake_simulate)
"""


def test_concurrent_sweeps_share_one_cache(tmp_path):
    """Two sweeps of two processes each write one cache at the same time: no lock error, no
    lost or damaged entry (a third run of both workloads maps nothing)."""
    import subprocess
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_sweep_engine import SPEC as FAKE_SPEC, fake_simulate

    script = tmp_path / "run.py"
    script.write_text(CONCURRENT.format(here=str(Path(__file__).resolve().parent)))
    cache = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, str(script), str(cache), str(i)], stderr=subprocess.PIPE, text=True)
             for i in (0, 1)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        both = run_sweep(FAKE_SPEC, workers=1, cache=cache, simulate=fake_simulate)
    assert both.attrs["sweep"]["memo_misses"] == 0 and both.attrs["sweep"]["cache_bad"] == 0
    pd.testing.assert_frame_equal(both, run_sweep(FAKE_SPEC, workers=1, simulate=fake_simulate))
