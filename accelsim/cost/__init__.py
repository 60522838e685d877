"""Cost model and mapper (SPEC.md sections 3-5): ``simulate`` a workload, ``map_layer`` a layer."""

from .model import (COMPONENTS, OBJECTIVES, LayerCost, SimResult, map_layer, simulate)

__all__ = ["COMPONENTS", "OBJECTIVES", "LayerCost", "SimResult", "map_layer", "simulate"]
