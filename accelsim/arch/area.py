"""Area model fitted to the study's synthesised PE arrays (SPEC.md section 6).

``pe_array_area_mm2 = num_pe * (a0 + a_mac*k0*c0 + a_wb*weight_buffer_MB + a_ib*input_buffer_MB)``
is fitted by relative least squares (scipy) to ``accelsim/data/magnet_table2.csv``
(buffer sizes per PE); the global buffer's area is added separately at
``global_buffer_area_mm2_per_mb`` from the technology file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from ..resources import DATA_DIR
from .config import ArchConfig, TechConfig, load_tech

TABLE2 = DATA_DIR / "magnet_table2.csv"
COEFFS = ("a0_mm2", "a_mac_mm2", "a_wb_mm2_per_mb", "a_ib_mm2_per_mb")


@dataclass(frozen=True)
class AreaFit:
    """Fitted per-PE coefficients (mm2, mm2 per MAC, mm2 per MB) and the fit's errors."""

    a0_mm2: float
    a_mac_mm2: float
    a_wb_mm2_per_mb: float
    a_ib_mm2_per_mb: float
    max_rel_error: float
    rms_rel_error: float
    table: pd.DataFrame

    def pe_array_mm2(self, num_pe: int, k0: int, c0: int, weight_buffer_kb: float,
                     input_buffer_kb: float) -> float:
        # SPEC.md section 6: area = num_pe * (a0 + a_mac*k0*c0 + a_wb*WB_MB + a_ib*IB_MB)
        return num_pe * (self.a0_mm2 + self.a_mac_mm2 * k0 * c0
                         + self.a_wb_mm2_per_mb * weight_buffer_kb / 1024
                         + self.a_ib_mm2_per_mb * input_buffer_kb / 1024)

    def coefficients(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in COEFFS}


def _design_matrix(df: pd.DataFrame) -> np.ndarray:
    n = df["num_pe"].to_numpy(float)
    return np.column_stack([
        n,
        n * df["k0"].to_numpy(float) * df["c0"].to_numpy(float),
        n * df["weight_buffer_kb"].to_numpy(float) / 1024,
        n * df["input_buffer_kb"].to_numpy(float) / 1024,
    ])


@lru_cache(maxsize=1)
def fit_area() -> AreaFit:
    """Relative least-squares fit of the PE-array area to Table II (non-negative coefficients)."""
    from scipy.optimize import lsq_linear  # imported here: keeps it out of every CLI start-up

    df = pd.read_csv(TABLE2, comment="#")
    a = _design_matrix(df)
    y = df["pe_array_area_mm2"].to_numpy(float)
    # relative residuals: minimise sum(((A x - y) / y)^2)
    sol = lsq_linear(a / y[:, None], np.ones_like(y), bounds=(0.0, np.inf), method="bvls")
    pred = a @ sol.x
    rel = (pred - y) / y
    table = df.assign(fit_area_mm2=pred, rel_error=rel)
    return AreaFit(*map(float, sol.x), max_rel_error=float(np.abs(rel).max()),
                   rms_rel_error=float(np.sqrt(np.mean(rel ** 2))), table=table)


def pe_array_area_mm2(arch: ArchConfig) -> float:
    """PE-array area of ``arch`` from the fitted model, mm2."""
    return fit_area().pe_array_mm2(arch.num_pe, arch.k0, arch.c0, arch.weight_buffer_kb,
                                   arch.input_buffer_kb)


def global_buffer_area_mm2(arch: ArchConfig, tech: TechConfig | None = None) -> float:
    """Global-buffer area, mm2 (SPEC.md section 6: about 0.42 mm2/MB), from ``tech``
    (default: the file ``arch`` names)."""
    return (load_tech(arch) if tech is None else tech).e("global_buffer_area_mm2_per_mb") * arch.global_buffer_kb / 1024


def arch_area_mm2(arch: ArchConfig) -> float:
    """System area = PE array (synthesised when known, else fitted) + global buffer, mm2."""
    return scope_area_mm2(arch, "system")


#: the parameters of the area fit and the Table II column each one is checked against
FIT_PARAMS = ("num_pe", "k0", "c0", "weight_buffer_kb", "input_buffer_kb")


class AreaExtrapolationWarning(UserWarning):
    """The fitted area model is used outside the range of parameters it was fitted on."""


@lru_cache(maxsize=1)
def fit_ranges() -> dict[str, tuple[float, float]]:
    """(min, max) of every fit parameter over Table II (the fit's range of validity)."""
    df = fit_area().table
    return {p: (float(df[p].min()), float(df[p].max())) for p in FIT_PARAMS}


def outside_fit_range(arch: ArchConfig) -> list[str]:
    """The fit parameters of ``arch`` outside Table II's range, as ``"k0 = 64 outside [16, 32]"``."""
    out = []
    for p, (lo, hi) in fit_ranges().items():
        v = getattr(arch, p)
        if not lo <= v <= hi:
            out.append(f"{p} = {v:g} outside [{lo:g}, {hi:g}]")
    return out


def warn_if_extrapolated(arch: ArchConfig) -> None:
    """Warn once per parameter (Python's default warning filter shows a message once per
    process; a sweep's workers report to the parent, which warns once) when the fitted area of
    ``arch`` lies outside Table II's range of parameters."""
    import warnings

    for item in outside_fit_range(arch):
        param, rng = item.split(" = ")[0], item.split(" outside ")[1]
        warnings.warn(f"area fit used outside Table II's range: {param} outside {rng} (the fitted "
                      "PE-array area is an extrapolation there)", AreaExtrapolationWarning, stacklevel=3)


def pe_array_area(arch: ArchConfig) -> tuple[float, str]:
    """(PE-array area in mm2, its source): the synthesised value when the config states one
    (Table II for A..M, SPEC.md section 2), else the fitted model (``"fit"``; a warning names
    any parameter outside Table II's range, :func:`warn_if_extrapolated`)."""
    if arch.pe_array_area_mm2 is not None:
        return float(arch.pe_array_area_mm2), "synthesised"
    warn_if_extrapolated(arch)
    return pe_array_area_mm2(arch), "fit"


def scope_area_mm2(arch: ArchConfig, scope: str, tech: TechConfig | None = None) -> float:
    """Area a result reports, mm2: the PE array in the accelerator scope (the study's
    efficiency metric), plus the global buffer in the system scope (``tech``: see
    :func:`global_buffer_area_mm2`)."""
    pe = pe_array_area(arch)[0]
    return pe if scope == "accelerator" else pe + global_buffer_area_mm2(arch, tech)
