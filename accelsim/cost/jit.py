"""Compiled code of the cost model: one jitted entry point, cached on disk under a key of
every cost source, shared by every checkout and installation of the same sources.

numba's ``cache=True`` keys a function's cache on its own source file only, so a cached
function that inlines code from another file (the search inlines :mod:`.equations`) would keep
stale machine code after that other file changes; and it files the cache under a hash of the
source folder's *path*, so a second checkout, a non-editable install or a worker started from
another folder compiles again (10-40 s). :func:`jit` therefore attaches its own cache locator
(numba's cache-locator interface, the one ``NUMBA_CACHE_LOCATOR_CLASSES`` plugs into, given
to this one function only): the cache directory is named after a digest of every ``*.py``
file of the package that holds the jitted code, and that digest is also the source stamp
numba checks. Any edit to any of those files selects a fresh directory and a fresh compile;
identical sources anywhere on the machine share one compiled copy. numba's index inside it
keys each entry by the CPU (name and features) and numba version, so one directory serves
every CPU of a shared home folder.

The directory is ``<NUMBA_CACHE_DIR>/accelsim-jit-<digest>`` when the user set one, else
``<user cache dir>/accelsim/accelsim-jit-<digest>`` (``~/.cache/accelsim`` on Linux) when
writable, else ``__pycache__/accelsim-jit-<digest>`` next to the sources, else the same under
numba's user-wide cache folder. No global numba setting is changed. :func:`jit_cache_is_warm`
tells whether the first call will compile; ``python -m accelsim.cost.jit`` compiles it now
(for a machine image or a cluster's workers, once per machine).
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


def _user_cache(name: str) -> Path | None:
    from numba.misc.appdirs import AppDirs

    base = os.environ.get("ACCELSIM_CACHE_DIR") or AppDirs(appname="accelsim", appauthor=False).user_cache_dir
    folder = Path(base) / name
    return folder if _writable(folder) else None


def cache_dir(folder: Path = COST_DIR) -> Path:
    """The cache directory of the jitted code in ``folder`` (module docstring); stale
    siblings of an in-tree cache (other digests) are removed."""
    import numba

    name = PREFIX + source_digest(folder)
    if numba.config.CACHE_DIR:
        return Path(numba.config.CACHE_DIR) / name
    user = _user_cache(name)
    if user is not None:
        return user
    in_tree = folder / "__pycache__"
    if _writable(in_tree):
        for old in in_tree.glob(PREFIX + "*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        return in_tree / name
    from numba.misc.appdirs import AppDirs

    return Path(AppDirs(appname="numba", appauthor=False).user_cache_dir) / name


def _cache_class(root: Path, stamp: str):
    """A numba ``FunctionCache`` whose files live in ``root`` and whose source stamp is
    ``stamp`` (the digest of the sources), whatever folder the sources are in."""
    from numba.core.caching import CompileResultCacheImpl, FunctionCache, _CacheLocator

    class DigestLocator(_CacheLocator):
        def __init__(self, py_func: Callable, py_file: str) -> None:
            self._lineno = py_func.__code__.co_firstlineno

        def get_cache_path(self) -> str:
            return str(root)

        def get_source_stamp(self) -> str:
            return stamp

        def get_disambiguator(self) -> str:
            return str(self._lineno)

        @classmethod
        def from_function(cls, py_func: Callable, py_file: str) -> "DigestLocator | None":
            self = cls(py_func, py_file)
            try:
                self.ensure_cache_path()
            except OSError:
                return None
            return self

    class DigestImpl(CompileResultCacheImpl):
        _locator_classes = [DigestLocator]

    class DigestCache(FunctionCache):
        _impl_class = DigestImpl

    return DigestCache


def jit(fn: "Callable | None" = None, *, sources: Path = COST_DIR, **options: Any):
    """``numba.njit(**options)`` cached in :func:`cache_dir` of ``sources`` under the digest of
    ``sources`` (module docstring)."""
    if fn is None:
        return lambda f: jit(f, sources=sources, **options)
    import numba

    dispatcher = numba.njit(**options)(fn)
    folder = cache_dir(sources)
    try:
        dispatcher._cache = _cache_class(folder, folder.name)(fn)  # what enable_caching() does
    except RuntimeError:  # no usable folder: compile on every start, as without a cache
        pass
    return dispatcher


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


if __name__ == "__main__":  # python -m accelsim.cost.jit: compile the search now (once per machine)
    import time

    from .mapper import jit_cache_is_warm, load_search

    t0 = time.perf_counter()
    warm = jit_cache_is_warm()
    load_search()
    print(f"accelsim: compiled search {'loaded' if warm else 'compiled'} in {time.perf_counter() - t0:.1f} s "
          f"({cache_dir()})")
