"""Per-layer cost memo, bounded in memory, with an optional on-disk store: one SQLite table.

:func:`accelsim.simulate` takes ``memo=``, a mutable mapping keyed by a tuple that holds
everything a layer's cost depends on: the layer shape, the architecture fingerprint
(its parameters and a digest of its technology file's values, see
:func:`accelsim.cost.model.arch_fingerprint`) and every mapping setting (objective,
candidate cap, DRAM flags, and any setting added later, because the key is taken as
a whole). :class:`DiskMemo` is such a mapping: in memory a least-recently-used dict
bounded by an estimate of its bytes (``max_bytes``); with a ``root`` folder it also
loads the entries stored for a key's group (the key without its layer shape) the
first time one of its keys is asked for, and :meth:`DiskMemo.flush` stores the
entries computed since.

Store: ``root/costs.sqlite`` (``root`` is ``<cache folder>/<model tag>``: the tag hashes
the package version, the cost-model sources and :data:`CACHE_VERSION`, so a changed
model never reads stale costs), one table ``entries(grp, shape, value)`` keyed by
(group digest, layer shape), values as zlib-compressed JSON text (nothing in it can run;
decompressed to at most 1 MiB), in WAL mode
with a busy timeout, so concurrent workers and sweeps read and write it safely.

Every value read is validated (:func:`check_cost`): types, finiteness, signs, and
internal consistency (the cycles are the largest term plus the fill/drain cycles, at
least the compute bound, the latency is the cycles at the clock, the utilisation
follows). An entry that fails is counted (:attr:`DiskMemo.bad`), recomputed and
replaced. A uniformly scaled entry passes every check: ``verify`` recomputes that many
disk hits (the first it meets) and lists any difference in :attr:`DiskMemo.mismatches`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sqlite3
import sys
import zlib
from collections import OrderedDict
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from ..errors import ConfigError
from ..resources import PACKAGE_DIR
from ..safeio import describe, short

CACHE_FORMAT = "accelsim-cost-cache"
#: version of the store and of the entry encoding (1 was pickle, 2 JSON files; never read)
CACHE_VERSION = 3


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


def _params(key: Any) -> dict[str, Any]:
    """The arch parameters in a memo key's fingerprint (``(name, value)`` pairs), if any."""
    out: dict[str, Any] = {}
    if isinstance(key, tuple) and len(key) > 1 and isinstance(key[1], tuple):
        for item in key[1]:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                out[item[0]] = item[1]
    return out


def _finite(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError(f"{what} is {type(x).__name__}, not a number")
    if not math.isfinite(x):
        raise ValueError(f"{what} is {x}")
    if x < 0:
        raise ValueError(f"{what} is negative ({x:g})")
    return float(x)


#: relative tolerance of the consistency checks (float rounding of sums and quotients)
CHECK_RTOL = 1e-9


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= CHECK_RTOL * max(abs(a), abs(b), 1e-300)


def check_cost(value: Any, key: Any = None) -> None:
    """Raise ValueError unless ``value`` is a plausible stored memo value for ``key``.

    A :class:`~accelsim.cost.model.LayerCost`: every number finite and non-negative; the
    cycles equal the largest of the compute/buffer/DRAM/PPU terms plus the fill/drain
    cycles (SPEC.md 4) and are at least the compute bound MACs / (num_pe x k0 x c0); the
    latency is cycles / clock; the utilisation is MACs / (cycles x MACs per cycle). Other
    values (an unmappable point's reason, a custom model's numbers): non-empty text, or
    finite non-negative numbers."""
    from ..cost import equations as eq
    from ..cost.model import COMPONENTS, LayerCost

    if isinstance(value, str):
        if not value.strip():
            raise ValueError("an empty reason")
        return
    if not isinstance(value, LayerCost):
        items = value if isinstance(value, (list, tuple)) else [value]
        for v in items:
            _finite(v, "a value")
        return
    for f in ("name", "op", "bound", "fused_into"):
        if not isinstance(getattr(value, f), str):
            raise ValueError(f"{f} is not text")
    if value.bound not in eq.BOUNDS:
        raise ValueError(f"bound {short(value.bound)} is not one of {', '.join(eq.BOUNDS)}")
    if isinstance(value.macs, bool) or not isinstance(value.macs, int) or value.macs < 0:
        raise ValueError("macs is not a non-negative integer")
    if isinstance(value.candidates, bool) or not isinstance(value.candidates, int) or value.candidates < 0:
        raise ValueError("candidates is not a non-negative integer")
    cycles = _finite(value.cycles, "cycles")
    latency = _finite(value.latency_s, "latency_s")
    util = _finite(value.utilization, "utilization")
    for name, d, keys in (("energy", value.energy, COMPONENTS), ("terms", value.terms, None),
                          ("counts", value.counts, None)):
        if not isinstance(d, dict) or (keys is not None and tuple(d) != tuple(keys)):
            raise ValueError(f"{name} is malformed")
        for k, v in d.items():
            _finite(v, f"{name}[{k}]")
    if not isinstance(value.mapping, dict) or any(
            not isinstance(v, (int, str)) or isinstance(v, bool) for v in value.mapping.values()):
        raise ValueError("mapping is malformed")
    terms = value.terms
    timing = [terms.get(t, 0.0) for t in ("compute", "input_buffer", "weight_buffer", "global_buffer", "dram",
                                          "ppu")]
    if terms and not _close(cycles, max(timing) + terms.get("fill_drain", 0.0)):
        raise ValueError(f"cycles {cycles:.6g} are not the largest term plus fill/drain "
                         f"({max(timing) + terms.get('fill_drain', 0.0):.6g})")
    p = _params(key)
    try:
        mpc = int(p["num_pe"]) * int(p["k0"]) * int(p["c0"])
        freq = float(p["frequency_ghz"])
    except (KeyError, TypeError, ValueError):
        return  # a key without the arch parameters: nothing more to compare with
    if mpc > 0 and value.macs and cycles * (1 + CHECK_RTOL) < value.macs / mpc:
        raise ValueError(f"cycles {cycles:.6g} are below the compute bound {value.macs / mpc:.6g}")
    if freq > 0 and not _close(latency, cycles / (freq * 1e9)):
        raise ValueError("latency_s is not cycles / clock")
    want = value.macs / (cycles * mpc) if cycles > 0 and mpc > 0 else 0.0
    if not _close(util, want):
        raise ValueError("utilization is not MACs / (cycles x MACs per cycle)")


def same_value(a: Any, b: Any) -> bool:
    """Stored and recomputed memo values agree (numbers to :data:`CHECK_RTOL`: the last
    binary digits may differ between CPUs; a cost's layer name is not compared: a memo
    entry serves every layer of its shape)."""
    from ..cost.model import LayerCost

    if isinstance(a, LayerCost) and isinstance(b, LayerCost):
        b = b.renamed(a.name)
    pa, pb = _plain(encode_value(a)), _plain(encode_value(b))
    return _same(pa, pb)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and _close(float(a), float(b))
    return a == b


#: bound of a memo's in-memory entries (bytes, estimated), per worker
MEMO_BYTES = 128 * 1024 * 1024
#: SQLite file of the store, in ``<cache folder>/<model tag>/``
DB_NAME = "costs.sqlite"
#: seconds a writer waits for another's lock
BUSY_TIMEOUT_MS = 60_000
_SCHEMA = ("CREATE TABLE IF NOT EXISTS entries (grp TEXT NOT NULL, shape TEXT NOT NULL, value BLOB NOT NULL, "
           "PRIMARY KEY (grp, shape)) WITHOUT ROWID")


def check_cache_folder(folder: Path) -> Path:
    """Refuse a cache folder anyone may write to (world-writable without the sticky bit):
    another user could plant costs in it. Returns ``folder``."""
    import stat

    for p in (folder, folder.parent if not folder.exists() else None):
        if p is None or not p.exists():
            continue
        mode = p.stat().st_mode
        if p == folder and mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
            raise ConfigError(f"{folder}: the cache folder is writable by every user and not sticky, so anyone "
                              f"could poison its costs; run `chmod o-w {folder}` (or use a folder of your own)")
    return folder


#: largest decompressed value (bytes); a larger one is a bad entry (a zlib bomb)
MAX_VALUE_BYTES = 1 << 20


def pack_value(obj: Any) -> bytes:
    """An encoded value as stored: its JSON text, zlib-compressed (half the bytes)."""
    return zlib.compress(json.dumps(obj, separators=(",", ":"), allow_nan=False).encode(), 6)


def unpack_value(blob: Any) -> Any:
    """Inverse of :func:`pack_value`; ValueError (or zlib.error) for anything else."""
    if not isinstance(blob, bytes):
        raise ValueError("not a compressed entry")
    inflate = zlib.decompressobj()
    text = inflate.decompress(blob, MAX_VALUE_BYTES)
    if inflate.unconsumed_tail or not inflate.eof:
        raise ValueError("an entry larger than its limit, or cut")
    return json.loads(text)


def _deep_size(obj: Any, seen: set | None = None) -> int:
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(_deep_size(k, seen) + _deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        size += sum(_deep_size(v, seen) for v in obj)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        size += sum(_deep_size(getattr(obj, f.name), seen) for f in dataclasses.fields(obj))
    return size


class DiskMemo(MutableMapping):
    """An LRU dict of per-layer costs bounded by ``max_bytes``, optionally backed by the
    SQLite store under ``root`` (module docstring)."""

    def __init__(self, root: "str | Path | None" = None, max_bytes: int = MEMO_BYTES, verify: int = 0) -> None:
        self.root = Path(root) if root else None
        self.max_bytes = max_bytes
        self._data: OrderedDict = OrderedDict()
        self._new: dict = {}
        self._digests: dict[tuple, str] = {}  # group -> digest (encoding a fingerprint is slow)
        self._loaded: set[tuple] = set()  # groups read from the store
        self._disk: set = set()  # keys whose value came from the store (not verified yet)
        self._checking: dict = {}  # key -> stored value, being recomputed for verification
        self._entry_bytes = 0  # estimated bytes of one entry (measured on the first)
        self.hits = 0
        self.misses = 0
        self.bad = 0  # stored entries that failed validation
        self.verify_left = verify
        self.verified = 0
        self.mismatches: list[str] = []
        #: one line per problem with the store (unreadable, unwritable); results are unaffected
        self.skipped: list[str] = []
        self._db: sqlite3.Connection | None = None

    # ---------------------------------------------------------------- store
    def _conn(self) -> "sqlite3.Connection | None":
        if self.root is None:
            return None
        if self._db is None:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.root / DB_NAME, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
                db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(_SCHEMA)
                self._db = db
            except (sqlite3.Error, OSError) as exc:
                self.skipped.append(f"{self.root / DB_NAME}: {describe(exc)}")
                self.root = None
                return None
        return self._db

    def _group_digest(self, group: tuple) -> str:
        """The digest of a group (computed once per group: it encodes the whole fingerprint)."""
        digest = self._digests.get(group)
        if digest is None:
            digest = self._digests[group] = _digest(group)
        return digest

    def _ensure(self, key: Any) -> None:
        if self.root is None:
            return
        group = _group(key)
        if group in self._loaded:
            return
        self._loaded.add(group)
        try:
            digest = self._group_digest(group)
        except TypeError:  # a key that cannot be stored on disk is only kept in memory
            return
        db = self._conn()
        if db is None:
            return
        try:
            rows = db.execute("SELECT shape, value FROM entries WHERE grp = ?", (digest,)).fetchall()
        except sqlite3.Error as exc:
            self.skipped.append(f"{self.root / DB_NAME}: {describe(exc)}")
            return
        for shape, text in rows:
            try:
                k = (_tupled(json.loads(shape)), *group)
                v = decode_value(unpack_value(text))
                check_cost(v, k)
            except (ValueError, TypeError, RecursionError, AttributeError, KeyError, zlib.error):
                self.bad += 1
                continue
            if k not in self._data:
                self._put(k, v)
                self._disk.add(k)

    def _put(self, key: Any, value: Any) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        if not self._entry_bytes:  # the layer shape and the value; the rest of a key is shared
            shape = key[0] if isinstance(key, tuple) and key else key
            self._entry_bytes = max(1, _deep_size(shape) + _deep_size(value) + sys.getsizeof(key))
        while len(self._data) * self._entry_bytes > self.max_bytes and len(self._data) > 1:
            old, _ = self._data.popitem(last=False)
            self._disk.discard(old)

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
        if key in self._disk and self.verify_left > 0:
            self._disk.discard(key)  # recomputed by the caller now; compared in __setitem__
            self._checking[key] = value
            self.verify_left -= 1
            self.misses += 1
            raise KeyError(key)
        self._data.move_to_end(key)
        self.hits += 1
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        stored = self._checking.pop(key, None)
        if stored is not None:
            self.verified += 1
            if not same_value(stored, value):
                self.mismatches.append(f"{_describe_key(key)}: stored {_summary(stored)}, recomputed "
                                       f"{_summary(value)}")
                self._new[key] = value  # the store gets the recomputed value
            self._put(key, value)
            return
        self._disk.discard(key)
        self._put(key, value)
        if self.root is not None:  # to be stored; flushed early so it stays within the bound too
            self._new[key] = value
            if len(self._new) * self._entry_bytes > self.max_bytes // 4:
                self.flush()

    def __delitem__(self, key: Any) -> None:
        del self._data[key]
        self._new.pop(key, None)

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def flush(self) -> int:
        """Store the entries added since the last flush (replacing bad ones); returns how many.

        A failed write (a full disk, a locked store) is listed in :attr:`skipped`: the
        results are unaffected."""
        new, self._new = self._new, {}
        if self.root is None or not new:
            return 0
        rows = []
        for k, v in new.items():
            try:
                rows.append((self._group_digest(_group(k)), encode_key(k[0]), pack_value(encode_value(v))))
            except (TypeError, ValueError):  # kept in memory only
                continue
        db = self._conn()
        if db is None or not rows:
            return 0
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO entries (grp, shape, value) VALUES (?, ?, ?)", rows)
            db.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            self.skipped.append(f"{self.root / DB_NAME}: not written: {describe(exc)}")
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            return 0
        return len(rows)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _describe_key(key: Any) -> str:
    p = _params(key)
    arch = ",".join(f"{n}={p[n]}" for n in ("num_pe", "k0", "c0") if n in p)
    shape = key[0] if isinstance(key, tuple) and key else key
    return short(f"layer {shape} on [{arch}]" if arch else f"entry {shape}", 200)


def _summary(value: Any) -> str:
    from ..cost.model import LayerCost

    if isinstance(value, LayerCost):
        return f"{value.cycles:.6g} cycles, {value.energy_j:.6g} J"
    return short(repr(value), 60)
