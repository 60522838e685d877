"""Model-file importers: PyTorch modules (eager recording), ONNX graphs, and the layer
lists of the peer tools (Timeloop problem YAMLs, SCALE-Sim topology CSVs).

The model importers need optional extras (``torch``, ``onnx``) imported lazily, so the
rest of the package works without them.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import WorkloadError
from ..ir import Workload
from .common import MissingWeightsWarning, UnmappedOpWarning

#: file suffix -> what reads it (a folder is read as Timeloop problem files)
SUPPORTED_SUFFIXES = {".onnx": "ONNX model (onnx extra)",
                      ".pt2": "torch.export archive (torch extra)",
                      ".yaml": "Timeloop problem, one layer (or a folder of them)",
                      ".yml": "Timeloop problem, one layer (or a folder of them)",
                      ".csv": "SCALE-Sim topology, conv or GEMM form"}

__all__ = ["SUPPORTED_SUFFIXES", "MissingWeightsWarning", "UnmappedOpWarning", "from_onnx", "from_torch",
           "import_model_file"]


def from_torch(module, example_input, **kwargs) -> Workload:
    """See :func:`accelsim.workload.importers.torch_import.from_torch`."""
    from .torch_import import from_torch as _impl

    return _impl(module, example_input, **kwargs)


def from_onnx(path, **kwargs) -> Workload:
    """See :func:`accelsim.workload.importers.onnx_import.from_onnx`."""
    from .onnx_import import from_onnx as _impl

    return _impl(path, **kwargs)


def import_model_file(path: "str | Path", name: str | None = None, warn: bool = True) -> Workload:
    """Import a model file by its suffix (see :data:`SUPPORTED_SUFFIXES`), or a folder of
    Timeloop problem files."""
    path = Path(path)
    if path.is_dir():
        from .timeloop import from_timeloop

        return from_timeloop(path, name=name)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        choices = ", ".join(f"{k} ({v})" for k, v in SUPPORTED_SUFFIXES.items())
        raise WorkloadError(f"{path}: unsupported model file suffix {suffix or '(none)'!r}; "
                            f"supported: {choices}")
    if not path.is_file():
        raise WorkloadError(f"{path}: model file not found")
    if suffix == ".onnx":
        return from_onnx(path, name=name, warn=warn)
    if suffix in (".yaml", ".yml"):
        from .timeloop import from_timeloop

        return from_timeloop(path, name=name)
    if suffix == ".csv":
        from .scalesim import from_scalesim

        return from_scalesim(path, name=name)
    from .torch_import import from_exported_program

    return from_exported_program(path, name=name, warn=warn)
