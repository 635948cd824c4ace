// The console: one more client of partd's API, on the same origin, with no
// privileges of its own; every number shown comes from a GET a script could
// make. This module signs in and out, routes (#/, #/partition/NAME,
// #/policy) and refreshes the view shown.
import { api, ApiError, session, may } from "./api.js";
import { $ } from "./dom.js";
import { showOverview } from "./overview.js";
import { showTable } from "./table.js";
import { showPartition, leavePartition } from "./partition.js";
import { showActions, leaveActions } from "./actions.js";
import { showDefine } from "./define.js";
import { showPolicy } from "./policy.js";
import { startEvents, stopEvents, eventList } from "./events.js";

const REFRESH_MS = 2000;
const VIEWS = ["view-overview", "view-partition", "view-policy"];
let timer = null, unlisten = null, view = null;

function route() {
  const h = location.hash;
  if (h.startsWith("#/partition/")) return ["view-partition", decodeURIComponent(h.slice(12))];
  if (h === "#/policy") return ["view-policy", null];
  return ["view-overview", null];
}

async function refresh() {
  const [id, name] = route();
  try {
    if (id === "view-overview") {
      const [cpc, list] = await Promise.all([api("/v1/cpc"), api("/v1/partitions")]);
      showOverview(cpc, list);
      showTable(list);
      showDefine(refresh);
    } else if (id === "view-partition") {
      const p = await api("/v1/partitions/" + encodeURIComponent(name));
      showActions(p, refresh);
      await showPartition(p);
    } else {
      await showPolicy();
    }
    $("error").textContent = "";
    document.body.dataset.loaded = id;
  } catch (e) {
    $("error").textContent = e instanceof ApiError ? e.explain() : String(e.message || e);
  }
}

function show() {
  const [id, name] = route();
  if (view !== id + name) {
    view = id + name;
    leavePartition();
    leaveActions();
    if (unlisten) unlisten();
    unlisten = id === "view-partition" ? eventList($("part-events"), name)
      : id === "view-policy" ? eventList($("events"), null) : eventList($("recent-events"), null, 6);
    for (const v of VIEWS) $(v).hidden = v !== id;
    for (const a of document.querySelectorAll("nav a"))
      a.setAttribute("aria-current", a.getAttribute("href") === (id === "view-policy" ? "#/policy"
        : "#/") ? "page" : "false");
  }
  refresh();
}

function signOut(why) {
  session.clear();
  session.role = null;
  clearInterval(timer);
  stopEvents();
  for (const v of VIEWS) $(v).hidden = true;
  $("nav").hidden = $("signout").hidden = true;
  $("who").textContent = "";
  $("signin").hidden = false;
  $("signin-error").textContent = why || "";
  view = null;
}

async function signedIn() {
  try {
    session.role = (await api("/v1/whoami")).role;
  } catch (e) {
    return signOut(e instanceof ApiError ? e.explain() : e.message);
  }
  $("signin").hidden = true;
  $("nav").hidden = $("signout").hidden = false;
  $("who").textContent = session.role;
  document.body.dataset.role = session.role;
  document.body.classList.toggle("can-act", may("operator"));
  show();
  timer = setInterval(refresh, REFRESH_MS);
  startEvents();
}

function start() {
  session.onSignOut = signOut;
  $("signin").addEventListener("submit", (ev) => {
    ev.preventDefault();
    session.set($("token").value.trim());
    $("token").value = "";
    signedIn();
  });
  $("signout").addEventListener("click", () => signOut());
  window.addEventListener("hashchange", () => session.role && show());
  if (session.token()) signedIn();
  else signOut();
}

start();
