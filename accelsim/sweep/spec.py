"""Sweep specifications (SPEC.md section 10): architecture space, workloads, objective, output.

A spec is a YAML file (or a dict) validated with pydantic; every mistake is a
one-line :class:`~accelsim.errors.ConfigError` naming the file and the field::

    name: study
    arch:
      configs: [A..M]               # labels, label ranges, arch YAML paths
    # or a grid around a base config:
    #   base: E
    #   grid:
    #     num_pe: [8, 16, 32]
    #     k0: {start: 8, stop: 64, factor: 2}     # 8 16 32 64
    #     c0: {values: [16, 32]}
    #     weight_buffer_kb: {start: 64, stop: 256, step: 64}
    #   constraints: ["k0 == c0", "area_mm2 <= 10"]
    #   sample: {n: 2000, seed: 0}  # random subset of the constrained grid
    workloads:
      - segformer-b2
      - {name: swin-t-upernet, input: 512x512, classes: 150, exec_paths: ["", "fpn_in=1536"]}
      - {name: segformer-b2, paths: b2_paths.yaml}      # or families: [published, switch]
    objective: latency              # mapping-search objective: latency | energy | edp
    scope: accelerator              # accelerator (no DRAM, unbounded GB/NoC) | system (+ DRAM, bandwidths), or a list of both
    tolerance: 0.01                 # within 1 % of the best objective, the secondary one decides
    output: results.csv             # .csv, .parquet or .json

Points are ordered arch-major (configs, then grid in row-major order of the keys as
written), then workloads as listed, then execution paths as listed, then scopes
(``scope: [accelerator, system]`` evaluates every point in both, one row each, keyed by
``scope``); that order is the row order of the output whatever executor ran the sweep.
A workload's paths may also come from a path-list file (``paths: b2.yaml``, written by
``accelsim paths enumerate -o``) or from its path families (``families: [grid, switch]``).
"""

from __future__ import annotations

import itertools
import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Iterable, Literal, Union

import numpy as np
from pydantic import (BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator,
                      model_validator)

from ..arch.config import ArchConfig, _format_errors, _read_yaml, arch_from_dict, list_arch_labels, load_arch
from ..cost.settings import DEFAULT_SCOPE, DEFAULT_TOLERANCE
from ..errors import AccelsimError, ConfigError
from ..safeio import about, clip, exists, short
from ..workload.registry import MAX_CLASSES, parse_size, workload_label
from .constraints import Constraint, parse_constraint

Objective = Literal["latency", "energy", "edp"]
Scope = Literal["accelerator", "system"]

#: ArchConfig fields a grid may vary (everything but the name and description).
ARCH_PARAMS: tuple[str, ...] = tuple(f for f in ArchConfig.model_fields if f not in ("name", "description"))
#: Derived names a constraint may use besides the arch parameters.
DERIVED = ("macs_per_cycle", "area_mm2")
#: Largest grid enumerated exhaustively for sampling (larger grids sample indices at random).
_MAX_PERMUTE = 4_000_000
#: Most values of one grid axis (a range is sized before it is expanded).
MAX_AXIS_VALUES = 10_000
#: Most grid points examined: every point of an unsampled grid, or the points a sample draws.
MAX_GRID_POINTS = 1_000_000
#: Largest grid a sample may draw from.
MAX_SAMPLED_GRID = 10**15
#: Most points (architecture x workload x execution path) in one sweep.
MAX_SWEEP_POINTS = 10_000_000


class _Strict(BaseModel):
    """Unknown keys are refused; numbers must be numbers (no booleans, no text)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RangeSpec(_Strict):
    """``{start, stop, step}`` (arithmetic, stop inclusive) or ``{start, stop, factor}`` (geometric)."""

    start: float = Field(allow_inf_nan=False)
    stop: float = Field(allow_inf_nan=False)
    step: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    factor: float | None = Field(default=None, gt=1, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_kind(self) -> "RangeSpec":
        if (self.step is None) == (self.factor is None):
            raise ValueError("give exactly one of step (arithmetic) or factor (geometric)")
        if self.stop < self.start:
            raise ValueError(f"stop={self.stop} is below start={self.start}")
        if self.factor is not None and self.start <= 0:
            raise ValueError("a geometric range needs start > 0")
        if self.count() > MAX_AXIS_VALUES:
            raise ValueError(f"the range has {self.count():.3g} values; at most {MAX_AXIS_VALUES:,} "
                             "per axis")
        return self

    def count(self) -> float:
        """How many values :meth:`values` gives, computed without expanding the range."""
        if self.step is not None:
            return math.floor((self.stop - self.start) / self.step + 1e-9) + 1.0
        return math.floor(math.log(self.stop / self.start) / math.log(self.factor) + 1e-9) + 1.0  # type: ignore[arg-type]

    def values(self) -> list[float]:
        out: list[float] = []
        if self.step is not None:
            n = int(math.floor((self.stop - self.start) / self.step + 1e-9)) + 1
            out = [self.start + i * self.step for i in range(n)]
        else:
            v = self.start
            while v <= self.stop * (1 + 1e-9):
                out.append(v)
                v *= self.factor  # type: ignore[operator]
        return out


class ValuesSpec(_Strict):
    values: list[Union[int, float, str]] = Field(min_length=1, max_length=MAX_AXIS_VALUES)


def _grid_form(v: Any) -> str:
    """Which form a grid entry is written in (errors then speak of that form only)."""
    if isinstance(v, dict):
        return "[values]" if "values" in v else "[range]"
    return "[list]" if isinstance(v, list) else "[scalar]"


GridValue = Annotated[Union[Annotated[list[Union[int, float, str]], Tag("[list]")],
                            Annotated[RangeSpec, Tag("[range]")], Annotated[ValuesSpec, Tag("[values]")],
                            Annotated[Union[int, float, str], Tag("[scalar]")]], Discriminator(_grid_form)]




class SampleSpec(_Strict):
    """Random subset of the (constrained) grid: ``n`` points, reproducible with ``seed``."""

    n: int = Field(gt=0, le=MAX_GRID_POINTS)
    seed: int = Field(default=0, ge=0, lt=2**63)


class ArchSpace(_Strict):
    """Named configs and/or a grid over ArchConfig parameters around each of them."""

    configs: list[str] = Field(default_factory=list, description="labels (A), ranges (A..M), YAML paths")
    base: str | None = Field(default=None, description="config the grid varies (default E)")
    grid: dict[str, GridValue] = Field(default_factory=dict)
    constraints: list[str] = Field(default_factory=list, max_length=100)
    sample: SampleSpec | None = None

    @field_validator("configs", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("grid")
    @classmethod
    def _known_params(cls, v: dict) -> dict:
        bad = sorted(set(v) - set(ARCH_PARAMS))
        if bad:
            raise ValueError(f"unknown arch parameter(s) {', '.join(bad)}; allowed: {', '.join(ARCH_PARAMS)}")
        return v

    @model_validator(mode="after")
    def _base_or_configs(self) -> "ArchSpace":
        if self.base is not None and self.configs:
            raise ValueError("give either base (one config varied by the grid) or configs, not both")
        if not self.configs and self.base is None and not self.grid:
            raise ValueError("the arch space is empty: give configs (e.g. [A..M]) or a grid")
        return self


class WorkloadEntry(_Strict):
    """One workload: registry name or YAML path, with optional input, classes and paths."""

    name: str
    input: Union[str, int, list[int], None] = None
    classes: int | None = Field(default=None, gt=0, le=MAX_CLASSES)
    exec_paths: list[str] = Field(default_factory=lambda: [""])
    paths: str | None = Field(default=None, description="a path-list file (accelsim paths enumerate -o)")
    families: list[str] = Field(default_factory=list, description="path families of the workload")
    label: str | None = None
    options: dict[str, Union[int, float, str, bool, None]] = Field(default_factory=dict)

    @field_validator("exec_paths", mode="before")
    @classmethod
    def _paths(cls, v: Any) -> Any:
        if v is None:
            return [""]
        if isinstance(v, str):
            return [v]
        return ["" if p is None else p for p in v] if isinstance(v, list) else v

    @field_validator("families", mode="before")
    @classmethod
    def _families(cls, v: Any) -> Any:
        return [f for f in v.split(",") if f.strip()] if isinstance(v, str) else v


class SweepSpec(_Strict):
    """A whole sweep. ``output``/``layers``/``cache`` paths are relative to the spec file."""

    name: str = "sweep"
    arch: ArchSpace
    workloads: list[WorkloadEntry] = Field(min_length=1)
    objective: Objective = "latency"
    scope: Union[Scope, list[Scope]] = DEFAULT_SCOPE
    tolerance: float = Field(default=DEFAULT_TOLERANCE, ge=0.0, lt=1.0, allow_inf_nan=False)
    max_candidates: int | None = Field(default=None, gt=0, lt=2**62)
    output: str | None = None
    layers: str | None = None
    cache: str | None = None
    executor: Literal["local", "dask"] = "local"
    workers: int | None = Field(default=None, gt=0, le=4096)
    scheduler: str | None = None

    @field_validator("arch", mode="before")
    @classmethod
    def _arch_shorthand(cls, v: Any) -> Any:
        if isinstance(v, (str, list)):
            return {"configs": v}
        return v

    @field_validator("scope", mode="before")
    @classmethod
    def _scope_list(cls, v: Any) -> Any:
        if isinstance(v, str) and "," in v:
            v = [p.strip() for p in v.split(",") if p.strip()]
        if isinstance(v, list):
            dup = _repeated(map(str, v))
            if dup:
                raise ValueError(f"scope {', '.join(dup)} listed twice; give each scope once")
            return v[0] if len(v) == 1 else v
        return v

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes every point is evaluated in (one output row per scope)."""
        return (self.scope,) if isinstance(self.scope, str) else tuple(self.scope)

    @field_validator("workloads", mode="before")
    @classmethod
    def _wl_shorthand(cls, v: Any) -> Any:
        if isinstance(v, (str, dict)):
            v = [v]
        if isinstance(v, list):
            return [{"name": w} if isinstance(w, str) else w for w in v]
        return v

    def replace(self, **changes: Any) -> "SweepSpec":
        """A validated copy with ``changes`` applied (``model_copy(update=...)`` checks nothing)."""
        # warnings=False: a grid axis is a union (list, scalar, range, values); pydantic warns while it
        # tries the scalar serialisers on a range before it dumps it as the dict it is
        return _validate({**self.model_dump(warnings=False), **changes}, f"sweep spec {self.name!r}")


# ------------------------------------------------------------------ loading
def load_spec(spec: "SweepSpec | dict | str | Path") -> tuple[SweepSpec, Path]:
    """A validated spec and the folder its relative paths are resolved against."""
    if isinstance(spec, SweepSpec):
        return spec, Path.cwd()
    if isinstance(spec, dict):
        return _validate(spec, "<sweep spec>"), Path.cwd()
    path = Path(spec)
    if not exists(path):
        raise ConfigError(f"{path}: sweep spec not found")
    return _validate(_read_yaml(path), str(path)), Path(os.path.realpath(path)).parent


def _validate(data: dict, source: str) -> SweepSpec:
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format_errors(source, err)) from None


# ------------------------------------------------------------------ arch space
def expand_arch_names(items: "list[str] | str") -> list[str]:
    """``["A..C", "x.yaml", "E"]`` -> ``["A", "B", "C", "x.yaml", "E"]`` (labels of shipped configs)."""
    labels = list_arch_labels()
    out: list[str] = []
    for item in [items] if isinstance(items, str) else items:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            if ".." in part and not part.endswith((".yaml", ".yml")):
                lo, hi = (x.strip() for x in part.split("..", 1))
                if lo not in labels or hi not in labels:
                    raise ConfigError(f"arch range {short(part)}: both ends must be shipped configs "
                                      f"({', '.join(labels)})")
                i, j = labels.index(lo), labels.index(hi)
                if j < i:
                    raise ConfigError(f"arch range {short(part)} is reversed; did you mean {clip(hi)}..{clip(lo)}?")
                out.extend(labels[i:j + 1])
            else:
                out.append(part)
    return out


def _grid_values(name: str, spec: GridValue) -> list:
    if isinstance(spec, RangeSpec):
        vals: list = spec.values()
    elif isinstance(spec, ValuesSpec):
        vals = list(spec.values)
    elif isinstance(spec, list):
        vals = list(spec)
    else:
        vals = [spec]
    if not vals:
        raise ConfigError(f"arch.grid.{name}: no values")
    if len(vals) > MAX_AXIS_VALUES:
        raise ConfigError(f"arch.grid.{name}: {len(vals):,} values; at most {MAX_AXIS_VALUES:,} per axis")
    ann = ArchConfig.model_fields[name].annotation
    if ann in (int, float, float | None):
        bad = [v for v in vals if isinstance(v, (str, bool)) or not math.isfinite(v)
               or (ann is int and v != int(v))]
        if bad:
            kind = "an integer" if ann is int else "a finite number"
            raise ConfigError(f"arch.grid.{name}: {short(bad[0])} is not {kind}")
        vals = [int(v) if ann is int else float(v) for v in vals]
    return list(dict.fromkeys(vals))  # drop repeats, keep order


@dataclass(frozen=True)
class ArchSpaceResult:
    """The expanded architectures plus counts of what was filtered out."""

    archs: tuple[ArchConfig, ...]
    grid_size: int
    rejected_constraints: int
    rejected_invalid: int


def _env(params: dict, arch: ArchConfig | None) -> dict:
    env = dict(params)
    env["macs_per_cycle"] = params["num_pe"] * params["k0"] * params["c0"]
    if arch is not None:
        from ..arch.area import arch_area_mm2

        env["area_mm2"] = arch_area_mm2(arch)
    return env


def expand_arch_space(space: ArchSpace, source: str = "arch") -> ArchSpaceResult:
    """Every architecture of ``space``, in point order, that is valid and meets the constraints."""
    allowed = set(ARCH_PARAMS) | set(DERIVED)
    cons = [parse_constraint(c, allowed, f"{source}.constraints") for c in space.constraints]
    cheap = [c for c in cons if "area_mm2" not in c.names]
    costly = [c for c in cons if "area_mm2" in c.names]
    names = expand_arch_names(space.configs) if space.configs else [space.base or "E"]
    bases = [load_arch(n) for n in names]
    keys = list(space.grid)
    axes = [_grid_values(k, space.grid[k]) for k in keys]
    per_base = math.prod(len(a) for a in axes)
    total = len(bases) * per_base
    if space.sample is None and total > MAX_GRID_POINTS:
        raise ConfigError(f"{source}: the grid has {total:.3g} points; at most {MAX_GRID_POINTS:,} are "
                          "enumerated (add sample: {n: ...} or narrow the ranges)")
    if total > MAX_SAMPLED_GRID:
        raise ConfigError(f"{source}: the grid has {total:.3g} points; a sample draws from at most "
                          f"{MAX_SAMPLED_GRID:.0e}")

    def point(index: int) -> tuple[ArchConfig | None, str]:
        b, rest = divmod(index, per_base)
        combo = []
        for ax in reversed(axes):
            rest, i = divmod(rest, len(ax))
            combo.append(ax[i])
        combo.reverse()
        return _make_arch(bases[b], dict(zip(keys, combo)), cheap, costly)

    if space.sample is None:
        order: Any = range(total)
        want = total
    else:
        order = _random_order(total, space.sample.seed)
        want = space.sample.n
    chosen: list[tuple[int, ArchConfig]] = []
    n_cons = n_bad = 0
    first_bad = ""
    for idx in itertools.islice(order, MAX_GRID_POINTS):
        arch, why = point(int(idx))
        if arch is None:
            if why == "constraint":
                n_cons += 1
            else:
                n_bad += 1
                first_bad = first_bad or why
            continue
        chosen.append((int(idx), arch))
        if len(chosen) >= want:
            break
    if not chosen:
        detail = f"; first invalid point: {first_bad}" if first_bad else ""
        raise ConfigError(f"{source}: no architecture is left: {n_cons} of {min(total, MAX_GRID_POINTS)} "
                          f"examined violate the constraints and {n_bad} are not valid configs{detail}")
    chosen.sort(key=lambda t: t[0])
    return ArchSpaceResult(tuple(a for _, a in chosen), total, n_cons, n_bad)


def _random_order(total: int, seed: int):
    rng = np.random.default_rng(seed)
    if total <= _MAX_PERMUTE:
        yield from rng.permutation(total)
        return
    seen: set[int] = set()
    while len(seen) < total:
        for i in rng.integers(0, total, size=4096):
            if int(i) not in seen:
                seen.add(int(i))
                yield int(i)


#: the set of ArchConfig field names every grid point was given (all of them), shared
_ALL_FIELDS: set[str] = set()


def _share_fields_set(arch: ArchConfig) -> None:
    """Let a grid point share one "fields given" set instead of holding its own (a 25-name
    set is 2.3 of an ArchConfig's 3.2 KB; 10^6 points kept 2.3 GB of identical sets). The
    config is frozen and pydantic copies the set before changing it (``model_copy``)."""
    given = arch.__pydantic_fields_set__
    if not _ALL_FIELDS:
        _ALL_FIELDS.update(ArchConfig.model_fields)
    if given == _ALL_FIELDS:
        object.__setattr__(arch, "__pydantic_fields_set__", _ALL_FIELDS)


def _make_arch(base: ArchConfig, change: dict, cheap: list[Constraint],
               costly: list[Constraint]) -> tuple[ArchConfig | None, str]:
    """The config ``base`` with ``change`` applied, or (None, reason)."""
    params, changed = base.apply_changes(change)
    env = _env(params, None)
    if not all(c(env) for c in cheap):
        return None, "constraint"
    try:
        arch = arch_from_dict(params, params["name"]) if changed else base
    except AccelsimError as exc:
        return None, str(exc)
    _share_fields_set(arch)
    if costly:
        env = _env(params, arch)
        if not all(c(env) for c in costly):
            return None, "constraint"
    return arch, ""


# ------------------------------------------------------------------ workloads
@dataclass(frozen=True)
class WorkloadItem:
    """One workload of a sweep (before its execution paths are applied)."""

    label: str
    name: str
    input_size: tuple[int, int] | None
    num_classes: int | None
    exec_paths: tuple[str, ...]
    options: tuple[tuple[str, Any], ...] = ()


def workload_items(entries: list[WorkloadEntry], base_dir: Path | None = None) -> list[WorkloadItem]:
    """Resolve names, sizes and labels; labels must be unique (error otherwise)."""
    items = []
    for i, e in enumerate(entries):
        try:
            size = parse_size(e.input)
        except AccelsimError as exc:
            raise ConfigError(f"workloads.{i}.input: {exc}") from None
        name = e.name
        if base_dir is not None and name.endswith((".yaml", ".yml")) and not Path(name).is_absolute():
            cand = base_dir / name
            name = str(cand) if cand.exists() else name
        label = e.label or (workload_label(name) + (f"@{size[0]}x{size[1]}" if size else "")
                            + (f"/{e.classes}cls" if e.classes else ""))
        paths = tuple(dict.fromkeys(_entry_paths(e, i, name, size, base_dir)))
        items.append(WorkloadItem(label, name, size, e.classes, paths, tuple(sorted(e.options.items()))))
    dup = _repeated(w.label for w in items)
    if dup:
        raise ConfigError(f"workloads: {clip(', '.join(dup))} listed twice with the same input and classes "
                          "(give each a distinct label)")
    return items


def _entry_paths(e: WorkloadEntry, i: int, name: str, size: tuple[int, int] | None,
                 base_dir: Path | None) -> list[str]:
    """The execution paths of one workload entry: ``exec_paths`` as given (the full model
    written '' or ``(full model)``), then a ``paths`` file's, then the ``families``'. With a
    file or families and no ``exec_paths`` of its own, the list is theirs alone."""
    from ..paths.syntax import FULL_MODEL

    given = "exec_paths" in e.model_fields_set or not (e.paths or e.families)
    out = ["" if p.strip().lower() == FULL_MODEL else p for p in e.exec_paths] if given else []
    if e.paths:
        from ..paths.listing import read_path_list

        file = Path(e.paths)
        if base_dir is not None and not file.is_absolute():
            file = base_dir / file
        with about(f"workloads.{i}.paths"):
            out += read_path_list(file)
    if e.families:
        from ..compose import load_workload
        from ..paths.families import paths_of

        with about(f"workloads.{i}.families"):
            wl = load_workload(name, input_size=size, num_classes=e.classes, **e.options)
            out += paths_of(wl, *e.families)
    if not out:
        raise ConfigError(f"workloads.{i}: no execution path; give exec_paths (\"\" is the full model), "
                          "paths (a path-list file) or families")
    return out


def _repeated(values: Iterable[str]) -> list[str]:
    """The values occurring more than once, sorted."""
    return sorted(v for v, n in Counter(values).items() if n > 1)


@dataclass(frozen=True)
class SweepPoint:
    """One row of the result: an architecture, a workload label, an execution path and the
    scope the numbers describe."""

    index: int
    arch: ArchConfig
    workload: str
    exec_path: str
    scope: str = DEFAULT_SCOPE

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.arch.name, self.workload, self.exec_path, self.scope)


def sweep_points(archs: "tuple[ArchConfig, ...] | list[ArchConfig]", items: list[WorkloadItem],
                 scopes: "tuple[str, ...]" = (DEFAULT_SCOPE,)) -> list[SweepPoint]:
    """Arch-major, then workloads, then paths, then scopes (the output row order)."""
    dup = _repeated(a.name for a in archs)
    if dup:
        raise ConfigError(f"arch: {clip(', '.join(dup))} appear(s) twice in the space")
    total = len(archs) * sum(len(w.exec_paths) for w in items) * len(scopes)
    if total > MAX_SWEEP_POINTS:
        raise ConfigError(f"the sweep has {total:,} points (architectures x workloads x execution paths "
                          f"x scopes); at most {MAX_SWEEP_POINTS:,}")
    out = []
    for arch, (w, p), scope in itertools.product(archs, [(w, p) for w in items for p in w.exec_paths], scopes):
        out.append(SweepPoint(len(out), arch, w.label, p, scope))
    return out
