"""User-facing errors. The CLI prints their message on one line and exits with status 2."""

from __future__ import annotations


class AccelsimError(ValueError):
    """Base class of errors caused by user input (bad config, unknown name, bad path)."""


class ConfigError(AccelsimError):
    """An architecture, technology or sweep file is malformed or out of range."""


class WorkloadError(AccelsimError):
    """An unknown workload, variant, input size or execution path."""
