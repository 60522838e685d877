"""The metadata block stored with every measurement file (SPEC.md section 9).

Every key of :data:`REQUIRED_META` is present and non-empty; values that cannot be
read on this machine say why (``n/a (CPU run)``, ``unreadable: ...``).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from .device import Target, require_torch

HARNESS_VERSION = "1.0"

REQUIRED_META = (
    "harness_version", "kind", "label", "device", "device_name", "driver", "cuda", "cudnn",
    "torch", "dtype", "clocks", "cudnn_benchmark", "date", "host_cpu", "threads", "workload",
    "input", "exec_path", "energy",
)


def host_cpu() -> str:
    """The host CPU model name."""
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text(errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware")):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def _nvidia_smi(index: int) -> dict[str, str]:
    """Driver and clocks (MHz) from ``nvidia-smi``; empty when it is not installed."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return {}
    fields = ["driver_version", "clocks.sm", "clocks.mem", "clocks.max.sm", "clocks.max.mem",
              "power.limit", "pstate"]
    try:
        out = subprocess.run([exe, f"--query-gpu={','.join(fields)}", "--format=csv,noheader,nounits",
                              "-i", str(index)], capture_output=True, text=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return {}
    values = [v.strip() for v in out.stdout.strip().split(",")]
    return dict(zip(fields, values)) if len(values) == len(fields) else {}


def device_meta(target: Target) -> dict[str, Any]:
    """Device, driver, library versions and clocks for ``target``."""
    torch = require_torch()
    meta: dict[str, Any] = {
        "device": "cuda" if target.is_cuda else "cpu",
        "torch": torch.__version__,
        "cuda": torch.version.cuda or "none (CPU build)",
        "cudnn": str(torch.backends.cudnn.version()) if torch.backends.cudnn.is_available() else "none",
        "host_cpu": host_cpu(),
        "threads": str(torch.get_num_threads()),
    }
    if target.is_cuda:
        index = target.index
        props = torch.cuda.get_device_properties(index)
        smi = _nvidia_smi(index)
        meta.update({
            "label": f"GPU {props.name}",
            "device_name": props.name,
            "compute_capability": f"{props.major}.{props.minor}",
            "gpu_memory_bytes": str(props.total_memory),
            "driver": smi.get("driver_version", "unreadable: nvidia-smi not found"),
            "clocks": ({k: smi[k] for k in smi if k != "driver_version"} if smi
                       else "unreadable: nvidia-smi not found"),
            "tf32_matmul": str(torch.backends.cuda.matmul.allow_tf32),
            "tf32_cudnn": str(torch.backends.cudnn.allow_tf32),
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES", "unset"),
            "cudnn_benchmark": str(bool(torch.backends.cudnn.benchmark)),
        })
    else:
        meta.update({
            "label": "CPU (not a GPU measurement)",
            "device_name": f"CPU {meta['host_cpu']}",
            "driver": "n/a (CPU run)",
            "clocks": "n/a (CPU run)",
            "cudnn_benchmark": "n/a (CPU run)",
        })
    return meta


def base_meta(target: Target, kind: str, workload: str, input_size: tuple[int, int], exec_path: str,
              energy: str, **extra: Any) -> dict[str, Any]:
    """The full metadata block for one file (``kind``: ``per-layer`` or ``whole-model``)."""
    meta = {
        "harness_version": HARNESS_VERSION,
        "kind": kind,
        "dtype": target.dtype,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "workload": workload,
        "input": f"{input_size[0]}x{input_size[1]}",
        "exec_path": exec_path or "none",
        "energy": energy,
        **device_meta(target),
    }
    meta.update(extra)
    return meta


def missing_meta(meta: dict[str, Any]) -> list[str]:
    """Required keys that are absent or empty."""
    return [k for k in REQUIRED_META if meta.get(k) in (None, "", {}, [])]
