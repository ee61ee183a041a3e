// The public API of proc-service (docs/api.md §1–§11), and nothing else: the same headers any client
// sends. Headers are sent with dashes (HTTP-BLUEKING-LANGUAGE, BK-User): §1 makes "_" and "-"
// the same header, and proxies such as nginx drop names with "_" by default.

const TOKEN_KEY = "proc-ui.token"; // sessionStorage: this tab only
const USER_KEY = "proc-ui.user"; // localStorage: the operator named in the audit log
const LANG_KEY = "proc-ui.lang";

export const session = {
  lang: localStorage.getItem(LANG_KEY) || ((navigator.language || "").toLowerCase().startsWith("en") ? "en" : "zh"),
  get token() { return sessionStorage.getItem(TOKEN_KEY) || ""; },
  set token(v) { v ? sessionStorage.setItem(TOKEN_KEY, v) : sessionStorage.removeItem(TOKEN_KEY); },
  get user() { return localStorage.getItem(USER_KEY) || ""; },
  set user(v) { v ? localStorage.setItem(USER_KEY, v) : localStorage.removeItem(USER_KEY); },
  setLang(v) { this.lang = v; localStorage.setItem(LANG_KEY, v); },
};

/** A refusal from the service (status and bk_error_code), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  get retryable() { return this.status === 0 || this.status === 503 || this.status >= 502; }
  /** The ids among `ids` that the message names ('port', or "bk_func_name,bk_start_param_regex"). */
  fields(ids) {
    return ids.filter((id) => new RegExp(`(^|[^A-Za-z0-9_])${id}([^A-Za-z0-9_]|$)`).test(this.message));
  }
}

/** One API call; resolves to the envelope's data, or rejects with an ApiError. */
export async function call(method, path, body, { account } = {}) {
  const headers = { "HTTP-BLUEKING-LANGUAGE": session.lang };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (session.user) headers["BK-User"] = encodeUtf8Header(session.user);
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (account !== undefined) headers["HTTP-BLUEKING-SUPPLIER-ID"] = account;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  } catch (exc) {
    throw new ApiError(0, 0, String(exc && exc.message || exc));
  }
  let envelope = null;
  try { envelope = await response.json(); } catch { /* not JSON: a proxy's page */ }
  if (!envelope || typeof envelope !== "object" || !("result" in envelope)) {
    throw new ApiError(response.status || 0, 0, `HTTP ${response.status}`);
  }
  if (!envelope.result) {
    const err = new ApiError(response.status, envelope.bk_error_code, envelope.bk_error_msg);
    err.writes = method !== "GET" && !path.includes("/search"); // which 403 it can be (§7b)
    throw err;
  }
  return envelope.data;
}

// Header values are bytes; the service reads BK_User as UTF-8 (docs/api.md §1, context.operator).
function encodeUtf8Header(text) {
  return Array.from(new TextEncoder().encode(text), (b) => String.fromCharCode(b)).join("");
}

const enc = encodeURIComponent;
export const paths = {
  attrs: "/api/v3/object/attr/search",
  attr: (id) => (id === undefined ? "/api/v3/object/attr" : `/api/v3/object/attr/${enc(id)}`),
  procs: (a, b) => `/api/v3/proc/${enc(a)}/${enc(b)}`,
  proc: (a, b, id) => `/api/v3/proc/${enc(a)}/${enc(b)}/${enc(id)}`,
  search: (a, b) => `/api/v3/proc/search/${enc(a)}/${enc(b)}`,
  modules: (a, b, id) => `/api/v3/proc/module/${enc(a)}/${enc(b)}/${enc(id)}`,
  binding: (a, b, id, name) => `/api/v3/proc/module/${enc(a)}/${enc(b)}/${enc(id)}/${enc(name)}`,
  sets: (b) => `/api/v3/set/${enc(b)}`,
  set: (b, s) => `/api/v3/set/${enc(b)}/${enc(s)}`,
  setSearch: (a, b) => `/api/v3/set/search/${enc(a)}/${enc(b)}`,
  moduleCreate: (b, s) => `/api/v3/module/${enc(b)}/${enc(s)}`,
  module: (b, s, m) => `/api/v3/module/${enc(b)}/${enc(s)}/${enc(m)}`,
  moduleSearch: (a, b, s) => `/api/v3/module/search/${enc(a)}/${enc(b)}/${enc(s)}`,
  audit: "/api/v3/audit/search",
  businesses: (a) => `/api/v3/biz/search/${enc(a)}`,
  token: "/api/v3/auth/token",
  subscribe: (a) => `/api/v3/event/subscribe/${enc(a)}/0`,
  subscription: (a, id) => `/api/v3/event/subscribe/${enc(a)}/0/${enc(id)}`,
  subSearch: (a) => `/api/v3/event/subscribe/search/${enc(a)}/0`,
  ping: "/api/v3/event/subscribe/ping",
};

let granted = { token: null, pending: null };
/** What the session's token may do ({access_control, name, accounts, write}), asked once per
 *  token; null while unknown (no token yet where one is needed). */
export function permissions() {
  if (granted.token !== session.token) {
    granted = { token: session.token, pending: call("GET", paths.token).catch(() => null) };
  }
  return granted.pending;
}

const metaCache = new Map();
/** The attribute definitions of a kind in an account's model (§11, §14: the preset ones, then
 *  the account's own), in the session language; cached per language and account. */
export async function attributes(kind, account = "0") {
  const key = `${session.lang}:${account}:${kind}`;
  if (!metaCache.has(key)) {
    const pending = call("POST", paths.attrs, { bk_obj_id: kind, bk_supplier_account: account });
    metaCache.set(key, pending);
    pending.catch(() => metaCache.delete(key));
  }
  return metaCache.get(key);
}

/** After a model change (§14): every page reads the model again. */
export function forgetAttributes() {
  metaCache.clear();
}
