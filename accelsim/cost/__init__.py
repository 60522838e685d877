"""Cost model and mapper (SPEC.md sections 3-5): ``simulate`` a workload, ``map_layer`` a layer."""

from .mapper import jit_cache_is_warm
from .model import COMPONENTS, LayerCost, SimResult, map_layer, simulate
from .settings import OBJECTIVES, SCOPES

__all__ = ["COMPONENTS", "OBJECTIVES", "SCOPES", "LayerCost", "SimResult", "jit_cache_is_warm", "map_layer",
           "simulate"]
