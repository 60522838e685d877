"""The model catalogue: registry entries and the input checks every loader shares.

Extractor modules add their models to :data:`MODELS` with the :func:`model` decorator
(:mod:`accelsim.workload.registry` imports them all through :mod:`accelsim.workload.zoo`
on first use). This module imports nothing of the package but the IR, so extractors,
the YAML reader and the registry all stand on it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable

from ..errors import WorkloadError
from ..safeio import short
from .ir import Workload


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry. ``build(input_size=(H, W), num_classes=N, **options) -> Workload``."""

    name: str
    family: str
    variant: str
    build: Callable[..., Workload]
    default_input: tuple[int, int]
    default_classes: int
    dataset: str = ""
    description: str = ""
    options: tuple[str, ...] = field(default=())


#: name -> spec; filled once at import by the extractor modules (a constant table).
MODELS: dict[str, ModelSpec] = {}


def model(name: str, family: str, variant: str, default_input: tuple[int, int],
          default_classes: int, dataset: str = "", description: str = ""):
    """Decorator registering an extractor function under ``name``."""

    def wrap(fn: Callable[..., Workload]) -> Callable[..., Workload]:
        opts = tuple(p for p in inspect.signature(fn).parameters
                     if p not in ("input_size", "num_classes"))
        MODELS[name] = ModelSpec(name, family, variant, fn, tuple(default_input), default_classes,
                                 dataset, description, opts)
        return fn

    return wrap


#: Largest input height or width, pixels (a layer's P and Q stay within FIELD_LIMITS).
MAX_INPUT_SIDE = 65_536


def parse_size(text: "str | tuple[int, int] | list[int] | int | None") -> tuple[int, int] | None:
    """``"512x512"`` / ``512`` / ``(512, 512)`` -> (H, W), each 1..:data:`MAX_INPUT_SIDE`."""
    if text is None:
        return None
    if isinstance(text, (tuple, list)):
        if len(text) != 2:
            raise WorkloadError(f"input size {short(text)} must be H x W")
        vals = list(text)
    elif isinstance(text, int) and not isinstance(text, bool):
        vals = [text, text]
    else:
        parts = str(text).lower().replace("*", "x").split("x")
        if len(str(text)) > 40 or not all(p.strip().isdigit() for p in parts):
            raise WorkloadError(f"input size {short(text)} must look like 512x512")
        vals = [int(p) for p in parts]
        if len(vals) == 1:
            vals = vals * 2
    if len(vals) != 2 or not all(_plain_int(v) and 1 <= v <= MAX_INPUT_SIDE for v in vals):
        raise WorkloadError(f"input size {short(text)} must be two integers H x W in "
                            f"1..{MAX_INPUT_SIDE}")
    return int(vals[0]), int(vals[1])


def _plain_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


#: Most classes of a model head.
MAX_CLASSES = 1_000_000


def check_classes(classes: object, where: str = "num_classes") -> int:
    """``classes`` as a positive integer (no booleans, no fractions, at most :data:`MAX_CLASSES`)."""
    if not _plain_int(classes) or not 1 <= classes <= MAX_CLASSES:  # type: ignore[operator]
        raise WorkloadError(f"{where}={short(classes)} must be an integer in 1..{MAX_CLASSES}")
    return int(classes)  # type: ignore[call-overload]
