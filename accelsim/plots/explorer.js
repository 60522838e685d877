/* accelsim sweep explorer: builds the Plotly traces from the page's data block and wires
   the axis pickers, filters, hover texts and the per-layer breakdown on click. */
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("explorer-data").textContent);
  const C = D.columns, N = D.n;
  // tab10, then its light variants: up to 20 categories get distinct colours
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                   "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
                   "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"];
  const MAX_LEGEND = D.max_legend;
  const $ = (id) => document.getElementById(id);
  const state = { x: D.defaults.x, y: D.defaults.y, logx: D.defaults.logx, logy: D.defaults.logy,
                  color: D.defaults.color, cats: {}, ranges: {}, accX: "latency_s" };
  let traceRows = [];  // scatter trace number -> row index of each of its points
  let accRows = [];

  // ---------------------------------------------------------------- values
  function raw(col, i) {  // a number, a category label, a text, or undefined when the column is constant
    const c = C[col];
    if (!c) return D.const[col];
    if (c.kind === "cat") return c.labels[c.codes[i]];
    return c.values[i];
  }
  function num(col, i) { const v = raw(col, i); return typeof v === "number" ? v : NaN; }
  function fmt(v) {
    if (v === null || v === undefined || (typeof v === "number" && !isFinite(v))) return "n/a";
    if (typeof v !== "number") return v === "" ? "(none)" : String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
    return String(Number(v.toPrecision(4)));
  }
  function label(col) { return C[col] ? C[col].label : (D.labels[col] || col); }
  const METRIC_NAMES = { miou: "mIoU", ap: "AP", top1: "top-1 accuracy" };
  function metricName(m) {
    const k = String(m || "").toLowerCase();
    return METRIC_NAMES[k] || (k && k !== "unknown" ? String(m) : "accuracy");
  }
  function pathText(v) { return v === "" || v === undefined ? "full model" : v; }

  // ---------------------------------------------------------------- hover texts
  const METRICS = [["latency_s", "latency", "ms"], ["energy_j", "energy", "mJ"],
                   ["energy_per_op_j", "energy per op", "fJ/op"], ["throughput_ops_per_s_per_mm2", "throughput", "TOPS/mm2"],
                   ["utilization", "utilisation", "%"], ["area_mm2", "area", "mm2"]];
  const hoverCache = new Array(N);
  function hover(i) {
    if (hoverCache[i] !== undefined) return hoverCache[i];
    const lines = ["<b>" + fmt(raw("arch", i)) + "</b>",
                   fmt(raw("workload", i)) + " | " + pathText(raw("exec_path", i)) + " | scope: " + fmt(raw("scope", i))];
    const ps = D.params.map((p) => p + "=" + fmt(raw(p, i)));
    for (let k = 0; k < ps.length; k += 3) lines.push(ps.slice(k, k + 3).join(", "));
    for (let k = 0; k < METRICS.length; k += 2) {
      lines.push(METRICS.slice(k, k + 2).map(([c, n, u]) => n + " " + fmt(num(c, i)) + " " + u).join(" | "));
    }
    if (C.accuracy || D.const.accuracy !== undefined) {
      const a = num("accuracy", i);
      lines.push(metricName(raw("accuracy_metric", i)) + " " + (isFinite(a) ? fmt(a) + " %" : "unknown"));
    }
    hoverCache[i] = lines.join("<br>");
    return hoverCache[i];
  }

  // ---------------------------------------------------------------- filters
  function shownRows() {
    const out = [];
    const cats = Object.entries(state.cats), ranges = Object.entries(state.ranges);
    for (let i = 0; i < N; i++) {
      let ok = true;
      for (const [col, allowed] of cats) if (!allowed.has(C[col].codes[i])) { ok = false; break; }
      if (ok) for (const [col, [lo, hi]] of ranges) {
        const v = num(col, i);
        if (v < lo || v > hi) { ok = false; break; }
      }
      if (ok) out.push(i);
    }
    return out;
  }

  function extent(col) {  // [min, max] of a numeric column (nulls left out)
    let lo = Infinity, hi = -Infinity;
    for (const v of C[col].values) if (v !== null) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return [lo, hi];
  }
  function buildFilters() {
    const box = $("cat-filters");
    for (const col of D.filters) {
      const c = C[col];
      if (!c || c.kind !== "cat" || c.labels.length < 2) continue;
      const div = document.createElement("div");
      div.innerHTML = "<b>" + col + "</b>";
      c.labels.forEach((lab, code) => {
        const l = document.createElement("label");
        const cb = document.createElement("input");
        cb.type = "checkbox"; cb.checked = true; cb.dataset.col = col; cb.dataset.code = code;
        cb.className = "cat-filter";
        cb.addEventListener("change", () => {
          const s = state.cats[col] || new Set(c.labels.map((_, k) => k));
          if (cb.checked) s.add(code); else s.delete(code);
          state.cats[col] = s; update();
        });
        l.appendChild(cb);
        l.appendChild(document.createTextNode(" " + (col === "exec_path" ? pathText(lab) : lab)));
        div.appendChild(l);
      });
      box.appendChild(div);
    }
    const rbox = $("range-filters");
    if (D.params.length) rbox.innerHTML = "<b>parameter ranges</b>";
    for (const p of D.params) {
      const [lo, hi] = extent(p);
      const row = document.createElement("div");
      row.className = "range";
      row.innerHTML = "<span>" + p + "</span>";
      for (const [end, v] of [["min", lo], ["max", hi]]) {
        const inp = document.createElement("input");
        inp.type = "number"; inp.step = "any"; inp.value = v; inp.id = "range-" + p + "-" + end;
        inp.title = end + " " + p;
        const apply = () => {
          const a = parseFloat($("range-" + p + "-min").value), b = parseFloat($("range-" + p + "-max").value);
          state.ranges[p] = [isNaN(a) ? -Infinity : a, isNaN(b) ? Infinity : b];
          update();
        };
        inp.addEventListener("change", apply);
        inp.addEventListener("input", apply);
        row.appendChild(inp);
      }
      rbox.appendChild(row);
    }
    $("reset").addEventListener("click", () => {
      state.cats = {}; state.ranges = {};
      document.querySelectorAll(".cat-filter").forEach((cb) => { cb.checked = true; });
      for (const p of D.params) {
        const [lo, hi] = extent(p);
        $("range-" + p + "-min").value = lo;
        $("range-" + p + "-max").value = hi;
      }
      update();
    });
  }

  // ---------------------------------------------------------------- Pareto front of the plotted pair
  function paretoFront(rows, xcol, ycol, dx, dy) {
    return frontOf(rows.map((i) => [num(xcol, i), num(ycol, i), i]), dx, dy);
  }
  // ids of the points [x, y, id] that no other point beats: at least as good in both, better in one
  function frontOf(points, dx, dy) {
    const sx = dx === "max" ? -1 : 1, sy = dy === "max" ? -1 : 1;
    const pts = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y, i]) => [sx * x, sy * y, i]);
    pts.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const out = [];
    let best = Infinity;
    for (let k = 0; k < pts.length;) {
      let j = k;
      while (j < pts.length && pts[j][0] === pts[k][0]) j++;
      const m = pts[k][1];  // the best y at this x; equal points all stay (ties)
      if (m < best) { for (let t = k; t < j && pts[t][1] === m; t++) out.push(pts[t][2]); best = m; }
      k = j;
    }
    return out;
  }
  function groupRows(rows, keys) {
    const groups = new Map();
    for (const i of rows) {
      const k = keys.map((c) => (c === "exec_path" ? pathText(raw(c, i)) : fmt(raw(c, i)))).join(" | ");
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(i);
    }
    return groups;
  }

  // ---------------------------------------------------------------- the scatter
  function markerSize(n) { return n > 5000 ? 4 : n > 1000 ? 5 : n > 200 ? 7 : 10; }
  function colorTraces(rows) {
    const xcol = state.x, ycol = state.y, col = state.color, c = C[col];
    const size = markerSize(rows.length);
    const base = (rs) => ({
      type: "scattergl", mode: "markers", meta: "points",
      x: rs.map((i) => num(xcol, i)), y: rs.map((i) => num(ycol, i)),
      hovertext: rs.map(hover), hoverinfo: "text",
    });
    const categorical = c && (c.kind === "cat" || c.kind === "text");
    if (categorical) {
      const groups = new Map();
      for (const i of rows) { const v = String(raw(col, i)); if (!groups.has(v)) groups.set(v, []); groups.get(v).push(i); }
      if (groups.size <= MAX_LEGEND) {
        let k = 0;
        const traces = [];
        for (const [v, rs] of groups) {
          traces.push(Object.assign(base(rs), { name: col === "exec_path" ? pathText(v) : fmt(v),
            marker: { size: size, color: PALETTE[k++ % PALETTE.length], opacity: 0.85 } }));
          traceRows.push(rs);
        }
        return traces;
      }
    }
    let colors;
    if (!c) colors = rows.map(() => 0);
    else if (c.kind === "num") colors = rows.map((i) => num(col, i));
    else {
      const codes = new Map();
      colors = rows.map((i) => { const v = String(raw(col, i)); if (!codes.has(v)) codes.set(v, codes.size); return codes.get(v); });
    }
    traceRows.push(rows);
    return [Object.assign(base(rows), { name: "points", showlegend: false,
      marker: { size: size, color: colors, colorscale: "Viridis", opacity: 0.85, showscale: !!c,
                colorbar: { title: { text: label(col) }, thickness: 14 } } })];
  }

  function numericColor() {  // a colour bar instead of a legend
    const c = C[state.color];
    if (!c) return false;
    return c.kind === "num" || new Set(shownCache.map((i) => String(raw(state.color, i)))).size > MAX_LEGEND;
  }
  function frontTraces(rows) {
    const dx = D.directions[state.x], dy = D.directions[state.y];
    if (!dx || !dy || state.x === state.y) {
      $("front-note").textContent = "No Pareto front: " + [state.x, state.y].filter((c) => !D.directions[c]).join(", ")
        + " has no better direction (fronts need two of " + Object.keys(D.directions).join(", ") + ").";
      return [];
    }
    $("front-note").textContent = "Pareto front: " + dx + " " + label(state.x) + ", " + dy + " " + label(state.y)
      + ", one per " + D.front_keys.join(", ") + ".";
    const traces = [];
    const groups = groupRows(rows, D.front_keys);
    for (const [key, rs] of groups) {
      const f = paretoFront(rs, state.x, state.y, dx, dy);
      f.sort((a, b) => num(state.x, a) - num(state.x, b) || num(state.y, a) - num(state.y, b));
      traces.push({ type: "scatter", mode: "lines+markers", meta: "front", name: "front: " + key,
        showlegend: groups.size <= 8 && !numericColor(), legendgroup: "front",
        x: f.map((i) => num(state.x, i)), y: f.map((i) => num(state.y, i)),
        hovertext: f.map(hover), hoverinfo: "text",
        line: { color: "#222", width: 1.5 }, marker: { size: 13, color: "rgba(0,0,0,0)", line: { color: "#222", width: 1.5 } } });
      traceRows.push(f);
    }
    return traces;
  }

  let shownCache = [];
  function drawScatter(rows) {
    traceRows = [];
    shownCache = rows;
    const traces = colorTraces(rows).concat(frontTraces(rows));
    const layout = {
      margin: { l: 70, r: 20, t: 30, b: 55 }, hovermode: "closest", uirevision: state.x + "|" + state.y + "|" + state.logx + state.logy,
      xaxis: { title: { text: label(state.x) }, type: state.logx ? "log" : "linear" },
      yaxis: { title: { text: label(state.y) }, type: state.logy ? "log" : "linear" },
      legend: { title: { text: C[state.color] ? state.color : "" } },
      hoverlabel: { align: "left" },
    };
    return Plotly.react($("scatter"), traces, layout, { responsive: true, displaylogo: false });
  }

  // ---------------------------------------------------------------- per-layer breakdown
  function showLayers(i) {
    const L = D.layers.points[String(i)];
    const title = fmt(raw("arch", i)) + " on " + fmt(raw("workload", i)) + " [" + pathText(raw("exec_path", i)) + "], scope: " + fmt(raw("scope", i));
    const info = $("layers-info");
    if (!L) {
      info.textContent = title + ": no per-layer rows on this page. " + (D.layer_scope === "front"
        ? "This page holds them for the Pareto-front points only (" + Object.keys(D.layers.points).length
          + " points); make it with --layers FILE --layer-points all, or --recompute for the front."
        : "The --layers file has no rows for this point.");
      Plotly.purge($("layers"));
      $("layers").dataset.point = "";
      return;
    }
    const parts = (L.parts || []).map(([p, t, e]) => p + ": " + fmt(100 * t) + " % of time, " + fmt(100 * e) + " % of energy");
    info.textContent = title + ": " + L.n + " layers, " + fmt(L.time.total / 1000) + " ms, " + fmt(L.energy.total / 1000)
      + " mJ" + (parts.length ? "; " + parts.join("; ") : "") + ".";
    const names = D.layers.names, ops = D.layers.ops;
    const bars = (panel, key, unit, axis) => {
      const top = L[key].top.slice().reverse();  // largest at the top
      const total = L[key].total || 1;
      return { type: "bar", orientation: "h", meta: "layers-" + key, name: panel, showlegend: false,
        xaxis: "x" + axis, yaxis: "y" + axis,
        y: top.map(([n], r) => (top.length - r) + ". " + D.layers.short[n]),
        x: top.map(([, , v]) => v),
        marker: { color: top.map(([, o]) => D.op_colors[ops[o]] || "#2ca02c") },
        hovertext: top.map(([n, o, v]) => names[n] + "<br>" + ops[o] + ": " + fmt(v) + " " + unit + " ("
                                            + fmt(100 * v / total) + " %)"), hoverinfo: "text" };
    };
    const comps = Object.entries(L.components).sort((a, b) => a[1] - b[1]);
    const traces = [bars("time", "time", "us", ""), bars("energy", "energy", "uJ", "2"),
      { type: "bar", orientation: "h", meta: "layers-components", showlegend: false, xaxis: "x3", yaxis: "y3",
        y: comps.map(([c]) => c), x: comps.map(([, v]) => v), marker: { color: "#8c564b" },
        hovertext: comps.map(([c, v]) => c + ": " + fmt(v) + " uJ (" + fmt(100 * v / (L.energy.total || 1)) + " %)"),
        hoverinfo: "text" }];
    // op kinds as legend entries (one invisible bar each)
    const used = [...new Set(L.time.top.concat(L.energy.top).map(([, o]) => ops[o]))];
    for (const op of used) traces.push({ type: "bar", x: [null], y: [null], name: op, marker: { color: D.op_colors[op] || "#2ca02c" },
                                         xaxis: "x", yaxis: "y", showlegend: true, hoverinfo: "skip" });
    const layout = {
      margin: { l: 190, r: 10, t: 40, b: 100 }, barmode: "overlay", bargap: 0.25,
      legend: { orientation: "h", y: -0.3, title: { text: "op kind" } },
      xaxis: { domain: [0, 0.25], title: { text: "time (us)" } }, yaxis: { anchor: "x", automargin: true, tickfont: { size: 10 } },
      xaxis2: { domain: [0.42, 0.67], title: { text: "energy (uJ)" } }, yaxis2: { anchor: "x2", tickfont: { size: 10 } },
      xaxis3: { domain: [0.82, 1], title: { text: "energy (uJ)" } }, yaxis3: { anchor: "x3", tickfont: { size: 10 } },
      annotations: [["top " + L.time.top.length + " layers by time", 0], ["top " + L.energy.top.length + " layers by energy", 0.42],
                    ["energy by component", 0.82]].map(([t, x]) => ({ text: t, x: x, y: 1.07, xref: "paper", yref: "paper",
                                                                         showarrow: false, xanchor: "left", font: { size: 13 } })),
    };
    $("layers").dataset.point = String(i);
    return Plotly.react($("layers"), traces, layout, { responsive: true, displaylogo: false });
  }

  // ---------------------------------------------------------------- accuracy view
  function drawAccuracy(rows) {
    if (!D.accuracy) {
      $("accuracy-info").textContent = "Accuracy view: this sweep has one execution path per workload; a sweep over "
        + "execution paths (--exec-path) shows accuracy against time or energy here.";
      $("accuracy").style.display = "none";
      $("acc-x").parentElement.style.display = "none";
      return Promise.resolve();
    }
    const xcol = state.accX;
    const known = rows.filter((i) => isFinite(num("accuracy", i)) && isFinite(num(xcol, i)));
    const unknown = rows.filter((i) => !isFinite(num("accuracy", i)) && isFinite(num(xcol, i)));
    const metrics = [...new Set(known.map((i) => raw("accuracy_metric", i)))];
    const yname = (metrics.length === 1 ? metricName(metrics[0]) : "accuracy") + " (%)";
    accRows = [];
    const traces = [];
    const byWl = groupRows(known, ["workload"]);
    let k = 0;
    for (const [wl, rs] of byWl) {
      traces.push({ type: "scattergl", mode: "markers", meta: "acc-points", name: wl, x: rs.map((i) => num(xcol, i)),
        y: rs.map((i) => num("accuracy", i)), hovertext: rs.map(hover), hoverinfo: "text",
        marker: { size: 9, color: PALETTE[k++ % PALETTE.length] } });
      accRows.push(rs);
    }
    const keys = D.front_keys.filter((c) => c !== "exec_path");  // paths share a front
    for (const [key, rs] of groupRows(known, keys)) {
      const f = paretoFront(rs, xcol, "accuracy", "min", "max");
      f.sort((a, b) => num(xcol, a) - num(xcol, b));
      traces.push({ type: "scatter", mode: "lines+markers", meta: "acc-front", name: "front: " + key, legendgroup: "front",
        x: f.map((i) => num(xcol, i)), y: f.map((i) => num("accuracy", i)), hovertext: f.map(hover), hoverinfo: "text",
        line: { color: "#222", width: 1.5, shape: "hv" }, marker: { size: 14, color: "rgba(0,0,0,0)", line: { color: "#222", width: 1.5 } } });
      accRows.push(f);
    }
    if (unknown.length) {  // under the panel, on an axis of its own (as the PNG's strip)
      traces.push({ type: "scattergl", mode: "markers", meta: "acc-unknown", name: "accuracy unknown",
        xaxis: "x", yaxis: "y2", x: unknown.map((i) => num(xcol, i)), y: unknown.map(() => 0.5),
        hovertext: unknown.map(hover), hoverinfo: "text", marker: { size: 9, symbol: "circle-open", color: "#737373" } });
      accRows.push(unknown);
    }
    $("accuracy-info").textContent = known.length + " point(s) with published accuracy, " + unknown.length
      + " of unknown accuracy (in the strip under the panel); front: min " + label(xcol) + ", max " + yname
      + ", one per " + (keys.join(", ") || "sweep") + ".";
    return Plotly.react($("accuracy"), traces, {
      margin: { l: 70, r: 20, t: 20, b: 55 }, hovermode: "closest",
      xaxis: { title: { text: label(xcol) }, anchor: "y2" }, yaxis: { title: { text: yname }, domain: [0.2, 1] },
      yaxis2: { domain: [0, 0.12], range: [0, 1], showticklabels: false, showgrid: false, zeroline: false, fixedrange: true,
                title: { text: "accuracy<br>unknown", font: { size: 11, color: "#555" } } },
      plot_bgcolor: "#fff",
      shapes: [{ type: "rect", xref: "paper", yref: "y2 domain", x0: 0, x1: 1, y0: 0, y1: 1, fillcolor: "#f4f4f4",
                 line: { width: 0 }, layer: "below" }],
    }, { responsive: true, displaylogo: false });
  }

  // ---------------------------------------------------------------- controls
  function fillSelect(sel, cols, value) {
    for (const c of cols) {
      const o = document.createElement("option");
      o.value = c; o.textContent = label(c) === c ? c : label(c) + " [" + c + "]";
      sel.appendChild(o);
    }
    sel.value = value;
  }
  function update() {
    const rows = shownRows();
    $("count").textContent = rows.length + " of " + N + " points shown"
      + (D.unmappable ? " (" + D.unmappable + " unmappable points not drawn)" : "");
    $("count").dataset.shown = String(rows.length);
    return Promise.all([drawScatter(rows), drawAccuracy(rows)]);
  }

  function init() {
    const consts = Object.entries(D.const).filter(([k]) => !k.startsWith("accuracy"));
    $("const").textContent = (consts.length ? "Same for every point: " + consts.map(([k, v]) => label(k) + " = " + fmt(v)).join(", ") : "")
      + (D.settings.objective ? " | mapping objective: " + D.settings.objective : "");
    fillSelect($("x-col"), D.numeric, state.x);
    fillSelect($("y-col"), D.numeric, state.y);
    fillSelect($("color-col"), Object.keys(C), state.color);
    $("x-log").checked = state.logx; $("y-log").checked = state.logy;
    $("x-col").addEventListener("change", (e) => { state.x = e.target.value; update(); });
    $("y-col").addEventListener("change", (e) => { state.y = e.target.value; update(); });
    $("color-col").addEventListener("change", (e) => { state.color = e.target.value; update(); });
    $("x-log").addEventListener("change", (e) => { state.logx = e.target.checked; update(); });
    $("y-log").addEventListener("change", (e) => { state.logy = e.target.checked; update(); });
    $("acc-x").addEventListener("change", (e) => { state.accX = e.target.value; update(); });
    buildFilters();
    update().then(() => {
      $("scatter").on("plotly_click", (ev) => {
        const p = ev.points[0];
        if (p && traceRows[p.curveNumber]) showLayers(traceRows[p.curveNumber][p.pointNumber]);
      });
      if (D.accuracy) $("accuracy").on("plotly_click", (ev) => {
        const p = ev.points[0];
        if (p && accRows[p.curveNumber]) showLayers(accRows[p.curveNumber][p.pointNumber]);
      });
      window.explorerReady = true;
      document.body.dataset.ready = "1";
    });
  }
  window.explorer = { data: D, state: state, shownRows: shownRows, update: update, showLayers: showLayers,
                      paretoFront: paretoFront, frontOf: frontOf, traceRows: () => traceRows };
  init();
})();
