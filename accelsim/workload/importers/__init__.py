"""Model-file importers: PyTorch modules (eager recording), ONNX graphs, and the layer
lists of the peer tools (Timeloop problem YAMLs, SCALE-Sim topology CSVs).

The model importers need optional extras (``torch``, ``onnx``) imported lazily, so the
rest of the package works without them.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ...errors import WorkloadError
from ...safeio import YAML_MAX_BYTES, about, check_input, clip, exists, parse_yaml, read_text, reading
from ..ir import Workload
from .common import IgnoredFieldsWarning, MissingWeightsWarning, UnmappedOpWarning

#: file suffix -> what reads it (a folder is read as Timeloop problem files)
SUPPORTED_SUFFIXES = {".onnx": "ONNX model (onnx extra)",
                      ".pt2": "torch.export archive (torch extra)",
                      ".yaml": "Timeloop problem, one layer (or a folder of them), or a ZigZag/Stream workload",
                      ".yml": "Timeloop problem, one layer (or a folder of them), or a ZigZag/Stream workload",
                      ".csv": "SCALE-Sim topology, conv or GEMM form"}

#: largest model file accepted by any importer (bytes); each reader has its own, smaller limit
MAX_MODEL_BYTES = 16 * 1024**3

__all__ = ["SUPPORTED_SUFFIXES", "IgnoredFieldsWarning", "MissingWeightsWarning", "UnmappedOpWarning", "from_onnx", "from_torch",
           "import_model_file"]


def from_torch(module, example_input, **kwargs) -> Workload:
    """See :func:`accelsim.workload.importers.torch_import.from_torch`."""
    from .torch_import import from_torch as _impl

    return _impl(module, example_input, **kwargs)


def from_onnx(path, **kwargs) -> Workload:
    """See :func:`accelsim.workload.importers.onnx_import.from_onnx`."""
    from .onnx_import import from_onnx as _impl

    return _impl(path, **kwargs)


def import_model_file(path: "str | Path", name: str | None = None, warn: bool = True,
                      include_root: "str | Path | None" = None,
                      input_hw: "tuple[int, int] | None" = None) -> Workload:
    """Import a model file by its suffix (see :data:`SUPPORTED_SUFFIXES`), or a folder of
    Timeloop problem files (``include_root``: where their ``include_text`` may read).
    ``input_hw``: the (H, W) of an ONNX or ``.pt2`` model whose spatial input sizes are
    symbolic.

    Every failure is one :class:`~accelsim.errors.WorkloadError` naming the file; warnings
    and log output of torch and onnx are held back (only the importers' own warnings are
    passed on), so a bad file prints one line."""
    path = Path(path)
    if input_hw is not None and (path.suffix.lower() not in (".onnx", ".pt2") or path.is_dir()):
        raise WorkloadError(f"{path}: --input (input_hw) applies to .onnx and .pt2 models with symbolic sizes; "
                            "the peers' layer files give their sizes themselves")
    if path.is_dir():
        from .timeloop import from_timeloop

        with reading(path), about(path):
            return from_timeloop(path, name=name, include_root=include_root)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        choices = ", ".join(f"{k} ({v})" for k, v in SUPPORTED_SUFFIXES.items())
        raise WorkloadError(f"{path}: unsupported model file suffix {clip(suffix or '(none)')!r}; "
                            f"supported: {choices}")
    if not exists(path):
        raise WorkloadError(f"{path}: model file not found")
    check_input(path, MAX_MODEL_BYTES, f"{suffix} model file")  # a FIFO or device: refused unread
    with _held_back(), reading(path), about(path):
        if suffix == ".onnx":
            return from_onnx(path, name=name, warn=warn, input_hw=input_hw)
        if suffix in (".yaml", ".yml"):
            return _peer_yaml(path, name, include_root)
        if suffix == ".csv":
            from .scalesim import from_scalesim

            return from_scalesim(path, name=name)
        from .torch_import import from_exported_program

        return from_exported_program(path, name=name, warn=warn, input_hw=input_hw)


def _peer_yaml(path: Path, name: str | None, include_root: "str | Path | None") -> Workload:
    """A Timeloop problem or a ZigZag/Stream workload, told apart by their keys; an
    AccelForge einsum workload is refused in one line (its templates are never run)."""
    from .timeloop import from_timeloop, sniff_template
    from .zigzag import looks_like_zigzag, read_zigzag

    text = read_text(path, YAML_MAX_BYTES, "YAML workload")
    refusal = sniff_template(text)
    if refusal:
        raise WorkloadError(refusal.format(path=path))
    if "loop_dims" in text and "{{" not in text and "{%" not in text:
        data = parse_yaml(text, str(path))
        if looks_like_zigzag(data):
            return read_zigzag(path, data, name)
    return from_timeloop(path, name=name, include_root=include_root)


@contextmanager
def _held_back() -> Iterator[None]:
    """Record warnings and silence the torch/onnx loggers for the block; pass on only the
    importers' own warnings: :class:`UnmappedOpWarning` (unmapped ops) and
    :class:`MissingWeightsWarning` (an ONNX model imported from its shapes alone)."""
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
        if issubclass(w.category, (UnmappedOpWarning, MissingWeightsWarning, IgnoredFieldsWarning)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
