"""The GPU baseline's measurement list, run in priority order under one wall-clock budget.

A device is often lent for minutes, not hours. :func:`run_campaign` runs the list of
:data:`STUDY_ITEMS` (or any list of :class:`Item`) in one process, highest priority first,
and stops cleanly when the budget is spent: the item running at the deadline is cut, every
later one is recorded as skipped, and the manifest (``campaign.json``: each item's status,
seconds, files and message) is rewritten after every item, so even a hard kill leaves an
account of what was measured. Each item is one ``accelsim gpu measure`` or
``accelsim gpu whole-model`` call, run in-process to pay the start-up of torch once.

``dry_run`` rehearses the whole list on the CPU with every input shrunk to a few pixels
and tiny timing budgets: it exercises every workload, path, file name and the manifest
without a GPU, which is what makes a short device window enough.
"""

from __future__ import annotations

import json
import signal
import time
import traceback
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

#: SegFormer-B2 execution paths of the study (Sreedhar et al. Table III rows B2_a..B2_f, the
#: untrained ``pred_in=736`` point of Sec. V-A, DynaSegFormer at 30 % and 50 % pruning).
B2_PATHS: tuple[tuple[str, str], ...] = (
    ("B2_a", "blocks=3-4-6-3;fuse_in=1920"),
    ("B2_b", "blocks=3-4-6-3;fuse_in=1664"),
    ("B2_c", "blocks=2-4-6-3;fuse_in=1408"),
    ("B2_d", "blocks=2-3-6-3;fuse_in=1024"),
    ("B2_e", "blocks=2-3-5-3;fuse_in=896"),
    ("B2_f", "blocks=2-3-5-3;fuse_in=512"),
    ("pred_in=736", "pred_in=736"),
    ("DynaSegFormer 30 %", "gate_prune=0.3;decoder_sum=1"),
    ("DynaSegFormer 50 %", "gate_prune=0.5;decoder_sum=1"),
)

#: smallest input a workload accepts, for the dry run's shrinking (OFA's elastic resolution is
#: 128-224 px, accelsim.workload.ofa); every other model takes any multiple of 32
MIN_SIDE = {"ofa-resnet50": 128}

#: models measured per layer only: no transformers definition (docs/gpu.md, Whole models)
NO_WHOLE = frozenset({"anchor-detr-r50", "ofa-resnet50", "segmenter-vit-s16-mask", "segmenter-vit-l16-mask"})


@dataclass(frozen=True)
class Item:
    """One measurement: a per-layer table or a whole-model timing of one workload.

    ``input`` is ``HxW`` in pixels; ``energy`` adds NVML board energy; ``group`` is the
    priority group (1 = most important) of the issue's list.
    """

    group: int
    kind: str  # "per-layer" | "whole-model"
    workload: str
    input: str
    exec_path: str = ""
    energy: bool = False
    label: str = ""

    @property
    def key(self) -> str:
        """A file-name-safe identifier, unique within a campaign."""
        import re

        parts = [self.workload, self.input, self.exec_path, "whole" if self.kind == "whole-model" else "",
                 "energy" if self.energy else ""]
        return "_".join(re.sub(r"[^A-Za-z0-9.+-]+", "-", p).strip("-").lower() for p in parts if p)


@dataclass
class Outcome:
    """What happened to one item: status is done, failed, cut (deadline) or skipped."""

    item: Item
    status: str = "skipped"
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)
    message: str = ""


def _pair(group: int, wl: str, size: str, path: str = "", label: str = "", whole: bool = True,
          energy_whole: bool = False) -> list[Item]:
    """A per-layer item, then the whole model of the same workload (for the ratio)."""
    items = [Item(group, "per-layer", wl, size, path, label=label)]
    if whole and not path and wl not in NO_WHOLE:
        items.append(Item(group, "whole-model", wl, size, energy=energy_whole, label=label))
    return items


def study_items() -> list[Item]:
    """The study's GPU list in the priority order of the baseline (docs/gpu.md, Device run)."""
    items: list[Item] = []
    # 1. SegFormer-B2 at 512x512: per layer, whole model with NVML energy
    items += _pair(1, "segformer-b2", "512x512", energy_whole=True)
    # 2. size sweep 256..2048 (square) of SegFormer-B2 and Swin-T UPerNet, per layer;
    #    ends of the range first, so a cut sweep still spans it
    for s in (256, 2048, 1024, 384, 768, 1536):
        items.append(Item(2, "per-layer", "segformer-b2", f"{s}x{s}"))
    for s in (256, 2048, 512, 1024, 384, 768, 1536):
        items.append(Item(2, "per-layer", "swin-t-upernet", f"{s}x{s}"))
    # 3. the execution paths of Table III, pred_in, DynaSegFormer; B0 and B1 whole models
    for label, path in B2_PATHS:
        items.append(Item(3, "per-layer", "segformer-b2", "512x512", path, label=label))
    for v in ("b0", "b1"):
        items += _pair(3, f"segformer-{v}", "512x512")
    # 4. Swin-T/S/B UPerNet at 512x512 (T's per-layer table is in group 2)
    items.append(Item(4, "whole-model", "swin-t-upernet", "512x512"))
    for v in ("s", "b"):
        items += _pair(4, f"swin-{v}-upernet", "512x512")
    # 5. the DETR family at 800x1200, OFA-ResNet-50 at 224x224
    for m in ("detr-r50", "conditional-detr-r50", "dab-detr-r50", "anchor-detr-r50"):
        items += _pair(5, m, "800x1200")
    items += _pair(5, "ofa-resnet50", "224x224")
    # 6. Segmenter (ViT-S/16 at 512, ViT-L/16 at 640; linear and mask decoders)
    for d in ("linear", "mask"):
        items += _pair(6, f"segmenter-vit-s16-{d}", "512x512")
        items += _pair(6, f"segmenter-vit-l16-{d}", "640x640")
    # 7. per-layer NVML energy, if time remains
    items.append(Item(7, "per-layer", "segformer-b2", "512x512", energy=True))
    return items


@dataclass(frozen=True)
class Settings:
    """Device, dtype and timing knobs shared by every item (seconds are wall-clock)."""

    device: str = "cuda"
    dtype: str = "fp16"
    layer_budget_s: float = 0.25   # timing seconds per layer
    whole_budget_s: float = 3.0    # timing seconds per whole model
    energy_s: float = 2.0          # seconds of each NVML energy loop
    layer_energy_s: float = 0.5    # per-layer energy loops (group 7)
    min_repeats: int = 5
    max_repeats: int = 200
    shrink_to: int | None = None   # dry run: every input becomes about this many pixels a side


def shrink(size: str, side: int) -> str:
    """Scale ``HxW`` down so its longer side is ``side`` pixels, keeping the aspect (multiple of 32)."""
    h, w = (int(v) for v in size.lower().split("x"))
    scale = side / max(h, w)
    return f"{max(32, round(h * scale / 32) * 32)}x{max(32, round(w * scale / 32) * 32)}"


def effective_input(item: Item, settings: Settings) -> str:
    """The input size an item runs at: its own, or shrunk for a dry run."""
    if not settings.shrink_to:
        return item.input
    return shrink(item.input, max(settings.shrink_to, MIN_SIDE.get(item.workload, 0)))


def file_stem(item: Item, settings: Settings) -> str:
    """The item's file stem: its key, plus the size it really ran at in a dry run."""
    size = effective_input(item, settings)
    return item.key if size == item.input else f"{item.key}_as-{size}"


def item_args(item: Item, settings: Settings, out_dir: Path) -> list[str]:
    """The ``accelsim gpu ...`` arguments of one item, writing ``out_dir/<stem>.csv``."""
    size = effective_input(item, settings)
    out = out_dir / f"{file_stem(item, settings)}.csv"
    args = ["gpu", item.kind if item.kind == "whole-model" else "measure", "--workload", item.workload,
            "--input", size, "--device", settings.device, "--dtype", settings.dtype,
            "--min-repeats", str(settings.min_repeats), "--max-repeats", str(settings.max_repeats),
            "-o", str(out)]
    if item.kind == "whole-model":
        args += ["--budget-s", str(settings.whole_budget_s)]
        per_layer = out_dir / f"{file_stem(replace(item, kind='per-layer', energy=False), settings)}.csv"
        if per_layer.exists():
            args += ["--per-layer", str(per_layer)]
    else:
        args += ["--budget-s", str(settings.layer_budget_s)]
        if item.exec_path:
            args += ["--exec-path", item.exec_path]
    if item.energy:
        es = settings.energy_s if item.kind == "whole-model" else settings.layer_energy_s
        args += ["--energy", "--energy-s", str(es)]
    return args


class BudgetSpent(Exception):
    """Raised inside an item when the campaign's deadline passes."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`BudgetSpent` in this (main) thread after ``seconds`` of wall time."""
    def _raise(signum, frame):  # noqa: ARG001 - signal handler signature
        raise BudgetSpent()

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def cli_runner(args: Sequence[str]) -> str:
    """Run one ``accelsim`` command in this process; return what it printed (raises on failure)."""
    import io
    from contextlib import redirect_stdout

    from ..cli.main import cli

    buf = io.StringIO()
    with redirect_stdout(buf):
        cli.main(list(args), prog_name="accelsim", standalone_mode=False)
    return buf.getvalue().strip()


def write_manifest(path: Path, outcomes: Sequence[Outcome], settings: Settings, budget_s: float,
                   started: float) -> None:
    """Rewrite the manifest atomically (a temporary file, then rename)."""
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    doc = {
        "format": "accelsim-gpu-campaign", "version": 1,
        "settings": asdict(settings), "budget_s": budget_s,
        "elapsed_s": round(time.monotonic() - started, 3), "counts": counts,
        "items": [{**asdict(o.item), "key": o.item.key, "status": o.status, "seconds": round(o.seconds, 3),
                   "files": o.files, "message": o.message} for o in outcomes],
    }
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def run_campaign(items: Sequence[Item], settings: Settings, out_dir: "str | Path", budget_s: float,
                 runner: Callable[[Sequence[str]], str] = cli_runner,
                 log: Callable[[str], None] = print, min_item_s: float = 1.0) -> list[Outcome]:
    """Run ``items`` in order until ``budget_s`` wall seconds are spent; return every outcome.

    An item that fails is recorded with its one-line reason and the campaign goes on; the
    item running at the deadline is ``cut``; items not started are ``skipped``. Items are
    not started with less than ``min_item_s`` seconds left.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "campaign.json"
    outcomes = [Outcome(it) for it in items]
    started = time.monotonic()
    write_manifest(manifest, outcomes, settings, budget_s, started)
    for i, o in enumerate(outcomes):
        left = budget_s - (time.monotonic() - started)
        if left < min_item_s:
            o.message = "budget spent before it started"
            continue
        args = item_args(o.item, settings, out)
        log(f"[{i + 1}/{len(outcomes)}] group {o.item.group} {o.item.kind} {o.item.key} ({left:.0f} s left)")
        t0 = time.monotonic()
        try:
            with deadline(left):
                printed = runner(args).splitlines()
            o.status, o.message = "done", (printed[-1] if printed else "")
        except BudgetSpent:
            o.status, o.message = "cut", "the campaign's budget ran out while it ran"
        except BaseException as exc:  # noqa: BLE001 - one item's failure must not end the campaign
            if isinstance(exc, KeyboardInterrupt):
                raise
            o.status = "failed"
            o.message = (f"{type(exc).__name__}: {exc}".splitlines() or ["failed"])[0][:400]
            (out / f"{o.item.key}.error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        o.seconds = time.monotonic() - t0
        stem = file_stem(o.item, settings)
        o.files = [n for n in (f"{stem}.csv", f"{o.item.key}.error.txt") if (out / n).is_file()]
        log(f"    {o.status} in {o.seconds:.1f} s: {o.message}")
        write_manifest(manifest, outcomes, settings, budget_s, started)
    return outcomes


def summary(outcomes: Sequence[Outcome]) -> str:
    """A plain-text account: counts by status, then the items not done, one line each."""
    lines = []
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    lines.append(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    for o in outcomes:
        if o.status != "done":
            lines.append(f"{o.status}: group {o.item.group} {o.item.kind} {o.item.key}"
                         + (f" ({o.message})" if o.message else ""))
    return "\n".join(lines)
