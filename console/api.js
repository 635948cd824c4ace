// The session and the API: the token pasted once, kept in sessionStorage
// (this tab only, no cookie) and sent as a bearer header; every reply that
// is not 2xx becomes an ApiError carrying the server's problem+json.
const TOKEN_KEY = "partd.token";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : "HTTP " + status);
    this.status = status;
    this.problem = problem || {};
  }
  // what the user is told: a 403 names the role the request needs
  explain() {
    if (this.status === 401) return "the token was refused (401): sign in again";
    if (this.status === 403 && this.problem.role_needed)
      return "needs the " + this.problem.role_needed + " role (this token's is " +
        this.problem.role + "): " + this.message;
    return this.message;
  }
}

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  set: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
  role: null, // from GET /v1/whoami
  onSignOut: null, // app.js: called on a 401
};

// "viewer" < "operator" < "admin"
const RANKS = { viewer: 1, operator: 2, admin: 3 };
export function may(role) {
  return (RANKS[session.role] || 0) >= RANKS[role];
}

export function headers(extra) {
  return Object.assign({ Authorization: "Bearer " + session.token() }, extra);
}

// A request to partd; resolves to the JSON reply (null for none), rejects
// with ApiError.
export async function api(path, method = "GET", body = undefined) {
  const init = { method, headers: headers({ Accept: "application/json" }), cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const rep = await fetch(path, init);
  const type = rep.headers.get("Content-Type") || "";
  const json = type.includes("json") ? await rep.json() : null;
  if (!rep.ok) {
    const e = new ApiError(rep.status, json);
    if (rep.status === 401 && session.onSignOut) session.onSignOut(e.explain());
    throw e;
  }
  return json;
}
