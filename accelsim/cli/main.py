"""``accelsim`` entry point: a click group whose subcommands live in sibling modules.

User errors (:class:`~accelsim.errors.AccelsimError`, bad options) print one line
``error: ...`` to stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import click

from ..errors import AccelsimError
from ..safeio import one_line

#: sibling modules that define ``register(group)``
COMMAND_MODULES = ("simulate", "arch", "workload", "sweep", "pareto", "plot", "report", "paths", "gpu")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="accelsim")
def cli() -> None:
    """Simulate MAGNet-style accelerators on vision workloads, sweep, and plot."""


def _register_all() -> None:
    for mod in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"accelsim.cli.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name == f"accelsim.cli.{mod}":
                continue
            raise
        module.register(cli)


_register_all()


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
