// An admin's profile editor: a partition defined from a profile, checked in
// the page against schemas/profile.schema.json (served by partd with the
// console) by @cfworker/json-schema, which needs no eval, before it is
// sent; partd checks it again and its problem is shown as it says it.
import { api, ApiError, may } from "./api.js";
import { $, el } from "./dom.js";

const EXAMPLE = {
  name: "new1",
  processors: { initial: 1, reserved: 2 },
  weight: { initial: 100 },
  memory: { initial: "1GiB", reserved: "2GiB" },
};
let validator = null;

// loaded when an admin first checks a profile, not with the overview
async function schemaValidator() {
  if (!validator) {
    const { Validator } = await import("./vendor/json-schema/index.js");
    const rep = await fetch(new URL("schemas/profile.schema.json", import.meta.url));
    validator = new Validator(await rep.json(), "2020-12", false);
  }
  return validator;
}

let checks = 0; // the latest check's number: an older one's answer is stale

// the profile in the editor, or null with the reasons listed
async function check() {
  const out = $("define-errors"), mine = ++checks;
  const validator = await schemaValidator();
  if (mine !== checks) return null;
  let profile;
  try {
    profile = JSON.parse($("profile").value);
  } catch (e) {
    out.replaceChildren(el("li", {}, "not JSON: " + e.message));
    return null;
  }
  const res = validator.validate(profile);
  const errs = res.errors.filter((e) => e.keyword !== "properties" && e.keyword !== "$ref");
  out.replaceChildren(...(res.valid ? [] : (errs.length ? errs : res.errors).map((e) =>
    el("li", {}, (e.instanceLocation.replace(/^#/, "") || "/") + ": " + e.error))));
  return res.valid ? profile : null;
}

export function showDefine(onChange) {
  const box = $("define");
  box.hidden = !may("admin");
  if (box.hidden || $("profile")) return;
  const area = el("textarea", { id: "profile", rows: 9, spellcheck: "false",
    "aria-describedby": "define-errors" });
  area.value = JSON.stringify(EXAMPLE, null, 2);
  const btn = el("button", { type: "submit", id: "define-submit" }, "Define");
  const form = el("form", { id: "define-form" }, el("label", { for: "profile" },
    "Profile (JSON, as in partitions.d)"), area, btn,
  el("ul", { id: "define-errors", class: "error", role: "alert" }),
  el("p", { id: "define-result", "aria-live": "polite" }));
  area.addEventListener("input", () => check());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("define-result").textContent = "";
    const profile = await check();
    if (!profile) return;
    try {
      const p = await api("/v1/partitions", "POST", profile);
      $("define-result").textContent = "defined " + p.name + " (" + p.state + ")";
      onChange();
    } catch (e) {
      $("define-errors").replaceChildren(el("li", {}, (e.problem && e.problem.field
        ? e.problem.field + ": " : "") + (e instanceof ApiError ? e.explain() : e.message)));
    }
  });
  box.append(form);
}
