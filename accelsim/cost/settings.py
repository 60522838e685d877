"""Model settings shared by the cost model, sweeps and the CLI (no heavy imports).

``scope`` says what the numbers describe (docs/cost_model.md, Scope): ``"accelerator"``,
the reference study's accelerator without DRAM (PE array, mesh NoC and global buffer, whose
bandwidths are unbounded but whose accesses cost energy), or ``"system"``, the accelerator with
DRAM and the global-buffer, NoC and DRAM bandwidths bounding layers. ``tolerance`` is the
relative band on the primary objective within which the secondary objective decides
(docs/cost_model.md, Objectives).
"""

from __future__ import annotations

from ..errors import AccelsimError

#: objectives accepted by :func:`accelsim.simulate` and :func:`accelsim.cost.map_layer`
OBJECTIVES = ("latency", "energy", "edp")
#: what the numbers describe
SCOPES = ("accelerator", "system")
DEFAULT_SCOPE = "accelerator"
#: one phrase per scope for reports and tables
SCOPE_TEXT = {
    "accelerator": ("the study's accelerator without DRAM: PE array, mesh NoC and global buffer, "
                    "unbounded bandwidth, every access paid"),
    "system": "the accelerator plus DRAM and the global-buffer, NoC and DRAM bandwidth limits",
}
#: 1 %: a tenth of the model's 10 % calibration band, so the choice it makes between near-equal
#: mappings is below what the model can resolve (docs/cost_model.md, Objectives)
DEFAULT_TOLERANCE = 0.01


def check_objective(objective: str) -> int:
    """Index of ``objective``; an :class:`AccelsimError` naming the allowed values otherwise."""
    if objective not in OBJECTIVES:
        raise AccelsimError(f"unknown objective {objective!r}: choose one of {', '.join(OBJECTIVES)}")
    return OBJECTIVES.index(objective)


def check_scope(scope: str) -> str:
    """``scope`` itself; an :class:`AccelsimError` naming the allowed values otherwise."""
    if scope not in SCOPES:
        raise AccelsimError(f"unknown scope {scope!r}: choose one of {', '.join(SCOPES)}")
    return scope


def check_tolerance(tolerance: float) -> float:
    """``tolerance`` as a float in [0, 1); an :class:`AccelsimError` otherwise."""
    try:
        t = float(tolerance)
    except (TypeError, ValueError):
        t = float("nan")
    if not 0.0 <= t < 1.0:
        raise AccelsimError(f"tolerance={tolerance!r} must be a fraction in [0, 1), e.g. 0.01 for 1 %")
    return t
