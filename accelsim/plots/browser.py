"""Headless Chromium for checking the explorer page (tests, benchmarks): Playwright driving
the system's Chromium (Debian's ``chromium`` package), never a downloaded browser.

:func:`browser_missing` says why no browser can be used (``""`` when one can), so callers
skip with that reason; :func:`open_page` yields a Playwright page in a fresh profile
with the console errors collected in ``page.errors``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

#: where the system Chromium is looked for (``ACCELSIM_CHROMIUM`` overrides)
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
#: a quiet, offline, sandbox-free headless run (containers run as root)
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")


def chromium_path() -> str | None:
    """The system Chromium executable, or ``None``."""
    env = os.environ.get("ACCELSIM_CHROMIUM")
    for cand in ([env] if env else []) + list(CHROMIUM_PATHS):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return shutil.which("chromium")


def browser_missing() -> str:
    """Why the page cannot be opened in a browser here ("" when it can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs Playwright (pip install 'accelsim[browser]')"
    if chromium_path() is None:
        return "needs a system Chromium (apt-get install chromium) at " + " or ".join(CHROMIUM_PATHS)
    return ""


@contextmanager
def open_page(width: int = 1500, height: int = 1300) -> Iterator["object"]:
    """A Playwright page in headless Chromium with a fresh profile; ``page.errors`` collects
    console errors and uncaught exceptions."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="accelsim-chromium-")
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                profile, executable_path=chromium_path(), headless=True, args=list(CHROMIUM_ARGS),
                viewport={"width": width, "height": height})
            try:
                page = ctx.new_page()
                errors: list[str] = []
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.errors = errors  # type: ignore[attr-defined]
                yield page
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def load(page: "object", path: "str | Path", timeout_s: float = 120.0) -> float:
    """Open the page at ``path`` and wait until its plots are drawn; returns the seconds
    from navigation start to ready (the page sets ``window.explorerReady``)."""
    page.goto(Path(path).resolve().as_uri(), timeout=timeout_s * 1000)  # type: ignore[attr-defined]
    page.wait_for_function("window.explorerReady === true", timeout=timeout_s * 1000)  # type: ignore[attr-defined]
    return float(page.evaluate("performance.now()")) / 1000.0  # type: ignore[attr-defined]


def point_position(page: "object", div: str, trace: int, point: int) -> tuple[float, float]:
    """Viewport pixel coordinates (for ``page.mouse``) of point ``point`` of trace ``trace`` in
    Plotly div ``div``, scrolled into view first."""
    return tuple(page.evaluate(  # type: ignore[attr-defined]
        """([div, t, p]) => {
            const gd = document.getElementById(div), fl = gd._fullLayout, tr = gd._fullData[t];
            gd.scrollIntoView({block: 'center'});
            const xa = fl[tr.xaxis.replace('x', 'xaxis')], ya = fl[tr.yaxis.replace('y', 'yaxis')];
            const box = gd.getBoundingClientRect();
            return [box.left + xa._offset + xa.d2p(tr.x[p]), box.top + ya._offset + ya.d2p(tr.y[p])];
        }""", [div, trace, point]))
