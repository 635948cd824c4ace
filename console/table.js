// The partitions table: sortable by any column (a button in each header,
// so the keyboard sorts too), with a utilisation sparkline per row. The
// header is made once and a row only when its partition changed, so that
// a refresh does not take the keyboard's focus away.
import { $, el, fixed, num, mib, sparkline } from "./dom.js";
import { history } from "./history.js";

const used = (p) => (p.utilisation ? p.utilisation.used : null);
const pending = (p) => Object.entries(p.pending || {}).map(([k, v]) => k + " " + v).join(", ");

// [key, header, value for sorting, text shown, numeric]
const COLUMNS = [
  ["name", "Name", (p) => p.name, null, false],
  ["state", "State", (p) => p.state, null, false],
  ["mode", "Mode", (p) => p.mode, null, false],
  ["online", "Procs", (p) => p.processors.online, (v) => num(v), true],
  ["weight", "Weight", (p) => (p.weight ? p.weight.current : null), (v) => num(v), true],
  ["cap", "Cap", (p) => (p.cap ? p.cap.current : null), (v) => (v === null ? "–" : fixed(v)), true],
  ["entitlement", "Entitled", (p) => p.entitlement, (v) => fixed(v), true],
  ["used", "Use", used, (v) => fixed(v), true],
  ["memory", "Memory", (p) => p.memory.target, (v) => mib(v), true],
  ["actual", "Actual", (p) => p.memory.actual, (v) => mib(v), true],
  ["group", "Group", (p) => p.group, (v) => v || "–", false],
  ["pending", "Pending", pending, (v) => v || "–", false],
];

let sortKey = "name", sortUp = true, last = null;

function compare(a, b) {
  const col = COLUMNS.find((c) => c[0] === sortKey);
  const x = col[2](a), y = col[2](b);
  const r = x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1;
  return sortUp ? r : -r;
}

function header() {
  return el("tr", {}, ...COLUMNS.map(([key, title, , , isNum]) => {
    const b = el("button", { type: "button", "data-sort": key }, title);
    b.addEventListener("click", () => {
      sortUp = sortKey === key ? !sortUp : true;
      sortKey = key;
      if (last) showTable(last);
    });
    return el("th", { class: isNum ? "num" : null, "data-key": key }, b);
  }), el("th", {}, "Last hour"));
}

function sparkOf(p, td) {
  if (p.state !== "active") return td.replaceChildren();
  history(p.name).then((h) => {
    const max = p.processors.online || 1;
    td.replaceChildren(sparkline(h.samples.used.some((v) => v !== null) ? h.samples.used
      : h.samples.entitlement, max, p.name + ": use over the last hour"));
  }).catch(() => {});
}

const rows = new Map(); // name -> [signature, tr]

function row(p) {
  const sig = JSON.stringify(p);
  const had = rows.get(p.name);
  if (had && had[0] === sig) {
    sparkOf(p, had[1].lastChild);
    return had[1];
  }
  const tr = el("tr", { "data-name": p.name, class: p.state });
  rows.set(p.name, [sig, tr]);
  for (const [key, , value, text, isNum] of COLUMNS) {
    const v = value(p);
    const shown = text ? text(v) : v;
    const content = key === "name" ? el("a", { href: "#/partition/" + encodeURIComponent(p.name) },
      p.name) : key === "state" ? el("span", { class: "state " + p.state }, p.state) : shown;
    tr.append(el("td", { class: isNum ? "num" : null, "data-col": key }, content));
  }
  const spark = el("td", { class: "sparkcell", "data-col": "spark" });
  tr.append(spark);
  sparkOf(p, spark);
  return tr;
}

export function showTable(list) {
  last = list;
  const parts = list.partitions.slice().sort(compare);
  if (!$("partition-head").firstChild) $("partition-head").append(header());
  for (const th of $("partition-head").querySelectorAll("th[data-key]"))
    th.setAttribute("aria-sort", th.dataset.key !== sortKey ? "none"
      : sortUp ? "ascending" : "descending");
  const names = new Set(parts.map((p) => p.name));
  for (const name of rows.keys()) if (!names.has(name)) rows.delete(name);
  const body = $("partition-rows"), want = parts.map(row);
  // move only what is out of place: a node moved loses the focus
  want.forEach((tr, i) => {
    if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null);
  });
  while (body.children.length > want.length) body.lastChild.remove();
  // the first rendered table, for tests/bench/console.py
  if (!performance.getEntriesByName("partd-table").length) performance.mark("partd-table");
}
