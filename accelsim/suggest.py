"""Close-match suggestions for unknown names (commands, workloads, architectures)."""

from __future__ import annotations

import difflib
from typing import Iterable


def close_matches(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` of ``choices`` that look like ``name`` (case-insensitive), best first."""
    options = list(dict.fromkeys(str(c) for c in choices))
    lower = {c.lower(): c for c in options}
    hits = difflib.get_close_matches(str(name).lower(), list(lower), n=n, cutoff=0.6)
    prefix = [c for c in options if c.lower().startswith(str(name).lower()) and c.lower() not in hits]
    return ([lower[h] for h in hits] + prefix)[:n]


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"did you mean 'segformer-b2'?"`` (or ``""`` when nothing is close)."""
    hits = close_matches(name, choices)
    return "did you mean " + " or ".join(repr(h) for h in hits) + "?" if hits else ""
