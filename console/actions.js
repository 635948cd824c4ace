// What an operator may do to a partition: activate, deactivate, resize
// (inputs bounded by the profile, scope running; profile and both are an
// admin's), with the reply shown per field as partctl shows it and the
// server's problem beside the field it names. A viewer gets none of it.
import { api, ApiError, may } from "./api.js";
import { $, el } from "./dom.js";

let shownFor = null; // the partition whose form is on the page
let refresh = () => {};

// [field, label, bounds of p ([min, max] or null when not for p), step]
const FIELDS = [
  ["processors", "Processors", (p) => [p.processors.min, p.processors.reserved], 1],
  ["memory", "Memory (MiB)", (p) => [p.memory.min, p.memory.reserved], 256],
  ["weight", "Weight", (p) => (p.weight ? [p.weight.min, p.weight.max] : null), 1],
  ["cap", "Cap (processors)", (p) => (p.cap ? [0.01, 255] : null), 0.01],
];

function current(p, field) {
  return { processors: p.processors.online ?? p.processors.initial,
    memory: p.memory.target ?? p.memory.initial,
    weight: p.weight ? p.weight.current ?? p.weight.initial : null,
    cap: p.cap ? p.cap.current ?? p.cap.initial : null }[field];
}

function showChanges(changes) {
  $("resize-result").replaceChildren(el("table", { class: "grid", id: "changes" },
    el("thead", {}, el("tr", {}, ...["Field", "Scope", "From", "To", "Status", "Detail"].map((t) =>
      el("th", {}, t)))),
    el("tbody", {}, ...changes.map((c) => el("tr", { "data-field": c.field, "data-scope": c.scope },
      el("td", {}, c.field), el("td", {}, c.scope), el("td", { class: "num" }, c.from ?? "none"),
      el("td", { class: "num" }, c.to ?? "none"),
      el("td", {}, el("span", { class: "status " + c.status }, c.status)),
      el("td", {}, c.detail || ""))))));
}

function showProblem(e) {
  const field = e.problem && e.problem.field;
  const slot = field && $("err-" + field);
  (slot || $("resize-error")).textContent = e instanceof ApiError ? e.explain() : e.message;
  if (e.problem && e.problem.changes) showChanges(e.problem.changes);
}

async function submit(p, form) {
  for (const s of form.querySelectorAll(".field-error")) s.textContent = "";
  $("resize-error").textContent = "";
  $("resize-result").replaceChildren();
  const body = { scope: form.elements.scope.value };
  for (const [field] of FIELDS) {
    const input = form.elements[field];
    if (!input || input.value === "" || Number(input.value) === current(p, field)) continue;
    body[field] = Number(input.value);
  }
  if (Object.keys(body).length === 1) {
    $("resize-error").textContent = "nothing to change";
    return;
  }
  try {
    const rep = await api("/v1/partitions/" + encodeURIComponent(p.name), "PATCH", body);
    showChanges(rep.changes);
    refresh();
  } catch (e) {
    showProblem(e);
  }
}

// the form; novalidate: the bounds guide the inputs, partd decides
function resizeForm(p) {
  const form = el("form", { id: "resize", novalidate: true, class: "resize" });
  for (const [field, label, bounds, step] of FIELDS) {
    const b = bounds(p);
    if (!b) continue;
    const id = "in-" + field;
    form.append(el("div", { class: "field" }, el("label", { for: id }, label),
      el("input", { id, name: field, type: "number", min: b[0], max: b[1], step,
        value: current(p, field) ?? "", "aria-describedby": "err-" + field }),
      el("span", { class: "hint" }, b[0] + "–" + b[1]),
      el("span", { class: "field-error error", id: "err-" + field, role: "alert" })));
  }
  const scopes = may("admin") ? ["running", "both", "profile"] : ["running"];
  form.append(el("div", { class: "field" }, el("label", { for: "in-scope" }, "Scope"),
    el("select", { id: "in-scope", name: "scope" }, ...scopes.map((s) => el("option", {}, s))),
    el("span", { class: "hint" }, may("admin") ? "" : "profile changes need admin")),
  el("button", { type: "submit", id: "resize-submit" }, "Apply"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(p, form);
  });
  return form;
}

async function run(path, body) {
  $("resize-error").textContent = "";
  try {
    await api(path, "POST", body);
    refresh();
  } catch (e) {
    showProblem(e);
  }
}

export function showActions(p, onChange) {
  refresh = onChange;
  if (!may("operator")) {
    $("part-actions").replaceChildren();
    shownFor = null;
    return;
  }
  const key = p.name + "/" + p.state;
  if (shownFor === key) return; // keep what the user typed
  shownFor = key;
  const path = "/v1/partitions/" + encodeURIComponent(p.name);
  const act = el("button", { type: "button", id: "activate", disabled: p.state === "active" },
    "Activate");
  act.addEventListener("click", () => run(path + "/activate"));
  const deact = el("button", { type: "button", id: "deactivate", disabled: p.state !== "active" },
    "Deactivate");
  deact.addEventListener("click", () => run(path + "/deactivate", { timeout: 60 }));
  $("part-actions").replaceChildren(el("div", { class: "buttons" }, act, deact), resizeForm(p),
    el("p", { class: "error", id: "resize-error", role: "alert" }),
    el("div", { id: "resize-result", "aria-live": "polite" }));
}

export function leaveActions() {
  shownFor = null;
}
