"""The workload registry: model names -> analytic extractors, and named-workload YAMLs.

``load_workload`` accepts a registry name (``segformer-b2``) with options, or a path
to a YAML under ``workloads/`` (named workload: family/variant/input/classes/dataset,
or an imported layer list). Extractor modules add themselves to :data:`MODELS`
through :func:`model`, at import of :mod:`accelsim.workload.zoo`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import AccelsimError, WorkloadError
from ..resources import resource_dir
from ..safeio import about, clip, exists, load_yaml, one_line, short
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


def _models() -> dict[str, ModelSpec]:
    from . import zoo  # noqa: F401  (registers the extractors)
    return MODELS


def workloads_dir() -> Path:
    return resource_dir("workloads")


def list_models() -> list[ModelSpec]:
    return [spec for _, spec in sorted(_models().items())]


def list_named_workloads() -> list[Path]:
    """The named-workload YAMLs shipped in ``workloads/``."""
    return sorted(workloads_dir().glob("*.yaml"))


def list_workloads() -> list[str]:
    """Registry names followed by named-workload file stems."""
    return [s.name for s in list_models()] + [p.stem for p in list_named_workloads()]


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


def yaml_name(path: "str | Path") -> str | None:
    """The top-level ``name`` of a workload YAML (read from its ``name:`` line in the first
    MiB, without parsing a possibly large layer list), or ``None`` when the file has none
    or is not a regular file (a FIFO or device is never opened for a blocking read)."""
    import re

    from ..errors import AccelsimError
    from ..safeio import parse_yaml, read_head

    p = Path(path)
    try:
        for line in read_head(p, 1 << 20).decode("utf-8").split("\n"):
            m = re.match(r"name:\s*(\S.*)$", line.rstrip("\r"))
            if m:
                value = parse_yaml(m.group(1), str(p))
                return str(value) if value not in (None, "") else None
    except (UnicodeError, AccelsimError):
        return None
    return None


def workload_label(name: str) -> str:
    """How results name a workload given as ``name``: a YAML's own ``name`` (else its file
    stem), a registry or named-workload name as given."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml"):
        return yaml_name(p) or p.stem
    return name


def build_model(name: str, input_size=None, num_classes: int | None = None, **options) -> Workload:
    """Run the extractor registered under ``name``."""
    models = _models()
    key = name.lower()
    if key not in models:
        from ..suggest import did_you_mean

        hint = did_you_mean(name, [*sorted(models), *(p.stem for p in list_named_workloads())])
        raise WorkloadError(f"unknown workload {short(name)}; "
                            f"{hint or 'see `accelsim workload list` for the names'} (or give a workload YAML path)")
    spec = models[key]
    bad = sorted(set(options) - set(spec.options))
    if bad:
        raise WorkloadError(f"workload {name!r} has no option {clip(', '.join(map(str, bad)))}; options: "
                            f"{', '.join(spec.options) or 'none'}")
    size = parse_size(input_size) or spec.default_input
    classes = spec.default_classes if num_classes is None else check_classes(num_classes)
    try:
        return spec.build(input_size=size, num_classes=classes, **options)
    except AccelsimError:
        raise
    except (ValueError, TypeError, ZeroDivisionError) as exc:  # an option or size the model cannot take
        raise WorkloadError(f"workload {name!r} at {size[0]}x{size[1]}: {one_line(exc, 300)}") from None


def load_workload(name: "str | Path | Workload", input_size=None, num_classes: int | None = None,
                  exec_path: str = "", **options) -> Workload:
    """A workload from a registry name, a named-workload YAML (name or path), or as given.

    ``exec_path`` applies an execution-path string (SPEC.md section 8) when the
    execution-path package is available.
    """
    source = ""  # the file an execution path came from, if any
    if isinstance(name, Workload):
        wl = name
    else:
        text = str(name)
        path = Path(text)
        named = workloads_dir() / f"{text}.yaml"
        if path.suffix in (".yaml", ".yml") or (exists(path) and path.is_file()):
            wl, file_path = _load_yaml(path, input_size, num_classes, options)
        elif text.lower() not in _models() and exists(named):
            path = named
            wl, file_path = _load_yaml(named, input_size, num_classes, options)
        else:
            wl, file_path = build_model(text, input_size, num_classes, **options), ""
        if file_path and not exec_path:
            exec_path, source = file_path, f"{path}: field 'exec_path'"
    if exec_path:
        from ..paths import apply_path  # the execution-path transforms

        where = f"execution path {short(exec_path)}"
        with about(f"{source}: {where}" if source else where):
            wl = apply_path(wl, exec_path)
    return wl


def _load_yaml(path: Path, input_size, num_classes, options) -> tuple[Workload, str]:
    if not exists(path):
        raise WorkloadError(f"{path}: workload file not found")
    data = load_yaml(path, "workload YAML")
    if not isinstance(data, dict):
        raise WorkloadError(f"{path}: expected a mapping")
    if "layers" in data:
        from .yamlio import workload_from_dict

        return workload_from_dict(data, str(path)), _text_field(data, "exec_path", path)
    allowed = {"name", "model", "family", "variant", "input", "classes", "dataset", "exec_path",
               "options", "description"}
    unknown = sorted(map(str, set(data) - allowed))
    if unknown:
        raise WorkloadError(f"{path}: unknown key(s) {clip(', '.join(unknown))}; "
                            f"allowed: {', '.join(sorted(allowed))}")
    if "model" not in data:
        raise WorkloadError(f"{path}: field 'model' (a registry name such as segformer-b2) is missing")
    opts = data.get("options") or {}
    if not isinstance(opts, dict):
        raise WorkloadError(f"{path}: field 'options' must be a mapping of option: value, got {short(opts)}")
    opts = {str(k): v for k, v in opts.items()}
    opts.update(options)
    model_name = _text_field(data, "model", path)
    if not model_name:
        raise WorkloadError(f"{path}: field 'model' must be a registry name such as segformer-b2")
    with about(path):
        wl = build_model(model_name, input_size or data.get("input"),
                         num_classes if num_classes is not None else data.get("classes"), **opts)
    wl = wl.replace(name=str(data.get("name", path.stem)), dataset=str(data.get("dataset", wl.dataset)))
    return wl, _text_field(data, "exec_path", path)


def _text_field(data: dict, key: str, path: Path) -> str:
    """A text field of a workload YAML ('' when absent or null)."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise WorkloadError(f"{path}: field {key!r} must be text, got {short(value)}")
    return str(value)
