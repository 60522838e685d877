"""Every CLI option that takes a path, found by walking the click command tree (so a new
command is covered without being listed here), refuses bad files in one line without hanging:
``/dev/zero``, a FIFO, a folder (where a file is expected), a path under a file, a
read-only target (outputs) and an unreadable file (inputs).

Each case runs in-process through ``accelsim.cli.main.main`` under a per-case alarm
(:data:`CASE_LIMIT_S`): a reader that blocks on a FIFO or walks ``/dev/zero`` is
interrupted and fails the test instead of hanging it. Read-only targets are a tmpfs
mounted read-only (root ignores permission bits, not a read-only mount); unreadable
files are skipped as root, who reads them anyway.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import click
import pytest

from accelsim.cli.guards import PATH_KINDS, path_kind
from accelsim.cli.main import cli, main

#: seconds one case may take (all fail before any simulation)
CASE_LIMIT_S = 15


def commands(group: click.Group = cli, prefix: tuple[str, ...] = ()):
    """``(path, command)`` for every leaf command of the tree."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            yield from commands(cmd, prefix + (name,))
        else:
            yield prefix + (name,), cmd


COMMANDS = dict(commands())
PATH_OPTIONS = [(path, p.name) for path, cmd in COMMANDS.items() for p in cmd.params if path_kind(p)]
#: words in an option's help or metavar that say it takes a path
PATH_WORDS = re.compile(r"\b(files?|folders?|yaml|csv|glob|director(y|ies))\b")


def test_every_path_option_is_classified():
    """An option whose help or metavar speaks of a file or folder is in PATH_KINDS (so it
    gets the checks); the walk found the commands that take paths."""
    missing = []
    for path, cmd in COMMANDS.items():
        for p in cmd.params:
            text = f"{getattr(p, 'help', '') or ''} {p.metavar or ''}".lower()
            if isinstance(p.type, (click.types.BoolParamType, click.Choice)) or path_kind(p) or p.name == "name":
                continue  # a flag, a choice of formats, a path option already classified, a name
            if isinstance(p.type, click.Path) or PATH_WORDS.search(text):
                missing.append(f"{' '.join(path)} {p.opts[0]}")
    assert missing == []
    assert len(PATH_OPTIONS) > 30 and ("map",) in COMMANDS and ("gpu", "table") in COMMANDS


def test_every_integer_option_is_bounded_and_floats_are_checked():
    loose = [f"{' '.join(path)} {p.opts[0]}" for path, cmd in COMMANDS.items() for p in cmd.params
             if isinstance(p.type, click.types.IntParamType)
             and not (isinstance(p.type, click.IntRange) and p.type.min is not None and p.type.max is not None)]
    assert loose == []
    unchecked = [f"{' '.join(path)} {p.opts[0]}" for path, cmd in COMMANDS.items() for p in cmd.params
                 if isinstance(p.type, click.types.FloatParamType) and p.callback is None]
    assert unchecked == []


@pytest.mark.parametrize("argv", [["map", "-l", "x", "--max-candidates", "99999999999999999999999"],
                                  ["simulate", "--top", "-1"], ["sweep", "s.yaml", "--workers", "10**9"],
                                  ["rdd", "--steps", "99999999999999999999"],
                                  ["simulate", "--tolerance", "nan"], ["paths", "enumerate", "--budget", "inf"]])
def test_huge_and_non_finite_numbers_are_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and argv[-2] in err[0], err


# ------------------------------------------------------------------ the bad files
@pytest.fixture(scope="module")
def readonly_mount(tmp_path_factory):
    """A read-only tmpfs, or None where mounting is not permitted."""
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("mount") is None:
        yield None
        return
    mnt = tmp_path_factory.mktemp("ro")
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mnt)], capture_output=True,
                         timeout=30)
    if out.returncode:
        yield None
        return
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True, timeout=30)


def bad_path(what: str, kind: str, tmp: Path, readonly: "Path | None") -> Path:
    suffix = {"input": ".csv", "output": ".csv", "search": ".csv", "name-or-file": ".yaml"}.get(kind, "")
    if what == "dev_zero":
        p = tmp / f"zero{suffix}"
        p.symlink_to("/dev/zero")
    elif what == "fifo":
        p = tmp / f"fifo{suffix}"
        os.mkfifo(p)
    elif what == "folder":
        if kind in ("folder", "search"):
            pytest.skip("a folder is what this option takes")
        p = tmp / f"dir{suffix}"
        p.mkdir()
    elif what == "under_file":
        (tmp / "afile").write_text("x")
        p = tmp / "afile" / f"x{suffix}"
    elif what == "read_only":
        if kind not in ("output", "folder"):
            pytest.skip("read-only matters to outputs only")
        if readonly is None:
            pytest.skip("needs a read-only mount (root and mount): root writes through permission bits")
        p = readonly / f"out{suffix}"
    else:  # unreadable
        if kind in ("output", "folder"):
            pytest.skip("unreadable matters to inputs only")
        if os.geteuid() == 0:
            pytest.skip("root reads files without read permission")
        p = tmp / f"secret{suffix}"
        p.write_text("a: 1\n")
        p.chmod(0)
    return p


def fillers(tmp: Path) -> dict[str, str]:
    """Valid values for required parameters other than the one under test."""
    results = tmp / "results.csv"
    results.write_text("arch,workload,exec_path,scope,energy_per_op_j,throughput_ops_per_s_per_mm2,latency_s,"
                       "energy_j,accuracy\nE,segformer-b2,,system,1e-13,1e11,0.01,0.05,51.1\n")
    spec = tmp / "spec.yaml"
    spec.write_text("name: t\narch: [E]\nworkloads: [segformer-b0]\n")
    grid = tmp / "grid.yaml"  # explore needs a space and objectives
    grid.write_text("name: t\narch: {base: E, grid: {num_pe: [8, 16]}}\nworkloads: [segformer-b0]\n"
                    "explore: {objectives: {energy_per_op: min, throughput_per_mm2: max}, budget: {evaluations: 2}}\n")
    return {"layer_name": "decode_head.linear_fuse", "workload": "segformer-b0", "results": str(results),
            "spec": str(spec), "model_file": str(tmp / "missing.onnx"), "out": str(tmp / "o.yaml"),
            "explore:spec": str(grid), "workload:name": "segformer-b0"}


#: extra arguments a command needs before it reads its files
EXTRA = {("rdd",): ["--budget-latency", "3ms"], ("gpu", "measure"): ["--device", "cpu"],
         ("gpu", "whole-model"): ["--device", "cpu"], ("sweep",): ["--workload", "segformer-b0"],
         ("workload", "export"): ["--to", "timeloop"]}
#: extra arguments for one option under test
EXTRA_FOR = {(("sweep",), "base"): ["--grid", "num_pe=8,16"],
             # Timeloop export takes a folder as -o; a ZigZag export writes one file
             (("workload", "export"), "out"): ["--to", "zigzag"]}
#: cases known to fail, with the reason (none today: every reader goes through safeio)
KNOWN: dict = {}


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang(f"no answer within {CASE_LIMIT_S} s")


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer (POSIX)")
@pytest.mark.parametrize("what", ["dev_zero", "fifo", "folder", "under_file", "read_only", "unreadable"])
@pytest.mark.parametrize("command,param", PATH_OPTIONS, ids=[f"{' '.join(c)}:{p}" for c, p in PATH_OPTIONS])
def test_path_option_refuses_bad_file(command, param, what, tmp_path, readonly_mount, capsys):
    if (command, param, what) in KNOWN:
        pytest.xfail(KNOWN[(command, param, what)])
    cmd = COMMANDS[command]
    target = next(p for p in cmd.params if p.name == param)
    bad = bad_path(what, PATH_KINDS[param], tmp_path, readonly_mount)
    fill = fillers(tmp_path)
    argv = list(command) + EXTRA.get(command, []) + EXTRA_FOR.get((command, param), [])
    for p in cmd.params:
        value = str(bad) if p is target else (
            fill.get(f"{command[0]}:{p.name}", fill.get(p.name)) if p.required else None)
        if value is None:
            continue
        argv += [value] if isinstance(p, click.Argument) else [p.opts[0], value]
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_LIMIT_S)
    try:
        rc = main(argv)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    err = [line for line in capsys.readouterr().err.splitlines()
           if line.strip() and not line.startswith("compiling the mapper")]
    assert rc == 2, (argv, err)
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0], (argv, err)
    assert str(bad) in err[0] or bad.name in err[0], (argv, err)
