// The policy: the one in force, the plan it would make now, and for an
// operator a switch among the policies partd has (GET /v1/policies) that
// first previews the plan the other policy would make now (GET
// /v1/plan?policy=NAME) and applies it only when asked.
import { api, ApiError, may } from "./api.js";
import { $, el, fixed } from "./dom.js";

function value(setting, v) {
  if (v === null || v === undefined) return "none";
  return setting === "memory" ? Math.round(v) + " MiB" : setting === "cap" ? fixed(v) : String(v);
}

export function planTable(plan) {
  if (!plan.actions.length) return el("p", { class: "muted", "data-actions": "0" },
    "No action: " + plan.policy + " would change nothing now.");
  return el("table", { class: "grid plan", "data-actions": plan.actions.length },
    el("thead", {}, el("tr", {}, ...["Partition", "Setting", "From", "To", "Reason"].map((t) =>
      el("th", {}, t)))),
    el("tbody", {}, ...plan.actions.map((a) => el("tr", {}, el("td", {}, a.partition),
      el("td", {}, a.setting), el("td", { class: "num" }, value(a.setting, a.from)),
      el("td", { class: "num" }, value(a.setting, a.to)), el("td", {}, a.reason)))));
}

function describe(pol) {
  const managed = Object.entries(pol.manage).filter(([, v]) => v).map(([k]) => k);
  return el("dl", { class: "facts" }, el("dt", {}, "Policy"), el("dd", { id: "policy-name" }, pol.name),
    el("dt", {}, "Does"), el("dd", {}, pol.description || ""),
    el("dt", {}, "Manages"), el("dd", {}, managed.join(", ") || "nothing (observes)"),
    el("dt", {}, "Interval"), el("dd", {}, pol.interval + " s, " + pol.samples + " samples"));
}

async function preview(form) {
  const name = form.elements.policy.value;
  $("policy-error").textContent = "";
  $("policy-preview").replaceChildren();
  try {
    const plan = await api("/v1/plan?policy=" + encodeURIComponent(name));
    const apply = el("button", { type: "button", id: "policy-apply" }, "Switch to " + plan.policy);
    apply.addEventListener("click", async () => {
      try {
        await api("/v1/policy", "PUT", { name: plan.policy });
        $("policy-preview").replaceChildren(el("p", { id: "policy-switched" },
          "Switched to " + plan.policy + "."));
        showPolicy();
      } catch (e) {
        $("policy-error").textContent = e instanceof ApiError ? e.explain() : e.message;
      }
    });
    $("policy-preview").replaceChildren(el("h3", {}, "What " + plan.policy + " would do now"),
      planTable(plan), apply);
    $("policy-preview").dataset.plan = JSON.stringify(plan);
  } catch (e) {
    $("policy-error").textContent = e instanceof ApiError ? e.explain() : e.message;
  }
}

// the choices, each with its description; the one in force marked and not
// chosen first. What the user chose stays chosen across refreshes.
function choices(select, policies) {
  const had = select.value;
  select.replaceChildren(...policies.map((p) => el("option", { value: p.name,
    title: p.description, "data-active": p.active ? "1" : null },
  p.name + (p.active ? " (in force)" : "") + (p.description ? " — " + p.description : ""))));
  const other = policies.find((p) => !p.active);
  select.value = policies.some((p) => p.name === had) ? had : other ? other.name : "";
}

function switchForm() {
  const form = el("form", { id: "policy-form", class: "inline" },
    el("label", { for: "policy-select" }, "Switch to"),
    el("select", { id: "policy-select", name: "policy", required: true,
      "aria-describedby": "policy-error" }),
    el("button", { type: "submit", id: "policy-preview-btn" }, "Preview"),
    el("span", { id: "policy-error", class: "error", role: "alert" }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    preview(form);
  });
  return form;
}

export async function showPolicy() {
  const operator = may("operator");
  const [pol, plan, list] = await Promise.all([api("/v1/policy"), api("/v1/plan"),
    operator ? api("/v1/policies") : null]);
  $("policy-now").replaceChildren(describe(pol));
  $("plan-now").replaceChildren(planTable(plan));
  $("plan-now").dataset.plan = JSON.stringify(plan);
  if (!operator) return $("policy-switch").replaceChildren();
  if (!$("policy-form")) $("policy-switch").replaceChildren(switchForm());
  choices($("policy-select"), list.policies);
}
