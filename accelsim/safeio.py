"""Reading and writing user files: one error path, bounded work, exclusive outputs.

Every user file (architecture, technology, workload and layer-list YAML, sweep specs,
result tables, model files, cache entries) is read through this module, so that

- any :class:`OSError`, :class:`UnicodeError`, :class:`RecursionError` or
  :class:`ValueError` met while reading becomes one :class:`~accelsim.errors.ConfigError`
  line that names the file (:func:`reading`);
- only regular files are opened (a directory, FIFO or device is refused before it is
  read, so ``/dev/zero`` or a FIFO cannot hang the reader) and only up to a size limit
  (:func:`read_bytes`);
- YAML is parsed with libyaml's ``CSafeLoader`` when present, after an event-level scan
  that bounds nesting depth, alias expansion and the length of numbers, and refuses
  duplicate keys (:func:`parse_yaml`);
- values quoted in messages are shortened (:func:`short`), and a message is one line of
  bounded length (:func:`one_line`).

Outputs are checked before any work (:func:`check_output`, :func:`check_folder`),
held with an advisory lock while they are written (:func:`exclusive`) and written
atomically (:func:`atomic_output`: a temporary file in the same folder, fsynced, then
renamed over the target; removed on any failure, so a full disk leaves nothing behind).
Searches of folders and globs are bounded (:func:`find_files`), so ``/`` or ``/**`` is
refused in one line instead of walking the whole file system. Symlinked
outputs are resolved once, before the run: the real file is locked, written and
atomically replaced in its own folder, so the link keeps pointing at the new file and
two names of one file share one lock.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import yaml

from .errors import AccelsimError, ConfigError

#: longest error line printed (characters); longer messages are cut with an ellipsis
MAX_MESSAGE = 600
#: longest quoted value inside a message (characters)
MAX_VALUE = 80
#: largest table (CSV, Parquet) read (bytes)
MAX_TABLE_BYTES = 2 * 1024**3
#: largest YAML file read (bytes): a 200,000-layer list is about 20 MiB
YAML_MAX_BYTES = 32 * 1024 * 1024
#: deepest YAML nesting (a layer list needs 4 levels, a sweep spec 5)
YAML_MAX_DEPTH = 64
#: most values that aliases may add to a YAML document (anchors repeat small blocks)
YAML_MAX_ALIAS_VALUES = 100_000
#: most folder entries one search of a folder or glob looks at (:func:`find_files`)
MAX_SEARCH_ENTRIES = 200_000
#: most files one search of a folder or glob returns
MAX_SEARCH_FILES = 20_000
#: longest number literal in YAML (digits); int64 needs 19, a double 17 significant
YAML_MAX_NUMBER_CHARS = 100

_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    """libyaml's safe loader (pure Python without libyaml) that remembers the implicit tag
    of each plain scalar it has resolved: field names and small numbers repeat in every
    layer, and the regex-based resolver is most of the parse time."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._tags: dict[str, str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not yaml.ScalarNode or not implicit[0]:
            return super().resolve(kind, value, implicit)
        tag = self._tags.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(value) <= 64:
                self._tags[value] = tag
        return tag


_YAML_LOADER = _Loader
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


# ------------------------------------------------------------------ messages
def short(value: Any, limit: int = MAX_VALUE) -> str:
    """``repr(value)`` cut to ``limit`` characters; never expands deep or huge values."""
    import reprlib

    r = reprlib.Repr()
    r.maxlevel, r.maxlist, r.maxtuple, r.maxdict, r.maxset = 2, 6, 6, 6, 6
    r.maxstring, r.maxother, r.maxlong = limit, limit, 40
    try:
        text = r.repr(value)
    except (ValueError, RecursionError, TypeError):  # e.g. an int over Python's digit limit
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def clip(text: Any, limit: int = MAX_VALUE) -> str:
    """``str(text)`` cut to ``limit`` characters (no quotes added)."""
    t = str(text)
    return t if len(t) <= limit else t[:limit - 3] + "..."


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line (whitespace runs collapsed), cut to ``limit`` characters; a cut
    message says so."""
    flat = " ".join(str(text)[:4 * limit].split())
    if len(flat) <= limit:
        return flat
    note = f"... (message cut to {limit} characters)"
    return flat[:limit - len(note)] + note


def path_too_long(path: "str | Path") -> "str | None":
    """Why the system cannot look up ``path`` by its length (the whole path or one of its
    names is over the limit), or ``None``."""
    text = os.fspath(path)
    try:
        whole = os.pathconf("/", "PC_PATH_MAX")
        name = os.pathconf("/", "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # not POSIX
        whole, name = 4096, 255
    if len(text.encode(errors="surrogateescape")) >= whole:
        return f"the path is {len(text):,} characters long; this system allows {whole - 1:,}"
    longest = max((len(part.encode(errors="surrogateescape")) for part in text.split(os.sep)), default=0)
    if longest > name:
        return f"a name in the path is {longest:,} characters long; this system allows {name:,} per name"
    return None


#: short reasons of low-level errors, checked in order (subclasses first)
_REASONS: tuple[tuple[type, str], ...] = (
    (FileNotFoundError, "file not found"), (IsADirectoryError, "is a folder, not a file"),
    (PermissionError, "permission denied"), (RecursionError, "nested too deeply"),
    (MemoryError, "too large to hold in memory"),
)
_ERRNO_REASONS = {errno.ELOOP: "symbolic link loop", errno.ENOSPC: "no space left on the device",
                  errno.EROFS: "read-only file system",
                  errno.ENAMETOOLONG: "the path, or a name in it, is longer than this system allows"}
#: paths longer than this are shown by their two ends in messages (characters)
MAX_SHOWN_PATH = 240


def shown(path: "str | Path") -> str:
    """``path`` for a message: a path longer than :data:`MAX_SHOWN_PATH` characters keeps
    its two ends and says how long it is."""
    text = str(path)
    if len(text) <= MAX_SHOWN_PATH:
        return text
    return f"{text[:100]}...{text[-100:]} (a path of {len(text):,} characters)"


def describe(exc: BaseException) -> str:
    """A short reason for a low-level error met while reading or writing a file."""
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    if isinstance(exc, OSError):
        return _ERRNO_REASONS.get(exc.errno, exc.strerror or type(exc).__name__)  # type: ignore[arg-type]
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
    if isinstance(exc, UnicodeError):
        return "not UTF-8 text"
    text = str(exc).strip()
    return one_line(text.splitlines()[0] if text else type(exc).__name__, 200)


@contextmanager
def reading(path: "str | Path", what: str = "") -> Iterator[None]:
    """Turn any OSError, UnicodeError, RecursionError, MemoryError or ValueError raised in
    the block into one :class:`ConfigError` naming ``path`` (and ``what``: a field or the
    kind of file). :class:`AccelsimError` passes through unchanged."""
    try:
        yield
    except AccelsimError:
        raise
    except (OSError, UnicodeError, RecursionError, MemoryError, ValueError) as exc:
        where = f"{shown(path)}: {what}: " if what else f"{shown(path)}: "
        raise ConfigError(where + describe(exc)) from None


writing = reading  # the same rule holds for writes: the file and the reason, one line


def prefixed(exc: AccelsimError, source: "str | Path") -> AccelsimError:
    """``exc`` with ``source:`` in front of its message unless it already names it."""
    msg, src = str(exc), str(source)
    if msg.startswith((src, shown(src))) or f"{src}:" in msg:
        return exc
    return type(exc)(f"{shown(src)}: {msg}")


@contextmanager
def about(source: "str | Path") -> Iterator[None]:
    """Errors raised in the block name ``source`` (a file, or ``file: field``)."""
    try:
        yield
    except AccelsimError as exc:
        raise prefixed(exc, source) from None


# ------------------------------------------------------------------ reading
def exists(path: "str | Path") -> bool:
    """``Path(path).exists()``, False for names the OS cannot look up (NUL bytes, too long)."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_input(path: "str | Path", limit: int, what: str = "file") -> int:
    """Check that ``path`` is a regular file of at most ``limit`` bytes (without reading it,
    and without blocking on a FIFO); returns its size."""
    path = Path(path)
    with reading(path):
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{path}: is {_kind(st.st_mode)}, not a {what}")
    if st.st_size > limit:
        raise ConfigError(f"{path}: {st.st_size:,} bytes is over the limit of {limit:,} bytes for a {what}")
    return st.st_size


def read_bytes(path: "str | Path", limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, refused when larger than ``limit`` bytes."""
    path = Path(path)
    with reading(path):
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ConfigError(f"{path}: is {_kind(st.st_mode)}, not a {what}")
            if st.st_size > limit:
                raise ConfigError(f"{path}: {st.st_size:,} bytes is over the limit of {limit:,} bytes "
                                  f"for a {what}")
            with os.fdopen(os.dup(fd), "rb") as fh:
                data = fh.read(limit + 1)
        finally:
            os.close(fd)
    if len(data) > limit:
        raise ConfigError(f"{path}: over the limit of {limit:,} bytes for a {what}")
    return data


def read_text(path: "str | Path", limit: int, what: str = "text file") -> str:
    """The UTF-8 text of ``path`` (a leading byte-order mark is dropped)."""
    data = read_bytes(path, limit, what)
    with reading(path):
        return data.decode("utf-8-sig")


def read_csv(path: "str | Path", what: str = "CSV file", limit: int = MAX_TABLE_BYTES, **kw: Any) -> Any:
    """A CSV file as a DataFrame (``kw`` go to :func:`pandas.read_csv`); a file pandas
    cannot parse is one :class:`ConfigError` naming it."""
    import io

    import pandas as pd

    text = read_text(path, limit, what)
    try:
        return pd.read_csv(io.StringIO(text), **kw)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, RecursionError) as exc:
        raise ConfigError(f"{path}: not a readable {what}: {describe(exc)}") from None


def load_yaml(path: "str | Path", what: str = "YAML file", limit: int = YAML_MAX_BYTES) -> Any:
    """Parse the YAML file ``path`` within the limits of :func:`parse_yaml`."""
    return parse_yaml(read_text(path, limit, what), str(path))


def parse_yaml(text: str, source: str = "<yaml>") -> Any:
    """Safe-load one YAML document: libyaml when present, at most :data:`YAML_MAX_DEPTH`
    levels, :data:`YAML_MAX_ALIAS_VALUES` values added by aliases, numbers of at most
    :data:`YAML_MAX_NUMBER_CHARS` characters, no duplicate keys. Errors name ``source``."""
    with reading(source):
        try:
            _scan_events(text, source)
            loader = _YAML_LOADER(text)
            try:
                node = loader.get_single_node()
                if node is None:
                    return None
                _check_duplicate_keys(node, source)
                return loader.construct_document(node)
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            raise ConfigError(f"{source}: malformed YAML{_where(exc)}: "
                              f"{one_line(getattr(exc, 'problem', None) or exc, 200)}") from None


def _where(exc: Any) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "start_mark", None)
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def _at(event: Any) -> str:
    mark = getattr(event, "start_mark", None)
    return f" at line {mark.line + 1}" if mark else ""


def _scan_events(text: str, source: str) -> None:
    """Walk the event stream once (no tree built): depth, alias expansion, number length."""
    loader = _YAML_LOADER(text)
    sizes: dict[str, int] = {}   # anchor -> values in its expanded node
    stack: list[list] = []       # [values so far, anchor] of each open collection
    added = 0
    try:
        while True:
            ev = loader.get_event()
            if ev is None or isinstance(ev, yaml.StreamEndEvent):
                return
            if isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                stack.append([1, ev.anchor])
                if len(stack) > YAML_MAX_DEPTH:
                    raise ConfigError(f"{source}: nested more than {YAML_MAX_DEPTH} levels deep{_at(ev)}")
                continue
            if isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                size, anchor = stack.pop()
            elif isinstance(ev, yaml.ScalarEvent):
                size, anchor = 1, ev.anchor
                if ev.implicit[0] and len(ev.value) > YAML_MAX_NUMBER_CHARS and \
                        loader.resolve(yaml.ScalarNode, ev.value, ev.implicit) in _NUMBER_TAGS:
                    raise ConfigError(f"{source}: a number of {len(ev.value):,} characters{_at(ev)}; "
                                      f"at most {YAML_MAX_NUMBER_CHARS} are read")
            elif isinstance(ev, yaml.AliasEvent):
                if ev.anchor not in sizes:
                    if any(a == ev.anchor for _, a in stack):
                        raise ConfigError(f"{source}: alias *{ev.anchor}{_at(ev)} refers to a node "
                                          "that contains it (a recursive structure)")
                    continue  # an undefined alias: the composer reports it with its line
                size, anchor = sizes[ev.anchor], None
                added += size
                if added > YAML_MAX_ALIAS_VALUES:
                    raise ConfigError(f"{source}: aliases expand to more than {YAML_MAX_ALIAS_VALUES:,} "
                                      f"values{_at(ev)}")
            else:
                continue
            if anchor:
                sizes[anchor] = size
            if stack:
                stack[-1][0] += size
    finally:
        loader.dispose()


def _check_duplicate_keys(root: Any, source: str) -> None:
    """Refuse a mapping that repeats a key (YAML would keep the last one silently)."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: dict[tuple, Any] = {}
            for k, v in node.value:
                todo.append(v)
                if not isinstance(k, yaml.ScalarNode) or k.tag == "tag:yaml.org,2002:merge":
                    todo.append(k)
                    continue
                ident = (k.tag, k.value)
                if ident in keys:
                    raise ConfigError(f"{source}: duplicate key {short(k.value)} at line "
                                      f"{k.start_mark.line + 1} (first at line {keys[ident].start_mark.line + 1})")
                keys[ident] = k
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)


# ------------------------------------------------------------------ outputs
def real_path(path: "str | Path") -> Path:
    """``path`` with symbolic links resolved (a loop is a :class:`ConfigError`)."""
    p = Path(path)
    try:
        real = Path(os.path.realpath(p))
    except (OSError, RuntimeError, ValueError):
        raise ConfigError(f"{p}: symbolic link loop") from None
    if real.is_symlink():
        raise ConfigError(f"{p}: symbolic link loop")
    return real


def _file_above(folder: Path) -> "Path | None":
    """The nearest existing ancestor of ``folder`` (or itself) when it is not a folder."""
    for p in (folder, *folder.parents):
        try:
            st = os.stat(p)
        except (OSError, ValueError):
            continue
        return None if stat.S_ISDIR(st.st_mode) else p
    return None


def check_name(path: "str | Path", what: str = "output file") -> None:
    """Refuse an empty path (``-o ""``) in one line."""
    if not str(path).strip():
        raise ConfigError(f"the {what} path is empty; give a file name")


def _probe_folder(folder: Path, shown: Path) -> None:
    """Create and remove a scratch file in ``folder``: proves it is writable now."""
    above = _file_above(folder)
    if above is not None:
        raise ConfigError(f"{shown}: cannot create it: {above} is a file, not a folder")
    with writing(shown):
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".accelsim-probe-")
        os.close(fd)
        os.unlink(tmp)


def check_output(path: "str | Path", what: str = "output file",
                 suffixes: "tuple[str, ...] | None" = None) -> Path:
    """Check before any work that ``path`` can be written as a file: resolve symlinks,
    refuse a folder or another kind of non-regular file and (with ``suffixes``) an
    unknown suffix, create the parent folders and prove they are writable. Returns the
    real path to write."""
    check_name(path, what)
    shown = Path(path)
    if suffixes is not None and shown.suffix.lower() not in suffixes:
        raise ConfigError(f"{shown}: {what} suffix {shown.suffix or '(none)'!r} is not supported; "
                          f"use {', '.join(suffixes)}")
    real = real_path(shown)
    with writing(shown):
        if real.exists():
            mode = real.stat().st_mode
            if not stat.S_ISREG(mode):
                raise ConfigError(f"{shown}: is {_kind(mode)}; the {what} must be a file")
            if not os.access(real, os.W_OK):
                raise ConfigError(f"{shown}: permission denied (the {what} is not writable)")
    _probe_folder(real.parent, shown)
    return real


def check_folder(path: "str | Path", what: str = "folder") -> Path:
    """Check before any work that ``path`` is (or can be created as) a writable folder."""
    check_name(path, what)
    shown = Path(path)
    real = real_path(shown)
    if real.exists() and not real.is_dir():
        mode = real.stat().st_mode
        kind = "a file" if stat.S_ISREG(mode) else _kind(mode)
        raise ConfigError(f"{shown}: is {kind}; the {what} must be a folder")
    _probe_folder(real, shown)
    return real


@contextmanager
def exclusive(path: "str | Path", what: str = "output") -> Iterator[Path]:
    """Hold an advisory lock on ``path`` (a sidecar ``.NAME.lock`` file) for the block.

    A second process asking for the same lock fails at once with one line naming the
    file. The lock dies with its process (a SIGKILL leaves at most the empty lock file,
    which the next run reuses)."""
    path = Path(path)
    check_folder_locks(path)
    with _held(path.with_name(f".{path.name}.lock"), path, what):
        yield path


#: the lock file a process writing a whole folder (``accelsim report``) holds inside it
FOLDER_LOCK = ".accelsim.lock"


@contextmanager
def exclusive_folder(folder: "str | Path", what: str = "folder") -> Iterator[Path]:
    """Hold an advisory lock on the folder ``folder`` (``FOLDER/.accelsim.lock``) for the
    block: a second process asking for it, or an :func:`exclusive` output inside it,
    fails at once with one line. The lock file is removed at the end."""
    folder = Path(folder)
    with _held(folder / FOLDER_LOCK, folder, what):
        yield folder


@contextmanager
def _held(lock: Path, path: Path, what: str) -> Iterator[None]:
    """Hold the lock file ``lock`` of ``path`` for the block; remove it at the end."""
    fd = _acquire(lock, path, what)
    try:
        yield
    finally:
        try:
            os.unlink(lock)
        except OSError:
            pass
        os.close(fd)


def check_folder_locks(path: "str | Path") -> None:
    """Refuse to write ``path`` inside a folder that another process holds with
    :func:`exclusive_folder` (a running report)."""
    try:
        parents = Path(os.path.abspath(path)).parents
    except (OSError, ValueError):
        return
    for folder in parents:
        lock = folder / FOLDER_LOCK
        try:
            fd = os.open(lock, os.O_RDWR)
        except (OSError, ValueError):
            continue
        try:
            free = _try_lock(fd)
        finally:
            os.close(fd)  # closing drops the probe's own lock
        if not free:
            raise ConfigError(f"{path}: the folder {folder} is being written by another process (lock "
                              f"{FOLDER_LOCK}); wait for it to finish or choose another output")


def _acquire(lock: Path, path: Path, what: str) -> int:
    while True:
        with writing(path):
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd):
                raise ConfigError(f"{path}: another process is writing this {what} (lock {lock.name}); "
                                  "wait for it to finish or choose another output")
            try:  # the holder before us may have removed the lock file after we opened it
                same = os.path.samestat(os.fstat(fd), os.stat(lock))
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            return fd
        os.close(fd)


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise



@contextmanager
def atomic_output(path: "str | Path", what: str = "output file") -> Iterator[Path]:
    """Write ``path`` atomically: the block writes the yielded temporary file (in the same
    folder, so the rename cannot cross file systems); when it returns the file is
    fsynced and renamed over ``path`` (symbolic links resolved, so a link keeps pointing
    at the new file; an existing file's permissions kept). On any failure (a full disk,
    an exception in the block) the temporary file is removed and ``path`` is unchanged.
    OS errors become one :class:`ConfigError` line naming ``path``."""
    shown = Path(path)
    real = real_path(shown)
    with writing(shown):
        real.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name[:200]}.", suffix=".tmp")
        os.close(fd)
    tmp = Path(name)
    try:
        with writing(shown):
            yield tmp
            os.chmod(tmp, _mode_for(real))
            _fsync(tmp)
            os.replace(tmp, real)
            _fsync_folder(real.parent)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def write_text(path: "str | Path", text: str, what: str = "output file") -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (:func:`atomic_output`); returns ``path``."""
    with atomic_output(path, what) as tmp:
        tmp.write_bytes(text.encode("utf-8"))
    return Path(path)


def _mode_for(real: Path) -> int:
    """Permissions of the new file: those of the file it replaces, else 0666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(real).st_mode)
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (not possible on every platform: then skipped)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ------------------------------------------------------------------ bounded searches
def is_regular(path: "str | Path") -> bool:
    """True when ``path`` is a regular file (checked without blocking on a FIFO)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError):
        return False
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode)
    finally:
        os.close(fd)


def read_head(path: "str | Path", n: int) -> bytes:
    """The first ``n`` bytes of a regular file (``b""`` for anything else or an unreadable file)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError):
        return b""
    try:
        return os.read(fd, n) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
    except OSError:
        return b""
    finally:
        os.close(fd)


def is_pattern(text: "str | Path") -> bool:
    """True when ``text`` holds glob characters (``*``, ``?``, ``[``)."""
    return any(ch in str(text) for ch in "*?[")


def find_files(where: "str | Path", pattern: str = "*", what: str = "files",
               max_entries: int = MAX_SEARCH_ENTRIES, max_files: int = MAX_SEARCH_FILES) -> list[Path]:
    """Files matched by ``where``: a folder (searched recursively for names matching
    ``pattern``) or a glob (``*``, ``?``, ``[...]`` within one name, ``**`` for any
    number of folders). Symbolic links to folders are not followed and names starting
    with ``.`` are skipped unless the glob names them. At most ``max_entries`` folder
    entries are looked at and ``max_files`` files returned: a bigger search is one
    :class:`ConfigError` line asking for a narrower folder or glob. Sorted paths."""
    text = str(where)
    if not is_pattern(text) and not os.path.isdir(text):
        return [Path(text)] if os.path.lexists(text) else []
    if not is_pattern(text):
        parts = [text, "**", pattern]
    else:
        parts = text.split(os.sep)
    # the literal prefix: folders up to the first component with glob characters
    i = next(k for k, part in enumerate(parts) if is_pattern(part) or part == "**")
    base = os.sep.join(parts[:i]) or ("." if not text.startswith(os.sep) else os.sep)
    if parts[:i] == [""]:
        base = os.sep
    budget = [max_entries]
    found: list[Path] = []

    def over() -> ConfigError:
        return ConfigError(f"{short(text, 200)}: the search for {what} looks at more than {max_entries:,} "
                           "folder entries; give a narrower folder or glob")

    def entries(folder: str) -> list[os.DirEntry]:
        try:
            with os.scandir(folder) as it:
                out = []
                for e in it:
                    budget[0] -= 1
                    if budget[0] < 0:
                        raise over()
                    out.append(e)
                return out
        except OSError:  # vanished, unreadable or not a folder: nothing in it
            return []

    def walk(folder: str, rest: list[str]) -> None:
        if not rest:
            return
        head, tail = rest[0], rest[1:]
        if head == "**":
            walk(folder, tail)
            for e in entries(folder):
                if not e.name.startswith(".") and _is_dir(e):
                    walk(e.path, rest)
            return
        if not is_pattern(head):
            nxt = os.path.join(folder, head)
            if not tail:
                if os.path.lexists(nxt):
                    found.append(Path(nxt))
            elif os.path.isdir(nxt):
                walk(nxt, tail)
            return
        for e in entries(folder):
            if e.name.startswith(".") and not head.startswith("."):
                continue
            if fnmatch.fnmatchcase(e.name, head):
                if not tail:
                    found.append(Path(e.path))
                elif _is_dir(e):
                    walk(e.path, tail)
            if len(found) > max_files:
                raise ConfigError(f"{short(text, 200)}: more than {max_files:,} {what} match; give a "
                                  "narrower folder or glob")

    walk(base, [p for p in parts[i:] if p != ""] if is_pattern(text) else parts[1:])
    if len(found) > max_files:
        raise ConfigError(f"{short(text, 200)}: more than {max_files:,} {what} match; give a narrower "
                          "folder or glob")
    return sorted(set(found), key=str)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False
