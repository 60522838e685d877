"""Command-line interface (``accelsim ...``)."""
