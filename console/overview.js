// The CPC overview: the shared pool as one bar split by partition, with
// entitlement and delivered use side by side; the dedicated CPUs; memory;
// the groups with their caps; the backend's state.
import { $, el, fixed, mib, colour, clock } from "./dom.js";

let downSince = null; // when this page first saw the backend disconnected

// A bar of segments [{label, value, cls, colour}] over total, each labelled
function bar(segs, total, label) {
  const b = el("div", { class: "bar", role: "img", "aria-label": label });
  for (const s of segs) {
    if (!(s.value > 0)) continue;
    const d = el("div", { class: "seg " + (s.cls || ""), title: s.title || s.label },
      el("span", {}, s.label));
    d.style.width = (100 * s.value) / total + "%";
    if (s.colour) d.style.backgroundColor = s.colour;
    b.append(d);
  }
  return b;
}

function pool(cpc, parts) {
  const total = cpc.processors.pool;
  const shared = parts.filter((p) => p.state === "active" && p.mode === "shared");
  const ent = shared.map((p, i) => ({ label: p.name + " " + fixed(p.entitlement), value: p.entitlement,
    colour: colour(i), title: p.name + ": entitlement " + fixed(p.entitlement) + " of " + total }));
  const used = shared.map((p, i) => {
    const u = p.utilisation ? p.utilisation.used : null;
    return { label: p.name + " " + fixed(u), value: u, colour: colour(i), cls: "hatch",
      title: p.name + ": using " + fixed(u) + " processors" };
  });
  const sumEnt = shared.reduce((a, p) => a + p.entitlement, 0);
  const sumUsed = shared.reduce((a, p) => a + (p.utilisation ? p.utilisation.used : 0), 0);
  const known = shared.some((p) => p.utilisation);
  return el("div", { class: "pool" },
    el("div", { class: "row" }, el("span", { class: "k" }, "Entitlement"),
      bar(ent, total, "entitlement of the shared pool by partition"),
      el("span", { class: "v", id: "pool-entitled" }, fixed(sumEnt) + " / " + total)),
    el("div", { class: "row" }, el("span", { class: "k" }, "Use"),
      known ? bar(used, total, "use of the shared pool by partition")
        : el("div", { class: "bar empty" }, el("span", {}, "no use reported by the backend yet")),
      el("span", { class: "v", id: "pool-used" }, (known ? fixed(sumUsed) : "–") + " / " + total)));
}

function memory(cpc, parts) {
  const m = cpc.memory;
  const act = parts.filter((p) => p.state === "active");
  const segs = [{ label: "host " + mib(m.host_reserved), value: m.host_reserved, cls: "reserved" }];
  act.forEach((p, i) => segs.push({ label: p.name + " " + mib(p.memory.target),
    value: p.memory.target, colour: colour(i) }));
  segs.push({ label: "free " + mib(m.free), value: m.free, cls: "free" });
  return el("div", { class: "row" }, el("span", { class: "k" }, "Memory"),
    bar(segs, m.host, "memory: reserved for the host, assigned by partition, free"),
    el("span", { class: "v" }, mib(m.host)));
}

function facts(cpc, parts) {
  const ded = parts.filter((p) => p.state === "active" && p.mode === "dedicated");
  const up = cpc.backend === "connected";
  if (up) downSince = null;
  else downSince = downSince || Date.now() / 1000;
  const dl = el("dl", { class: "facts" });
  const add = (k, v, id) => dl.append(el("dt", {}, k), el("dd", { id }, v));
  add("Backend", up ? "connected" : "disconnected, seen since " + clock(downSince), "cpc-backend");
  add("Hypervisor", cpc.driver + " " + cpc.version);
  add("Processors", cpc.processors.host + " (host " + cpc.processors.host_reserved + ", pool " +
    cpc.processors.pool + ", dedicated " + cpc.processors.dedicated + ")", "cpc-processors");
  add("Dedicated", ded.map((p) => p.name + " " + p.processors.online).join(", ") || "none",
    "cpc-dedicated");
  add("Memory", "assigned " + mib(cpc.memory.active) + ", free " + mib(cpc.memory.free) +
    ", host " + mib(cpc.memory.host_reserved), "cpc-memory");
  add("Partitions", cpc.partitions.active + " of " + cpc.partitions.defined + " active",
    "cpc-partitions");
  add("Policy", cpc.rebalancer.policy + " (" + cpc.rebalancer.actions_applied + " actions)",
    "cpc-policy");
  return dl;
}

function groups(cpc, parts) {
  if (!cpc.groups.length) return el("p", {}, "No groups.");
  const rows = cpc.groups.map((g) => {
    const ent = parts.filter((p) => g.members.includes(p.name))
      .reduce((a, p) => a + p.entitlement, 0);
    return el("tr", { "data-group": g.name }, el("td", {}, g.name),
      el("td", { class: "num" }, g.cap === null ? "none" : fixed(g.cap)),
      el("td", { class: "num" }, fixed(ent)), el("td", { class: "num" }, g.weight_total),
      el("td", {}, g.members.join(", ")));
  });
  return el("table", { class: "grid" }, el("thead", {}, el("tr", {}, el("th", {}, "Group"),
    el("th", { class: "num" }, "Cap"), el("th", { class: "num" }, "Entitled"),
    el("th", { class: "num" }, "Weight"), el("th", {}, "Members"))), el("tbody", {}, ...rows));
}

export function showOverview(cpc, list) {
  const parts = list.partitions;
  $("pool").replaceChildren(pool(cpc, parts), memory(cpc, parts));
  $("facts").replaceChildren(facts(cpc, parts));
  $("groups").replaceChildren(groups(cpc, parts));
  $("backend-dot").className = "dot " + (cpc.backend === "connected" ? "up" : "down");
  $("backend-dot").title = "backend " + cpc.backend;
}
