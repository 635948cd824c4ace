// A partition's page: its bounds and backend statuses, what is pending, and
// charts of the last hour from the history endpoint.
import { $, el, fixed, num, mib, clock, PALETTE } from "./dom.js";
import { history } from "./history.js";

// chart title -> series [label, column, colour, dash]
const CHARTS = [
  ["Processors", [["use", "used", PALETTE[0], []], ["entitlement", "entitlement", PALETTE[1], [6, 3]],
    ["online", "online", PALETTE[2], [2, 2]]]],
  ["Weight", [["weight", "weight", PALETTE[3], []]]],
  ["Memory (GiB)", [["target", "memory_target", PALETTE[4], []],
    ["actual", "memory_actual", PALETTE[5], [6, 3]]]],
];
const GIB = { memory_target: 1024, memory_actual: 1024 }; // columns in MiB, shown in GiB

let charts = null; // {name, plots: [uPlot]}
const HEIGHT = 160;
const width = (div) => Math.max(240, div.clientWidth - 4); // a chart fills its column

// the window resized: each chart to its column's new width, once the
// resizing pauses (a redraw per resize event would be a redraw per pixel)
let resizing = null;
window.addEventListener("resize", () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => {
    for (const p of charts ? charts.plots : []) {
      p.setSize({ width: 240, height: HEIGHT }); // let the column shrink first
      p.setSize({ width: width(p.root.parentElement), height: HEIGHT });
    }
    if (charts) $("charts").dataset.width = String(charts.plots[0].width);
  }, 150);
});

function chartOptions(title, series, width) {
  return {
    width, height: HEIGHT,
    cursor: { drag: { x: false, y: false } },
    legend: { live: false },
    scales: {
      // the last hour, or at least the last minute while there is less
      x: { time: true, range: (u, min, max) => [Math.min(min, max - 60), max] },
      y: { range: (u, min, max) => [0, Math.max(1, max) * 1.15] },
    },
    // the times on one line, as the event list has them (uPlot's own put
    // the date under the first and it collided with the next at a minute)
    axes: [{ space: 80, values: (u, splits) => splits.map((t) => clock(t)) }, { size: 44 }],
    series: [{}, ...series.map(([label, , stroke, dash]) => ({ label, stroke, dash, width: 2,
      spanGaps: false }))],
  };
}

// uPlot is loaded with the first chart, not with the overview
async function plot(name, h) {
  const uPlot = (await import("./vendor/uplot/uPlot.esm.js")).default;
  const box = $("charts");
  const data = (series) => [h.samples.at, ...series.map(([, col]) =>
    GIB[col] ? h.samples[col].map((v) => (v === null ? null : v / GIB[col])) : h.samples[col])];
  if (!charts || charts.name !== name) {
    for (const p of charts ? charts.plots : []) p.destroy();
    // every figure in place first: each chart is as wide as its column
    const divs = CHARTS.map(([title]) => el("div", { class: "chart", "data-chart": title }));
    box.replaceChildren(...CHARTS.map(([title], i) => el("figure", {},
      el("figcaption", {}, title), divs[i])));
    charts = { name, plots: CHARTS.map(([title, series], i) => new uPlot(
      chartOptions(title, series, width(divs[i])), data(series), divs[i])) };
    box.dataset.width = String(charts.plots[0].width);
  } else {
    CHARTS.forEach(([, series], i) => charts.plots[i].setData(data(series)));
  }
  box.dataset.points = String(h.samples.at.length);
}

const STATUS_TEXT = { applied: "applied", unconfirmed: "unconfirmed", unsupported: "unsupported",
  failed: "failed", none: "–" };

function status(p, key) {
  const b = p.backend && p.backend[key];
  if (!b) return "–";
  return el("span", { class: "status " + b.status, title: b.detail || "" }, STATUS_TEXT[b.status] || b.status);
}

function bounds(p) {
  const w = p.weight, c = p.cap;
  const rows = [
    ["Processors", num(p.processors.online), num(p.processors.initial), num(p.processors.min),
      num(p.processors.reserved), status(p, "processors")],
    ["Memory", mib(p.memory.target), mib(p.memory.initial), mib(p.memory.min),
      mib(p.memory.reserved), status(p, "memory")],
  ];
  if (w) rows.push(["Weight", num(w.current), num(w.initial), num(w.min), num(w.max), status(p, "weight")]);
  if (c) rows.push(["Cap", c.current === null ? "none" : fixed(c.current),
    c.initial === null ? "none" : fixed(c.initial), "0.01", "255", status(p, "cap")]);
  return el("table", { class: "grid", id: "bounds" },
    el("thead", {}, el("tr", {}, ...["", "Running", "Profile", "Min", "Max", "Backend"].map((t) =>
      el("th", {}, t)))),
    el("tbody", {}, ...rows.map((r) => el("tr", { "data-field": r[0].toLowerCase() },
      el("th", {}, r[0]), ...r.slice(1).map((v) => el("td", { class: "num" }, v))))));
}

export async function showPartition(p) {
  $("part-title").textContent = p.name;
  $("part-state").textContent = p.state + " · " + p.mode + (p.group ? " · group " + p.group : "") +
    " · entitled " + fixed(p.entitlement) + " · use " + fixed(p.utilisation ? p.utilisation.used : null);
  $("part-state").className = "state " + p.state;
  $("part-bounds").replaceChildren(bounds(p));
  const pend = Object.entries(p.pending || {});
  $("part-pending").replaceChildren(pend.length
    ? el("ul", {}, ...pend.map(([k, v]) => el("li", {}, k + " → " + v + " at the next activation")))
    : el("p", { class: "muted" }, "Nothing pending."));
  await plot(p.name, await history(p.name));
}

export function leavePartition() {
  for (const p of charts ? charts.plots : []) p.destroy();
  charts = null;
}
