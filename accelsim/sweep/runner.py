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
from ..safeio import about, check_folder, check_output, clip, exclusive, one_line
from ..paths.accuracy import UNKNOWN, lookup
from ..workload.ir import Workload
from ..compose import load_workload
from .cache import DiskMemo, model_tag, point_error_key, workload_digest
from .pareto import error_rows
from .spec import (ARCH_PARAMS, SweepPoint, SweepSpec, WorkloadItem, expand_arch_space, load_spec,
                   sweep_points, workload_items)
from ..tableio import FORMATS
from .store import RowStore

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


@dataclass
class ChunkResult:
    rows: list[dict]
    layers: pd.DataFrame | None
    memo_hits: int = 0
    memo_misses: int = 0
    cache_skipped: list[str] = field(default_factory=list)  # cache files skipped, one line each


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

    simulate = task.simulate
    if simulate is None:
        from ..cost import simulate
    memo = DiskMemo(task.cache_dir)
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
    layers = None
    if layer_frames:
        layers = pd.concat(layer_frames, ignore_index=True)
        layers = layers[KEY + [c for c in layers.columns if c not in KEY]]
    return ChunkResult(rows, layers, memo.hits, memo.misses, memo.skipped)


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
def _norm(v: Any) -> Any:
    if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)):
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    return str(v)


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


def _local_results(tasks: list[ChunkTask], workers: int, small_in_process: bool = True) -> Iterable[ChunkResult]:
    """Chunk results in this process (one worker, one chunk, or with ``small_in_process``
    fewer than :data:`IN_PROCESS_POINTS` points per worker: starting workers would cost more
    than they save), else from a process pool. The pool's workers are forked after the
    compiled search is loaded here, so they inherit it instead of each loading it; each
    worker exits when the sweep's main process is gone."""
    points = sum(len(t.points) for t in tasks)
    if workers <= 1 or len(tasks) <= 1 or (small_in_process and points < IN_PROCESS_POINTS * workers):
        for t in tasks:
            yield run_chunk(t)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    if any(t.simulate is None for t in tasks):
        from ..cost.mapper import load_search

        load_search()
    pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), initializer=_exit_with,
                               initargs=(os.getpid(),))
    try:
        futures = [pool.submit(run_chunk, t) for t in tasks]
        for fut in as_completed(futures):
            yield fut.result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _dask_results(tasks: list[ChunkTask], workers: int, scheduler: str | None) -> Iterable[ChunkResult]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConfigError("the dask executor needs the 'dask' extra (pip install 'accelsim[dask]')") from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"cannot reach the dask scheduler {scheduler!r}: {exc}") from None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = [client.submit(run_chunk, t, pure=False) for t in tasks]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


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
    cache_skipped: int = 0  # cache files skipped (foreign, damaged or unwritable)


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

    with located("output"):
        out = check_output(setup.output, "sweep output", OUTPUT_SUFFIXES) if setup.output else None
    with located("layers"):
        lay = check_output(setup.layers, "per-layer file", OUTPUT_SUFFIXES) if setup.layers else None
        if out is not None and out == lay:
            raise ConfigError(f"{setup.layers}: the per-layer file must differ from the sweep output")
    with located("cache"):
        cache = check_folder(setup.cache, "cache folder") / model_tag() if setup.cache else None
    return out, lay, cache


def run_sweep(spec_or_path: "SweepSpec | dict | str | Path", *, output: "str | Path | None" = None,
              layers: "str | Path | None" = None, executor: str | None = None, workers: int | None = None,
              scheduler: str | None = None, cache: "str | Path | None" = None, objective: str | None = None,
              max_candidates: int | None = None, overwrite: bool = False, progress: bool = False,
              chunk_size: int | None = None, simulate: Simulate | None = None,
              scope: str | None = None, tolerance: float | None = None,
              on_start: Callable[[], None] | None = None) -> pd.DataFrame:
    """Run (or resume) a sweep; returns the result rows in point order.

    ``spec_or_path``: a YAML path, a dict or a :class:`SweepSpec`. Keyword arguments
    override the spec's fields. Rows stream to ``output`` (CSV or Parquet) as chunks
    finish; re-running with the same output keeps finished points (not recomputed).
    ``cache`` is a folder for per-layer costs reused across runs. ``simulate``
    replaces :func:`accelsim.simulate` (same signature; for tests and custom models).
    The returned frame's ``attrs["sweep"]`` holds a :class:`SweepStats` as a dict.
    """
    t0 = time.perf_counter()
    setup = setup_sweep(spec_or_path, output=str(output) if output else None,
                        layers=str(layers) if layers else None, cache=str(cache) if cache else None,
                        executor=executor, workers=workers, scheduler=scheduler, objective=objective,
                        max_candidates=max_candidates, scope=scope, tolerance=tolerance)
    out_file, layer_file, cache_dir = check_locations(setup)  # before any work
    spec = setup.spec
    n_workers = spec.workers or os.cpu_count() or 1
    with ExitStack() as held, tempfile.TemporaryDirectory(prefix="accelsim-sweep-") as tmp:
        for path, what in ((out_file, "sweep output"), (layer_file, "per-layer file")):
            if path is not None:
                held.enter_context(exclusive(path, what))
        plan = plan_sweep(setup)
        if on_start is not None:  # the spec is valid and the files are ours: work starts now
            on_start()
        out = out_file or Path(tmp) / "results.csv"
        store = RowStore(out)
        layer_store = RowStore(layer_file) if layer_file else None
        if overwrite:
            store.remove()
            if layer_store:
                layer_store.remove()
        existing = store.read()
        check_existing(existing, _settings(spec), out)
        done, kept = finished_points(existing, plan.points)
        if layer_store is not None:
            done, kept = _sync_layers(layer_store, done, kept, plan.points)
        if len(kept) != len(existing):
            store.rewrite(kept.reindex(columns=RESULT_COLUMNS))
        todo = [p for p in plan.points if p.key not in done]
        stats = SweepStats(points=len(plan.points), resumed=len(plan.points) - len(todo),
                           output=str(setup.output or ""))
        tasks = _tasks(plan, todo, n_workers, chunk_size, simulate, cache_dir)
        stats.chunks = len(tasks)
        results = (_dask_results(tasks, n_workers, spec.scheduler) if spec.executor == "dask"
                   else _local_results(tasks, n_workers, small_in_process=chunk_size is None))
        bar = _progress(len(plan.points), stats.resumed, progress)
        skipped: list[str] = []
        try:
            for res in results:
                if layer_store is not None and res.layers is not None:
                    layer_store.append(res.layers)
                store.append(pd.DataFrame(res.rows, columns=RESULT_COLUMNS))
                stats.computed += len(res.rows)
                stats.memo_hits += res.memo_hits
                stats.memo_misses += res.memo_misses
                skipped += res.cache_skipped
                if bar is not None:
                    bar.update(len(res.rows))
        finally:
            if bar is not None:
                bar.close()
        order = {p.key: p.index for p in plan.points}
        sort_key = _sort_key(order)
        df = store.finalize(sort_key)
        if layer_store is not None:
            layer_store.finalize(sort_key)
    skipped = list(dict.fromkeys(skipped))
    if skipped:
        stats.cache_skipped = len(skipped)
        warnings.warn(f"cache: skipped {len(skipped)} file(s) it did not write or cannot use, e.g. "
                      f"{skipped[0]}", CacheWarning, stacklevel=2)
    stats.failed, stats.first_error = _failures(df, order)
    stats.seconds = time.perf_counter() - t0
    df.attrs["sweep"] = stats.__dict__
    return df


def _failures(df: pd.DataFrame, order: dict) -> tuple[int, str]:
    """How many of this sweep's points are unmappable, and the first one's reason."""
    bad = df[error_rows(df)]
    bad = bad[[k in order for k in bad[KEY].itertuples(index=False, name=None)]]
    if bad.empty:
        return 0, ""
    r = bad.iloc[0]
    path = f" [{r['exec_path']}]" if r["exec_path"] else ""
    return len(bad), f"{r['arch']} x {r['workload']}{path}: {r['error']}"


def _sort_key(order: dict) -> Callable[[pd.DataFrame], pd.Series]:
    def key(df: pd.DataFrame) -> pd.Series:
        idx = [order.get(k, len(order)) for k in df[KEY].itertuples(index=False, name=None)]
        return pd.Series(idx, index=df.index)
    return key


def _sync_layers(layer_store: RowStore, done: set, kept: pd.DataFrame,
                 points: tuple[SweepPoint, ...]) -> tuple[set, pd.DataFrame]:
    """A point is finished only with its per-layer rows too (an unmappable one has none);
    drop layer rows of unfinished points."""
    layers = layer_store.read()
    have = set(layers[KEY].itertuples(index=False, name=None)) if len(layers) else set()
    if len(kept):
        have |= set(kept.loc[error_rows(kept), KEY].itertuples(index=False, name=None))
    done = {k for k in done if k in have}
    ours = {p.key for p in points}
    if len(kept):
        kept = kept[[k not in ours or k in done for k in kept[KEY].itertuples(index=False, name=None)]]
    if len(layers):
        keys = list(layers[KEY].itertuples(index=False, name=None))
        mask = [k not in ours or k in done for k in keys]
        if not all(mask):
            layer_store.rewrite(layers[mask])
    return done, kept


def _tasks(plan: SweepPlan, todo: list[SweepPoint], workers: int, chunk_size: int | None,
           simulate: Simulate | None, cache_dir: Path | None) -> list[ChunkTask]:
    settings = tuple(_settings(plan.spec).items())
    tasks = []
    for chunk in make_chunks(todo, workers, chunk_size=chunk_size):
        keys = {(p.workload, p.exec_path) for p in chunk}
        tasks.append(ChunkTask(tuple((p.arch, p.workload, p.exec_path, p.scope) for p in chunk),
                               {k: plan.workloads[k] for k in keys}, {k: plan.accuracy[k] for k in keys},
                               settings, str(cache_dir) if cache_dir else None, plan.layers is not None,
                               simulate))
    return tasks


def _progress(total: int, initial: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="pt", desc="sweep", dynamic_ncols=True, smoothing=0.1)
