"""``accelsim`` entry point: a click group whose subcommands live in sibling modules.

A subcommand's module is imported only when that subcommand runs (or its help is shown),
so ``accelsim --help`` and ``accelsim --version`` import click alone: the command list
reads each command's one-line summary from its module's source (its docstring) without
importing it. User errors (:class:`~accelsim.errors.AccelsimError`, bad options) print one
line ``error: ...`` to stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import ast
import importlib
import sys
from functools import lru_cache
from pathlib import Path

import click

from .. import __version__
from ..errors import AccelsimError

#: subcommand -> sibling module whose ``register(group)`` defines it
COMMANDS = {"simulate": "simulate", "map": "mapping", "arch": "arch", "workload": "workload",
            "sweep": "sweep", "pareto": "pareto", "plot": "plot", "report": "report", "paths": "paths",
            "rdd": "paths", "gpu": "gpu", "validate": "validate"}


@lru_cache(maxsize=None)
def module_commands(module: str) -> dict[str, click.Command]:
    """The commands that ``accelsim.cli.<module>`` registers (imports it)."""
    group = click.Group()
    importlib.import_module(f"accelsim.cli.{module}").register(group)
    return dict(group.commands)


@lru_cache(maxsize=None)
def command_help(module: str) -> dict[str, str]:
    """Each command's help text (its function's docstring, cleaned), read from
    the module's source without importing it: functions decorated ``@cli.command("name")``
    or ``@cli.group("name")``."""
    tree = ast.parse((Path(__file__).parent / f"{module}.py").read_text(encoding="utf-8"))
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            if (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute)
                    and deco.func.attr in ("command", "group") and deco.args
                    and isinstance(deco.args[0], ast.Constant)):
                found[deco.args[0].value] = ast.get_docstring(node) or ""
    return found


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when the subcommand is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> "click.Command | None":
        module = COMMANDS.get(name)
        return module_commands(module).get(name) if module else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``, as click writes it, from the sources' docstrings."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            text = command_help(COMMANDS[name]).get(name)
            cmd = click.Command(name, help=text) if text is not None else self.get_command(ctx, name)
            rows.append((name, cmd.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="accelsim")
def cli() -> None:
    """Simulate MAGNet-style accelerators on vision workloads, sweep, and plot."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 user error)."""
    try:
        rv = cli.main(args=argv, prog_name="accelsim", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except AccelsimError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        return 2
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
