"""``accelsim gpu``: measure the GPU baseline per layer and per whole model, and tabulate it."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import AccelsimError
from .common import CLASSES, load_cli_workload, output_option

#: most timed repeats of one layer or model
REPEATS = 1_000_000



def default_dir() -> Path:
    """The project's ``reports/gpu`` (the same folder wherever the command runs from)."""
    from ..resources import project_root

    return project_root() / "reports" / "gpu"


def _policy(max_repeats: int, rel_ci: float, budget_s: float, min_repeats: int, cpu_clock: str):
    from ..gpu.timing import TimingPolicy

    if max_repeats < min_repeats or min_repeats < 1:
        raise AccelsimError(f"--max-repeats {max_repeats} must be >= --min-repeats {min_repeats} >= 1")
    if rel_ci <= 0 or budget_s <= 0:
        raise AccelsimError("--rel-ci and --budget-s must be positive")
    return TimingPolicy(min_repeats=min_repeats, max_repeats=max_repeats, rel_ci=rel_ci, budget_s=budget_s,
                        cpu_clock=cpu_clock)


def _target(device: str, dtype: str, threads: int | None, cpu_clock: str = "wall"):
    from ..gpu.device import require_torch, resolve_target

    target = resolve_target(device, dtype)
    if cpu_clock == "thread" and (target.is_cuda or (threads or 1) != 1):
        raise AccelsimError("--cpu-clock thread needs --device cpu and --threads 1 (it reads the calling "
                            "thread's CPU time)")
    if threads is None and not target.is_cuda:
        threads = 1  # one thread: multi-threaded CPU timings are erratic on a shared host
    if threads is not None:
        if threads < 1:
            raise AccelsimError(f"--threads {threads} must be >= 1")
        require_torch().set_num_threads(threads)
    return target


def _out_path(out: str | None, meta: dict) -> Path:
    from ..gpu.data import default_filename

    return Path(out) if out else default_dir() / default_filename(meta)


def _check_out(out: str | None) -> None:
    """A measurement file is CSV with a metadata header: refuse another suffix before any work."""
    if out and Path(out).suffix.lower() != ".csv":
        raise AccelsimError(f"{out}: a GPU measurement is written as .csv (with a '# key = value' metadata "
                            "header; read it with accelsim.gpu.load)")


def _groups(text: str) -> set[int]:
    """``1-3`` or ``1,3,5`` -> the priority groups 1..7 they name."""
    wanted: set[int] = set()
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            wanted.update(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise AccelsimError(f"--groups {text!r}: expected groups 1..7 as '1-3' or '1,3'") from None
    if not wanted or not wanted <= set(range(1, 8)):
        raise AccelsimError(f"--groups {text!r}: groups are 1..7")
    return wanted


def _timing_options(fn):
    for opt in reversed([
        click.option("--dtype", type=click.Choice(["fp16", "bf16", "fp32", "int8"]), default="fp16",
                     show_default=True, help="int8: int8 GEMMs where a kernel exists, others in fp16/fp32"),
        click.option("--device", default="cuda", show_default=True, help="cuda, cuda:N or cpu"),
        click.option("--input", "input_size", default=None, help="input size HxW (default: the model's)"),
        click.option("--classes", type=CLASSES, default=None, help="number of classes"),
        click.option("--min-repeats", type=click.IntRange(1, REPEATS), default=5, show_default=True),
        click.option("--rel-ci", type=float, default=0.02, show_default=True,
                     help="stop when the 95% CI of the median is within this fraction"),
        click.option("--energy/--no-energy", default=False, show_default=True,
                     help="NVML board energy (mean power x time)"),
        click.option("--energy-s", type=float, default=2.0, show_default=True,
                     help="seconds of the energy loop"),
        click.option("--cudnn-benchmark/--no-cudnn-benchmark", default=True, show_default=True),
        click.option("--cpu-clock", type=click.Choice(["wall", "thread"]), default="wall", show_default=True,
                     help="CPU runs: wall clock, or the calling thread's CPU time (with --threads 1)"),
        click.option("--threads", type=click.IntRange(1, 4096), default=None,
                     help="torch CPU threads (default 1 for --device cpu, torch's default for cuda)"),
        output_option("-o", "--output", "out", default=None,
                      help="output CSV (default: the project's reports/gpu/<device>_<workload>_<HxW>_<dtype>.csv)"),
    ]):
        fn = opt(fn)
    return fn


def register(cli: click.Group) -> None:
    @cli.group("gpu")
    def gpu() -> None:
        """Measured GPU baseline: per-layer and whole-model timing, energy, tables."""

    @gpu.command("measure")
    @click.option("--workload", "-w", required=True, help="registry name or workload YAML")
    @click.option("--exec-path", "--path", "exec_path", default="", help="execution path string")
    @click.option("--max-repeats", type=click.IntRange(1, REPEATS), default=200, show_default=True)
    @click.option("--budget-s", type=float, default=1.0, show_default=True, help="seconds per layer")
    @click.option("--no-dedup", is_flag=True, help="time every layer, even ones identical to an earlier one")
    @_timing_options
    def measure(workload, exec_path, max_repeats, budget_s, no_dedup, dtype, device, input_size, classes,
                min_repeats, rel_ci, energy, energy_s, cudnn_benchmark, cpu_clock, threads, out):
        """Time every layer of a workload as its PyTorch op; write one CSV."""
        from ..gpu.data import conv_shares, with_meta, write
        from ..gpu.harness import EnergyPolicy, measure_workload

        _check_out(out)
        policy = _policy(max_repeats, rel_ci, budget_s, min_repeats, cpu_clock)
        target = _target(device, dtype, threads, cpu_clock)
        wl = load_cli_workload(workload, input_size, classes, exec_path)
        m = measure_workload(wl, target, policy, EnergyPolicy(energy, energy_s), dedup=not no_dedup,
                             benchmark=cudnn_benchmark, progress=True)
        path = write(m, _out_path(out, m.meta))
        s = conv_shares(with_meta(m.frame, m.meta, path)).iloc[0]
        errors = int((m.frame["status"] != "ok").sum())
        click.echo(f"wrote {path}: {m.meta['label']}, {len(m.frame)} layers ({errors} failed), "
                   f"{s.gmacs:.2f} GMACs, per-layer sum {s.latency_s * 1e3:.3f} ms, "
                   f"{s.tflops:.3f} TFLOP/s, conv MAC share {s.conv_mac_share:.1%}, "
                   f"conv time share {s.conv_time_share:.1%}")

    @gpu.command("whole-model")
    @click.option("--workload", "-w", required=True, help="model name (see `accelsim gpu info`)")
    @click.option("--per-layer", "per_layer", default=None, type=click.Path(dir_okay=False),
                  help="per-layer CSV of the same workload: adds the whole / per-layer-sum ratio")
    @click.option("--max-repeats", type=click.IntRange(1, REPEATS), default=200, show_default=True)
    @click.option("--budget-s", type=float, default=10.0, show_default=True, help="seconds of timing")
    @_timing_options
    def whole_model(workload, per_layer, max_repeats, budget_s, dtype, device, input_size, classes,
                    min_repeats, rel_ci, energy, energy_s, cudnn_benchmark, cpu_clock, threads, out):
        """Time a whole transformers model (random weights, eval, batch 1); write one CSV."""
        from ..gpu.data import read, write
        from ..gpu.harness import EnergyPolicy
        from ..gpu.whole import hf_model, measure_whole
        from ..workload.registry import load_workload, parse_size

        _check_out(out)
        spec = hf_model(workload)
        policy = _policy(max_repeats, rel_ci, budget_s, min_repeats, cpu_clock)
        target = _target(device, dtype, threads, cpu_clock)
        layers = read(per_layer) if per_layer else None
        size = parse_size(input_size) or (
            parse_size(layers.meta["input"]) if layers else None)
        try:
            wl = load_workload(spec.name, input_size=size, num_classes=classes)
            macs, size = wl.macs, size or wl.input_size
        except AccelsimError:  # no analytic workload of that name: time only
            macs, size = None, size or spec.default_input
        m = measure_whole(spec, size, target, classes, policy, EnergyPolicy(energy, energy_s),
                          cudnn_benchmark, layers, macs)
        path = write(m, _out_path(out, m.meta))
        row = m.frame.iloc[0]
        ratio = f", whole / per-layer sum {row['ratio']:.2f}" if "ratio" in row else ""
        click.echo(f"wrote {path}: {m.meta['label']}, {spec.name} {m.meta['input']} median "
                   f"{row['median_s'] * 1e3:.3f} ms (p10 {row['p10_s'] * 1e3:.3f}, p90 "
                   f"{row['p90_s'] * 1e3:.3f}, {row['repeats']} repeats){ratio}")

    @gpu.command("table")
    @click.option("--glob", "pattern", default=None,
                  help="measurement files: a file, a folder (searched recursively) or a glob "
                       "[default: the project's reports/gpu]")
    @click.option("--readme", default=None,
                  help="markdown file whose table block is replaced [default: reports/gpu/README.md]")
    @click.option("--no-write", is_flag=True, help="print the table only")
    def table(pattern, readme, no_write):
        """Per-workload table: GMACs, latency, TFLOP/s, conv MAC share vs conv time share."""
        from ..gpu.data import load, render_table, update_readme, whole_vs_layers
        from ..safeio import check_output

        readme = readme or default_dir() / "README.md"
        if not no_write:
            check_output(readme, "README")  # before the files are read
        text = render_table(whole_vs_layers(load(pattern or default_dir())))
        click.echo(text)
        if not no_write:
            click.echo(f"updated {update_readme(readme, text)}")

    @gpu.command("campaign")
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
                  help="folder for the measurement files and campaign.json")
    @click.option("--budget-s", type=click.FloatRange(1, 86_400), default=420.0, show_default=True,
                  help="wall-clock seconds for the whole list")
    @click.option("--device", default="cuda", show_default=True, help="cuda, cuda:N or cpu")
    @click.option("--dtype", type=click.Choice(["fp16", "bf16", "fp32"]), default="fp16", show_default=True)
    @click.option("--groups", default="1-7", show_default=True, help="priority groups to run, e.g. 1-3 or 1,3")
    @click.option("--dry-run", is_flag=True,
                  help="rehearse on the CPU: fp32, inputs shrunk to 64 px, tiny timing budgets")
    @click.option("--list", "list_only", is_flag=True, help="print the items and exit")
    def campaign(out_dir, budget_s, device, dtype, groups, dry_run, list_only):
        """Run the baseline's measurement list in priority order under one time budget."""
        from ..gpu.campaign import Settings, run_campaign, study_items, summary

        wanted = _groups(groups)
        items = [it for it in study_items() if it.group in wanted]
        if dry_run:
            settings = Settings(device="cpu", dtype="fp32", layer_budget_s=0.002, whole_budget_s=0.05,
                                energy_s=0.05, layer_energy_s=0.01, min_repeats=1, max_repeats=3, shrink_to=64)
        else:
            settings = Settings(device=device, dtype=dtype)
        if list_only:
            for it in items:
                click.echo(f"{it.group} {it.kind:11s} {it.key}")
            return
        from ..safeio import check_folder

        check_folder(out_dir, "campaign folder")
        _target(settings.device, settings.dtype, None)  # no CUDA device: one line, before any work
        outcomes = run_campaign(items, settings, out_dir, budget_s, log=lambda s: click.echo(s, err=True))
        click.echo(summary(outcomes))

    @gpu.command("info")
    @click.option("--device", default="cpu", show_default=True, help="cuda, cuda:N or cpu")
    def info(device):
        """Print the metadata block this machine would record, and the whole-model names."""
        from ..gpu.device import resolve_target
        from ..gpu.meta import device_meta
        from ..gpu.whole import HF_MODELS

        for k, v in device_meta(resolve_target(device, "fp32")).items():
            click.echo(f"{k}: {v}")
        click.echo(f"whole-model names: {', '.join(sorted(HF_MODELS))}")
