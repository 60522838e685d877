"""Per-layer cost memo with an optional on-disk store of plain JSON (nothing in it can run).

:func:`accelsim.simulate` takes ``memo=``, a mutable mapping keyed by a tuple that holds
everything a layer's cost depends on: the layer shape, the architecture fingerprint
(its parameters and a digest of its technology file's values, see
:func:`accelsim.cost.model.arch_fingerprint`) and every mapping setting (objective,
candidate cap, DRAM flags, and any setting added later, because the key is taken as
a whole). :class:`DiskMemo` is such a mapping: in memory it is a dict; with a ``root``
folder it also loads the entries stored for a key's group (the key without its layer
shape) the first time one of its keys is asked for, and :meth:`DiskMemo.flush` writes
the entries computed since into one new JSON file per group.

Layout: ``root/<model tag>/<group digest>/<random>.json``. The model tag hashes the
package version, the cost-model sources and :data:`CACHE_VERSION`, so a changed model
never reads stale costs; the group digest is a SHA-256 of the group's canonical JSON.
Each file is ``{"format": "accelsim-cost-cache", "version": 2, "group": [...], "entries":
[[layer shape, value], ...]}`` (the group once, the shapes per entry), written under a unique name and renamed into place, so concurrent workers never
clobber each other and a killed worker leaves at worst a hidden temporary file. Files
that are not such JSON (an old pickle cache, a foreign or damaged file) are skipped and
listed in :attr:`DiskMemo.skipped`; they only cost a recomputation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import uuid
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from ..errors import AccelsimError
from ..resources import PACKAGE_DIR
from ..safeio import describe, read_bytes, short

CACHE_FORMAT = "accelsim-cost-cache"
#: version of the file layout and of the entry encoding (1 was pickle, never read)
CACHE_VERSION = 2
#: largest cache file read (bytes); larger files are skipped
MAX_CACHE_FILE = 256 * 1024 * 1024
_FILE_NAME = re.compile(r"^[0-9a-f]{32}\.json$")


def model_tag() -> str:
    """Hash of the package version, cache version and cost-model sources (12 hex digits)."""
    from .. import __version__

    h = hashlib.sha256(f"{__version__}/{CACHE_FORMAT}/{CACHE_VERSION}".encode())
    for f in sorted((PACKAGE_DIR / "cost").rglob("*.py")) + sorted((PACKAGE_DIR / "arch").rglob("*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def workload_digest(workload: Any) -> str:
    """SHA-256 (hex) of a workload's name, execution path and layers (they alone decide the costs)."""
    return hashlib.sha256(repr((workload.name, workload.exec_path, tuple(workload.layers))).encode()).hexdigest()


def point_error_key(digest: str, fingerprint: tuple, settings: Mapping[str, Any]) -> tuple:
    """Memo key of a whole point's mapping failure: the :func:`workload_digest` of its
    workload, the architecture fingerprint and every sweep-wide setting (by name)."""
    return (("unmappable", digest), fingerprint, tuple(sorted(settings.items())))


# ------------------------------------------------------------------ encoding
def _plain(x: Any) -> Any:
    """``x`` as JSON-ready data (tuples as lists); TypeError for anything else."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x)
    if isinstance(x, (tuple, list)):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    raise TypeError(f"{type(x).__name__} is not stored in the disk cache")


def _tupled(x: Any) -> Any:
    """Inverse of :func:`_plain` for keys: lists back to tuples."""
    return tuple(_tupled(v) for v in x) if isinstance(x, list) else x


def encode_key(key: Any) -> str:
    """Canonical JSON text of a memo key."""
    return json.dumps(_plain(key), separators=(",", ":"), sort_keys=True)


def _cost_fields() -> tuple[str, ...]:
    from ..cost.model import LayerCost

    return tuple(f.name for f in dataclasses.fields(LayerCost))


def _dict_orders() -> dict[str, tuple[str, ...]]:
    """The fixed key order of a :class:`LayerCost`'s energy, terms and counts dicts: stored
    as value lists in that order (the cost-model sources are in the model tag, so a changed
    order starts a new cache)."""
    from ..cost import model

    return {"energy": model.COMPONENTS, "terms": tuple(model._TERMS), "counts": tuple(model._COUNTS)}


def encode_value(value: Any) -> dict:
    """A :class:`~accelsim.cost.model.LayerCost` as ``{"cost": [field values]}`` (dicts of a
    fixed key order as value lists), anything else as ``{"value": ...}``."""
    from ..cost.model import LayerCost

    if isinstance(value, LayerCost):
        orders = _dict_orders()
        out = []
        for f in _cost_fields():
            v = getattr(value, f)
            if f in orders:
                if tuple(v) != orders[f]:
                    return {"value_cost": _plain({g: getattr(value, g) for g in _cost_fields()})}
                v = list(v.values())
            out.append(_plain(v))
        return {"cost": out}
    return {"value": _plain(value)}


def decode_value(obj: Any) -> Any:
    """Inverse of :func:`encode_value`; ValueError when ``obj`` is not such an entry."""
    from ..cost.model import LayerCost

    if not isinstance(obj, dict) or len(obj) != 1:
        raise ValueError("a malformed entry")
    kind, body = next(iter(obj.items()))
    fields = _cost_fields()
    if kind == "cost" and isinstance(body, list) and len(body) == len(fields):
        orders = _dict_orders()
        kw = dict(zip(fields, body))
        for f, keys in orders.items():
            if not (isinstance(kw[f], list) and len(kw[f]) == len(keys)):
                raise ValueError("a malformed cost entry")
            kw[f] = dict(zip(keys, kw[f]))
        return LayerCost(**kw)
    if kind == "value_cost" and isinstance(body, dict) and set(body) == set(fields):
        return LayerCost(**body)
    if kind == "value":
        return body
    raise ValueError("an entry that is neither a cost nor a value")


def _group(key: Any) -> tuple:
    """Everything in a memo key but the layer shape (its first element)."""
    return tuple(key[1:]) if isinstance(key, tuple) and len(key) > 1 else ()


def _digest(group: tuple) -> str:
    return hashlib.sha256(encode_key(group).encode()).hexdigest()[:32]


def read_cache_file(path: Path, group: tuple) -> list[tuple[tuple, Any]]:
    """The (key, value) entries of one cache file of ``group``; a ValueError (or an
    :class:`~accelsim.errors.AccelsimError`) says why a file is not one."""
    doc = json.loads(read_bytes(path, MAX_CACHE_FILE, "cache file"))
    if not isinstance(doc, dict) or doc.get("format") != CACHE_FORMAT:
        raise ValueError("not an accelsim cost-cache file")
    if doc.get("version") != CACHE_VERSION:
        raise ValueError(f"cache version {short(doc.get('version'))}, this version reads {CACHE_VERSION}")
    if encode_key(doc.get("group")) != encode_key(group):
        raise ValueError("entries of another group (a file moved between folders)")
    entries = doc.get("entries")
    if not isinstance(entries, list):
        raise ValueError("no entry list")
    out = []
    for item in entries:
        if not (isinstance(item, list) and len(item) == 2):
            raise ValueError("a malformed entry")
        out.append(((_tupled(item[0]), *group), decode_value(item[1])))
    return out


class DiskMemo(MutableMapping):
    """A dict of per-layer costs, optionally backed by JSON files under ``root``."""

    def __init__(self, root: "str | Path | None" = None) -> None:
        self.root = Path(root) if root else None
        self._data: dict = {}
        self._new: dict = {}
        self._loaded: set[tuple] = set()  # groups whose files were read
        self.hits = 0
        self.misses = 0
        #: one line per cache file that was skipped (not ours, damaged, unreadable, unwritable)
        self.skipped: list[str] = []

    def _ensure(self, key: Any) -> None:
        if self.root is None:
            return
        group = _group(key)
        if group in self._loaded:
            return
        self._loaded.add(group)
        try:
            digest = _digest(group)
        except TypeError:  # a key that cannot be stored on disk is only kept in memory
            return
        folder = self.root / digest
        try:
            names = sorted(os.listdir(folder)) if folder.is_dir() else []
        except OSError as exc:
            self.skipped.append(f"{folder}: {describe(exc)}")
            return
        for name in names:
            path = folder / name
            if name.startswith(".") and name.endswith(".tmp"):
                continue  # a write in progress (or cut by a kill)
            if not _FILE_NAME.match(name):
                self.skipped.append(f"{path}: not a file of this cache version")
                continue
            try:
                entries = read_cache_file(path, group)
            except (AccelsimError, ValueError, TypeError, RecursionError, OSError) as exc:
                self.skipped.append(f"{path}: {describe(exc)}")
                continue
            for k, v in entries:
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
        """Write the entries added since the last flush; returns how many were written.

        A failed write (a full disk) is listed in :attr:`skipped`: the entries stay in
        memory and the results are unaffected."""
        if self.root is None or not self._new:
            self._new.clear()
            return 0
        groups: dict[str, tuple[Any, list]] = {}
        for k, v in self._new.items():
            try:
                group = _group(k)
                entry = [_plain(k[0]), encode_value(v)]
                groups.setdefault(_digest(group), (_plain(group), []))[1].append(entry)
            except TypeError:  # kept in memory only
                continue
        written = 0
        for digest, (group, entries) in groups.items():
            folder = self.root / digest
            name = uuid.uuid4().hex
            tmp = folder / f".{name}.tmp"
            doc = {"format": CACHE_FORMAT, "version": CACHE_VERSION, "group": group, "entries": entries}
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with open(tmp, "w", encoding="utf-8") as fh:
                    json.dump(doc, fh, separators=(",", ":"))
                os.replace(tmp, folder / f"{name}.json")
                written += len(entries)
            except OSError as exc:
                self.skipped.append(f"{folder / (name + '.json')}: not written: {describe(exc)}")
                try:
                    tmp.unlink()
                except OSError:
                    pass
        self._new.clear()
        return written
