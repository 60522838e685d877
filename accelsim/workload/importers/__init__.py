"""Model-file importers: PyTorch modules (eager recording) and ONNX graphs.

Both need optional extras (``torch``, ``onnx``) imported lazily, so the rest of the
package works without them.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import WorkloadError
from ..ir import Workload
from .common import MissingWeightsWarning, UnmappedOpWarning

#: file suffix -> what reads it
SUPPORTED_SUFFIXES = {".onnx": "ONNX model (onnx extra)",
                      ".pt2": "torch.export archive (torch extra)"}

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
    """Import a model file by its suffix (see :data:`SUPPORTED_SUFFIXES`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        choices = ", ".join(f"{k} ({v})" for k, v in SUPPORTED_SUFFIXES.items())
        raise WorkloadError(f"{path}: unsupported model file suffix {suffix or '(none)'!r}; "
                            f"supported: {choices}")
    if not path.is_file():
        raise WorkloadError(f"{path}: model file not found")
    if suffix == ".onnx":
        return from_onnx(path, name=name, warn=warn)
    from .torch_import import from_exported_program

    return from_exported_program(path, name=name, warn=warn)
