"""Accelerator architecture and technology configs (SPEC.md sections 2 and 5).

Both are YAML files validated with pydantic on load: a missing field, a wrong type,
a non-positive size, an unknown key or a buffer too small for one tile is an
:class:`~accelsim.errors.ConfigError` naming the file, the field and what is allowed.
Units are in the field names; kilobyte = 1024 bytes.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import ConfigError
from ..resources import resource_dir

PosInt = Field(gt=0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class ArchConfig(_Strict):
    """One MAGNet-style accelerator instance. Buffer sizes are per PE unless named global."""

    name: str = Field(description="label or config name")
    description: str = ""
    num_pe: int = Field(gt=0, description="PEs in the array")
    k0: int = Field(gt=0, description="vector MAC lanes per PE (output channels in parallel)")
    c0: int = Field(gt=0, description="multipliers per lane (input channels in parallel)")
    weight_buffer_kb: float = Field(gt=0, description="weight buffer per PE, KiB")
    input_buffer_kb: float = Field(gt=0, description="input buffer per PE, KiB")
    accum_depth: int = Field(gt=0, description="AD: output positions held per lane in the accumulation collector")
    accum_buffer_kb: float = Field(gt=0, description="accumulation buffer per PE, KiB (24-bit partial sums)")
    global_buffer_kb: float = Field(gt=0, description="global buffer, KiB")
    global_buffer_bandwidth: float = Field(gt=0, description="global buffer bytes per cycle")
    noc_bandwidth: float = Field(gt=0, description="NoC bytes per cycle into the PE array")
    dram_bandwidth_gbps: float = Field(gt=0, description="DRAM bandwidth, GB/s (1e9 bytes/s)")
    dram_type: Literal["lpddr4", "hbm2", "hbm3"] = Field(description="DRAM interface (energy per bit in the tech file)")
    ppu_elems_per_cycle: float = Field(gt=0, description="post-processing elements per cycle per PE")
    frequency_ghz: float = Field(gt=0, description="clock, GHz")
    bits: int = Field(gt=0, le=32, description="data width of weights and activations, bits")
    accum_bits: int = Field(gt=0, le=64, description="accumulator width, bits")
    tech_node_nm: int = Field(gt=0, description="technology node, nm (selects the tech file)")
    voltage_v: float = Field(gt=0, description="supply voltage, V (energy scales with V^2)")
    tech: str = Field(description="technology file, relative to arch_configs/")
    pe_array_area_mm2: float | None = Field(default=None, gt=0, description="synthesised PE-array area, mm2, if known")

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


class EnergyEntry(_Strict):
    value: float = Field(ge=0)
    unit: str
    source: str


class TechConfig(_Strict):
    """Per-access energies of one technology node (SPEC.md section 5), each with its source."""

    name: str
    node_nm: int = Field(gt=0)
    reference_voltage_v: float = Field(gt=0)
    sram_exponent: float = Field(gt=0, description="read energy ~ capacity^exponent")
    sram_write_factor: float = Field(ge=1.0, description="write / read energy per bit")
    energy: dict[str, EnergyEntry]
    reference: dict[str, EnergyEntry] = Field(default_factory=dict,
                                               description="reference capacities and widths of the energies")

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
        return self

    def e(self, key: str) -> float:
        return self.energy[key].value

    def ref(self, key: str) -> float:
        return self.reference[key].value


# ------------------------------------------------------------------ loading
def _format_errors(path: Path | str, err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        msg = e["msg"]
        if e["type"] == "missing":
            msg = "required field is missing"
        elif e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] == "literal_error":
            msg = f"must be one of {e['ctx']['expected']}"
        parts.append(f"field '{loc}': {msg}" + (f" (got {e['input']!r})" if e["type"] not in ("missing",) and not isinstance(e.get("input"), dict) else ""))
    return f"{path}: " + "; ".join(parts)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: malformed YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of field: value, got {type(data).__name__}")
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
    """An architecture by study label (``"E"``), shipped config name, or YAML path."""
    if isinstance(label_or_path, ArchConfig):
        return label_or_path
    key = str(label_or_path)
    path = Path(key)
    if not (path.suffix in (".yaml", ".yml") or path.exists()):
        cand = arch_dir() / f"{key}.yaml"
        if not cand.exists():
            raise ConfigError(f"unknown architecture {key!r}: choose one of "
                              f"{', '.join(list_arch_labels())} or give a YAML path")
        path = cand
    return _load_arch_path(str(path.resolve()) if path.exists() else str(path))


@lru_cache(maxsize=256)
def _load_arch_path(path: str) -> ArchConfig:
    p = Path(path)
    return arch_from_dict(_read_yaml(p), str(p))


@lru_cache(maxsize=16)
def _load_tech_path(path: str) -> TechConfig:
    p = Path(path)
    try:
        return TechConfig.model_validate(_read_yaml(p))
    except ValidationError as err:
        raise ConfigError(_format_errors(p, err)) from None


def load_tech(arch_or_path: "ArchConfig | str | Path") -> TechConfig:
    """The technology file an architecture names (relative to ``arch_configs/``), or a path."""
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
