"""The compiled-code cache of the cost model (accelsim.cost.jit): keyed by every cost source,
so an edit to a file that the cached search inlines is never served stale; numba's own
setting is left as it was; the warm/cold check the CLI uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numba

from accelsim.cost import jit_cache_is_warm, map_layer
from accelsim.cost.jit import PREFIX, cache_dir, jit, source_digest
from accelsim.workload import Layer, Op

ROOT = Path(__file__).resolve().parents[1]

CALLER = """
from pathlib import Path

from numba import njit

from accelsim.cost.jit import jit
from .helper import scale

@{decorator}
def f(x):
    return scale(x) + 1
"""
HELPER = """
from numba.extending import register_jitable

@register_jitable
def scale(x):
    return x * {factor}
"""


def _package(tmp: Path, name: str, decorator: str) -> Path:
    pkg = tmp / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "caller.py").write_text(CALLER.format(decorator=decorator))
    (pkg / "helper.py").write_text(HELPER.format(factor=2))
    return pkg


def _run(tmp: Path) -> list[int]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp), str(ROOT)]))
    env.pop("NUMBA_CACHE_DIR", None)
    code = "from plain.caller import f as p; from keyed.caller import f as k; print(p(3), k(3))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return [int(v) for v in out.stdout.split()]


def test_editing_an_inlined_file_recompiles(tmp_path):
    """f (cached) inlines scale from another file. With numba's cache=True (package
    ``plain``) an edit of that file is served stale from the cache: 3 * 2 + 1 = 7 again
    instead of 3 * 5 + 1 = 16; with jit(sources=the package folder) (``keyed``) it is not."""
    plain = _package(tmp_path, "plain", "njit(cache=True)")
    keyed = _package(tmp_path, "keyed", "jit(sources=Path(__file__).parent)")
    assert _run(tmp_path) == [7, 7]  # compiles
    assert _run(tmp_path) == [7, 7]  # from the caches
    for pkg in (plain, keyed):
        (pkg / "helper.py").write_text(HELPER.format(factor=5))
    assert _run(tmp_path) == [7, 16]


def test_cache_dir_is_keyed_by_every_source(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2\n")
    first = source_digest(tmp_path)
    (tmp_path / "b.py").write_text("y = 3\n")
    assert source_digest(tmp_path) != first
    # under a user's NUMBA_CACHE_DIR when one is set, else in the user's cache folder, else in
    # __pycache__ next to the sources
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "user"))
    assert cache_dir(tmp_path) == tmp_path / "user" / (PREFIX + source_digest(tmp_path))
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    monkeypatch.setenv("ACCELSIM_CACHE_DIR", str(tmp_path / "home-cache"))
    assert cache_dir(tmp_path) == tmp_path / "home-cache" / (PREFIX + source_digest(tmp_path))
    monkeypatch.setenv("ACCELSIM_CACHE_DIR", str(tmp_path / "a.py" / "not-a-folder"))  # unwritable
    stale = tmp_path / "__pycache__" / (PREFIX + "0" * 16)
    stale.mkdir(parents=True)
    assert cache_dir(tmp_path) == tmp_path / "__pycache__" / (PREFIX + source_digest(tmp_path))
    assert not stale.exists()  # other digests are stale: removed


def test_identical_sources_elsewhere_share_the_compiled_code(tmp_path):
    """A second copy of the same sources in another folder (a second checkout, an installed
    copy, a worker started elsewhere) loads the first copy's machine code instead of
    compiling it again: the cache is keyed by the sources' digest, not their path."""
    for name in ("one", "two"):
        _package(tmp_path, name, "jit(sources=Path(__file__).parent)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]),
               ACCELSIM_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("NUMBA_CACHE_DIR", None)
    code = ("import sys, importlib; from numba import typeof; from accelsim.cost.jit import is_cached; "
            "f = importlib.import_module(sys.argv[1] + '.caller').f; "
            "print(is_cached(f, (typeof(3),)), f(3))")
    runs = [subprocess.run([sys.executable, "-c", code, name], env=env, capture_output=True, text=True,
                           check=True).stdout.split() for name in ("one", "one", "two")]
    assert runs == [["False", "7"], ["True", "7"], ["True", "7"]]


def test_jit_leaves_numba_settings_alone(tmp_path):
    before = numba.config.CACHE_DIR
    (tmp_path / "m.py").write_text("")
    f = jit(lambda x: x + 1, sources=tmp_path)
    assert numba.config.CACHE_DIR == before
    assert f(1) == 2


def test_warm_check(tmp_path):
    map_layer(Layer("x", Op.LINEAR, k=8, c=8, p=2, q=2), "E")  # compiles or loads the search
    assert jit_cache_is_warm()
    code = "from accelsim.cost import jit_cache_is_warm; print(jit_cache_is_warm())"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for cache, want in ((None, "True"), ("empty", "False")):
        if cache:
            env["NUMBA_CACHE_DIR"] = str(tmp_path / cache)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == want, out.stderr[-300:]
