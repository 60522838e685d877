"""Device and dtype resolution for the GPU baseline (SPEC.md section 9).

torch is imported lazily: loading stored measurements must work without it. Asking
for CUDA where PyTorch sees no CUDA device is a user error (exit 2), never a
silent fallback to the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import AccelsimError

DTYPES = ("fp32", "fp16", "bf16", "int8")
DEVICES = ("cuda", "cpu")


def require_torch() -> Any:
    """The ``torch`` module, or an :class:`AccelsimError` saying how to install it."""
    try:
        import torch
    except ImportError:
        raise AccelsimError("the gpu commands need PyTorch: pip install 'accelsim[torch]'") from None
    return torch


@dataclass(frozen=True)
class Target:
    """Where and how ops run: device string, requested dtype name, float dtype for float ops.

    ``float_dtype`` is the dtype name used for tensors of ops that have no kernel in the
    requested dtype (int8 mode: fp16 on CUDA, fp32 on the CPU); it equals ``dtype`` otherwise.
    """

    device: str
    dtype: str
    float_dtype: str

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    @property
    def index(self) -> int:
        """The CUDA device number (0 when the device string names none)."""
        return require_torch().device(self.device).index or 0


def resolve_target(device: str, dtype: str) -> Target:
    """Validate ``device`` (``cuda``, ``cuda:N``, ``cpu``) and ``dtype`` against this machine."""
    if dtype not in DTYPES:
        raise AccelsimError(f"--dtype {dtype!r}: choose one of {', '.join(DTYPES)}")
    base = device.split(":")[0]
    if base not in DEVICES:
        raise AccelsimError(f"--device {device!r}: choose one of cuda, cuda:N, cpu")
    torch = require_torch()
    if base == "cuda":
        if not torch.cuda.is_available():
            raise AccelsimError(
                f"--device {device}: no CUDA device is visible to PyTorch {torch.__version__} "
                "(CUDA build: " + (torch.version.cuda or "none") + "); run on a CUDA machine "
                "or use --device cpu, which is labelled CPU in the output")
        index = int(device.split(":")[1]) if ":" in device else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise AccelsimError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s)")
        device = f"cuda:{index}"
        if dtype == "bf16" and not torch.cuda.is_bf16_supported():
            raise AccelsimError(f"--dtype bf16: {torch.cuda.get_device_name(index)} has no bf16 support")
    fallback = ("fp16" if base == "cuda" else "fp32") if dtype == "int8" else dtype
    return Target(device=device, dtype=dtype, float_dtype=fallback)


def torch_dtype(name: str) -> Any:
    """The torch dtype for a dtype name of :data:`DTYPES`."""
    torch = require_torch()
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16,
            "int8": torch.int8}[name]


def synchronize(target: Target) -> None:
    """Wait for queued device work (no-op on the CPU)."""
    if target.is_cuda:
        require_torch().cuda.synchronize(target.device)
