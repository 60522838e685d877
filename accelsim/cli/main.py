"""``accelsim`` entry point: a click group whose subcommands live in sibling modules.

Subcommand modules are imported only when their command runs (``--version`` and
``--help`` stay fast). User errors (:class:`~accelsim.errors.AccelsimError`, bad options)
print one line ``error: ...`` to stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings
from functools import lru_cache

import click

from ..errors import AccelsimError
from ..safeio import one_line

#: command name -> sibling module whose ``register(group)`` defines it (in ``--help`` order)
COMMANDS: dict[str, str] = {
    "simulate": "simulate", "map": "mapping", "arch": "arch", "workload": "workload", "sweep": "sweep",
    "pareto": "pareto", "plot": "plot", "report": "report", "paths": "paths", "rdd": "paths", "gpu": "gpu",
    "validate": "validate",
}


@lru_cache(maxsize=None)
def _module_commands(module: str) -> dict[str, click.Command]:
    """The commands a sibling module registers (imported on first use)."""
    scratch = click.Group()
    importlib.import_module(f"accelsim.cli.{module}").register(scratch)
    return dict(scratch.commands)


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMANDS.get(name)
        return _module_commands(module).get(name) if module else None

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and args[0] not in COMMANDS and not args[0].startswith("-"):
            from ..suggest import did_you_mean

            hint = did_you_mean(args[0], COMMANDS)
            raise click.UsageError(f"no command {args[0]!r}" + (f"; {hint}" if hint else "")
                                   + f" (commands: {', '.join(COMMANDS)})")
        return super().resolve_command(ctx, args)


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
    click.echo(f"warning: {one_line(message)}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 user error)."""
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            rv = cli.main(args=argv, prog_name="accelsim", standalone_mode=False)
            return rv if isinstance(rv, int) else 0
        except AccelsimError as exc:
            click.echo(f"error: {one_line(exc)}", err=True)
            return 2
        except click.exceptions.Abort:
            click.echo("aborted", err=True)
            return 130
        except click.ClickException as exc:
            click.echo(f"error: {one_line(exc.format_message())}", err=True)
            return 2
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            return 130


if __name__ == "__main__":
    sys.exit(main())
