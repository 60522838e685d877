"""Whether the mapping search must be compiled before its first call (a cold numba cache).

numba compiles :func:`accelsim.cost.mapper.search` on first use and caches the machine
code next to the source (``__pycache__``); later runs load it in well under a second.
:func:`mapper_cache_cold` reads only the cache index (a small pickle) to tell, so a
command can say "compiling the mapper, first run only" before the 10-30 s compile.
"""

from __future__ import annotations


def mapper_cache_cold() -> bool:
    """True when no cached compilation of the mapper matches this source and CPU.

    False when it is cached, already compiled in this process, or the state cannot be
    read (numba internals differ): the notice is then simply not shown.
    """
    try:
        from .mapper import search

        if search.signatures:  # compiled (or loaded) in this process already
            return False
        index = search._cache._cache_file._load_index()  # {} when stale (source changed)
        magic = search.targetctx.codegen().magic_tuple()
        return not any(key[1] == magic for key in index)
    except Exception:  # noqa: BLE001  (private numba API: any failure means "unknown")
        return False
