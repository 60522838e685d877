"""Run a sweep: expand the spec, evaluate points in chunks on an executor, stream rows.

Executors: ``local`` (in this process for one worker, else a
:class:`concurrent.futures.ProcessPoolExecutor`, all cores by default) and ``dask``
(a ``distributed`` scheduler address, or a ``LocalCluster``). Points are grouped by
architecture into chunks (a few per worker) so per-task overhead stays small and
the per-layer memo is shared by all workloads and paths of one architecture. Every
point's row depends only on the point, and the output is rewritten in point order
at the end, so the file is identical whatever the executor and worker count.

A row (one per arch x workload x path): ``arch``, every arch parameter, ``workload``,
``exec_path``, ``scope``, ``macs``, ``latency_s``, ``energy_j``, ``area_mm2``, ``energy_per_op_j``
and ``throughput_ops_per_s_per_mm2`` (op = one FLOP = half a MAC, SPEC.md section 1),
``utilization``, ``accuracy`` and ``accuracy_metric`` (``unknown`` when none is known),
the mapping ``objective``, its ``tolerance`` and ``max_candidates`` (empty: exhaustive search),
and ``error``
(empty, or the one-line reason a point could not be mapped; its cost columns are then NaN).
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import warnings
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from ..arch.config import ArchConfig
from ..cost.settings import DEFAULT_SCOPE, DEFAULT_TOLERANCE
from ..errors import AccelsimError, ConfigError
from ..safeio import MAX_TABLE_BYTES, about, check_folder, check_output, clip, exclusive, one_line, writing
from ..paths.accuracy import UNKNOWN, lookup
from ..workload.ir import Workload
from ..compose import load_workload
from .cache import MEMO_BYTES, DiskMemo, check_cache_folder, model_tag, point_error_key, workload_digest
from .spec import (ARCH_PARAMS, SweepPoint, SweepSpec, WorkloadItem, expand_arch_space, load_spec,
                   sweep_points, workload_items)
from ..tableio import FORMATS
from .stream import Points, _norm, convert, drop_checksum, is_dataset, journal_of, make_sink, unconvert

KEY = ["arch", "workload", "exec_path", "scope"]
#: Sweep-wide settings and their defaults: spec fields passed to ``simulate`` by name, stored
#: in a column of every row, part of every cache key. A file mixing values is refused.
SETTINGS: dict[str, Any] = {"scope": DEFAULT_SCOPE, "objective": "latency", "tolerance": DEFAULT_TOLERANCE,
                            "max_candidates": None}
SETTING_COLUMNS = tuple(SETTINGS)
RESULT_COLUMNS = ["arch", *ARCH_PARAMS, "workload", "exec_path", "scope", "macs", "latency_s", "energy_j",
                  "area_mm2", "energy_per_op_j", "throughput_ops_per_s_per_mm2", "utilization", "accuracy",
                  "accuracy_metric", *(c for c in SETTING_COLUMNS if c != "scope"), "error"]
#: Chunks per worker when no chunk size is given: enough to balance uneven points.
CHUNKS_PER_WORKER = 4
#: Wall time a chunk aims at when no chunk size is given (s): rows reach disk at least this
#: often per worker, so a kill loses at most a few seconds of work per worker.
CHUNK_SECONDS = 2.0
#: Most points in one chunk (whatever the measured rate).
MAX_CHUNK_POINTS = 5_000
#: Chunks in flight per worker (the next one is queued while one runs).
IN_FLIGHT_PER_WORKER = 2
#: Fewer points than this per worker run in this process (benchmarks/bench_sweep.py).
IN_PROCESS_POINTS = 8

Simulate = Callable[..., Any]


# ------------------------------------------------------------------ one chunk (runs in a worker)
@dataclass(frozen=True)
class ChunkTask:
    """Points to evaluate in one worker call, with everything they need (picklable)."""

    points: tuple[tuple[ArchConfig, str, str, str], ...]  # arch, workload label, exec path, scope
    workloads: dict[tuple[str, str], Workload]
    accuracy: dict[tuple[str, str], tuple[float, str]]
    settings: tuple[tuple[str, Any], ...]  # the SETTINGS of the sweep but the scope, by name
    cache_dir: str | None
    want_layers: bool
    simulate: Simulate | None = None
    first: int = 0  # point index of the first point (the points are consecutive)
    memo_bytes: int = 0  # bound of the per-layer memo (0: MEMO_BYTES)
    verify: int = 0  # disk-cache hits to recompute and compare


@dataclass
class ChunkResult:
    rows: list[dict]
    layers: pd.DataFrame | None
    memo_hits: int = 0
    memo_misses: int = 0
    cache_skipped: list[str] = field(default_factory=list)  # cache problems, one line each
    first: int = 0
    last: int = -1
    seconds: float = 0.0  # wall time of the chunk in its worker
    cache_bad: int = 0  # cache entries that failed validation (recomputed)
    verified: int = 0  # cache hits recomputed for --verify-cache
    mismatches: list[str] = field(default_factory=list)  # verified hits that differed


def result_row(arch: ArchConfig, workload: str, exec_path: str, res: Any,
               accuracy: tuple[float, str], **settings: Any) -> dict:
    """The tidy row of one point from a :class:`~accelsim.cost.SimResult`-like object;
    ``settings`` are the sweep-wide :data:`SETTINGS` (defaults for those not given)."""
    macs = int(res.macs)
    ops = 2.0 * macs  # SPEC.md section 1: one op = one FLOP = half a MAC
    latency, energy, area = float(res.latency_s), float(res.energy_j), float(res.area_mm2)
    row = {"arch": arch.name, **arch.params(), "workload": workload, "exec_path": exec_path, "macs": macs,
           "latency_s": latency, "energy_j": energy, "area_mm2": area,
           "energy_per_op_j": energy / ops if ops else math.nan,
           "throughput_ops_per_s_per_mm2": ops / latency / area if latency > 0 and area > 0 else math.nan,
           "utilization": float(res.utilization), "accuracy": accuracy[0], "accuracy_metric": accuracy[1],
           **{**SETTINGS, **settings}, "error": ""}
    return row


def failed_row(arch: ArchConfig, workload: str, exec_path: str, wl: Workload,
               accuracy: tuple[float, str], error: str, **settings: Any) -> dict:
    """The row of a point the cost model cannot map: costs NaN, MACs and area still known,
    ``error`` the reason on one line."""
    from ..arch.area import scope_area_mm2

    nan = math.nan
    area = scope_area_mm2(arch, settings.get("scope", SETTINGS["scope"]))
    res = SimpleNamespace(macs=wl.macs, latency_s=nan, energy_j=nan, area_mm2=area, utilization=nan)
    row = result_row(arch, workload, exec_path, res, accuracy, **settings)
    row["error"] = one_line(error) or "unmappable"
    return row


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Evaluate the points of ``task`` with one memo (and the disk cache when given)."""
    from ..cost.model import arch_fingerprint

    t0 = time.perf_counter()
    simulate = task.simulate
    if simulate is None:
        from ..cost import simulate
    memo = DiskMemo(task.cache_dir, max_bytes=task.memo_bytes or MEMO_BYTES, verify=task.verify)
    rows, layer_frames = [], []
    # an unmappable point is a result too: the disk cache remembers its reason
    digests = {k: workload_digest(wl) for k, wl in task.workloads.items()} if memo.root else {}
    prints: dict[str, tuple] = {}  # arch name -> fingerprint
    for arch, wl_label, path, scope in task.points:
        settings = {**dict(task.settings), "scope": scope}
        wl, acc = task.workloads[(wl_label, path)], task.accuracy[(wl_label, path)]
        err_key = None
        if memo.root:
            if arch.name not in prints:
                prints[arch.name] = arch_fingerprint(arch)
            err_key = point_error_key(digests[(wl_label, path)], prints[arch.name], settings)
        known = memo.peek(err_key) if err_key else None
        if known is not None:
            rows.append(failed_row(arch, wl_label, path, wl, acc, known, **settings))
            continue
        try:
            res = simulate(wl, arch, memo=memo, **settings)
        except AccelsimError as exc:  # e.g. a layer whose smallest tile does not fit this arch's buffers
            row = failed_row(arch, wl_label, path, wl, acc, str(exc), **settings)
            if err_key:
                memo[err_key] = row["error"]
            rows.append(row)
            continue
        rows.append(result_row(arch, wl_label, path, res, acc, **settings))
        if task.want_layers:
            layer_frames.append(res.layers.assign(arch=arch.name, workload=wl_label, exec_path=path, scope=scope))
    memo.flush()
    memo.close()
    layers = None
    if layer_frames:
        layers = pd.concat(layer_frames, ignore_index=True)
        layers = layers[KEY + [c for c in layers.columns if c not in KEY]]
    return ChunkResult(rows, layers, memo.hits, memo.misses, memo.skipped, task.first,
                       task.first + len(task.points) - 1, time.perf_counter() - t0, memo.bad,
                       memo.verified, memo.mismatches)


def _settings(source: Any) -> dict[str, Any]:
    """The :data:`SETTINGS` values of a spec (same attribute names) but the scope, which is
    part of each point's key (a sweep may run several)."""
    return {col: getattr(source, col) for col in SETTING_COLUMNS if col != "scope"}


# ------------------------------------------------------------------ planning
@dataclass(frozen=True)
class SweepPlan:
    """A spec resolved into points, built workloads and file locations."""

    spec: SweepSpec
    points: tuple[SweepPoint, ...]
    workloads: dict[tuple[str, str], Workload]
    accuracy: dict[tuple[str, str], tuple[float, str]]
    output: Path | None
    layers: Path | None
    cache: Path | None


def _resolve(path: str | None, base: Path) -> Path | None:
    if not path:
        return None
    p = Path(path)
    return p if p.is_absolute() else base / p


@dataclass(frozen=True)
class SweepSetup:
    """A validated spec, where it came from, and its file locations (not yet checked)."""

    spec: SweepSpec
    base: Path  # folder the spec's relative paths are resolved against
    source: str  # the spec file, or "" for a spec given as a dict
    output: Path | None
    layers: Path | None
    cache: Path | None
    overridden: frozenset[str] = frozenset()  # fields given as overrides, not by the file

    def field_source(self, name: str) -> str:
        """``spec.yaml: field 'NAME'`` when the spec file gave the field, else ''."""
        return f"{self.source}: field '{name}'" if self.source and name not in self.overridden else ""


def setup_sweep(spec_or_path: "SweepSpec | dict | str | Path", **overrides: Any) -> SweepSetup:
    """Validate a spec and resolve its paths (CLI/keyword ``overrides`` win over the file's
    fields; paths given as overrides are relative to the working directory, the file's to
    the file)."""
    spec, base = load_spec(spec_or_path)
    source = str(spec_or_path) if isinstance(spec_or_path, (str, Path)) else ""
    over = {k: v for k, v in overrides.items() if v is not None}
    if over:
        spec = spec.replace(**over)
    cwd = Path.cwd()
    return SweepSetup(spec, base, source, *(_resolve(getattr(spec, f), cwd if f in over else base)
                                            for f in ("output", "layers", "cache")), frozenset(over))


def plan_sweep(spec_or_path: "SweepSpec | dict | str | Path | SweepSetup", **overrides: Any) -> SweepPlan:
    """Validate and expand a spec (CLI/keyword ``overrides`` win over the file's fields).
    Errors name the spec file."""
    setup = spec_or_path if isinstance(spec_or_path, SweepSetup) else setup_sweep(spec_or_path, **overrides)
    spec = setup.spec
    with about(setup.source) if setup.source else nullcontext():
        space = expand_arch_space(spec.arch)
        items = workload_items(spec.workloads, setup.base)
        points = sweep_points(space.archs, items, spec.scopes)
        workloads, accuracy = build_workloads(items)
    return SweepPlan(spec, tuple(points), workloads, accuracy, setup.output, setup.layers, setup.cache)


def build_workloads(items: list[WorkloadItem]) -> tuple[dict, dict]:
    """Every (label, path) workload, built once, and its published accuracy if any."""
    workloads: dict[tuple[str, str], Workload] = {}
    accuracy: dict[tuple[str, str], tuple[float, str]] = {}
    for i, w in enumerate(items):
        for j, p in enumerate(w.exec_paths):
            with about(f"workloads[{i}] ({clip(w.label, 60)})" + (f" exec_paths[{j}]" if p else "")):
                wl = load_workload(w.name, input_size=w.input_size, num_classes=w.num_classes, exec_path=p,
                                   **dict(w.options))
            workloads[(w.label, p)] = wl
            accuracy[(w.label, p)] = lookup_accuracy(wl, p)
    return workloads, accuracy


def lookup_accuracy(wl: Workload, exec_path: str) -> tuple[float, str]:
    """Published accuracy of a workload + path via :mod:`accelsim.paths.accuracy`, else (NaN, unknown)."""
    found = lookup(wl.family, wl.variant, wl.dataset or "", tuple(wl.input_size), wl.exec_path or exec_path)
    if found is None:
        return math.nan, UNKNOWN
    return float(found[0]), str(found[1])


def make_chunks(points: list[SweepPoint], workers: int,
                chunk_size: int | None = None) -> list[list[SweepPoint]]:
    """Consecutive points, about ``len/(workers*CHUNKS_PER_WORKER)`` per chunk (or ``chunk_size``).

    Without an explicit ``chunk_size`` an architecture's points stay together (they
    share the per-layer memo) unless that would double the chunk.
    """
    if not points:
        return []
    target = chunk_size or max(1, math.ceil(len(points) / (workers * CHUNKS_PER_WORKER)))
    chunks: list[list[SweepPoint]] = [[]]
    for pt in points:
        cur = chunks[-1]
        full = len(cur) >= target
        same_arch = bool(cur) and cur[-1].arch.name == pt.arch.name
        if full and (chunk_size is not None or not same_arch or len(cur) >= 2 * target):
            chunks.append([])
        chunks[-1].append(pt)
    return chunks


# ------------------------------------------------------------------ resume


def check_existing(existing: pd.DataFrame, settings: dict[str, Any], path: "str | Path") -> None:
    """Refuse to resume into ``path`` unless its rows are sweep rows made with ``settings``.

    ``settings`` maps the :data:`SETTING_COLUMNS` (objective, max_candidates) to this
    sweep's values; a stored row made with another value would silently mix results.
    """
    if existing.empty:
        return
    missing = [c for c in RESULT_COLUMNS if c not in existing.columns]
    if missing:
        raise ConfigError(f"{path}: not a sweep result of this version (no column {missing[0]!r}); "
                          "use --overwrite to replace it or choose another output file")
    for col, want in settings.items():
        other = sorted({_setting_text(v) for v in existing[col] if _norm(v) != _norm(want)})
        if other:
            raise ConfigError(f"{path}: its rows were computed with {col}={other[0]}, this sweep asks for "
                              f"{col}={_setting_text(want)}; use --overwrite to replace them or choose "
                              "another output file")


def _setting_text(v: Any) -> str:
    v = _norm(v)
    if v is None:
        return "none"
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def finished_points(existing: pd.DataFrame, points: Iterable[SweepPoint]) -> tuple[set, pd.DataFrame]:
    """Keys of points whose row is stored with the same arch parameters, and the rows to keep.

    Rows of this sweep's points that differ in a parameter (a changed config) are
    dropped so they are recomputed; rows of other points are kept untouched. A point
    stored with an ``error`` (unmappable) is finished like any other.
    """
    if existing.empty:
        return set(), existing
    by_key = {p.key: p for p in points}
    keep = np.ones(len(existing), dtype=bool)
    done: set = set()
    for i, row in enumerate(existing[KEY + list(ARCH_PARAMS)].itertuples(index=False, name=None)):
        key = row[:len(KEY)]
        pt = by_key.get(key)
        if pt is None:
            continue
        params = pt.arch.params()
        same = all(_norm(params[p]) == _norm(v) for p, v in zip(ARCH_PARAMS, row[len(KEY):]))
        if not same or key in done:
            keep[i] = False
        else:
            done.add(key)
    return done, existing[keep]


# ------------------------------------------------------------------ executors
#: seconds between a pool worker's checks that the sweep's main process still lives
PARENT_POLL_S = 0.25


def _exit_with(main_pid: int) -> None:
    """Pool-worker initializer: a daemon thread ends the worker as soon as the sweep's main
    process is gone (killed with SIGKILL it cannot shut the pool down; an orphaned worker
    would wait for work forever and hold the caller's stdout and stderr open)."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_S)
            try:
                os.kill(main_pid, 0)
                alive = os.getppid() == parent
            except ProcessLookupError:
                alive = False
            except PermissionError:  # the pid exists (owned by another user after reuse: gone)
                alive = os.getppid() == parent
            if not alive:
                os._exit(1)

    threading.Thread(target=watch, name="accelsim-parent-watch", daemon=True).start()


def _local_results(planner: "ChunkPlanner", workers: int, in_process: bool) -> Iterable[ChunkResult]:
    """Chunk results in this process (``in_process``: one worker, or a sweep too small to
    be worth starting workers), else from a process pool fed a few chunks ahead. The pool's
    workers are forked after the compiled search is loaded here, so they inherit it instead
    of each loading it; each worker exits when the sweep's main process is gone."""
    if in_process:
        while (task := planner.next()) is not None:
            yield run_chunk(task)
        return
    from concurrent import futures as cf

    first = planner.next()
    if first is None:
        return
    if first.simulate is None:
        from ..cost.mapper import load_search

        load_search()
    size = planner.chunk_size or 1
    n = min(workers, max(1, math.ceil((planner.remaining + len(first.points)) / size)))
    pool = cf.ProcessPoolExecutor(max_workers=n, initializer=_exit_with, initargs=(os.getpid(),))
    try:
        pending = {pool.submit(run_chunk, first)}
        while True:
            while len(pending) < n * IN_FLIGHT_PER_WORKER and (task := planner.next()) is not None:
                pending.add(pool.submit(run_chunk, task))
            if not pending:
                break
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


#: seconds between checks of a Dask cluster while waiting for results
DASK_POLL_S = 2.0


def _dask_results(planner: "ChunkPlanner", workers: int, scheduler: str | None,
                  worker_timeout: float | None) -> Iterable[ChunkResult]:
    """Chunk results from a Dask cluster (``scheduler``) or a ``LocalCluster``, a few chunks
    ahead per worker. A lost scheduler, or no worker for ``worker_timeout`` seconds (0:
    wait forever), ends the sweep with one line (:class:`_ClusterGone`)."""
    try:
        from distributed import Client, LocalCluster, wait
    except ImportError:
        raise ConfigError("the dask executor needs the 'dask' extra (pip install 'accelsim[dask]')") from None
    import logging

    timeout = WORKER_TIMEOUT_S if worker_timeout is None else worker_timeout
    cluster = None
    quiet = _quiet_dask(logging)
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
            except (OSError, TimeoutError) as exc:
                raise ConfigError(f"cannot reach the dask scheduler {scheduler!r}: {one_line(str(exc))}") from None
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=":0")  # any free port: never "8787 in use"
            client = Client(cluster)
        where = scheduler or "the local Dask cluster"
        try:
            pending: set = set()
            idle_since = None
            while True:
                n = max(1, _n_workers(client, where))
                while len(pending) < n * IN_FLIGHT_PER_WORKER and (task := planner.next()) is not None:
                    pending.add(client.submit(run_chunk, task, pure=False))
                if not pending:
                    return
                try:
                    done, pending = _wait(wait, pending)
                except TimeoutError:
                    done = set()
                except Exception as exc:  # noqa: BLE001  (futures cancelled: the scheduler went away)
                    raise _ClusterGone(f"lost the dask scheduler {where} ({type(exc).__name__})") from None
                for fut in done:
                    try:
                        res = fut.result()
                    except AccelsimError:
                        raise
                    except Exception as exc:  # noqa: BLE001  (cancelled: the scheduler went away)
                        if client.status in ("running", "connecting") and not _is_cancel(exc):
                            raise
                        raise _ClusterGone(f"lost the dask scheduler {where} ({type(exc).__name__})") from None
                    yield res
                if done:
                    idle_since = None
                    continue
                if client.status not in ("running", "connecting"):
                    raise _ClusterGone(f"lost the dask scheduler {where}")
                if _n_workers(client, where) == 0:
                    idle_since = idle_since or time.monotonic()
                    if timeout and time.monotonic() - idle_since > timeout:
                        raise _ClusterGone(f"the dask scheduler {where} has had no worker for {timeout:g} s "
                                           "(start workers, or give --worker-timeout 0 to wait for them)")
                else:
                    idle_since = None
        finally:
            _close(client, cluster)
    finally:
        quiet()


def _wait(wait, pending):
    done_and_not = wait(list(pending), timeout=DASK_POLL_S, return_when="FIRST_COMPLETED")
    return set(done_and_not.done), set(done_and_not.not_done)


def _is_cancel(exc: BaseException) -> bool:
    import concurrent.futures

    return isinstance(exc, (concurrent.futures.CancelledError, OSError)) or "Cancelled" in type(exc).__name__


def _n_workers(client, where: str) -> int:
    try:
        return len(client.scheduler_info().get("workers", {}))
    except Exception as exc:  # noqa: BLE001  (the comm to a dead scheduler raises many kinds)
        raise _ClusterGone(f"lost the dask scheduler {where} ({type(exc).__name__})") from None


def _close(client, cluster) -> None:
    import contextlib

    with contextlib.suppress(Exception):
        client.close(timeout=5)
    if cluster is not None:
        with contextlib.suppress(Exception):
            cluster.close(timeout=10)


def _quiet_dask(logging) -> Callable[[], None]:
    """Silence distributed's loggers (a lost scheduler logs tracebacks); returns the undo."""
    names = ("distributed", "distributed.client", "distributed.worker", "distributed.core",
             "distributed.comm", "distributed.batched", "tornado")
    old = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.CRITICAL)

    def undo() -> None:
        for n, level in old.items():
            logging.getLogger(n).setLevel(level)
    return undo


# ------------------------------------------------------------------ entry point
@dataclass
class SweepStats:
    """What a run did: points in the sweep, resumed (kept), computed, wall time (s)."""

    points: int = 0
    resumed: int = 0
    computed: int = 0
    seconds: float = 0.0
    memo_hits: int = 0
    memo_misses: int = 0
    chunks: int = 0
    output: str = ""
    failed: int = 0  # points of this sweep (kept or computed) that could not be mapped
    first_error: str = ""
    cache_skipped: int = 0  # cache problems (unreadable, unwritable)
    cache_bad: int = 0  # cache entries that failed validation, recomputed
    cache_verified: int = 0  # cache hits recomputed by verify_cache


class CacheWarning(UserWarning):
    """Files in the cache folder that were skipped (the results are unaffected)."""


#: suffixes a sweep output or per-layer file may have (csv, parquet, json)
OUTPUT_SUFFIXES = tuple(FORMATS)


def check_locations(setup: SweepSetup) -> tuple[Path | None, Path | None, Path | None]:
    """Check the output, per-layer file and cache folder before any work; returns the real
    output and per-layer paths (symlinks resolved) and the cache folder of this model."""
    def located(name: str):  # errors name the spec file and field when the file gave it
        where = setup.field_source(name)
        return about(where) if where else nullcontext()

    def checked(path: Path | None, raw: str | None, what: str) -> Path | None:
        if path is None:
            return None
        if raw and is_dataset(raw):  # a folder: a partitioned Parquet dataset
            return check_folder(path, what)
        return check_output(path, what, OUTPUT_SUFFIXES)

    with located("output"):
        out = checked(setup.output, setup.spec.output, "sweep output")
    with located("layers"):
        lay = checked(setup.layers, setup.spec.layers, "per-layer file")
        if out is not None and out == lay:
            raise ConfigError(f"{setup.layers}: the per-layer file must differ from the sweep output")
    with located("cache"):
        cache = check_cache_folder(check_folder(setup.cache, "cache folder")) / model_tag() if setup.cache else None
    return out, lay, cache


def run_sweep(spec_or_path: "SweepSpec | dict | str | Path", *, output: "str | Path | None" = None,
              layers: "str | Path | None" = None, executor: str | None = None, workers: int | None = None,
              scheduler: str | None = None, cache: "str | Path | None" = None, objective: str | None = None,
              max_candidates: int | None = None, overwrite: bool = False, progress: bool = False,
              chunk_size: int | None = None, simulate: Simulate | None = None,
              scope: str | None = None, tolerance: float | None = None,
              on_start: Callable[[], None] | None = None, verify_cache: int = 0,
              worker_timeout: float | None = None, memo_bytes: int | None = None,
              return_rows: bool = True) -> pd.DataFrame:
    """Run (or resume) a sweep; returns the result rows in point order.

    ``spec_or_path``: a YAML path, a dict or a :class:`SweepSpec`. Keyword arguments
    override the spec's fields. Rows stream to ``output`` (a CSV file, a Parquet or JSON
    file written from a CSV journal at the end, or a folder: a partitioned Parquet
    dataset) as chunks finish, in point order (:mod:`accelsim.sweep.stream`);
    re-running with the same output keeps finished points (not recomputed). ``cache`` is
    a folder for per-layer costs reused across runs (:mod:`accelsim.sweep.cache`);
    ``verify_cache`` recomputes that many of its hits (the first met) and fails on a difference.
    ``worker_timeout``: seconds a Dask sweep waits with no worker before it stops (``0``:
    wait forever; default :data:`WORKER_TIMEOUT_S`). ``memo_bytes`` bounds each worker's
    per-layer memo. ``simulate`` replaces :func:`accelsim.simulate` (same signature; for
    tests and custom models). ``return_rows=False`` returns an empty frame (a large sweep's
    rows stay on disk). The returned frame's ``attrs["sweep"]`` holds a
    :class:`SweepStats` as a dict.
    """
    t0 = time.perf_counter()
    if scheduler and executor not in (None, "dask"):
        raise ConfigError(f"--scheduler {scheduler!r} runs the sweep on a Dask cluster: give --executor dask "
                          "or leave --executor out")
    if scheduler:
        executor = "dask"
    setup = setup_sweep(spec_or_path, output=str(output) if output else None,
                        layers=str(layers) if layers else None, cache=str(cache) if cache else None,
                        executor=executor, workers=workers, scheduler=scheduler, objective=objective,
                        max_candidates=max_candidates, scope=scope, tolerance=tolerance)
    spec = setup.spec
    if spec.scheduler and spec.executor != "dask":
        raise ConfigError(f"{setup.field_source('scheduler') or 'scheduler'}: a scheduler address needs "
                          "executor: dask")
    out_file, layer_file, cache_dir = check_locations(setup)  # before any work
    n_workers = spec.workers or os.cpu_count() or 1
    with ExitStack() as held:
        # a temporary folder only when no output is given (a killed sweep leaves nothing else)
        tmp = None if out_file else held.enter_context(tempfile.TemporaryDirectory(prefix="accelsim-sweep-"))
        for path, what in ((out_file, "sweep output"), (layer_file, "per-layer file")):
            if path is not None:
                held.enter_context(exclusive(path, what))
        plan = plan_sweep(setup)
        if spec.executor == "dask" and spec.scheduler:
            probe_scheduler(spec.scheduler)
        check_disk(plan, out_file, layer_file, setup)
        if return_rows and len(plan.points) * ROW_BYTES > MAX_TABLE_BYTES:
            raise ConfigError(f"the sweep has {len(plan.points):,} points, about "
                              f"{len(plan.points) * ROW_BYTES / 2**30:.1f} GiB of rows: too many to return in "
                              "memory; give an output file (-o; from Python also return_rows=False)")
        if on_start is not None:  # the spec is valid and the files are ours: work starts now
            on_start()
        out = out_file or Path(tmp) / "results.csv"
        pts = Points([plan.points[i].arch for i in range(0, len(plan.points), max(1, _pairs(plan)))],
                     _pair_list(plan), ARCH_PARAMS)
        n = len(plan.points)
        results = _Output(out, n, spec.output if out_file else None)
        lay = _Output(layer_file, n, spec.layers) if layer_file else None
        if overwrite:
            results.remove()
            if lay:
                lay.remove()
        settings = _settings(spec)
        taken = np.zeros(n, dtype=bool)
        failed_pts = np.zeros(n, dtype=bool)
        check = _checker(settings, out, failed_pts, pts)
        allowed = None
        if lay is not None:
            allowed = _layer_points(lay, pts, n)
        scan = results.sink.scan(pts, taken, check, allowed)
        if lay is not None:
            lay.sink.placed |= taken & failed_pts  # unmappable points have no per-layer rows
            lay.sink.scan(pts, np.zeros(n, dtype=bool), None, taken, per_point=True)
        todo = np.flatnonzero(~taken)
        stats = SweepStats(points=n, resumed=n - len(todo), output=str(setup.output or ""),
                           failed=scan.failed)
        first_error = scan.first_failed
        planner = ChunkPlanner(plan, todo, n_workers, chunk_size, settings, cache_dir, simulate,
                               memo_bytes or 0, verify_cache)
        in_process = n_workers <= 1 or (chunk_size is None and len(todo) < IN_PROCESS_POINTS * n_workers)
        stream = (_dask_results(planner, n_workers, spec.scheduler, worker_timeout)
                  if spec.executor == "dask" else _local_results(planner, n_workers, in_process))
        bar = _progress(n, stats.resumed, progress)
        skipped: list[str] = []
        mismatches: list[str] = []
        bad = verified = 0
        results.sink.start(RESULT_COLUMNS)
        try:
            for res in stream:
                planner.observe(res.first, len(res.rows), res.seconds, res.verified)
                if lay is not None:
                    lay.sink.add(res.first, res.last, res.layers if res.layers is not None else pd.DataFrame())
                results.sink.add(res.first, res.last, pd.DataFrame(res.rows, columns=RESULT_COLUMNS))
                stats.computed += len(res.rows)
                stats.chunks += 1
                stats.memo_hits += res.memo_hits
                stats.memo_misses += res.memo_misses
                skipped += res.cache_skipped
                bad += res.cache_bad
                verified += res.verified
                mismatches += res.mismatches
                for j, row in enumerate(res.rows):
                    if row["error"]:
                        stats.failed += 1
                        if first_error is None or res.first + j < first_error[0]:
                            path = f" [{row['exec_path']}]" if row["exec_path"] else ""
                            first_error = (res.first + j, f"{row['arch']} x {row['workload']}{path}: {row['error']}")
                if bar is not None:
                    bar.update(len(res.rows))
        except _ClusterGone as exc:
            raise AccelsimError(f"{exc}; the {stats.resumed + stats.computed} finished rows are in "
                                f"{setup.output or 'no output file (none given)'}: re-run the same command to "
                                "resume") from None
        finally:
            if bar is not None:
                bar.close()
        results.finish()
        if lay is not None:
            lay.finish()
        df = results.read() if return_rows else pd.DataFrame(columns=RESULT_COLUMNS)
    stats.first_error = first_error[1] if first_error else ""
    skipped = list(dict.fromkeys(skipped))
    if skipped:
        stats.cache_skipped = len(skipped)
        warnings.warn(f"cache: {len(skipped)} problem(s) reading or writing it (the results are unaffected), "
                      f"e.g. {skipped[0]}", CacheWarning, stacklevel=2)
    if bad:
        stats.cache_bad = bad
        warnings.warn(f"cache: {bad} entr{'y' if bad == 1 else 'ies'} failed validation (non-finite, negative, "
                      f"inconsistent or malformed) and were recomputed and replaced", CacheWarning, stacklevel=2)
    stats.cache_verified = verified
    if mismatches:
        raise ConfigError(f"{setup.cache}: --verify-cache: {len(mismatches)} of {verified} recomputed cache "
                          f"entries differ from the stored ones (e.g. {mismatches[0]}); the folder was altered "
                          "or written by another model: delete it and re-run")
    stats.seconds = time.perf_counter() - t0
    df.attrs["sweep"] = stats.__dict__
    return df


def _pairs(plan: SweepPlan) -> int:
    """Points per architecture: (workload, path) pairs x scopes."""
    return len(plan.workloads) * len(plan.spec.scopes)


def _pair_list(plan: SweepPlan) -> list[tuple[str, str, str]]:
    k = _pairs(plan)
    return [(p.workload, p.exec_path, p.scope) for p in plan.points[:k]]


class _Output:
    """One output of a sweep: its sink, and the conversion of a single Parquet/JSON file."""

    def __init__(self, path: Path, n: int, given: "str | Path | None") -> None:
        self.path = path
        self.dataset = is_dataset(given) if given else False
        self.converted = not self.dataset and table_format_of(path) != "csv"
        self.file = journal_of(path) if self.converted else path
        if self.converted and path.exists():
            unconvert(path, self.file)  # a finished file: resumed or grown like a journal
        self.sink = make_sink(self.file, n, self.dataset, checksum=not self.converted)

    def remove(self) -> None:
        self.sink.remove()
        if self.converted and self.path.exists():
            with writing(self.path):
                self.path.unlink()
                drop_checksum(self.path)

    def finish(self) -> None:
        self.sink.finish()
        if self.converted:
            convert(self.file, self.path)

    def read(self) -> pd.DataFrame:
        from .dataset import read_results

        return read_results(self.path)


def table_format_of(path: Path) -> str:
    from ..tableio import table_format

    return table_format(path)


def _checker(settings: dict, out: Path, failed_pts: np.ndarray, pts: Points) -> Callable[[pd.DataFrame], None]:
    """Check each slice of existing rows (settings, columns) and note its unmappable points."""
    def check(df: pd.DataFrame) -> None:
        check_existing(df, settings, out)
        if len(df) and "error" in df.columns:
            for k in df.loc[df["error"] != "", KEY].itertuples(index=False, name=None):
                j = pts.get(k)
                if j >= 0:
                    failed_pts[j] = True
    return check


def _layer_points(lay: "_Output", pts: Points, n: int) -> np.ndarray:
    """Points that have per-layer rows on disk (a result row needs them unless unmappable).
    Read in slices (key columns only)."""
    have = np.zeros(n, dtype=bool)
    sink = lay.sink
    if isinstance(sink, type(make_sink(Path("x.csv"), 0, False))):
        from .store import repair_tail

        with writing(sink.path):
            repair_tail(sink.path)
        header = sink._header()
        sources = ([sink.path] if header else []) + (sorted(sink.parts.glob("*.csv")) if sink.parts.is_dir() else [])
        for src in sources:
            for df in sink.slices(src, header or [], header=src == sink.path):
                for k in df[KEY].drop_duplicates().itertuples(index=False, name=None):
                    j = pts.get(k)
                    if j >= 0:
                        have[j] = True
    else:
        import pyarrow.parquet as pq

        for part in sink.files():
            df = pq.read_table(part, columns=KEY).to_pandas().drop_duplicates()
            for k in df.itertuples(index=False, name=None):
                j = pts.get(tuple("" if v is None else v for v in k))
                if j >= 0:
                    have[j] = True
    return have


class _ClusterGone(Exception):
    """The Dask scheduler or every worker is gone."""


#: seconds a Dask sweep waits with no worker before it stops (``worker_timeout``)
WORKER_TIMEOUT_S = 120.0
#: seconds to wait for a Dask scheduler to answer a connection
CONNECT_TIMEOUT_S = 5.0


def probe_scheduler(address: str) -> None:
    """One line, within :data:`CONNECT_TIMEOUT_S`, when nothing answers at a scheduler address
    (``tcp://host:port``; other protocols are left to Dask)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls", ""):
        return
    try:
        host, port = parts.hostname, parts.port or 8786
    except ValueError as exc:
        raise ConfigError(f"--scheduler {address!r}: not a tcp://host:port address ({exc})") from None
    if not host:
        raise ConfigError(f"--scheduler {address!r}: not a tcp://host:port address")
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ConfigError(f"--scheduler: cannot reach the dask scheduler {address!r}: it does not answer "
                          f"({describe_os(exc)})") from None


def describe_os(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def check_disk(plan: SweepPlan, out: Path | None, layers: Path | None, setup: SweepSetup) -> None:
    """Refuse, before any work, a sweep whose outputs would not fit the free disk space
    (estimated at :data:`ROW_BYTES` per result row and :data:`LAYER_ROW_BYTES` per layer
    row in CSV; Parquet is smaller)."""
    import shutil

    n = len(plan.points)
    per_point_layers = 0
    if layers is not None and n:
        per_arch = sum(len(wl.layers) for wl in plan.workloads.values())
        per_point_layers = per_arch / max(1, len(plan.workloads))
    for path, need, what in ((out, n * ROW_BYTES, "sweep output"),
                             (layers, n * per_point_layers * LAYER_ROW_BYTES, "per-layer file")):
        if path is None or not need:
            continue
        folder = path if path.is_dir() else path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            continue
        have = path.stat().st_size if path.is_file() else 0
        if need > free + have:
            field = "--layers" if what == "per-layer file" else "-o"
            raise ConfigError(f"{path}: the {what} of {n:,} points needs about {need / 1e9:.3g} GB "
                              f"(CSV; {ROW_BYTES if what == 'sweep output' else LAYER_ROW_BYTES} bytes a row), "
                              f"{free / 1e9:.3g} GB are free on its disk; free space, use a Parquet dataset "
                              f"(a folder) or drop {field}")


#: CSV bytes of a result row and of a per-layer row (measured: benchmarks/bench_sweep_scale.py)
ROW_BYTES = 450
LAYER_ROW_BYTES = 420


class ChunkPlanner:
    """Cuts the points still to compute into chunks of consecutive points (so each chunk's
    rows are one piece of the ordered output): ``chunk_size`` points when given, else as
    many as take about :data:`CHUNK_SECONDS` at the rate measured so far (the first chunks:
    one architecture's points), kept whole per architecture when that at most doubles a
    chunk, and never more than a worker's share of what is left (so the last chunks spread
    over the workers)."""

    def __init__(self, plan: SweepPlan, todo: np.ndarray, workers: int, chunk_size: int | None,
                 settings: dict, cache_dir: Path | None, simulate: Simulate | None, memo_bytes: int,
                 verify: int) -> None:
        self.plan, self.todo, self.workers, self.chunk_size = plan, todo, workers, chunk_size
        self.settings = tuple(settings.items())
        self.cache_dir = str(cache_dir) if cache_dir else None
        self.simulate, self.memo_bytes = simulate, memo_bytes
        self.verify_left = verify
        self.pos = 0
        self.spp: float | None = None  # seconds per point, smoothed
        self.quota: dict[int, int] = {}  # first point of a chunk in flight -> its verification quota

    @property
    def remaining(self) -> int:
        return len(self.todo) - self.pos

    def observe(self, first: int, points: int, seconds: float, verified: int = 0) -> None:
        """A chunk finished: update the rate, take back its unused verification quota."""
        self.verify_left += max(0, self.quota.pop(first, 0) - verified)
        if points and seconds > 0:
            r = seconds / points
            self.spp = r if self.spp is None else 0.5 * self.spp + 0.5 * r

    def _size(self) -> int:
        if self.chunk_size:
            return self.chunk_size
        share = max(1, math.ceil(self.remaining / self.workers))
        if self.spp is None:
            return min(share, max(1, _pairs(self.plan)))
        return max(1, min(share, MAX_CHUNK_POINTS, int(CHUNK_SECONDS / self.spp)))

    def next(self) -> ChunkTask | None:
        if self.pos >= len(self.todo):
            return None
        size, todo, pts = self._size(), self.todo, self.plan.points
        end = self.pos + 1
        while end < len(todo) and todo[end] == todo[end - 1] + 1:
            cur = end - self.pos
            if cur >= size:
                same = pts[todo[end]].arch.name == pts[todo[end - 1]].arch.name
                if self.chunk_size or not same or cur >= 2 * size:
                    break
            end += 1
        chunk = [pts[i] for i in todo[self.pos:end]]
        first = int(todo[self.pos])
        self.pos = end
        verify = self.verify_left  # the quota goes to the next chunks; unused quota comes back
        self.verify_left = 0
        self.quota[first] = verify
        keys = {(p.workload, p.exec_path) for p in chunk}
        return ChunkTask(tuple((p.arch, p.workload, p.exec_path, p.scope) for p in chunk),
                         {k: self.plan.workloads[k] for k in keys}, {k: self.plan.accuracy[k] for k in keys},
                         self.settings, self.cache_dir, self.plan.layers is not None, self.simulate, first,
                         self.memo_bytes, verify)



def _progress(total: int, initial: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="pt", desc="sweep", dynamic_ncols=True, smoothing=0.1)
