"""Per-layer cost memo with an optional on-disk store.

:func:`accelsim.simulate` takes ``memo=``, a mutable mapping keyed by
``(layer shape key, arch fingerprint incl. scope, objective, tolerance, max_candidates, DRAM flags)``. :class:`DiskMemo`
is such a mapping: in memory it is a dict; with a ``root`` folder it also loads the
entries stored for an (arch fingerprint, objective, max_candidates) group the first
time one of its keys is asked for, and :meth:`DiskMemo.flush` writes the entries
computed since into one new pickle per group. Files are written under a unique
name and renamed into place, so concurrent workers never clobber each other and a
killed worker leaves at worst a temporary file behind.

The store lives under ``root/<model tag>/``: the tag hashes the cost-model sources
and technology files, so a changed model never reads stale costs.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import uuid
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Iterator

from ..resources import PACKAGE_DIR, resource_dir


def model_tag() -> str:
    """Hash of the package version, cost-model sources and tech files (12 hex digits)."""
    from .. import __version__

    h = hashlib.sha1(__version__.encode())
    files = sorted((PACKAGE_DIR / "cost").rglob("*.py")) + sorted((PACKAGE_DIR / "arch").rglob("*.py"))
    files += sorted((resource_dir("arch_configs") / "tech").glob("*.yaml"))
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def workload_digest(workload: Any) -> str:
    """SHA-1 (hex) of a workload's name, execution path and layers (they alone decide the costs)."""
    return hashlib.sha1(repr((workload.name, workload.exec_path, tuple(workload.layers))).encode()).hexdigest()


def point_error_key(digest: str, arch: Any, settings: dict) -> tuple:
    """Memo key of a whole point's mapping failure: the :func:`workload_digest` of its workload,
    the arch parameters and the sweep settings (scope, objective, tolerance, cap)."""
    return (("unmappable", digest), tuple(arch.params().items()), tuple(sorted(settings.items())))


def _group(key: Any) -> tuple:
    """Everything in a memo key but the layer shape (its first element)."""
    return tuple(key[1:]) if isinstance(key, tuple) and len(key) > 1 else ()


def _digest(group: tuple) -> str:
    return hashlib.sha1(repr(group).encode()).hexdigest()[:20]


class DiskMemo(MutableMapping):
    """A dict of per-layer costs, optionally backed by pickles under ``root``."""

    def __init__(self, root: "str | Path | None" = None) -> None:
        self.root = Path(root) if root else None
        self._data: dict = {}
        self._new: dict = {}
        self._loaded: set[tuple] = set()
        self.hits = 0
        self.misses = 0

    def _ensure(self, key: Any) -> None:
        if self.root is None:
            return
        g = _group(key)
        if g in self._loaded:
            return
        self._loaded.add(g)
        folder = self.root / _digest(g)
        for f in sorted(folder.glob("*.pkl")):
            try:
                with open(f, "rb") as fh:
                    entries = pickle.load(fh)
            except (OSError, EOFError, pickle.UnpicklingError):
                continue  # a damaged file only costs a recomputation
            for k, v in entries.items():
                self._data.setdefault(k, v)

    def peek(self, key: Any) -> Any:
        """The stored value of ``key`` or ``None``, loading its group but counting no hit or miss."""
        self._ensure(key)
        return self._data.get(key)

    def __getitem__(self, key: Any) -> Any:
        self._ensure(key)
        try:
            value = self._data[key]
        except KeyError:
            self.misses += 1
            raise
        self.hits += 1
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        self._data[key] = value
        self._new[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._data[key]
        self._new.pop(key, None)

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def flush(self) -> int:
        """Write the entries added since the last flush; returns how many."""
        if self.root is None or not self._new:
            self._new.clear()
            return 0
        groups: dict[tuple, dict] = {}
        for k, v in self._new.items():
            groups.setdefault(_group(k), {})[k] = v
        for g, entries in groups.items():
            folder = self.root / _digest(g)
            folder.mkdir(parents=True, exist_ok=True)
            name = uuid.uuid4().hex
            tmp = folder / f".{name}.tmp"
            with open(tmp, "wb") as fh:
                pickle.dump(entries, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, folder / f"{name}.pkl")
        n = len(self._new)
        self._new.clear()
        return n
