"""Model-file importers: PyTorch modules (eager recording) and ONNX graphs.

Both need optional extras (``torch``, ``onnx``) imported lazily, so the rest of the
package works without them.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ...errors import WorkloadError
from ...safeio import about, clip, exists, reading
from ..ir import Workload
from .common import UnmappedOpWarning

#: file suffix -> what reads it
SUPPORTED_SUFFIXES = {".onnx": "ONNX model (onnx extra)",
                      ".pt2": "torch.export archive (torch extra)"}

__all__ = ["SUPPORTED_SUFFIXES", "UnmappedOpWarning", "from_onnx", "from_torch",
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
    """Import a model file by its suffix (see :data:`SUPPORTED_SUFFIXES`).

    Every failure is one :class:`~accelsim.errors.WorkloadError` naming the file; warnings
    and log output of torch and onnx are held back (only :class:`UnmappedOpWarning` is
    passed on), so a bad file prints one line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        choices = ", ".join(f"{k} ({v})" for k, v in SUPPORTED_SUFFIXES.items())
        raise WorkloadError(f"{path}: unsupported model file suffix {clip(suffix or '(none)')!r}; "
                            f"supported: {choices}")
    if not exists(path):
        raise WorkloadError(f"{path}: model file not found")
    with _held_back(), reading(path), about(path):
        if suffix == ".onnx":
            return from_onnx(path, name=name, warn=warn)
        from .torch_import import from_exported_program

        return from_exported_program(path, name=name, warn=warn)


@contextmanager
def _held_back() -> Iterator[None]:
    """Record warnings and silence the torch/onnx loggers for the block; pass on only
    :class:`UnmappedOpWarning` (the importer's own list of unmapped ops)."""
    loggers = [logging.getLogger(n) for n in ("torch", "onnx", "onnxscript")]
    before = [lg.disabled for lg in loggers]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for lg in loggers:
            lg.disabled = True
        try:
            yield
        finally:
            for lg, was in zip(loggers, before):
                lg.disabled = was
    for w in caught:
        if issubclass(w.category, UnmappedOpWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
