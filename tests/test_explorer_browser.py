"""The explorer page in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright, on pages made by ``accelsim plot html`` from real sweeps (the 13 study
configurations on SegFormer-B2 with their per-layer rows, and a sweep of execution paths).

Skips with the reason when Playwright or the system Chromium is missing (CI installs both).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accelsim
from accelsim.cli.main import main
from accelsim.plots.browser import browser_missing, load, open_page, point_position
from accelsim.sweep.pareto import pareto, pareto_mask

pytest.importorskip("plotly", reason="the HTML explorer needs the html extra (plotly)")
MISSING = browser_missing()
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"browser test {MISSING}")

#: execution paths with published accuracy, plus one without (drawn in the unknown strip)
PATHS = ["", "blocks=3-4-6-3;fuse_in=1920", "blocks=2-3-6-3;fuse_in=1024", "blocks=2-3-5-3;fuse_in=512",
         "blocks=2-2-4-2"]


def shown(x: float) -> str:
    """A number as the page shows it: 4 significant digits."""
    return f"{float(f'{x:.4g}'):g}"


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The 13-config study sweep with its per-layer rows, and its page."""
    d = tmp_path_factory.mktemp("explorer")
    res, lay, page = d / "study13.csv", d / "study13_layers.csv", d / "study13.html"
    accelsim.run_sweep({"arch": "A..M", "workloads": ["segformer-b2"]}, output=res, layers=lay, workers=1)
    assert main(["plot", "html", str(res), "--layers", str(lay), "-o", str(page)]) == 0
    return accelsim.read_results(res), accelsim.read_results(lay), page


@pytest.fixture(scope="module")
def path_sweep(tmp_path_factory):
    d = tmp_path_factory.mktemp("explorer-paths")
    res, page = d / "paths.csv", d / "paths.html"
    spec = {"arch": "B,E", "workloads": [{"name": "segformer-b2", "exec_paths": PATHS}]}
    accelsim.run_sweep(spec, output=res, workers=1)
    assert main(["plot", "html", str(res), "-o", str(page)]) == 0
    return accelsim.read_results(res), page


@pytest.fixture(scope="module")
def browser():
    with open_page() as page:
        yield page


def opened(page, path):
    """``page`` showing ``path``, freshly loaded, with no console error so far."""
    page.errors.clear()
    load(page, path)
    assert page.errors == [], f"console errors: {page.errors}"
    return page


def point_counts(page, div: str = "scatter", meta: str = "points") -> int:
    return page.evaluate(f"document.getElementById('{div}').data.filter(d => d.meta === '{meta}')"
                         ".reduce((n, d) => n + d.x.length, 0)")


def locate(page, row: int) -> tuple[int, int]:
    """(trace, point) of result row ``row`` in the scatter's point traces."""
    return tuple(page.evaluate("""row => { const tr = window.explorer.traceRows();
        for (let t = 0; t < tr.length; t++) { const p = tr[t].indexOf(row);
            if (p >= 0 && document.getElementById('scatter').data[t].meta === 'points') return [t, p]; } }""", row))


def test_loads_with_every_point_and_the_front(browser, study):
    df, _, path = study
    page = opened(browser, path)
    assert point_counts(page) == len(df) == 13
    assert page.inner_text("#count") == "13 of 13 points shown"
    # the page's front (its own JavaScript) is accelsim.pareto's
    front_rows = page.evaluate("document.getElementById('scatter').data.filter(d => d.meta === 'front')"
                               ".flatMap(d => d.hovertext.map(h => h.split('</b>')[0].slice(3)))")
    assert sorted(front_rows) == sorted(pareto(df)["arch"])


def test_hover_shows_the_point(browser, study):
    df, _, path = study
    page = opened(browser, path)
    row = int(np.flatnonzero(df["arch"] == "E")[0])
    x, y = point_position(page, "scatter", *locate(page, row))
    page.mouse.move(x, y)
    page.wait_for_selector("#scatter .hovertext")
    text = page.evaluate("Array.from(document.querySelectorAll('#scatter .hovertext tspan.line'))"
                         ".map(t => t.textContent).join('\\n')")
    r = df.iloc[row]
    for part in ("E", "segformer-b2 | full model | scope: accelerator", f"num_pe={r.num_pe}, k0={r.k0}, c0={r.c0}",
                 f"weight_buffer_kb={r.weight_buffer_kb:g}", f"latency {shown(r.latency_s * 1e3)} ms",
                 f"energy {shown(r.energy_j * 1e3)} mJ", f"energy per op {shown(r.energy_per_op_j * 1e15)} fJ/op",
                 f"throughput {shown(r.throughput_ops_per_s_per_mm2 / 1e12)} TOPS/mm2",
                 f"utilisation {shown(r.utilization * 100)} %", f"area {shown(r.area_mm2)} mm2"):
        assert part in text, f"{part!r} not in the hover text {text!r}"


def test_click_shows_the_per_layer_bars(browser, study, tmp_path):
    df, layers, path = study
    page = opened(browser, path)
    row = int(np.flatnonzero(df["arch"] == "E")[0])
    x, y = point_position(page, "scatter", *locate(page, row))
    page.mouse.click(x, y)
    page.wait_for_function("document.getElementById('layers').dataset.point !== undefined "
                           "&& document.getElementById('layers').dataset.point !== ''")
    bars = page.evaluate("Object.fromEntries(document.getElementById('layers').data.filter(d => d.meta)"
                         ".map(d => [d.meta, {x: d.x, y: d.y, names: d.hovertext.map(h => h.split('<br>')[0])}]))")
    mine = layers[layers["arch"] == "E"]
    for key, col in (("layers-time", "latency_s"), ("layers-energy", "energy_j")):
        top = mine.nlargest(10, col)  # independent: pandas over the sweep's --layers rows
        assert bars[key]["names"][::-1] == top["name"].tolist()
        np.testing.assert_allclose(bars[key]["x"][::-1], top[col] * 1e6, rtol=5e-6)  # us / uJ, 6 digits
    comps = {c[7:-2]: mine[c].sum() * 1e6 for c in mine.columns if c.startswith("energy_") and c != "energy_j"}
    got = dict(zip(bars["layers-components"]["y"], bars["layers-components"]["x"]))
    assert set(got) == set(comps)
    for name, v in comps.items():
        assert math.isclose(got[name], v, rel_tol=5e-6, abs_tol=1e-9)
    assert page.inner_text("#layers-info").startswith("E on segformer-b2 [full model], scope: accelerator: 275 layers")
    # a screenshot of the hovered and clicked page, kept where ACCELSIM_SCREENSHOTS points (a CI artifact)
    shot = Path(os.environ.get("ACCELSIM_SCREENSHOTS") or tmp_path) / "explorer_study13.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.mouse.move(x, y)
    page.wait_for_selector("#scatter .hovertext")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000


def test_filters_change_the_points(browser, study):
    df, _, path = study
    page = opened(browser, path)
    page.fill("#range-num_pe-max", "16")
    expected = int((df["num_pe"] <= 16).sum())
    assert 0 < expected < len(df)
    page.wait_for_function(f"document.getElementById('count').dataset.shown === '{expected}'")
    assert point_counts(page) == expected
    page.click("#reset")
    page.wait_for_function(f"document.getElementById('count').dataset.shown === '{len(df)}'")
    assert point_counts(page) == len(df)


def test_axis_pickers_log_axes_and_colour(browser, study):
    df, _, path = study
    page = opened(browser, path)
    page.select_option("#x-col", "latency_s")
    page.check("#x-log")
    page.select_option("#color-col", "num_pe")
    page.wait_for_function("document.getElementById('scatter').layout.xaxis.type === 'log'")
    data = page.evaluate("document.getElementById('scatter').data.filter(d => d.meta === 'points')"
                         ".map(d => ({x: d.x, color: d.marker.color}))")
    assert len(data) == 1  # a numeric colour is one trace with a colour bar
    np.testing.assert_allclose(sorted(data[0]["x"]), sorted(df["latency_s"] * 1e3), rtol=5e-6)
    assert sorted(data[0]["color"]) == sorted(df["num_pe"])
    assert "latency (ms)" in page.evaluate("document.getElementById('scatter').layout.xaxis.title.text")
    assert page.errors == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=30),
       st.sampled_from(["min", "max"]), st.sampled_from(["min", "max"]))
def test_page_front_is_the_pareto_front(browser, study, points, dx, dy):
    # small integer grids make ties and duplicates common; the page keeps ties as accelsim.pareto does
    if not browser.evaluate("!!window.explorer"):
        opened(browser, study[2])
    got = browser.evaluate("([p, dx, dy]) => window.explorer.frontOf(p.map((q, i) => [q[0], q[1], i]), dx, dy)",
                           [points, dx, dy])
    want = np.flatnonzero(pareto_mask(np.array(points, float), [dx == "max", dy == "max"]))
    assert sorted(got) == want.tolist()


def test_accuracy_view_of_a_path_sweep(browser, path_sweep):
    df, path = path_sweep
    page = opened(browser, path)
    unknown = int(df["accuracy"].isna().sum())
    assert unknown == 2  # blocks=2-2-4-2 on both archs has no published accuracy
    assert point_counts(page, "accuracy", "acc-points") == len(df) - unknown
    assert point_counts(page, "accuracy", "acc-unknown") == unknown
    ys = page.evaluate("document.getElementById('accuracy').data.filter(d => d.meta === 'acc-points')"
                       ".flatMap(d => d.y)")
    np.testing.assert_allclose(sorted(ys), sorted(df["accuracy"].dropna() * 100), rtol=5e-6)  # mIoU in %
    front = page.evaluate("document.getElementById('accuracy').data.filter(d => d.meta === 'acc-front')"
                          ".flatMap(d => d.x)")
    want = pareto(df, {"latency": "min", "accuracy": "max"})
    np.testing.assert_allclose(sorted(front), sorted(want["latency_s"] * 1e3), rtol=5e-6)
    assert "mIoU (%)" in page.evaluate("document.getElementById('accuracy').layout.yaxis.title.text")
    # the workload filter of a path sweep: unchecking a path removes its points
    page.uncheck("input.cat-filter[data-col='exec_path'][data-code='4']")
    page.wait_for_function(f"document.getElementById('count').dataset.shown === '{len(df) - 2}'")
    assert point_counts(page, "accuracy", "acc-unknown") == 0
