// The console: one more client of partd's API, on the same origin. The
// token is kept in sessionStorage (this tab only, no cookie) and sent as a
// bearer token; every number shown comes from a GET a script could make.
const TOKEN_KEY = "partd.token";
const REFRESH_MS = 5000;
const $ = (id) => document.getElementById(id);

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : "HTTP " + status);
    this.status = status;
  }
}

export async function api(path) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const rep = await fetch(path, {
    headers: { Authorization: "Bearer " + token, Accept: "application/json" },
    cache: "no-store",
  });
  const body = rep.headers.get("Content-Type")?.includes("json") ? await rep.json() : null;
  if (!rep.ok) throw new ApiError(rep.status, body);
  return body;
}

function cell(text, num) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (num) td.className = "num";
  return td;
}

function fixed(x, digits) {
  return x === null || x === undefined ? "" : Number(x).toFixed(digits);
}

function showPartitions(list) {
  const rows = list.partitions.map((p) => {
    const tr = document.createElement("tr");
    tr.append(
      cell(p.name), cell(p.state), cell(p.mode), cell(p.group),
      cell(p.processors.online ?? p.processors.initial, true),
      cell(p.weight ? p.weight.current ?? p.weight.initial : "", true),
      cell(fixed(p.entitlement, 2), true),
      cell(p.utilisation ? fixed(p.utilisation.used, 2) : "", true),
      cell((p.memory.target ?? p.memory.initial) + " MiB", true),
    );
    return tr;
  });
  $("partition-rows").replaceChildren(...rows);
  $("partitions").hidden = false;
}

// The pool as a bar: each active shared partition's entitlement, in CPUs.
function showPool(cpc, list) {
  const pool = cpc.processors.pool;
  const parts = list.partitions.filter((p) => p.state === "active" && p.mode === "shared");
  const segs = parts.map((p, i) => {
    const d = document.createElement("div");
    d.style.width = (100 * p.entitlement / pool) + "%";
    d.style.background = "hsl(" + (i * 67) % 360 + " 55% 55%)";
    d.title = p.name + ": " + fixed(p.entitlement, 2) + " of " + pool;
    return d;
  });
  $("pool").replaceChildren(...segs);
  $("pool").setAttribute("aria-label", "shared pool of " + pool + " CPUs");
  $("pool-text").textContent = pool + " CPUs in the pool, weight " +
    cpc.processors.weight_total + " in all, " + cpc.partitions.active + " of " +
    cpc.partitions.defined + " partitions active";
  $("cpc").hidden = false;
}

let timer = null;

async function refresh() {
  try {
    const [cpc, list] = await Promise.all([api("/v1/cpc"), api("/v1/partitions")]);
    showPool(cpc, list);
    showPartitions(list);
    $("error").textContent = "";
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return signOut("the token was refused");
    $("error").textContent = e.message;
  }
}

function signOut(why) {
  sessionStorage.removeItem(TOKEN_KEY);
  clearInterval(timer);
  for (const id of ["cpc", "partitions", "signout"]) $(id).hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = why || "";
}

function signedIn() {
  $("signin").hidden = true;
  $("signout").hidden = false;
  refresh();
  timer = setInterval(refresh, REFRESH_MS);
}

function start() {
  $("signin").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    signedIn();
  });
  $("signout").addEventListener("click", () => signOut());
  if (sessionStorage.getItem(TOKEN_KEY)) signedIn();
  else signOut();
}

start();
