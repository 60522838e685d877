"""Compiled code of the cost model: one jitted entry point, cached on disk under a key of
every cost source.

numba's ``cache=True`` keys a function's cache on its own source file only, so a cached
function that inlines code from another file (the search inlines :mod:`.equations`) would keep
stale machine code after that other file changes. :func:`jit` therefore puts the cache in a
directory named after a digest of every ``*.py`` file of the package that holds the jitted
code: any edit to any of them selects a fresh directory and a fresh compile.

The directory is ``<numba cache dir>/accelsim-jit-<digest>`` when the user set one
(``NUMBA_CACHE_DIR``), else ``__pycache__/accelsim-jit-<digest>`` next to the sources when it
is writable, else the same under numba's user-wide cache folder. numba's own setting is
changed only while a function is being decorated and restored at once, so no state leaks
into user code. :func:`jit_cache_is_warm` tells whether the first call will compile.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
from pathlib import Path
from typing import Any, Callable

#: folder of the jitted cost-model sources
COST_DIR = Path(__file__).resolve().parent
PREFIX = "accelsim-jit-"


def source_digest(folder: Path = COST_DIR) -> str:
    """SHA-256 (16 hex digits) of the names and bytes of every ``*.py`` file in ``folder``."""
    h = hashlib.sha256()
    for f in sorted(folder.glob("*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def cache_dir(folder: Path = COST_DIR) -> Path:
    """The cache directory of the jitted code in ``folder`` (module docstring); stale
    siblings of an in-tree cache (other digests) are removed."""
    import numba

    name = PREFIX + source_digest(folder)
    if numba.config.CACHE_DIR:
        return Path(numba.config.CACHE_DIR) / name
    in_tree = folder / "__pycache__"
    if _writable(in_tree):
        for old in in_tree.glob(PREFIX + "*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        return in_tree / name
    from numba.misc.appdirs import AppDirs

    return Path(AppDirs(appname="numba", appauthor=False).user_cache_dir) / name


def jit(fn: "Callable | None" = None, *, sources: Path = COST_DIR, **options: Any):
    """``numba.njit(cache=True, **options)`` with the cache in :func:`cache_dir` of ``sources``."""
    if fn is None:
        return lambda f: jit(f, sources=sources, **options)
    import numba

    old = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = str(cache_dir(sources))
    try:  # numba resolves a function's cache locator while decorating it
        return numba.njit(cache=True, **options)(fn)
    finally:
        numba.config.CACHE_DIR = old


def is_cached(dispatcher, signature: tuple) -> bool:
    """True when ``dispatcher`` (a :func:`jit` function) has machine code for ``signature``
    (numba types) in its cache, valid for this numba, source and CPU: calling it loads, not
    compiles."""
    cache = getattr(dispatcher, "_cache", None)
    index = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
    if not index or not os.path.isfile(index):
        return False
    try:
        overloads = cache._cache_file._load_index()
        key = cache._index_key(signature, dispatcher.targetctx.codegen())
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, TypeError, ValueError):
        return False
    return key in overloads
