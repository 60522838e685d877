"""Workload IR, dataflow graph, extractors (the model zoo) and importers (SPEC.md section 7)."""

from .builder import Builder, T
from .ir import CONV_OPS, INPUT, MAC_OPS, Layer, Op, Workload, build_graph
from .registry import (MODELS, ModelSpec, build_model, list_models, list_named_workloads,
                       list_workloads, load_workload, open_workload, parse_size)

__all__ = ["Builder", "CONV_OPS", "INPUT", "Layer", "MAC_OPS", "MODELS", "ModelSpec", "Op", "T",
           "Workload", "build_graph", "build_model", "from_onnx", "from_torch", "list_models",
           "list_named_workloads", "list_workloads", "load_workload", "open_workload", "parse_size"]


def from_torch(module, example_input, **kwargs):
    """Trace a ``torch.nn.Module`` into a :class:`Workload` (needs the ``torch`` extra)."""
    from .importers.torch_import import from_torch as _impl

    return _impl(module, example_input, **kwargs)


def from_onnx(path, **kwargs):
    """Read an ONNX file into a :class:`Workload` (needs the ``onnx`` extra)."""
    from .importers.onnx_import import from_onnx as _impl

    return _impl(path, **kwargs)
