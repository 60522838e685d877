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

import yaml

from ..errors import WorkloadError
from ..resources import resource_dir
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


def parse_size(text: "str | tuple[int, int] | list[int] | int | None") -> tuple[int, int] | None:
    """``"512x512"`` / ``512`` / ``(512, 512)`` -> (H, W)."""
    if text is None:
        return None
    if isinstance(text, (tuple, list)):
        if len(text) != 2:
            raise WorkloadError(f"input size {text!r} must be H x W")
        return int(text[0]), int(text[1])
    if isinstance(text, int):
        return text, text
    parts = str(text).lower().replace("*", "x").split("x")
    try:
        vals = [int(p) for p in parts]
    except ValueError:
        raise WorkloadError(f"input size {text!r} must look like 512x512") from None
    if len(vals) == 1:
        vals = vals * 2
    if len(vals) != 2 or min(vals) < 1:
        raise WorkloadError(f"input size {text!r} must be two positive integers H x W")
    return vals[0], vals[1]


def yaml_name(path: "str | Path") -> str | None:
    """The top-level ``name`` of a workload YAML (read from its ``name:`` line, without
    parsing a possibly large layer list), or ``None`` when the file has none."""
    import re

    p = Path(path)
    try:
        with open(p) as fh:
            for line in fh:
                m = re.match(r"name:\s*(\S.*)$", line.rstrip("\n"))
                if m:
                    value = yaml.safe_load(m.group(1))
                    return str(value) if value not in (None, "") else None
    except (OSError, yaml.YAMLError):
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
        raise WorkloadError(f"unknown workload {name!r}; {hint or 'see `accelsim workload list` for the names'} "
                            "(or give a workload YAML path)")
    spec = models[key]
    bad = sorted(set(options) - set(spec.options))
    if bad:
        raise WorkloadError(f"workload {name!r} has no option {', '.join(bad)}; options: "
                            f"{', '.join(spec.options) or 'none'}")
    size = parse_size(input_size) or spec.default_input
    classes = spec.default_classes if num_classes is None else int(num_classes)
    if classes < 1:
        raise WorkloadError(f"num_classes={classes} must be >= 1")
    return spec.build(input_size=size, num_classes=classes, **options)


def load_workload(name: "str | Path | Workload", input_size=None, num_classes: int | None = None,
                  exec_path: str = "", **options) -> Workload:
    """A workload from a registry name, a named-workload YAML (name or path), or as given.

    ``exec_path`` applies an execution-path string (SPEC.md section 8) when the
    execution-path package is available.
    """
    if isinstance(name, Workload):
        wl = name
    else:
        text = str(name)
        path = Path(text)
        named = workloads_dir() / f"{text}.yaml"
        if path.suffix in (".yaml", ".yml") or (path.exists() and path.is_file()):
            wl, file_path = _load_yaml(path, input_size, num_classes, options)
            exec_path = exec_path or file_path
        elif text.lower() not in _models() and named.exists():
            wl, file_path = _load_yaml(named, input_size, num_classes, options)
            exec_path = exec_path or file_path
        else:
            wl = build_model(text, input_size, num_classes, **options)
    if exec_path:
        from ..paths import apply_path  # the execution-path transforms

        wl = apply_path(wl, exec_path)
    return wl


def _load_yaml(path: Path, input_size, num_classes, options) -> tuple[Workload, str]:
    if not path.exists():
        raise WorkloadError(f"{path}: workload file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise WorkloadError(f"{path}: malformed YAML: {exc}") from None
    if not isinstance(data, dict):
        raise WorkloadError(f"{path}: expected a mapping")
    if "layers" in data:
        from .yamlio import workload_from_dict

        return workload_from_dict(data, str(path)), str(data.get("exec_path", "") or "")
    allowed = {"name", "model", "family", "variant", "input", "classes", "dataset", "exec_path",
               "options", "description"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise WorkloadError(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    if "model" not in data:
        raise WorkloadError(f"{path}: field 'model' (a registry name such as segformer-b2) is missing")
    opts = dict(data.get("options") or {})
    opts.update(options)
    wl = build_model(str(data["model"]), input_size or data.get("input"),
                     num_classes if num_classes is not None else data.get("classes"), **opts)
    wl = wl.replace(name=str(data.get("name", path.stem)), dataset=str(data.get("dataset", wl.dataset)))
    return wl, str(data.get("exec_path", "") or "")
