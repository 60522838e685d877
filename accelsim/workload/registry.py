"""The workload registry: model names -> analytic extractors, and named-workload YAMLs.

:func:`open_workload` accepts a registry name (``segformer-b2``) with options, or a path
to a YAML under ``workloads/`` (named workload: family/variant/input/classes/dataset,
or an imported layer list). Extractor modules add themselves to :data:`MODELS`
(:mod:`accelsim.workload.catalog`) at import of :mod:`accelsim.workload.zoo`. Execution
paths are not applied here: :func:`accelsim.load_workload` composes a model with its path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import AccelsimError, WorkloadError
from ..resources import resource_dir
from ..safeio import about, clip, exists, load_yaml, one_line, short
from .catalog import (MAX_CLASSES, MAX_INPUT_SIDE, MODELS, ModelSpec, check_classes, model,  # noqa: F401
                      parse_size)
from .ir import Workload


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


@dataclass(frozen=True)
class Opened:
    """A workload as its source describes it, before any execution path is applied.

    ``exec_path`` is the path a named-workload YAML asks for (its ``exec_path`` field; ''
    when none) and ``source`` says where that came from (for messages). The path is applied
    by :func:`accelsim.load_workload`, which composes models with paths; this package does
    not apply paths itself. A layer-list YAML records the path its layers already went
    through in :attr:`Workload.exec_path`, so nothing is pending for it.
    """

    workload: Workload
    exec_path: str = ""
    source: str = ""


def open_workload(name: "str | Path | Workload", input_size=None, num_classes: int | None = None,
                  **options) -> Opened:
    """A workload from a registry name, a named-workload YAML (name or path), or as given,
    with the execution path its YAML names still pending."""
    if isinstance(name, Workload):
        return Opened(name)
    text = str(name)
    path = Path(text)
    named = workloads_dir() / f"{text}.yaml"
    if path.suffix in (".yaml", ".yml") or (exists(path) and path.is_file()):
        wl, file_path = _load_yaml(path, input_size, num_classes, options)
    elif text.lower() not in _models() and exists(named):
        path = named
        wl, file_path = _load_yaml(named, input_size, num_classes, options)
    else:
        return Opened(build_model(text, input_size, num_classes, **options))
    return Opened(wl, file_path, f"{path}: field 'exec_path'" if file_path else "")


def named_overrides(name: "str | Path | Workload", input_size=None, num_classes: int | None = None,
                    exec_path: str = "") -> str:
    """One line saying which settings of a named workload the given ones replace
    (``"--input 1024x1024 replaces input 800x1200 of named workload detr-r50-coco-800x1200"``),
    or '' when none does (a registry name, a layer list, or values that agree). Reads the
    YAML's fields only; nothing is built."""
    if isinstance(name, Workload):
        return ""
    text = str(name)
    path = Path(text)
    if not (path.suffix in (".yaml", ".yml") or (exists(path) and path.is_file())):
        path = workloads_dir() / f"{text}.yaml"
        if text.lower() in _models() or not exists(path):
            return ""
    try:
        data = load_yaml(path, "workload YAML")
    except AccelsimError:
        return ""  # loading it reports the problem
    if not isinstance(data, dict) or "layers" in data:
        return ""
    changes = []
    given, own = parse_size(input_size), data.get("input")
    try:
        own_size = parse_size(own)
    except AccelsimError:
        own_size = None
    if given and own_size and given != own_size:
        changes.append(f"--input {given[0]}x{given[1]} replaces input {own_size[0]}x{own_size[1]}")
    if num_classes is not None and data.get("classes") not in (None, num_classes):
        changes.append(f"--classes {num_classes} replaces classes {short(data.get('classes'))}")
    if exec_path and data.get("exec_path") not in (None, "", exec_path):
        changes.append(f"--exec-path {short(exec_path)} replaces exec_path {short(data.get('exec_path'))}")
    if not changes:
        return ""
    return f"{'; '.join(changes)} of named workload {data.get('name', path.stem)} ({path.name})"


def load_workload(name: "str | Path | Workload", input_size=None, num_classes: int | None = None,
                  **options) -> Workload:
    """A workload from a registry name, a named-workload YAML (name or path), or as given,
    without an execution path. A named workload whose YAML asks for a path is refused here:
    :func:`accelsim.load_workload` (which also takes ``exec_path=``) applies it."""
    opened = open_workload(name, input_size, num_classes, **options)
    if opened.exec_path:
        raise WorkloadError(f"{opened.source} asks for execution path {short(opened.exec_path)}; "
                            "load it with accelsim.load_workload, which applies paths")
    return opened.workload


def _load_yaml(path: Path, input_size, num_classes, options) -> tuple[Workload, str]:
    if not exists(path):
        raise WorkloadError(f"{path}: workload file not found")
    data = load_yaml(path, "workload YAML")
    if not isinstance(data, dict):
        raise WorkloadError(f"{path}: expected a mapping")
    if "layers" in data:
        from .yamlio import workload_from_dict

        _text_field(data, "exec_path", path)  # checked; its layers already went through it
        return workload_from_dict(data, str(path)), ""
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
