"""Progress bars for long commands: on a terminal only, and only once a run has taken
:data:`DELAY_S` seconds, so short runs print nothing."""

from __future__ import annotations

from typing import Iterable, TypeVar

T = TypeVar("T")

#: seconds before a bar appears
DELAY_S = 2.0


def progress(items: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it",
             enabled: bool = True) -> Iterable[T]:
    """``items`` wrapped in a tqdm bar on stderr when ``enabled`` (hidden when stderr is not a
    terminal, and during the first :data:`DELAY_S` seconds)."""
    if not enabled:
        return items
    from tqdm import tqdm  # the plain bar: no notebook widget (and no warning where ipywidgets is missing)

    return tqdm(items, total=total, desc=desc, unit=unit, delay=DELAY_S, leave=False, disable=None,
                dynamic_ncols=True)
