"""Multi-objective exploration of an arch space too large for a grid (``accelsim explore``).

An Optuna study (the ``explore`` extra) chooses the points; each point is one
architecture evaluated on every workload and execution path of the spec, with the
sweep's own code (:func:`accelsim.sweep.runner.run_chunk`), on this process, a local
process pool or a Dask cluster. The study lives in a database (SQLite next to the
output by default, any SQLAlchemy URL with ``storage``), so it survives a kill:

- **Batches.** Points are asked in batches of ``batch`` trials (a setting of the study,
  independent of the worker count), evaluated in parallel, and told in trial order
  before the next batch is asked. Every ask uses a sampler seeded from the study seed
  and the trial's position, so what it proposes depends only on what the database
  holds. A run killed at any moment and resumed with ``--resume`` therefore proposes the
  same points as an uninterrupted run, and ends on the same front.
- **Nothing lost, nothing repeated.** Each evaluation's rows are stored in its trial as
  soon as they arrive; a resumed run adopts the trials a dead process left running
  (same host: its pid is gone), reuses stored rows and evaluates only the others. A trial
  whose parameters were only partly written by a killed ``ask`` is marked failed
  (``aborted``) and not counted.
- **Several processes** on one study take turns asking under a lock file beside the
  study, and each evaluates only its own trials.
- **Duplicates and skipped points.** A proposal already evaluated is told the stored
  outcome without a new evaluation; one that breaks a parameter constraint, or is not a
  valid config, is marked infeasible without simulating (``skip``). Neither counts as an
  evaluation. An unmappable point counts as evaluated and is infeasible. Infeasible
  points are told to Optuna as complete trials with constraint values (so its samplers
  rank them behind every feasible one) and placeholder objective values. After ``2 x
  batch`` trials in a row without an evaluation, the next trial is a random point not
  seen yet.

Infeasible points are kept: the results table has every evaluated or skipped point
(``trial``, ``feasible``, ``violated`` columns besides the sweep's); the front is formed
from the feasible ones.
"""

from __future__ import annotations

import json
import math
import os
import socket
import tempfile
import time
import warnings
from concurrent.futures import BrokenExecutor, CancelledError
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from ..errors import AccelsimError, ConfigError
from ..safeio import about, check_output, clip, one_line, short
from ..tableio import write_table
from .explore_spec import (ExploreSpec, Objective, ResultConstraint, Space, build_space, labels_of,
                           load_explore_spec, parse_objectives, probe_space, split_constraints)
from .hypervolume import hypervolume, reference_point
from .pareto import pareto_mask
from .runner import (RESULT_COLUMNS, SETTING_COLUMNS, ChunkTask, OUTPUT_SUFFIXES, build_workloads,
                     failed_row, probe_scheduler, run_chunk)
from .spec import workload_items

#: columns of the explore results table: the sweep's plus the trial and its feasibility
EXPLORE_COLUMNS = ["trial", *RESULT_COLUMNS, "feasible", "violated"]
#: seconds between rewrites of the results table while a study runs
WRITE_EVERY_S = 10.0
#: seconds to wait for a Dask scheduler to answer
SCHEDULER_TIMEOUT_S = 10
#: most trials per allowed evaluation (duplicates and skipped points are cheap, but bounded)
TRIALS_PER_EVALUATION = 20
#: draws tried when looking for a point not seen yet
UNSEEN_DRAWS = 10_000
_STUDY_ATTR = "accelsim-explore"
#: objective value stored for a point without costs (infeasible; never ranked by it)
PLACEHOLDER = 1e300
_META = "meta"
_ROWS = "rows"


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ConfigError("explore needs Optuna: pip install 'accelsim[explore]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


# ------------------------------------------------------------------ plan
@dataclass(frozen=True)
class ExplorePlan:
    """A validated exploration: space, objectives, constraints, built workloads, locations."""

    spec: ExploreSpec
    space: Space
    objectives: tuple[Objective, ...]
    constraints: tuple[ResultConstraint, ...]
    workloads: dict
    accuracy: dict
    labels: tuple[tuple[str, str], ...]  # (workload label, exec path) in row order
    output: Path | None
    front: Path | None
    storage: str | None
    study: str
    lock: Path

    @property
    def maximize(self) -> list[bool]:
        return [o.maximize for o in self.objectives]

    def fingerprint(self) -> dict:
        """What a resumed study must share with the one stored (JSON-able)."""
        s = self.spec.section
        return {"axes": [[a.name, list(a.values)] for a in self.space.axes],
                "bases": [b.name for b in self.space.bases],
                "objectives": [[o.label, "max" if o.maximize else "min", list(map(list, o.weights))]
                               for o in self.objectives],
                "constraints": sorted(c.text for c in self.space.params) + sorted(c.text for c in self.constraints),
                "workloads": [list(x) for x in self.labels],
                "settings": {c: getattr(self.spec.sweep, c) for c in SETTING_COLUMNS},
                "sampler": s.sampler, "seed": s.seed, "batch": s.batch, "init": init_count(self),
                "population": s.population}


def init_count(plan: "ExplorePlan") -> int:
    """Space-filling points that start the study (default: 2 batches, at least 16)."""
    s = plan.spec.section
    if s.init is not None:
        return s.init
    return max(16, 2 * s.batch)


def default_storage(output: Path) -> str:
    """``sqlite:///`` URL of the study database next to ``output`` (``results.csv`` ->
    ``results.study.db``)."""
    return "sqlite:///" + str(output.with_suffix("").with_name(output.stem + ".study.db"))


def front_path(output: Path) -> Path:
    """The front table next to ``output`` (``results.csv`` -> ``results.front.csv``)."""
    return output.with_name(output.stem + ".front" + output.suffix)


def plan_explore(spec_or_path: "dict | str | Path", **overrides: Any) -> ExplorePlan:
    """Validate an exploration before any work: spec, objectives, constraints (a parameter
    constraint no point meets is an error), output and storage locations, workloads."""
    spec = load_explore_spec(spec_or_path, **overrides)
    where = spec.source or "<explore spec>"
    if spec.sweep.scheduler and spec.sweep.executor != "dask":
        raise ConfigError("--scheduler needs --executor dask (or executor: dask in the spec)")
    if len(spec.sweep.scopes) != 1:
        raise ConfigError(f"{where}: field 'scope': explore searches one scope at a time (accelerator or "
                          f"system), got {', '.join(spec.sweep.scopes)}")
    with about(spec.source) if spec.source else _nothing():
        labels = labels_of(spec)
        objectives = parse_objectives(spec.section, labels, "explore")
        params, results = split_constraints(list(spec.sweep.arch.constraints) + list(spec.section.constraints),
                                            labels, "explore.constraints")
        space = build_space(spec.sweep, params)
        probe_space(space, spec.section.seed, "explore.constraints")
    output = None
    if spec.sweep.output:
        p = Path(spec.sweep.output)
        given = overrides.get("output") is not None
        p = p if p.is_absolute() else (Path.cwd() if given else spec.base) / p
        with about(f"{where}: field 'output'") if spec.source and not given else _nothing():
            output = check_output(p, "explore output", OUTPUT_SUFFIXES)
    url = spec.section.storage
    if (url and url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:"
            and overrides.get("storage") is None):
        rel = Path(url[len("sqlite:///"):])  # a relative SQLite path in the file is relative to the file
        url = "sqlite:///" + str(rel if rel.is_absolute() else spec.base / rel)
    if url is None and output is not None:
        url = default_storage(output)
    if url is not None:
        check_storage_url(url)
    with about(spec.source) if spec.source else _nothing():
        items = workload_items(spec.sweep.workloads, spec.base)
        workloads, accuracy = build_workloads(items)
    order = tuple((w.label, p) for w in items for p in w.exec_paths)
    name = spec.section.study or spec.sweep.name
    lock = _lock_path(url, output)
    return ExplorePlan(spec, space, tuple(objectives), tuple(results), workloads, accuracy, order, output,
                       front_path(output) if output else None, url, name, lock)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _sqlite_file(url: str) -> Path | None:
    return Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None


def _lock_path(url: str | None, output: Path | None) -> Path:
    db = _sqlite_file(url) if url else None
    if db is not None:
        return db.with_name(f".{db.name}.lock")
    if output is not None:
        return output.with_name(f".{output.name}.explore.lock")
    return Path(tempfile.gettempdir()) / f".accelsim-explore-{os.getpid()}.lock"


def check_storage_url(url: str) -> None:
    """Refuse a storage URL that cannot work, before anything is written: not a URL, an
    unknown database kind, an in-memory SQLite, a SQLite file in a folder that cannot be
    written or that is not a database, a server that does not answer."""
    try:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
    except ImportError:
        raise ConfigError("explore needs Optuna: pip install 'accelsim[explore]'") from None
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(f"--storage {short(url)}: not a database URL (e.g. sqlite:///study.db or "
                          "postgresql://user@host/db)") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        db = parsed.database or ""
        if db in ("", ":memory:") or db.startswith("file:"):
            raise ConfigError(f"--storage {short(url)}: give a SQLite file (sqlite:///study.db); an in-memory "
                              "database cannot be resumed")
        path = Path(db)
        if path.exists():
            if not path.is_file():
                raise ConfigError(f"{path}: the study database is not a file")
            with open(path, "rb") as fh:
                head = fh.read(16)
            if head and head != b"SQLite format 3\x00":
                raise ConfigError(f"{path}: not a SQLite database (the study storage); choose another file")
            if not os.access(path, os.W_OK):
                raise ConfigError(f"{path}: permission denied (the study database is not writable)")
        check_output(path.with_name(path.name + ".probe"), "study database")
        return
    if backend not in ("postgresql", "mysql"):
        raise ConfigError(f"--storage {short(url)}: unknown database kind {short(backend)}; use sqlite, "
                          "postgresql or mysql")
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 5} if backend == "postgresql" else {})
        with engine.connect():
            pass
        engine.dispose()
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"--storage {short(url)}: no driver for {backend} ({one_line(str(exc), 120)})") from None
    except SQLAlchemyError as exc:
        raise ConfigError(f"--storage {short(url)}: cannot connect: "
                          f"{one_line(str(getattr(exc, 'orig', None) or exc), 200)}") from None


# ------------------------------------------------------------------ processes and the lock
def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return ""


def owner_token() -> str:
    """``host:pid:start`` of this process (the start time tells a reused pid apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"


def owner_alive(token: str | None) -> bool:
    """False when ``token``'s process is known to be gone (same host only; a process on
    another host counts as alive)."""
    if not token:
        return False
    host, _, rest = token.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname():
        return True
    try:
        pid = int(pid_text)
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        pass
    return _start_time(pid) == start


@contextmanager
def study_lock(path: Path) -> Iterator[None]:
    """Block until this process holds the study's lock file (an advisory ``flock``)."""
    try:
        import fcntl
    except ImportError:  # no flock: a single process per study
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# ------------------------------------------------------------------ executors
class Evaluator:
    """Runs :func:`run_chunk` tasks here, on a local process pool, or on Dask; yields
    ``(tag, ChunkResult)`` as tasks finish."""

    def __init__(self, executor: str, workers: int, scheduler: str | None, needs_search: bool) -> None:
        self.kind = "inline"
        self.pool: Any = None
        self.client: Any = None
        self.cluster: Any = None
        self.quiet: dict[str, int] = {}  # distributed's loggers (and their levels), silenced while the client runs
        self.pending: list = []
        if executor == "dask":
            self.kind = "dask"
            self._start_dask(workers, scheduler)
        elif workers > 1:
            from concurrent.futures import ProcessPoolExecutor

            from .runner import _exit_with

            if needs_search:
                from ..cost.mapper import load_search

                load_search()
            self.kind = "pool"
            self.pool = ProcessPoolExecutor(max_workers=workers, initializer=_exit_with, initargs=(os.getpid(),))

    def _start_dask(self, workers: int, scheduler: str | None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("the dask executor needs the 'dask' extra (pip install 'accelsim[dask]')") from None
        import logging

        # Dask logs each failed reconnection with a traceback; a lost scheduler is reported
        # here as one line instead (run_explore)
        names = ["distributed"] + [n for n in list(logging.root.manager.loggerDict) if n.startswith("distributed.")]
        self.quiet = {n: logging.getLogger(n).level for n in names}
        for n in names:
            logging.getLogger(n).setLevel(logging.CRITICAL)
        if scheduler:
            probe_scheduler(scheduler)
            try:
                self.client = Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                raise ConfigError(f"--scheduler {short(scheduler)}: the dask scheduler does not answer "
                                  f"({one_line(str(exc), 160) or type(exc).__name__})") from None
        else:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)

    def submit(self, tag: Any, task: ChunkTask) -> None:
        if self.kind == "pool":
            self.pending.append((tag, self.pool.submit(run_chunk, task)))
        elif self.kind == "dask":
            self.pending.append((tag, self.client.submit(run_chunk, task, pure=False)))
        else:
            self.pending.append((tag, task))

    def results(self) -> Iterator[tuple[Any, Any]]:
        """Every submitted task's result, as they finish; empties the queue."""
        pending, self.pending = self.pending, []
        if self.kind == "inline":
            for tag, task in pending:
                yield tag, run_chunk(task)
        elif self.kind == "pool":
            from concurrent.futures import as_completed

            tags = {fut: tag for tag, fut in pending}
            for fut in as_completed(tags):
                yield tags[fut], fut.result()
        else:
            from distributed import as_completed

            tags = {fut.key: tag for tag, fut in pending}
            for fut in as_completed([f for _, f in pending]):
                yield tags[fut.key], fut.result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        if self.quiet:
            import logging

            for n, level in self.quiet.items():
                logging.getLogger(n).setLevel(level)


# ------------------------------------------------------------------ the study
@dataclass
class ExploreStats:
    """What a run did: trials, evaluations (all, and by this run), feasible, front size, hypervolume."""

    trials: int = 0
    evaluations: int = 0
    evaluated_here: int = 0
    adopted: int = 0
    feasible: int = 0
    unmappable: int = 0
    skipped: int = 0
    duplicates: int = 0
    front: int = 0
    hypervolume: float = 0.0
    stop: str = ""
    seconds: float = 0.0
    output: str = ""
    front_output: str = ""
    storage: str = ""
    study: str = ""


def make_sampler(plan: ExplorePlan, seed: int):
    """The Optuna sampler of the study, seeded with ``seed`` (a fresh one per ask)."""
    optuna = _optuna()
    s = plan.spec.section
    if s.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=init_count(plan),
                                          constant_liar=True)
    if s.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=s.population or max(2, s.batch * 2))
    if s.sampler == "nsga3":
        return optuna.samplers.NSGAIIISampler(seed=seed, population_size=s.population or max(2, s.batch * 2))
    return optuna.samplers.RandomSampler(seed=seed)


def trial_seed(seed: int, position: int) -> int:
    """The sampler seed of the trial at ``position`` (deterministic, well mixed)."""
    return int(np.random.SeedSequence([seed, position]).generate_state(1)[0])


def distributions(space: Space) -> dict:
    """Optuna distributions: numbers by index (ordered), text as categories."""
    optuna = _optuna()
    out = {}
    for a in space.axes:
        out[a.name] = (optuna.distributions.IntDistribution(0, len(a.values) - 1) if a.ordered
                       else optuna.distributions.CategoricalDistribution(list(a.values)))
    return out


def index_of_params(space: Space, params: dict) -> tuple[int, ...] | None:
    """A trial's parameters as one index per axis (None when some are missing)."""
    out = []
    for a in space.axes:
        if a.name not in params:
            return None
        v = params[a.name]
        out.append(int(v) if a.ordered else a.values.index(v))
    return tuple(out)


def params_of_index(space: Space, index: tuple[int, ...]) -> dict:
    return {a.name: (int(i) if a.ordered else a.values[int(i)]) for a, i in zip(space.axes, index)}


def latin_design(space: Space, n: int, seed: int) -> list[tuple[int, ...]]:
    """``n`` space-filling points: a Latin hypercube over the axes' indices."""
    rng = np.random.default_rng([seed, 0x5eed])
    cols = []
    for a in space.axes:
        u = (rng.permutation(n) + rng.random(n)) / max(n, 1)
        cols.append(np.minimum((u * len(a.values)).astype(int), len(a.values) - 1))
    return [tuple(int(c[i]) for c in cols) for i in range(n)]


@dataclass
class _Trial:
    """This process's view of one trial."""

    number: int
    trial_id: int
    state: str
    index: tuple[int, ...] | None
    meta: dict
    rows: list | None
    values: list | None
    violations: list | None


class Explorer:
    """One process's part of a study: ask, evaluate, tell, until the budget is spent."""

    def __init__(self, plan: ExplorePlan, study: Any, evaluator: Evaluator, simulate: Callable | None,
                 cache_dir: str | None, progress: bool) -> None:
        self.plan, self.study, self.evaluator = plan, study, evaluator
        self.simulate, self.cache_dir = simulate, cache_dir
        self.owner = owner_token()
        self.dists = distributions(plan.space)
        self.budget = plan.spec.section.budget
        self.batch = plan.spec.section.batch
        self.stats = ExploreStats(storage=plan.storage or "", study=plan.study)
        self.t0 = time.monotonic()
        self.bar = None
        self.progress = progress
        self.design = latin_design(plan.space, init_count(plan), plan.spec.section.seed)
        self.front_values: dict[int, list] = {}  # front trial number -> objective values
        self.last_write = time.monotonic()

    # ---------------------------------------------------------- reading the study
    def trials(self) -> list[_Trial]:
        out = []
        for t in self.study.get_trials(deepcopy=False):
            out.append(_Trial(t.number, t._trial_id, t.state.name, index_of_params(self.plan.space, t.params),
                              dict(t.user_attrs.get(_META) or {}), t.user_attrs.get(_ROWS),
                              list(t.values) if t.values is not None else None, t.user_attrs.get("violations")))
        return out

    @staticmethod
    def effective(trials: list[_Trial]) -> list[_Trial]:
        """Trials that count: asked (not waiting) and not aborted."""
        return [t for t in trials if t.state != "WAITING" and t.meta.get("kind") != "aborted"]

    def evaluations(self, trials: list[_Trial]) -> int:
        return sum(1 for t in trials if t.meta.get("kind") == "evaluate")

    # ---------------------------------------------------------- main loop
    def run(self) -> ExploreStats:
        try:
            self.show()
            while True:
                stop = self.stop_reason()
                if stop:
                    self.stats.stop = stop
                    break
                mine = self.ask_round()
                if not mine:
                    # another process holds the remaining trials: wait for them, then stop
                    if self.wait_others():
                        continue
                    self.stats.stop = self.stop_reason() or "no trial left to ask"
                    break
                self.evaluate(mine)
                self.tell(mine)
                self.show()
                if time.monotonic() - self.last_write > WRITE_EVERY_S:
                    self.write()
            while self.wait_others():  # the table is written once the other processes' trials are in
                pass
        finally:
            if self.bar is not None:
                self.bar.close()
        return self.stats

    def stop_reason(self) -> str:
        trials = self.effective(self.trials())
        n_eval = self.evaluations(trials)
        b = self.budget
        if b.evaluations is not None and n_eval >= b.evaluations:
            return f"{b.evaluations} evaluations"
        if b.seconds is not None and time.monotonic() - self.t0 >= b.seconds:
            return f"{b.seconds:g} s wall time"
        if b.stall is not None and n_eval > b.stall.window:
            grown = self.growth(trials, b.stall.window)
            if grown is not None and grown < b.stall.growth_pct:
                return (f"hypervolume grew {grown:.3g} % over the last {b.stall.window} evaluations "
                        f"(< {b.stall.growth_pct:g} %)")
        seen = {t.index for t in trials if t.meta.get("kind") in ("evaluate", "skip")}
        if len(seen) >= self.plan.space.size:
            return f"every point of the space ({self.plan.space.size:,}) is evaluated"
        cap = (b.evaluations or 10**6) * TRIALS_PER_EVALUATION + 1000
        if len(trials) >= cap:
            return f"{cap:,} trials"
        if self.study.user_attrs.get("exhausted"):
            return "no point left that was not evaluated"
        return ""

    def growth(self, trials: list[_Trial], window: int) -> float | None:
        """Hypervolume growth (%) over the last ``window`` evaluations (reference from all)."""
        done = sorted((t for t in trials if t.meta.get("kind") == "evaluate" and t.state == "COMPLETE"),
                      key=lambda t: t.number)
        evals = sorted((t for t in trials if t.meta.get("kind") == "evaluate"), key=lambda t: t.number)
        if len(evals) <= window:
            return None
        cut = evals[-window].number
        feas = [t for t in done if not any(v > 0 for v in (t.violations or []))]
        if not feas:
            return None
        pts = np.array([t.values for t in feas], dtype=float)
        ref = reference_point(pts, self.plan.maximize)
        before = hypervolume(np.array([t.values for t in feas if t.number < cut], dtype=float), ref,
                             self.plan.maximize) if any(t.number < cut for t in feas) else 0.0
        now = hypervolume(pts, ref, self.plan.maximize)
        return math.inf if before <= 0 else 100.0 * (now - before) / before

    # ---------------------------------------------------------- asking
    def ask_round(self) -> list[_Trial]:
        """Adopt trials left running by dead processes, then ask until the batch is full
        (all under the study lock). Returns this process's untold trials."""
        optuna = _optuna()
        with study_lock(self.plan.lock):
            trials = self.trials()
            by_number = {t.number: t for t in trials}
            mine: list[_Trial] = []
            for t in sorted(trials, key=lambda t: t.number):
                if t.state != "RUNNING" or (t.meta.get("owner") and owner_alive(t.meta.get("owner"))
                                            and t.meta.get("owner") != self.owner):
                    continue
                if t.index is None:  # an ask cut short: parameters partly written
                    t.meta = {"kind": "aborted", "owner": self.owner}
                    self._set_meta(t)
                    self.study.tell(t.number, state=optuna.trial.TrialState.FAIL)
                    continue
                if t.meta.get("owner") != self.owner:
                    self.stats.adopted += 1
                t.meta["owner"] = self.owner
                if "kind" not in t.meta:
                    self.classify(t, [u for u in trials if u.number < t.number])
                self._set_meta(t)
                mine.append(t)
                self.tell_known(t, by_number)
            mine = [t for t in mine if t.state == "RUNNING"]
            eff = self.effective(trials)
            n_eval = self.evaluations(eff)
            position = len(eff)
            b = self.budget
            cap = (b.evaluations or 10**6) * TRIALS_PER_EVALUATION + 1000
            while True:
                if b.evaluations is not None and n_eval >= b.evaluations:
                    break
                if position % self.batch == 0 and mine:
                    break
                if position >= cap:
                    break
                waiting = any(t.state == "WAITING" for t in trials)
                if not waiting:
                    point = self.next_fixed(eff, position)
                    if point == "exhausted":
                        self._mark_exhausted()
                        break
                    if point is not None:
                        self.study.enqueue_trial(params_of_index(self.plan.space, point))
                self.study.sampler = make_sampler(self.plan, trial_seed(self.plan.spec.section.seed, position))
                asked = self.study.ask(fixed_distributions=self.dists)
                frozen = self.study._storage.get_trial(asked._trial_id)
                t = _Trial(asked.number, asked._trial_id, "RUNNING", index_of_params(self.plan.space, frozen.params),
                           {"owner": self.owner}, None, None, None)
                self.classify(t, eff)
                self._set_meta(t)
                trials = [u for u in trials if u.number != t.number] + [t]
                eff.append(t)
                by_number[t.number] = t
                position += 1
                n_eval += t.meta["kind"] == "evaluate"
                self.tell_known(t, by_number)
                if t.state == "RUNNING":
                    mine.append(t)
            return mine

    def _mark_exhausted(self) -> None:
        self.study.set_user_attr("exhausted", True)

    def next_fixed(self, eff: list[_Trial], position: int) -> "tuple[int, ...] | str | None":
        """A point to enqueue before the ask at ``position``: the space-filling design at the
        start, a random unseen point after ``2 x batch`` trials without an evaluation."""
        if self.study.user_attrs.get("exhausted"):
            return "exhausted"
        if position < len(self.design):
            return self.design[position]
        recent = sorted(eff, key=lambda t: t.number)[-2 * self.batch:]
        if len(recent) < 2 * self.batch or any(t.meta.get("kind") == "evaluate" for t in recent):
            return None
        seen = {t.index for t in eff}
        rng = np.random.default_rng([self.plan.spec.section.seed, position, 0xfa11])
        space = self.plan.space
        for _ in range(UNSEEN_DRAWS):
            idx = tuple(int(rng.integers(0, len(a.values))) for a in space.axes)
            if idx not in seen and not space.violated(space.point(idx)):
                return idx
        return "exhausted"

    def classify(self, t: _Trial, earlier: list[_Trial]) -> None:
        """evaluate, duplicate (of an earlier evaluated or skipped point) or skip (constraint, invalid)."""
        for u in earlier:
            if u.index == t.index and u.meta.get("kind") in ("evaluate", "skip"):
                t.meta.update(kind="duplicate", of=u.number)
                return
        point = self.plan.space.point(t.index)
        broken = self.plan.space.violated(point)
        if not broken:
            try:
                arch = self.plan.space.arch(point)
            except AccelsimError as exc:
                t.meta.update(kind="skip", reason=f"not a valid config: {one_line(str(exc), 300)}")
                return
            broken = self.plan.space.violated(point, arch)
        if broken:
            t.meta.update(kind="skip", reason="violates " + "; ".join(broken))
            return
        t.meta["kind"] = "evaluate"

    def _set_meta(self, t: _Trial) -> None:
        self.study._storage.set_trial_user_attr(t.trial_id, _META, t.meta)

    # ---------------------------------------------------------- evaluating and telling
    def evaluate(self, mine: list[_Trial]) -> None:
        plan = self.plan
        settings = tuple((c, getattr(plan.spec.sweep, c)) for c in SETTING_COLUMNS if c != "scope")
        scope = plan.spec.sweep.scopes[0]
        for t in mine:
            if t.meta.get("kind") != "evaluate" or t.rows is not None:
                continue
            arch = plan.space.arch(plan.space.point(t.index))
            task = ChunkTask(tuple((arch, w, p, scope) for w, p in plan.labels), plan.workloads, plan.accuracy,
                             settings, self.cache_dir, False, self.simulate)
            self.evaluator.submit(t.number, task)
        by_number = {t.number: t for t in mine}
        for number, res in self.evaluator.results():
            t = by_number[number]
            t.rows = [_jsonable(r) for r in res.rows]
            self.study._storage.set_trial_user_attr(t.trial_id, _ROWS, t.rows)  # kept at once: never lost
            self.stats.evaluated_here += 1
            if self.bar is not None:
                self.bar.update(1)  # reset to the study's count at the end of the batch (show)

    def outcome(self, rows: list[dict]) -> tuple[list | None, list]:
        """(objective values or None when the point has no costs, violations): the first
        violation is 1 for a point without costs, then one per result constraint."""
        if any(r.get("error") for r in rows):
            return None, self.no_costs()
        vals = [o.value(rows) for o in self.plan.objectives]
        if not all(math.isfinite(v) for v in vals):
            return None, self.no_costs()
        env = dict(rows[0])
        env["macs_per_cycle"] = env["num_pe"] * env["k0"] * env["c0"]
        return vals, [0.0] + [c.violation(rows, env) for c in self.plan.constraints]

    def no_costs(self) -> list[float]:
        return [1.0] + [0.0] * len(self.plan.constraints)

    def tell_known(self, t: _Trial, by_number: dict) -> None:
        """Tell ``t`` at once when its outcome is known (skip, duplicate of a finished trial)."""
        kind = t.meta.get("kind")
        if kind == "skip":
            self._tell(t, None, self.no_costs())
        elif kind == "duplicate":
            src = by_number.get(t.meta["of"])
            if src is not None and src.state in ("COMPLETE", "FAIL"):
                self._tell(t, src.values if (src.violations or [1.0])[0] == 0 else None,
                           list(src.violations or self.no_costs()))

    def tell(self, mine: list[_Trial]) -> None:
        with study_lock(self.plan.lock):
            for t in sorted(mine, key=lambda t: t.number):
                if t.meta.get("kind") == "evaluate" and t.state == "RUNNING":
                    vals, viol = self.outcome(t.rows or [])
                    self._tell(t, vals, viol)
            by_number = {t.number: t for t in self.trials()}
            for t in sorted(mine, key=lambda t: t.number):
                if t.state == "RUNNING":  # duplicates of trials told just now (or by another process)
                    src = by_number.get(t.meta["of"])
                    if src is not None and src.state in ("COMPLETE", "FAIL"):
                        self.tell_known(t, by_number)
        for t in mine:
            if t.state == "RUNNING":
                self.wait_for(t)

    def wait_for(self, t: _Trial) -> None:
        """A duplicate of another process's running trial: wait for it (evaluate it here when
        that process is gone)."""
        while True:
            time.sleep(0.5)
            by_number = {u.number: u for u in self.trials()}
            src = by_number[t.meta["of"]]
            if src.state in ("COMPLETE", "FAIL"):
                with study_lock(self.plan.lock):
                    self.tell_known(t, by_number)
                return
            if not owner_alive(src.meta.get("owner")):
                t.meta = {"owner": self.owner, "kind": "evaluate"}
                self._set_meta(t)
                self.evaluate([t])
                self.tell([t])
                return

    def wait_others(self) -> bool:
        """Trials of other live processes are running: wait for them; True to try again."""
        running = [t for t in self.trials() if t.state == "RUNNING" and owner_alive(t.meta.get("owner"))
                   and t.meta.get("owner") != self.owner]
        if not running:
            return False
        time.sleep(0.5)
        return True

    def _tell(self, t: _Trial, values: list | None, violations: list) -> None:
        """Tell the outcome. A point without costs (skipped, unmappable) is told as complete
        but infeasible (its constraint 'costs' is 1), with placeholder values the samplers do
        not rank by: Optuna's samplers put infeasible trials behind every feasible one and
        order them by their violation, so they learn to avoid such regions."""
        violations = list(map(float, violations))
        self.study._storage.set_trial_user_attr(t.trial_id, "violations", violations)
        t.violations = violations
        if values is None:
            values = [-PLACEHOLDER if m else PLACEHOLDER for m in self.plan.maximize]
        # Optuna's constraint record (what Trial.set_constraint and constraints_func store), in one write
        self.study._storage.set_trial_system_attr(t.trial_id, "constraints", violations)
        self.study.tell(t.number, values=list(values))
        t.state = "COMPLETE"
        t.values = list(values)

    # ---------------------------------------------------------- progress and output
    def summary(self) -> tuple[pd.DataFrame, list[int], float]:
        """(results table, front trial numbers, hypervolume of the front, normalised)."""
        plan = self.plan
        trials = self.effective(self.trials())
        rows: list[dict] = []
        pts, nums = [], []
        s = self.stats
        s.trials, s.evaluations = len(trials), self.evaluations(trials)
        s.feasible = s.unmappable = s.skipped = s.duplicates = 0
        for t in sorted(trials, key=lambda t: t.number):
            kind = t.meta.get("kind")
            if kind == "duplicate":
                s.duplicates += 1
                continue
            if kind == "evaluate" and t.rows is not None:
                feasible = t.state == "COMPLETE" and not any(v > 0 for v in (t.violations or [1.0]))
                viol = [c.text for c, v in zip(plan.constraints, (t.violations or [])[1:]) if v > 0]
                if any(r.get("error") for r in t.rows):
                    s.unmappable += 1
                for r in t.rows:
                    rows.append({"trial": t.number, **r, "feasible": feasible, "violated": "; ".join(viol)})
                if feasible:
                    s.feasible += 1
                    pts.append(t.values)
                    nums.append(t.number)
            elif kind == "skip":
                s.skipped += 1
                rows.extend(self.skip_rows(t))
        df = pd.DataFrame(rows, columns=EXPLORE_COLUMNS)
        if not pts:
            return df, [], 0.0
        arr = np.array(pts, dtype=float)
        mask = pareto_mask(arr, plan.maximize)
        front = [n for n, m in zip(nums, mask) if m]
        self.front_values = {n: v for n, v, m in zip(nums, pts, mask) if m}
        hv = normalised_hypervolume(arr, plan.maximize)
        s.front, s.hypervolume = len(front), hv
        return df, front, hv

    def skip_rows(self, t: _Trial) -> list[dict]:
        plan = self.plan
        point = plan.space.point(t.index)
        reason = "not simulated: " + t.meta.get("reason", "skipped")
        settings = {c: getattr(plan.spec.sweep, c) for c in SETTING_COLUMNS}
        out = []
        try:
            arch = plan.space.arch(point)
        except AccelsimError:
            arch = None
        for w, p in plan.labels:
            if arch is not None:
                r = failed_row(arch, w, p, plan.workloads[(w, p)], plan.accuracy[(w, p)], reason, **settings)
            else:
                base = plan.space.bases[0]
                data, _ = base.apply_changes({k: v for k, v in point.items() if k != "config"})
                r = {c: data.get(c) for c in RESULT_COLUMNS if c in data} | {
                    "arch": data["name"], "workload": w, "exec_path": p, "macs": plan.workloads[(w, p)].macs,
                    **settings, "error": reason}
            why = t.meta.get("reason", "")
            out.append({"trial": t.number, **_jsonable(r), "feasible": False,
                        "violated": why.removeprefix("violates ") if why.startswith("violates ") else ""})
        return out

    def show(self) -> None:
        if not self.progress:
            return
        from tqdm.auto import tqdm

        if self.bar is None:
            self.bar = tqdm(total=self.budget.evaluations, unit="eval", desc="explore", dynamic_ncols=True)
        _, front, hv = self.summary()
        self.bar.n = self.stats.evaluations
        self.bar.refresh()
        self.bar.set_postfix_str(f"feasible={self.stats.feasible} front={len(front)} hv={hv:.4f}")

    def front_table(self, df: pd.DataFrame) -> pd.DataFrame:
        """One row per front trial: trial, arch and the objective values (as optimised)."""
        arch = df.drop_duplicates("trial").set_index("trial")["arch"]
        rows = [{"trial": n, "arch": arch.get(n, ""), **{o.label: v for o, v in zip(self.plan.objectives, vals)}}
                for n, vals in sorted(self.front_values.items())]
        return pd.DataFrame(rows, columns=["trial", "arch", *(o.label for o in self.plan.objectives)])

    def write(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        df, front, _ = self.summary()
        front_df = df[df["trial"].isin(front)]
        if self.plan.output is not None:
            _atomic_write(df, self.plan.output)
            _atomic_write(front_df, self.plan.front)
        self.last_write = time.monotonic()
        return df, front_df


def normalised_hypervolume(points: np.ndarray, maximize: list[bool]) -> float:
    """Hypervolume of ``points`` in the box from their ideal point to the reference point
    (worst x 1.1 / x 0.9), as a fraction of that box (0..1), for progress display."""
    ref = reference_point(points, maximize)
    sign = np.where(np.asarray(maximize), -1.0, 1.0)
    ideal = np.where(np.asarray(maximize), points.max(axis=0), points.min(axis=0))
    box = float(np.prod(np.abs((ref - ideal) * sign)))
    return hypervolume(points, ref, maximize) / box if box > 0 else 0.0


def _jsonable(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        if isinstance(v, (np.integer,)):
            v = int(v)
        elif isinstance(v, (np.floating,)):
            v = float(v)
        elif isinstance(v, (np.bool_,)):
            v = bool(v)
        out[k] = v
    return out


def _atomic_write(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    write_table(df, tmp)
    os.replace(tmp, path)


# ------------------------------------------------------------------ entry point
def open_study(plan: ExplorePlan, resume: bool, overwrite: bool):
    """Create or load the study (after every check passed)."""
    optuna = _optuna()
    directions = ["maximize" if m else "minimize" for m in plan.maximize]
    if plan.storage is None:
        storage: Any = optuna.storages.InMemoryStorage()
    else:
        db = _sqlite_file(plan.storage)
        if db is not None:  # write-ahead log: readers never wait for a writer; survives a kill
            import sqlite3

            con = sqlite3.connect(db, timeout=60)
            con.execute("pragma journal_mode=wal")
            con.close()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            storage = optuna.storages.RDBStorage(plan.storage, engine_kwargs=_engine_kwargs(plan.storage))
        if db is not None:
            from sqlalchemy import event

            event.listen(storage.engine, "connect", _sqlite_pragmas)
            storage.engine.dispose()
    names = set(optuna.study.get_all_study_names(storage))
    if plan.study in names and overwrite:
        optuna.delete_study(study_name=plan.study, storage=storage)
        names.discard(plan.study)
    if plan.study in names and not resume:
        raise ConfigError(f"{plan.storage}: study {plan.study!r} exists; add --resume to continue it or "
                          "--overwrite to start afresh")
    study = optuna.create_study(study_name=plan.study, storage=storage, directions=directions,
                                load_if_exists=True)
    mine = json.loads(json.dumps(plan.fingerprint()))
    stored = study.user_attrs.get(_STUDY_ATTR)
    if stored is None:
        study.set_user_attr(_STUDY_ATTR, mine)
    elif stored != mine:
        diff = next(k for k in mine if stored.get(k) != mine.get(k))
        raise ConfigError(f"{plan.storage}: study {plan.study!r} was made with another {diff} "
                          f"({clip(json.dumps(stored.get(diff)), 120)}); use --overwrite or another --study name")
    return study


def _sqlite_pragmas(con: Any, _record: Any) -> None:
    """Each SQLite connection: commits reach the write-ahead log without an fsync each
    (a killed process loses nothing committed; only a power cut could lose the last ones)."""
    con.execute("pragma synchronous=normal")


def _engine_kwargs(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}
    return {}


def run_explore(spec_or_path: "dict | str | Path", *, resume: bool = False, overwrite: bool = False,
                progress: bool = False, simulate: Callable | None = None, on_start: Callable[[], None] | None = None,
                **overrides: Any) -> pd.DataFrame:
    """Run (or resume) an exploration; returns the results table (every evaluated or
    skipped point, with ``trial``, ``feasible`` and ``violated``). ``overrides``:
    ``output``, ``storage``, ``study``, ``evaluations``, ``seconds``, ``sampler``, ``seed``,
    ``batch``, ``executor``, ``workers``, ``scheduler``, ``cache``, ``scope``.
    ``attrs["explore"]`` holds an :class:`ExploreStats` as a dict and ``attrs["front"]``
    the trial numbers on the front."""
    t0 = time.perf_counter()
    plan = plan_explore(spec_or_path, **overrides)
    if resume and plan.storage is None:
        raise ConfigError("--resume needs a study database: give -o/--output or --storage")
    sweep = plan.spec.sweep
    cache_dir = None
    if sweep.cache:
        from .cache import check_cache_folder, model_tag
        from ..safeio import check_folder

        c = Path(sweep.cache)
        folder = check_cache_folder(check_folder(c if c.is_absolute() else plan.spec.base / c, "cache folder"))
        cache_dir = str(folder / model_tag())
    workers = sweep.workers or os.cpu_count() or 1
    evaluator = Evaluator(sweep.executor, workers, sweep.scheduler, simulate is None)  # may refuse the scheduler
    try:
        with study_lock(plan.lock):
            study = open_study(plan, resume, overwrite)
        if overwrite and plan.output is not None:
            for p in (plan.output, plan.front):
                if p is not None and p.exists():
                    p.unlink()
        if on_start is not None:
            on_start()
        explorer = Explorer(plan, study, evaluator, simulate, cache_dir, progress)
        try:
            stats = explorer.run()
        except (OSError, TimeoutError, CancelledError, BrokenExecutor) as exc:  # a lost scheduler or pool
            why = ("the dask scheduler was lost (its tasks were cancelled)" if isinstance(exc, CancelledError)
                   else one_line(str(exc), 200) or type(exc).__name__)
            raise AccelsimError(f"the evaluations stopped: {why}; finished evaluations are kept in the study: "
                                "rerun with --resume") from None
        df, front_df = explorer.write()
        front_table = explorer.front_table(df)
    finally:
        evaluator.close()
    stats.seconds = time.perf_counter() - t0
    stats.output = str(plan.output or "")
    stats.front_output = str(plan.front or "")
    df.attrs["explore"] = stats.__dict__
    df.attrs["front"] = sorted(set(front_df["trial"]))
    df.attrs["front_table"] = front_table.to_dict("records")
    return df
