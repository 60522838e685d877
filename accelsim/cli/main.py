"""``accelsim`` entry point: a click group whose subcommands live in sibling modules.

A subcommand's module is imported only when that subcommand runs (or its help is shown),
so ``accelsim --help`` and ``accelsim --version`` import click alone: the command list
reads each command's one-line summary from its module's source (its docstring) without
importing it. User errors (:class:`~accelsim.errors.AccelsimError`, bad options) print one
line ``error: ...`` to stderr and exit with status 2, never a traceback; warnings print as
one ``warning: ...`` line.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import warnings
from functools import lru_cache
from pathlib import Path

import click

from ..errors import AccelsimError

#: command name -> sibling module whose ``register(group)`` defines it
COMMANDS: dict[str, str] = {
    "simulate": "simulate", "map": "mapping", "arch": "arch", "workload": "workload", "sweep": "sweep",
    "pareto": "pareto", "plot": "plot", "report": "report", "paths": "paths", "rdd": "paths", "gpu": "gpu",
    "validate": "validate", "sensitivity": "sensitivity", "explore": "explore",
}


@lru_cache(maxsize=None)
def module_commands(module: str) -> dict[str, click.Command]:
    """The commands that ``accelsim.cli.<module>`` registers (imports it)."""
    from .guards import guard

    group = click.Group()
    importlib.import_module(f"accelsim.cli.{module}").register(group)
    return {name: guard(cmd) for name, cmd in group.commands.items()}


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

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and args[0] not in COMMANDS and not args[0].startswith("-"):
            from ..suggest import did_you_mean

            hint = did_you_mean(args[0], COMMANDS)
            raise click.UsageError(f"no command {args[0]!r}" + (f"; {hint}" if hint else "")
                                   + f" (commands: {', '.join(sorted(COMMANDS))})")
        return super().resolve_command(ctx, args)

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


def git_commit(root) -> str:
    """``git describe --always --dirty`` of the project checkout at ``root`` ("" when not a checkout)."""
    if not (root / ".git").exists():
        return ""
    try:
        out = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=12"],
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def version_text() -> str:
    """``accelsim 0.1.0 (commit 1a2b3c4d5e6f)``; the commit when running from a git checkout."""
    from .. import __version__
    from ..resources import project_root

    commit = git_commit(project_root())
    return f"accelsim {__version__}" + (f" (commit {commit})" if commit else "")


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_text())
        ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version (and the git commit of a checkout) and exit.")
def cli() -> None:
    """Simulate MAGNet-style accelerators on vision workloads, sweep, and plot."""


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Warnings print as one ``warning: ...`` line (no source line, no traceback)."""
    from ..safeio import one_line

    click.echo(f"warning: {one_line(message)}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 user error)."""
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            rv = cli.main(args=argv, prog_name="accelsim", standalone_mode=False)
            return rv if isinstance(rv, int) else 0
        except AccelsimError as exc:
            from ..safeio import one_line

            click.echo(f"error: {one_line(exc)}", err=True)
            return 2
        except click.exceptions.Abort:
            click.echo("aborted", err=True)
            return 130
        except click.ClickException as exc:
            from ..safeio import one_line

            click.echo(f"error: {one_line(exc.format_message())}", err=True)
            return 2
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            return 130


if __name__ == "__main__":
    sys.exit(main())
