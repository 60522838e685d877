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


def pe_array_area(arch: ArchConfig) -> tuple[float, str]:
    """(PE-array area in mm2, its source): the synthesised value when the config states one
    (Table II for A..M, SPEC.md section 2), else the fitted model."""
    if arch.pe_array_area_mm2 is not None:
        return float(arch.pe_array_area_mm2), "synthesised"
    return pe_array_area_mm2(arch), "fit"


def scope_area_mm2(arch: ArchConfig, scope: str, tech: TechConfig | None = None) -> float:
    """Area a result reports, mm2: the PE array in the accelerator scope (the study's
    efficiency metric), plus the global buffer in the system scope (``tech``: see
    :func:`global_buffer_area_mm2`)."""
    pe = pe_array_area(arch)[0]
    return pe if scope == "accelerator" else pe + global_buffer_area_mm2(arch, tech)
