"""``accelsim --help`` and ``--version`` import no heavy library, each subcommand imports its
own module only, and the lazily built command list is the one click writes from the
commands themselves. (Start-up times are measured in benchmarks/bench_startup.py.)"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import click
import pytest

from accelsim.cli import main as cli_main

HEAVY = ("pandas", "numpy", "numba", "networkx", "pydantic", "pyarrow", "scipy", "yaml", "matplotlib",
         "torch", "tqdm")


def _imported_after(args: list[str]) -> tuple[list[str], list[str]]:
    """(heavy top-level packages, accelsim.cli modules) imported by running ``accelsim ARGS``
    in a fresh interpreter."""
    code = ("import json, sys\nfrom accelsim.cli.main import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
            "mods = set(sys.modules)\n"
            f"print(json.dumps([sorted({{m.split('.')[0] for m in mods}} & set({HEAVY!r})),"
            " sorted(m for m in mods if m.startswith('accelsim.cli.'))]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return tuple(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_top_level_flags_import_nothing_heavy(flag):
    heavy, cli_mods = _imported_after([flag])
    assert heavy == []
    assert cli_mods == ["accelsim.cli.main"]


def test_a_subcommand_imports_its_module_only():
    _, cli_mods = _imported_after(["sweep", "--help"])
    assert set(cli_mods) - {"accelsim.cli.main", "accelsim.cli.common", "accelsim.cli.guards"} == {"accelsim.cli.sweep"}


def test_command_list_matches_the_commands():
    """Every module's commands are in the table, and each summary read from the sources is
    the one click derives from the imported command."""
    ctx = click.Context(cli_main.cli)
    eager = click.Group()
    for module in set(cli_main.COMMANDS.values()):
        cli_main.module_commands(module)  # imports it
        for name, cmd in cli_main.module_commands(module).items():
            eager.add_command(cmd, name)
            assert cli_main.COMMANDS.get(name) == module, name
            assert cli_main.command_help(module)[name] == inspect.cleandoc(cmd.help), name
    assert sorted(eager.commands) == cli_main.cli.list_commands(ctx)
    lazy_help = cli_main.cli.get_help(ctx)
    eager_help = click.Group("accelsim", commands=eager.commands, help=cli_main.cli.help,
                             params=cli_main.cli.params).get_help(ctx)
    assert lazy_help.split("Commands:")[1] == eager_help.split("Commands:")[1]


def test_version_and_unknown_command(capsys):
    assert cli_main.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("accelsim 0.1.0")
    assert cli_main.main(["simulat"]) == 2
    err = capsys.readouterr().err
    assert "no command 'simulat'" in err and "simulate" in err and len(err.splitlines()) == 1
