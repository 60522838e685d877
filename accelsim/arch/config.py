"""Accelerator architecture and technology configs (SPEC.md sections 2 and 5).

Both are YAML files validated with pydantic on load: a missing field, a wrong type,
a non-positive size, an unknown key or a buffer too small for one tile is an
:class:`~accelsim.errors.ConfigError` naming the file, the field and what is allowed.
Units are in the field names; kilobyte = 1024 bytes.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from ..errors import AccelsimError, ConfigError
from ..safeio import about, exists, load_yaml, path_too_long, short
from ..resources import resource_dir

PosInt = Field(gt=0)
#: Parameters whose change makes a synthesised PE-array area (``pe_array_area_mm2``) stale.
AREA_PARAMS = frozenset({"num_pe", "k0", "c0", "weight_buffer_kb", "input_buffer_kb"})

#: Upper limits of the architecture numbers. With them every integer product in the cost
#: equations stays inside int64 (see docs/cost_model.md, "Input limits") and the
#: exhaustive mapping search stays bounded: 65,536 PEs is a 256 x 256 array.
LIMITS: dict[str, float] = {
    "num_pe": 65_536, "k0": 1024, "c0": 1024, "accum_depth": 4096,
    "weight_buffer_kb": 1_048_576, "input_buffer_kb": 1_048_576, "accum_buffer_kb": 1_048_576,
    "global_buffer_kb": 16_777_216, "global_buffer_bandwidth": 1_048_576, "noc_bandwidth": 1_048_576,
    "dram_bandwidth_gbps": 1e6, "ppu_elems_per_cycle": 1_048_576, "frequency_ghz": 100.0,
    "tech_node_nm": 1000, "voltage_v": 10.0, "pe_array_area_mm2": 1e6,
}
#: Smallest rates and areas: a rate near zero would turn cycles and throughputs into inf.
FLOORS: dict[str, float] = {
    "global_buffer_bandwidth": 1e-3, "noc_bandwidth": 1e-3, "dram_bandwidth_gbps": 1e-3,
    "ppu_elems_per_cycle": 1e-3, "frequency_ghz": 1e-3, "pe_array_area_mm2": 1e-6,
}


def _plain_number(v: Any) -> Any:
    """A NumPy integer or float (e.g. from a grid or a DataFrame) as the Python number it holds;
    anything else, NumPy booleans included, unchanged (and then validated as given)."""
    if type(v).__module__ == "numpy" and type(v).__name__ != "bool" and hasattr(v, "item"):
        item = v.item()
        return item if isinstance(item, (int, float)) and not isinstance(item, bool) else v
    return v


def format_value(v: Any) -> str:
    """A parameter value as written in derived config names (``16``, ``0.5``)."""
    return f"{v:g}" if isinstance(v, float) else str(v)


def _num(name: str, description: str, default: Any = ...) -> Any:
    """A finite number field above :data:`FLOORS` (else above 0) and up to :data:`LIMITS`."""
    floor = FLOORS.get(name)
    bounds = {"ge": floor} if floor is not None else {"gt": 0}
    return Field(default, le=LIMITS[name], allow_inf_nan=False, description=description, **bounds)


class _Strict(BaseModel):
    """Unknown keys are refused; numbers must be numbers (no booleans, no text)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ArchConfig(_Strict):
    """One MAGNet-style accelerator instance. Buffer sizes are per PE unless named global."""

    name: str = Field(description="label or config name")
    description: str = ""
    num_pe: int = _num("num_pe", "PEs in the array")
    k0: int = _num("k0", "vector MAC lanes per PE (output channels in parallel)")
    c0: int = _num("c0", "multipliers per lane (input channels in parallel)")
    weight_buffer_kb: float = _num("weight_buffer_kb", "weight buffer per PE, KiB")
    input_buffer_kb: float = _num("input_buffer_kb", "input buffer per PE, KiB")
    accum_depth: int = _num("accum_depth", "AD: output positions held per lane in the accumulation collector")
    accum_buffer_kb: float = _num("accum_buffer_kb", "accumulation buffer per PE, KiB (24-bit partial sums)")
    global_buffer_kb: float = _num("global_buffer_kb", "global buffer, KiB")
    global_buffer_bandwidth: float = _num("global_buffer_bandwidth", "global buffer bytes per cycle")
    noc_bandwidth: float = _num("noc_bandwidth", "NoC bytes per cycle into the PE array")
    dram_bandwidth_gbps: float = _num("dram_bandwidth_gbps", "DRAM bandwidth, GB/s (1e9 bytes/s)")
    dram_type: Literal["lpddr4", "hbm2", "hbm3"] = Field(description="DRAM interface (energy per bit in the tech file)")
    ppu_elems_per_cycle: float | None = _num("ppu_elems_per_cycle", "post-processing elements per cycle per PE; "
                                      "defaults to k0 (one element per lane) when not set", default=None)
    frequency_ghz: float = _num("frequency_ghz", "clock, GHz")
    bits: int = Field(gt=0, le=32, description="data width of weights and activations, bits")
    accum_bits: int = Field(gt=0, le=64, description="accumulator width, bits")
    tech_node_nm: int = _num("tech_node_nm", "technology node, nm (selects the tech file)")
    voltage_v: float = _num("voltage_v", "supply voltage, V (energy scales with V^2)")
    tech: str = Field(description="technology file: absolute, or relative to the arch YAML's "
                                  "folder or else to the shipped arch_configs/")
    pe_array_area_mm2: float | None = _num("pe_array_area_mm2", "synthesised PE-array area, mm2, if known",
                                           default=None)

    #: True when ``ppu_elems_per_cycle`` was not given and follows ``k0`` (also after :meth:`replace`)
    _ppu_follows_k0: bool = PrivateAttr(default=False)

    @model_validator(mode="after")
    def _derived(self) -> "ArchConfig":
        """Derived settings follow their parents: ``ppu_elems_per_cycle`` defaults to ``k0``."""
        if self.ppu_elems_per_cycle is None:
            object.__setattr__(self, "ppu_elems_per_cycle", float(self.k0))
            self._ppu_follows_k0 = True
        return self

    def __eq__(self, other: object) -> bool:
        """Equal parameters are the same architecture, whether ``ppu_elems_per_cycle`` was
        written in the file or followed ``k0`` (a config written back to YAML equals itself)."""
        return isinstance(other, ArchConfig) and self.model_dump() == other.model_dump()

    def __hash__(self) -> int:
        return hash(tuple(self.model_dump().items()))

    @property
    def ppu_follows_k0(self) -> bool:
        """True when ``ppu_elems_per_cycle`` is derived from ``k0`` (not set in the file)."""
        return self._ppu_follows_k0

    @model_validator(mode="after")
    def _tiles_fit(self) -> "ArchConfig":
        b = self.bits / 8
        need = {
            "weight_buffer_kb": (self.k0 * self.c0 * b, f"one K0 x C0 weight tile ({self.k0}x{self.c0})"),
            "input_buffer_kb": (self.c0 * self.accum_depth * b, f"one C0 x AD input block ({self.c0}x{self.accum_depth})"),
            "accum_buffer_kb": (self.k0 * self.accum_depth * self.accum_bits / 8,
                                f"one K0 x AD block of {self.accum_bits}-bit sums"),
            "global_buffer_kb": (self.k0 * self.c0 * b, "one K0 x C0 weight tile"),
        }
        for fname, (nbytes, what) in need.items():
            if getattr(self, fname) * 1024 < nbytes:
                raise ValueError(f"{fname}={getattr(self, fname)} cannot hold {what}: "
                                 f"needs >= {nbytes / 1024:g} KiB")
        return self

    # -------------------------------------------------------------- derived
    @property
    def macs_per_cycle(self) -> int:
        return self.num_pe * self.k0 * self.c0

    @property
    def peak_macs_per_s(self) -> float:
        return self.macs_per_cycle * self.frequency_ghz * 1e9

    @property
    def dram_bytes_per_cycle(self) -> float:
        return self.dram_bandwidth_gbps / self.frequency_ghz

    def params(self) -> dict[str, Any]:
        """The numeric parameters, in file order (for tables and sweep rows)."""
        return {k: v for k, v in self.model_dump().items() if k not in ("name", "description")}

    def apply_changes(self, changes: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(every field with ``changes`` applied, not yet validated; the parameters that differ).

        Unless ``changes`` names them, the name becomes ``E[k0=16,c0=16]`` (base name and the
        changed values) and a synthesised ``pe_array_area_mm2`` is dropped when a parameter it
        depends on (:data:`AREA_PARAMS`) changes.
        """
        changes = {k: _plain_number(v) for k, v in changes.items()}
        data = self.model_dump()
        missing = object()
        changed = {k: v for k, v in changes.items()
                   if k not in ("name", "description") and data.get(k, missing) != v}
        if self._ppu_follows_k0 and "ppu_elems_per_cycle" not in changes:
            data["ppu_elems_per_cycle"] = None  # derived: follows the new k0
            changed.pop("ppu_elems_per_cycle", None)
        data.update(changes)
        if AREA_PARAMS & set(changed) and "pe_array_area_mm2" not in changes:
            data["pe_array_area_mm2"] = None  # the synthesised area no longer applies
        if changed and "name" not in changes:
            data["name"] = self.name + "[" + ",".join(f"{k}={format_value(v)}"
                                                      for k, v in changed.items()) + "]"
        return data, changed

    def replace(self, **changes: Any) -> "ArchConfig":
        """A validated copy with ``changes`` applied (see :meth:`apply_changes` for the name
        and area rules). Unlike ``model_copy(update=...)`` every field is checked: a bad value
        is a :class:`~accelsim.errors.ConfigError` naming the field and what is allowed.

        >>> load_arch("E").replace(k0=16, c0=16).name
        'E[k0=16,c0=16]'
        """
        data, _ = self.apply_changes(changes)
        return arch_from_dict(data, data["name"])


#: Largest energy, per-unit value or reference quantity a technology file may give.
TECH_VALUE_LIMIT = 1e9


def _check_range(rng: "list[float] | None", source: "str | None", value: float, floor: float,
                 strict_floor: bool) -> None:
    """``range`` and ``range_source`` come together; the range is [low, high] with
    ``floor`` (<) <= low <= value <= high: a constant's uncertainty brackets its value."""
    if rng is None and source is None:
        return
    if rng is None or source is None or not source.strip():
        raise ValueError("give both range: [low, high] and range_source: \"where the range comes from\"")
    low, high = rng
    if low < floor or (strict_floor and low == floor):
        raise ValueError(f"range [{low:g}, {high:g}]: low must be {'>' if strict_floor else '>='} {floor:g}")
    if not low <= value <= high:
        raise ValueError(f"range [{low:g}, {high:g}] must satisfy low <= value ({value:g}) <= high")


#: a sourced uncertainty range: two finite numbers, [low, high]
RangeField = Field(default=None, min_length=2, max_length=2,
                   description="[low, high] that brackets value (accelsim sensitivity samples it)")


class EnergyEntry(_Strict):
    """A per-access energy (or another per-unit figure) with its unit and source; an uncertain
    one also has a sourced ``range: [low, high]`` (low <= value <= high, both finite) and
    ``range_source`` (the sensitivity analysis varies the value over it)."""

    value: float = Field(ge=0, le=TECH_VALUE_LIMIT, allow_inf_nan=False)
    unit: str
    source: str
    range: list[Annotated[float, Field(ge=-TECH_VALUE_LIMIT, le=TECH_VALUE_LIMIT, allow_inf_nan=False)]] | None \
        = RangeField
    range_source: str | None = None

    @model_validator(mode="after")
    def _range(self) -> "EnergyEntry":
        _check_range(self.range, self.range_source, self.value, 0.0, False)
        return self


class ReferenceEntry(EnergyEntry):
    """A reference capacity or port width: energies are scaled by ratios to it, so > 0."""

    value: float = Field(gt=0, le=TECH_VALUE_LIMIT, allow_inf_nan=False)

    @model_validator(mode="after")
    def _range(self) -> "ReferenceEntry":
        _check_range(self.range, self.range_source, self.value, 0.0, True)
        return self


class ScalarRange(_Strict):
    """The sourced range of a top-level scalar of the tech file (``sram_exponent`` ...)."""

    range: list[Annotated[float, Field(ge=-TECH_VALUE_LIMIT, le=TECH_VALUE_LIMIT, allow_inf_nan=False)]] = \
        Field(min_length=2, max_length=2, description="[low, high] that brackets the scalar's value")
    range_source: str


@dataclass(frozen=True)
class Uncertain:
    """One uncertain constant of a tech file: ``name`` (``energy.noc_pj_per_bit_hop``,
    ``sram_exponent``), its nominal value and sourced range, in ``unit``."""

    name: str
    value: float
    low: float
    high: float
    unit: str
    source: str
    range_source: str


class TechConfig(_Strict):
    """Per-access energies of one technology node (SPEC.md section 5), each with its source."""

    name: str
    node_nm: int = Field(gt=0, le=1000)
    reference_voltage_v: float = Field(ge=0.05, le=10.0, allow_inf_nan=False)
    sram_exponent: float = Field(gt=0, le=4.0, allow_inf_nan=False,
                                 description="read energy ~ capacity^exponent")
    sram_write_factor: float = Field(ge=1.0, le=100.0, allow_inf_nan=False,
                                     description="write / read energy per bit")
    energy: dict[str, EnergyEntry]
    reference: dict[str, ReferenceEntry] = Field(default_factory=dict,
                                                 description="reference capacities and widths of the energies")
    scalar_ranges: dict[str, ScalarRange] = Field(
        default_factory=dict, description="sourced ranges of the top-level scalars (SCALARS), by name")

    #: top-level numbers that may carry a range in ``scalar_ranges``
    SCALARS: ClassVar[tuple[str, ...]] = ("sram_exponent", "sram_write_factor")

    REQUIRED: ClassVar[tuple[str, ...]] = (
        "mac_pj", "accumulation_rmw_pj", "weight_buffer_read_pj", "input_buffer_read_pj",
        "sram_bit_read_8kb_fj", "global_buffer_read_pj", "noc_pj_per_bit_hop", "control_per_mac_slot_cycle_pj",
        "ppu_op_pj", "dram_lpddr4_pj_per_bit", "dram_hbm2_pj_per_bit", "dram_hbm3_pj_per_bit",
        "leakage_mw_per_mm2", "global_buffer_area_mm2_per_mb",
    )
    REF_REQUIRED: ClassVar[tuple[str, ...]] = (
        "weight_buffer_kb", "lanes", "input_buffer_kb", "buffer_port_bits", "global_buffer_kb", "global_buffer_port_bits",
    )

    @model_validator(mode="after")
    def _complete(self) -> "TechConfig":
        for group, req in (("energy", self.REQUIRED), ("reference", self.REF_REQUIRED)):
            missing = [k for k in req if k not in getattr(self, group)]
            if missing:
                raise ValueError(f"{group} is missing {', '.join(missing)}")
        for name, r in self.scalar_ranges.items():
            if name not in self.SCALARS:
                raise ValueError(f"scalar_ranges: {name!r} is not a scalar of the file; allowed: "
                                 f"{', '.join(self.SCALARS)} (energies carry range/range_source themselves)")
            try:
                _check_range(r.range, r.range_source, getattr(self, name), -TECH_VALUE_LIMIT, False)
            except ValueError as exc:
                raise ValueError(f"scalar_ranges.{name}: {exc}") from None
        return self

    def uncertain(self) -> list[Uncertain]:
        """Every constant the file gives a range to, in file order: ``energy.*``,
        ``reference.*``, then the scalars of ``scalar_ranges``."""
        out = []
        for group in ("energy", "reference"):
            for key, ent in getattr(self, group).items():
                if ent.range is not None:
                    out.append(Uncertain(f"{group}.{key}", ent.value, ent.range[0], ent.range[1], ent.unit,
                                         ent.source, ent.range_source or ""))
        for key, r in self.scalar_ranges.items():
            field = type(self).model_fields[key]
            out.append(Uncertain(key, getattr(self, key), r.range[0], r.range[1], "", field.description or "",
                                 r.range_source))
        return out

    def with_values(self, values: Mapping[str, float]) -> "TechConfig":
        """A validated copy with constants replaced, by :meth:`uncertain` name
        (``{"energy.noc_pj_per_bit_hop": 0.3, "sram_exponent": 0.5}``). A value outside
        the constant's range, or an unknown name, is a :class:`ConfigError`."""
        data = self.model_dump()
        for name, v in values.items():
            group, _, key = name.partition(".")
            if key and group in ("energy", "reference") and key in data[group]:
                data[group][key]["value"] = float(v)
            elif not key and name in self.SCALARS:
                data[name] = float(v)
            else:
                raise ConfigError(f"tech {self.name}: no constant {name!r}; choose from "
                                  f"{', '.join(u.name for u in self.uncertain())}")
        try:
            return TechConfig.model_validate(data, strict=False)
        except ValidationError as err:
            raise ConfigError(_format_errors(f"tech {self.name}", err)) from None

    def e(self, key: str) -> float:
        return self.energy[key].value

    def ref(self, key: str) -> float:
        return self.reference[key].value


# ------------------------------------------------------------------ loading
def _format_errors(path: Path | str, err: ValidationError) -> str:
    """One line for a pydantic error: up to three fields, each with what is wrong and the
    value given (shortened). Union branches collapse to one message per field, the
    explanation of a failed check (``value_error``) winning over type mismatches."""
    by_loc: dict[str, dict] = {}
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"] if not any(c in str(x) for c in "[(") and
                       str(x) not in ("int", "float", "str", "bool"))
        if loc not in by_loc or (e["type"] == "value_error" and by_loc[loc]["type"] != "value_error"):
            by_loc[loc] = e
    parts = []
    for loc, e in list(by_loc.items())[:3]:
        msg = e["msg"]
        if e["type"] == "missing":
            msg = "required field is missing"
        elif e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] == "literal_error":
            msg = f"must be one of {e['ctx']['expected']}"
        elif e["type"] == "value_error":
            msg = str(e["ctx"]["error"])
        shown = e["type"] not in ("missing", "value_error") and not isinstance(e.get("input"), dict)
        parts.append((f"field '{loc}': " if loc else "") + msg
                     + (f" (got {short(e.get('input'))})" if shown else ""))
    more = len(by_loc) - len(parts)
    return f"{path}: " + "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _read_yaml(path: Path, error: type[AccelsimError] = ConfigError, what: str = "YAML file",
               expected: str = "a mapping of field: value") -> dict:
    """The mapping a YAML file holds, read within the limits of :func:`accelsim.safeio.load_yaml`;
    a one-line ``error`` naming ``path`` otherwise."""
    data = load_yaml(path, what)
    if not isinstance(data, dict):
        raise error(f"{path}: expected {expected}, got {type(data).__name__}")
    return data


def arch_dir() -> Path:
    return resource_dir("arch_configs")


def list_arch_labels() -> list[str]:
    """Labels of the configs shipped in ``arch_configs/`` (file stems), sorted."""
    return sorted(p.stem for p in arch_dir().glob("*.yaml"))


def arch_from_dict(data: dict, source: str = "<dict>") -> ArchConfig:
    try:
        return ArchConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format_errors(source, err)) from None


def load_arch(label_or_path: "str | Path | ArchConfig") -> ArchConfig:
    """An architecture by study label (``"E"``), shipped config name, or YAML path.

    A relative ``tech:`` path in a YAML resolves against that YAML's folder first, then
    against the shipped ``arch_configs/`` (so a copy of a shipped config keeps working); a
    user's own technology file is stored as an absolute path.
    """
    if isinstance(label_or_path, ArchConfig):
        return label_or_path
    key = str(label_or_path)
    path = Path(key)
    if not (path.suffix in (".yaml", ".yml") or exists(path)):
        cand = arch_dir() / f"{key}.yaml"
        too_long = path_too_long(key) if not exists(cand) else None
        if too_long:
            raise ConfigError(f"architecture {short(key)}: {too_long}; give a study label "
                              f"({', '.join(list_arch_labels())}) or a shorter YAML path")
        if not exists(cand):
            raise ConfigError(f"unknown architecture {short(key)}: choose one of "
                              f"{', '.join(list_arch_labels())} or give a YAML path")
        path = cand
    return _load_arch_path(os.path.realpath(path) if exists(path) else str(path), str(path))


@lru_cache(maxsize=256)
def _load_arch_path(real: str, shown: str) -> ArchConfig:
    """The arch file at ``real`` (symlinks resolved); messages name it as ``shown``. A relative
    ``tech`` resolves next to the file first (:func:`resolve_tech`); the technology file is read
    now, so a missing or broken one names this file too."""
    p = Path(shown)
    data = _read_yaml(p)
    if isinstance(data.get("tech"), str):
        data["tech"] = resolve_tech(data["tech"], p)
    arch = arch_from_dict(data, shown)
    with about(f"{shown}: field 'tech'"):
        load_tech(arch)
    return arch


def resolve_tech(tech: str, arch_file: Path) -> str:
    """The ``tech`` entry of ``arch_file`` as stored: unchanged when absolute or when it names
    a shipped technology file (and none lies next to the arch file), else the absolute path
    next to the arch file. A file found in neither place is a :class:`ConfigError`."""
    if Path(tech).is_absolute():
        if Path(tech).is_file():
            return tech
        raise ConfigError(f"{arch_file}: field 'tech': technology file {tech!r} not found")
    own = (arch_file.parent / tech).resolve()
    shipped = (arch_dir() / tech).resolve()
    if own != shipped and own.is_file():
        return str(own)
    if shipped.is_file():
        return tech
    raise ConfigError(f"{arch_file}: field 'tech': technology file {tech!r} not found next to "
                      f"the arch file ({arch_file.parent}) or in the shipped {arch_dir()}")


@lru_cache(maxsize=16)
def _load_tech_path(path: str) -> TechConfig:
    p = Path(path)
    try:
        return TechConfig.model_validate(_read_yaml(p))
    except ValidationError as err:
        raise ConfigError(_format_errors(p, err)) from None


def load_tech(arch_or_path: "ArchConfig | str | Path") -> TechConfig:
    """The technology file an architecture names (absolute, or relative to the shipped
    ``arch_configs/``; :func:`load_arch` resolves a YAML's own relative path), or a path."""
    if isinstance(arch_or_path, ArchConfig):
        path = arch_dir() / arch_or_path.tech
    else:
        path = Path(arch_or_path)
    return _load_tech_path(str(path))


def voltage_scale(arch: ArchConfig, tech: TechConfig) -> float:
    """Dynamic energy scale (V / V_ref)^2 (SPEC.md section 5)."""
    return (arch.voltage_v / tech.reference_voltage_v) ** 2


def sram_scale(capacity_kb: float, ref_kb: float, exponent: float) -> float:
    """Read energy of an SRAM of ``capacity_kb`` relative to one of ``ref_kb`` (SPEC.md section 5)."""
    return math.pow(capacity_kb / ref_kb, exponent)
