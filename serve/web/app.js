// hrm serve: the dashboard's pages, drawn from the JSON API (README.md,
// "hrm serve"). Plain JavaScript and uPlot; every view polls the store every
// 2 s and asks only for what it does not have (a cursor, or the last step).
"use strict";

const POLL_MS = 2000;
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                 "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#ad494a", "#637939", "#843c39"];
const METRIC_NAMES = {val_ce: "val CE", train_ce: "train CE", lr: "learning rate",
                      grad_norm: "grad norm", tokens: "tokens", wall_s: "wall s"};
const app = document.getElementById("app");

// ---- small helpers ----

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "onclick" || k === "onchange" || k === "oninput") e[k] = v;
    else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function fmt(v, digits) {
  if (v === null || v === undefined) return "—";
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return v.toFixed(digits === undefined ? 4 : digits);
}

function duration(s) {
  if (s === null || s === undefined) return "—";
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}

function metricName(m) { return METRIC_NAMES[m] || m.replace(/^extra\./, ""); }

async function api(url) {
  const res = await fetch(url, {cache: "no-cache"});
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

function setLive(ok, text) {
  const live = document.getElementById("live");
  live.textContent = text;
  live.className = ok ? "" : "stale";
}

// Calls step() now and every POLL_MS after it finishes; errors show in the
// header and polling goes on (the runner may be restarting).
function poll(step) {
  const tick = async () => {
    try {
      await step();
      setLive(true, "live · " + new Date().toLocaleTimeString());
    } catch (e) {
      setLive(false, "stale: " + e.message);
    }
    setTimeout(tick, POLL_MS);
  };
  tick();
}

function statusCell(status) { return el("td", {class: "status-" + status}, status); }

// Exponential moving average over the non-null values (weight `a` on the past).
function smooth(values, a) {
  if (!a) return values;
  let acc = null;
  return values.map(v => {
    if (v === null) return null;
    acc = acc === null ? v : a * acc + (1 - a) * v;
    return acc;
  });
}

// One uPlot line chart of series [{label, color, xs, ys, width, dash}] plus
// bands [{upper, lower}] (indices into series), remembering which series the
// user hid (by label) across redraws.
class Chart {
  constructor(parent, yLabel, readout) {
    this.parent = parent;
    this.yLabel = yLabel;
    this.readout = readout;
    this.hidden = new Set();
    this.plot = null;
    this.shape = "";
  }
  draw(series, bands, logx) {
    const xsAll = new Set();
    for (const s of series) for (const x of s.xs) if (!logx || x > 0) xsAll.add(x);
    const xs = [...xsAll].sort((a, b) => a - b);
    const at = new Map(xs.map((x, i) => [x, i]));
    const data = [xs];
    for (const s of series) {
      const ys = new Array(xs.length).fill(null);
      s.xs.forEach((x, i) => { if (at.has(x)) ys[at.get(x)] = s.ys[i]; });
      data.push(ys);
    }
    const shape = JSON.stringify([series.map(s => s.label), bands, logx, this.yLabel]);
    if (this.plot && shape === this.shape) {
      this.plot.setData(data);
      return;
    }
    if (this.plot) this.plot.destroy();
    this.shape = shape;
    const opts = {
      width: Math.max(400, Math.min(this.parent.clientWidth || 900, 1300)),
      height: 380,
      scales: {x: {time: false, distr: logx ? 3 : 1}},
      axes: [{label: "step"}, {label: this.yLabel, size: 70}],
      series: [{label: "step"}].concat(series.map(s => ({
        label: s.label, stroke: s.color, width: s.width || 1.5, dash: s.dash,
        show: !this.hidden.has(s.label), spanGaps: true, points: {show: false},
      }))),
      bands: bands.map(b => ({series: [b.upper + 1, b.lower + 1], fill: b.fill})),
      cursor: {focus: {prox: 30}},
      focus: {alpha: 0.35},
      legend: {live: true},
      hooks: {
        setSeries: [(u, i, o) => {
          if (i !== null && o && "show" in o) {
            const label = u.series[i].label;
            if (o.show) this.hidden.delete(label); else this.hidden.add(label);
          }
        }],
        setCursor: [u => this.showReadout(u)],
      },
    };
    this.plot = new uPlot(opts, data, this.parent);
  }
  // (step, value, run) of the visible series nearest the cursor.
  showReadout(u) {
    if (!this.readout) return;
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined || u.cursor.top < 0) {
      this.readout.textContent = "";
      return;
    }
    const y = u.posToVal(u.cursor.top, "y");
    let best = null;
    for (let i = 1; i < u.series.length; i++) {
      const v = u.data[i][idx];
      if (!u.series[i].show || v === null || v === undefined) continue;
      if (best === null || Math.abs(v - y) < Math.abs(u.data[best][idx] - y)) best = i;
    }
    this.readout.textContent = best === null ? `step ${u.data[0][idx]}` :
      `step ${u.data[0][idx]}  ${this.yLabel} ${fmt(u.data[best][idx])}  ${u.series[best].label}`;
  }
}

// ---- the sweeps page ----

function sweepsPage() {
  document.title = "hrm serve — sweeps";
  const body = el("div");
  app.replaceChildren(el("h1", {}, "Sweeps"), body);
  poll(async () => {
    const d = await api("/api/sweeps");
    const rows = d.sweeps.map(s => {
      const c = s.counts;
      const parts = ["done", "running", "interrupted", "pending", "failed", "diverged"]
        .filter(k => c[k]).map(k => `${c[k]} ${k}`).join(", ");
      return el("tr", {},
        el("td", {}, el("a", {href: "/sweeps/" + s.id}, s.name)),
        el("td", {class: "muted"}, s.grid),
        el("td", {}, s.profile || "—"),
        el("td", {class: "num"}, s.total),
        el("td", {}, parts || "no runs"),
        el("td", {}, el("span", {class: "bar"}, el("span", {style: `width:${(100 * s.progress).toFixed(1)}%`})),
           " ", (100 * s.progress).toFixed(1) + "%"),
        el("td", {class: "num"}, duration(s.eta_s)),
        el("td", {class: "muted"}, s.updated_at));
    });
    body.replaceChildren(
      el("p", {class: "muted"}, `Store ${d.store}: ${d.sweeps.length} sweeps.`),
      el("table", {},
        el("thead", {}, el("tr", {}, ["sweep", "grid", "profile", "runs", "status", "progress",
                                       "ETA", "updated"].map(h => el("th", {}, h)))),
        el("tbody", {}, rows)));
  });
}

// ---- a sweep's page ----

function sweepPage(id) {
  const st = {
    cursor: 0, runs: new Map(), evals: new Map(), keys: [], metrics: ["val_ce"], sweep: null,
    metric: "val_ce", colorBy: null, lines: null, smoothing: 0, logx: false,
    sort: {key: "position", dir: 1},
  };
  const title = el("h1", {}, "Sweep " + id);
  const summary = el("p", {class: "muted"});
  const searchLink = el("a", {href: `/sweeps/${id}/search`, hidden: true, id: "search-link"},
                        "Search: trials, rung decisions, parallel coordinates");
  const controls = el("div", {class: "controls"});
  const chartBox = el("div", {class: "chart", id: "chart"});
  const readout = el("div", {id: "readout"});
  const points = el("span", {id: "points"}, "0");
  const tableBox = el("div");
  app.replaceChildren(title, summary, searchLink, controls, chartBox,
                      el("div", {class: "muted"}, points, " points plotted · ", readout), el("h2", {}, "Runs"),
                      tableBox);
  const chart = new Chart(chartBox, metricName(st.metric), readout);

  function select(label, options, value, onchange) {
    const s = el("select", {onchange: e => onchange(e.target.value)},
                 options.map(([v, text]) => el("option", {value: v, selected: v === value}, text)));
    return el("label", {}, label + " ", s);
  }

  function drawControls() {
    controls.replaceChildren(
      select("metric", st.metrics.map(m => [m, metricName(m)]), st.metric, v => {
        st.metric = v;
        st.cursor = 0;  // the other rows' values are not here yet: ask again
        st.evals.clear();
        chart.yLabel = metricName(v);
        refresh();
      }),
      select("colour by", [["", "(run)"]].concat(st.keys.map(k => [k, k])), st.colorBy || "", v => {
        st.colorBy = v || null;
        redraw();
      }),
      select("lines", [["runs", "each run"], ["seeds", "seed groups: mean, min–max"],
                       ["colour", "colour groups: mean, min–max"]], st.lines, v => {
        st.lines = v;
        redraw();
      }),
      el("label", {}, "smoothing ", el("input", {type: "range", min: 0, max: 0.95, step: 0.05,
                                                   value: st.smoothing,
                                                   oninput: e => { st.smoothing = +e.target.value; redraw(); }})),
      el("label", {}, el("input", {type: "checkbox", checked: st.logx,
                                   onchange: e => { st.logx = e.target.checked; redraw(); }}), " log x"));
  }

  function groupKey(run, without) {
    const c = Object.assign({}, run.config);
    for (const k of without) delete c[k];
    return JSON.stringify(Object.keys(c).sort().map(k => [k, c[k]]));
  }

  function colorOf(run, values) {
    if (!st.colorBy) return PALETTE[run.position % PALETTE.length];
    const v = JSON.stringify(run.config[st.colorBy]);
    if (!values.has(v)) values.set(v, PALETTE[values.size % PALETTE.length]);
    return values.get(v);
  }

  function redraw() {
    const runs = [...st.runs.values()].sort((a, b) => a.position - b.position);
    const colors = new Map();
    const series = [], bands = [];
    let total = 0;
    for (const r of runs) {
      const e = st.evals.get(r.id);
      if (e && e[st.metric]) total += e[st.metric].filter(v => v !== null).length;
    }
    points.textContent = String(total);
    if (st.lines === "runs") {
      for (const r of runs) {
        const e = st.evals.get(r.id);
        if (!e || !e.step.length) continue;
        series.push({label: `${r.label || r.id} (${r.id})`, color: colorOf(r, colors), xs: e.step,
                     ys: smooth(e[st.metric] || [], st.smoothing)});
      }
    } else {
      const groups = new Map();
      for (const r of runs) {
        const key = st.lines === "seeds" ? groupKey(r, ["seed"])
                                         : JSON.stringify(st.colorBy ? r.config[st.colorBy] : null);
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(r);
      }
      for (const members of groups.values()) {
        const byStep = new Map();
        for (const r of members) {
          const e = st.evals.get(r.id);
          if (!e) continue;
          const ys = smooth(e[st.metric] || [], st.smoothing);
          e.step.forEach((s, i) => {
            if (ys[i] === null) return;
            if (!byStep.has(s)) byStep.set(s, []);
            byStep.get(s).push(ys[i]);
          });
        }
        if (!byStep.size) continue;
        const xs = [...byStep.keys()].sort((a, b) => a - b);
        const vals = xs.map(x => byStep.get(x));
        const first = members[0];
        const name = st.lines === "seeds"
          ? (first.label || first.id).replace(/[ ,]*seed[ =:]*\d+/i, "") + ` ×${members.length}`
          : `${st.colorBy || "all"}=${st.colorBy ? JSON.stringify(first.config[st.colorBy]) : "runs"} ×${members.length}`;
        const color = colorOf(first, colors);
        const base = series.length;
        series.push({label: name, color, width: 2, xs, ys: vals.map(v => v.reduce((a, b) => a + b, 0) / v.length)});
        if (members.length > 1) {
          series.push({label: name + " max", color: color + "55", width: 0.5, xs, ys: vals.map(v => Math.max(...v))});
          series.push({label: name + " min", color: color + "55", width: 0.5, xs, ys: vals.map(v => Math.min(...v))});
          bands.push({upper: base + 1, lower: base + 2, fill: color + "22"});
        }
      }
    }
    chart.draw(series, bands, st.logx);
    drawTable(runs);
  }

  function drawTable(runs) {
    const cols = [["label", "run"]].concat(st.keys.map(k => ["config." + k, k]),
      [["status", "status"], ["step", "step"], ["last_val_ce", "last val CE"], ["best_val_ce", "best val CE"]]);
    const value = (r, key) => key.startsWith("config.") ? r.config[key.slice(7)] : r[key];
    const sorted = runs.slice().sort((a, b) => {
      const va = value(a, st.sort.key), vb = value(b, st.sort.key);
      if (va === vb) return a.position - b.position;
      if (va === null || va === undefined) return 1;
      if (vb === null || vb === undefined) return -1;
      return (va < vb ? -1 : 1) * st.sort.dir;
    });
    const shown = sorted.slice(0, 500);
    tableBox.replaceChildren(
      sorted.length > shown.length ? el("p", {class: "muted"}, `First 500 of ${sorted.length} runs in this order.`) : "",
      el("table", {id: "runs"},
        el("thead", {}, el("tr", {}, cols.map(([key, name]) => el("th", {
          class: "sortable", title: "sort",
          onclick: () => { st.sort = {key, dir: st.sort.key === key ? -st.sort.dir : 1}; drawTable(runs); },
        }, name + (st.sort.key === key ? (st.sort.dir > 0 ? " ▲" : " ▼") : ""))))),
        el("tbody", {}, shown.map(r => el("tr", {},
          el("td", {}, el("a", {href: "/runs/" + r.id}, r.label || r.id)),
          st.keys.map(k => el("td", {}, fmt(r.config[k]))),
          statusCell(r.status),
          el("td", {class: "num"}, `${fmt(r.step)} / ${fmt(r.steps)}`),
          el("td", {class: "num"}, fmt(r.last_val_ce)),
          el("td", {class: "num"}, fmt(r.best_val_ce)))))));
  }

  async function refresh() {
    const d = await api(`/api/sweeps/${id}?since=${st.cursor}&metrics=${encodeURIComponent(st.metric)}`);
    if (d.reset) {
      st.runs.clear();
      st.evals.clear();
    }
    st.cursor = d.cursor;
    const keysChanged = JSON.stringify(d.keys) !== JSON.stringify(st.keys) ||
                        JSON.stringify(d.metrics) !== JSON.stringify(st.metrics);
    st.keys = d.keys;
    st.metrics = d.metrics;
    st.sweep = d.sweep;
    for (const r of d.runs) st.runs.set(r.id, r);
    for (const [rid, cols] of Object.entries(d.evals)) {
      const have = st.evals.get(rid);
      if (!have) { st.evals.set(rid, cols); continue; }
      for (const [k, vs] of Object.entries(cols)) (have[k] = have[k] || []).push(...vs);
    }
    if (st.lines === null) {  // first answer: pick defaults from the data
      st.colorBy = st.keys.includes("model") ? "model" : (st.keys[0] || null);
      st.lines = st.runs.size > 300 ? "colour" : st.keys.includes("seed") ? "seeds" : "runs";
    }
    if (keysChanged || !controls.firstChild) drawControls();
    if (st.sweep) {
      const s = st.sweep, c = s.counts;
      document.title = "hrm serve — " + s.name;
      searchLink.hidden = !s.search;
      title.textContent = "Sweep " + s.name;
      summary.textContent = `${s.grid} · profile ${s.profile || "none"} · ${s.total} runs: ` +
        ["done", "running", "interrupted", "pending", "failed", "diverged"].filter(k => c[k])
          .map(k => `${c[k]} ${k}`).join(", ") +
        ` · ${(100 * s.progress).toFixed(1)}% of steps · ETA ${duration(s.eta_s)}`;
    }
    if (d.reset || d.runs.length || Object.keys(d.evals).length) redraw();
  }

  poll(refresh);
}

// ---- a run's page ----

function runPage(id) {
  const st = {evals: null, lastStep: null, charts: new Map(), trace: {}};
  const head = el("div"), curves = el("div"), trace = el("div"), info = el("div");
  app.replaceChildren(el("h1", {}, "Run " + id), head, el("h2", {}, "Curves"), curves,
                      el("h2", {}, "HRM step trace"), trace, info);

  function drawInfo(d) {
    const r = d.run;
    document.title = "hrm serve — run " + r.id;
    head.replaceChildren(
      el("p", {}, `${r.model} · `, el("span", {class: "status-" + r.status}, r.status),
         ` · step ${fmt(r.step)} of ${fmt(r.config && r.config.steps)} · attempts ${r.attempts}` +
         (r.error ? ` · ${r.error}` : "")),
      el("p", {class: "muted"}, "In sweeps: ",
         d.sweeps.map((s, i) => [i ? ", " : "", el("a", {href: "/sweeps/" + s.id}, s.name)])),
      el("div", {}, Object.entries(d.commands).map(([k, cmd]) => el("code", {class: "cmd", title: k}, cmd))));
    const events = d.events.map(e => el("tr", {},
      el("td", {}, e.time || "—"), statusCell(e.event), el("td", {class: "num"}, fmt(e.step)),
      el("td", {class: "muted"}, e.body && (e.body.error || e.body.reason || e.body.message) || "")));
    const meas = d.measurements.filter(m => !m.metric.startsWith("trace.")).map(m => el("tr", {},
      el("td", {}, m.metric), el("td", {class: "num"}, fmt(m.value)),
      el("td", {class: "muted"}, JSON.stringify(m.extra))));
    info.replaceChildren(
      el("h2", {}, "Status history"),
      events.length ? el("table", {}, el("thead", {}, el("tr", {}, ["time", "event", "step", "detail"].map(h => el("th", {}, h)))),
                         el("tbody", {}, events)) : el("p", {class: "muted"}, "No lifecycle events yet."),
      meas.length ? el("h2", {}, "Measurements") : "",
      meas.length ? el("table", {}, el("tbody", {}, meas)) : "",
      el("h2", {}, "Config"), el("pre", {}, JSON.stringify(r.config, null, 2)),
      el("h2", {}, "Provenance"), el("pre", {}, JSON.stringify(r.provenance, null, 2)));
    // Step trace measurements (hrm's hlrole protocol), by recurrent step.
    const byStep = new Map();
    for (const m of d.measurements)
      if (m.metric.startsWith("trace.") && m.extra && Number.isInteger(m.extra.step)) {
        if (!byStep.has(m.extra.step)) byStep.set(m.extra.step, {});
        byStep.get(m.extra.step)[m.metric.slice(6)] = m.value;
      }
    st.measuredTrace = byStep;
    drawTrace();
  }

  function drawTrace() {
    const arrays = Object.entries(st.trace).filter(([, v]) => Array.isArray(v) && v.length);
    const measured = st.measuredTrace || new Map();
    if (!arrays.length && !measured.size) {
      trace.replaceChildren(el("p", {class: "muted"}, "No step trace (HRM runs record one at each evaluation)."));
      return;
    }
    const parts = [];
    if (arrays.length) {
      const n = Math.max(...arrays.map(([, v]) => v.length));
      parts.push(el("p", {class: "muted"}, `At step ${fmt(st.lastStep)}: per recurrent step of the last evaluation.`),
        el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "step"), arrays.map(([k]) => el("th", {}, k)))),
           el("tbody", {}, [...Array(n).keys()].map(i => el("tr", {}, el("td", {}, i),
             arrays.map(([, v]) => el("td", {class: "num"}, fmt(v[i]))))))));
    }
    if (measured.size) {
      const keys = [...new Set([...measured.values()].flatMap(o => Object.keys(o)))].sort();
      parts.push(el("p", {class: "muted"}, "Measured trace (trace.* measurements):"),
        el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "step"), keys.map(k => el("th", {}, k)))),
           el("tbody", {}, [...measured.keys()].sort((a, b) => a - b).map(s => el("tr", {}, el("td", {}, s),
             keys.map(k => el("td", {class: "num"}, fmt(measured.get(s)[k]))))))));
    }
    trace.replaceChildren(...parts);
  }

  function drawCurves() {
    const e = st.evals;
    const groups = [["val_ce", "train_ce"], ["lr"], ["grad_norm"]]
      .concat(Object.keys(e).filter(k => k.startsWith("extra.")).map(k => [k]));
    for (const metrics of groups) {
      const present = metrics.filter(m => e[m] && e[m].some(v => v !== null));
      if (!present.length) continue;
      const name = present.map(metricName).join(" / ");
      if (!st.charts.has(name)) {
        const box = el("div", {class: "chart"});
        const readout = el("div", {class: "readout"});
        curves.append(el("h3", {}, name), box, readout);
        st.charts.set(name, new Chart(box, name, readout));
      }
      st.charts.get(name).draw(present.map((m, i) => ({label: metricName(m), color: PALETTE[i],
                                                      xs: e.step, ys: e[m]})), [], false);
    }
  }

  poll(async () => {
    drawInfo(await api(`/api/runs/${id}`));
    const since = st.lastStep === null ? "" : `?since=${st.lastStep}`;
    const d = await api(`/api/runs/${id}/evals${since}`);
    if (!st.evals) st.evals = d.evals;
    else {
      const held = st.evals.step.length;
      for (const [k, vs] of Object.entries(d.evals)) {
        if (!st.evals[k]) st.evals[k] = new Array(held).fill(null);
        st.evals[k].push(...vs);
      }
    }
    for (const k of Object.keys(st.evals))  // a column this answer did not have
      while (st.evals[k].length < st.evals.step.length) st.evals[k].push(null);
    if (d.last_step !== null) st.lastStep = d.last_step;
    if (Object.keys(d.trace).length) st.trace = d.trace;
    drawCurves();
    drawTrace();
  });
}

// ---- routing ----

function route() {
  const p = location.pathname.split("/").filter(Boolean);
  if (!p.length) return sweepsPage();
  if (p[0] === "sweeps" && p.length === 2) return sweepPage(p[1]);
  if (p[0] === "runs" && p.length === 2) return runPage(p[1]);
  app.replaceChildren(el("p", {class: "error"}, "No such page."));
}

route();
