"""Whether the mapping search must be compiled before its first call (a cold numba cache).

numba compiles the search on first use and caches the machine code under a folder keyed by
the cost sources (:mod:`accelsim.cost.mapper`); later runs load it in about a second.
:func:`mapper_cache_cold` asks :func:`accelsim.cost.mapper.jit_cache_is_warm`, so a command
can say "compiling the mapper, first run only" before the compile.
"""

from __future__ import annotations


def mapper_cache_cold() -> bool:
    """True when no cached compilation of the mapper matches these sources and this CPU.

    False when it is cached or the state cannot be read (numba internals differ): the
    notice is then simply not shown.
    """
    try:
        from .mapper import jit_cache_is_warm

        return not jit_cache_is_warm()
    except Exception:  # noqa: BLE001  (private numba API underneath: any failure means "unknown")
        return False
