// What every page shares: messages, dialogs, the 401 token prompt, retry on failure, routes.
import { ApiError, session } from "./api.js";
import { h, clear, newId } from "./dom.js";
import { t } from "./i18n.js";

const messages = () => document.getElementById("messages");

/** A short message in the live region (read out by screen readers). */
export function status(text, kind = "ok") {
  const box = messages();
  clear(box);
  box.append(h("div", { class: `msg msg-${kind}`, role: kind === "error" ? "alert" : "status" }, h("span", {}, text),
    h("button", { type: "button", class: "link", onclick: () => clear(box) }, t("dismiss"))));
}

/** Draw the current route again (after a write that does not change the URL). */
export function refresh() {
  window.dispatchEvent(new HashChangeEvent("hashchange"));
}

let pending = null;
/** A message for the next page (shown after the route changes). */
export function flash(text) {
  pending = text;
}

export function clearStatus() {
  clear(messages());
  if (pending) status(pending);
  pending = null;
}

/** The text for a failure, saying plainly what happened: network, 401, 403, 404, 503. */
export function describe(err) {
  if (!(err instanceof ApiError)) return String(err && err.message || err);
  const prefix = { 0: "network", 401: "unauthorized", 403: "forbidden", 404: "notFound", 503: "unavailable" }[err.status];
  const text = (prefix ? t(prefix) : err.status >= 400 && err.status !== 409 && err.status < 500 ? t("refused") : "") + err.message;
  // §7b's 403 says only "no permission": say which of its two reasons applies
  if (err.status === 403) return `${text} (${err.writes && readOnly !== null ? t("readOnlyToken", readOnly) : t("otherAccount")})`;
  return text;
}

/** Show a failure; network failures and 503 get a retry button that runs `retry`. */
export function problem(err, retry) {
  const box = messages();
  clear(box);
  // the load failed: what said "Loading…" says nothing now (the alert says why)
  for (const el of document.querySelectorAll("#main .loading")) el.remove();
  const canRetry = retry && err instanceof ApiError && err.retryable;
  // a 401 the person declined to answer: the way to give a token, then the same action again
  const needsToken = retry && err instanceof ApiError && err.status === 401;
  const giveToken = async () => { if (await askToken(describe(err))) { clear(box); retry(); } };
  box.append(h("div", { class: "msg msg-error", role: "alert" }, h("span", {}, describe(err)),
    canRetry ? h("button", { type: "button", class: "retry", onclick: () => { clear(box); retry(); } }, t("retry")) : null,
    needsToken ? h("button", { type: "button", class: "retry", onclick: giveToken }, t("setToken")) : null,
    h("button", { type: "button", class: "link", onclick: () => clear(box) }, t("dismiss"))));
}

// The name of the session's token when it may only read (null: it may write, or not known).
// Controls that write carry data-writes; they are disabled, with a tooltip saying why, rather
// than refused one by one.
let readOnly = null;

export function setPermissions(perm) {
  readOnly = perm && !perm.write ? perm.name : null;
  markWrites(document.getElementById("main"));
}

export function mayWrite() {
  return readOnly === null;
}

/** Disable (or enable again) every write control under `root` for the session's token. */
export function markWrites(root) {
  for (const el of root.querySelectorAll("[data-writes]")) {
    const off = readOnly !== null;
    if (off === (el.getAttribute("aria-disabled") === "true")) continue;
    if (off) {
      el.dataset.title = el.title;
      el.title = t("readOnlyToken", readOnly);
      el.setAttribute("aria-disabled", "true");
    } else {
      el.title = el.dataset.title || "";
      el.removeAttribute("aria-disabled");
    }
    if (el.tagName === "A") {
      if (off) { el.dataset.href = el.getAttribute("href") || ""; el.removeAttribute("href"); } else el.setAttribute("href", el.dataset.href);
    } else if (off) {
      el.dataset.wasDisabled = String(el.disabled);
      el.disabled = true;
    } else {
      el.disabled = el.dataset.wasDisabled === "true";
    }
  }
}

/** Run an API action; a 401 asks for a token and runs it again. Other failures are thrown. */
export async function run(action) {
  for (;;) {
    try {
      return await action();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && (await askToken(describe(err)))) continue;
      throw err;
    }
  }
}

/** run(), and on failure show it with a retry button; resolves to undefined on failure. */
export async function guard(action, retry) {
  try {
    return await run(action);
  } catch (err) {
    problem(err, retry || (() => guard(action)));
    return undefined;
  }
}

function dialog(title, body, buttons) {
  const titleId = newId("dlg");
  const dlg = h("dialog", { "aria-labelledby": titleId, class: "dialog" }, h("h2", { id: titleId }, title), body,
    h("div", { class: "actions" }, buttons));
  document.body.append(dlg);
  dlg.addEventListener("close", () => dlg.remove());
  dlg.showModal();
  return dlg;
}

/** A yes/no question; resolves to true when confirmed. Escape or Cancel: false. */
export function confirmDialog(text, okLabel, danger = false) {
  return new Promise((resolve) => {
    let answer = false;
    const ok = h("button", { type: "button", class: danger ? "danger" : "primary", onclick: () => { answer = true; dlg.close(); } }, okLabel);
    const dlg = dialog(t("confirm"), h("p", {}, text), [h("button", { type: "button", onclick: () => dlg.close() }, t("cancel")), ok]);
    dlg.addEventListener("close", () => resolve(answer));
    ok.focus();
  });
}

/** Ask for one line of text; resolves to the text, or null when cancelled. */
export function promptDialog(title, label, value = "") {
  return new Promise((resolve) => {
    let answer = null;
    const id = newId("prompt");
    const input = h("input", { id, value, required: true, autocomplete: "off" });
    const form = h("form", { method: "dialog", onsubmit: (e) => { e.preventDefault(); if (input.value.trim()) { answer = input.value; dlg.close(); } } },
      h("label", { for: id }, label), input,
      h("div", { class: "actions" }, h("button", { type: "button", onclick: () => dlg.close() }, t("cancel")), h("button", { type: "submit", class: "primary" }, t("save"))));
    const dlg = dialog(title, form, []);
    dlg.addEventListener("close", () => resolve(answer));
    input.focus();
  });
}

/** The token prompt, after a 401 (``reason`` its message) or opened by hand (no reason): kept
 *  in sessionStorage for this tab. */
export function askToken(reason) {
  // after a 401: was a token sent (then it was rejected) or none at all
  const intro = !reason ? t("tokenHand") : session.token ? t("tokenRejected") : t("tokenAsk");
  return new Promise((resolve) => {
    let answer = false;
    const id = newId("token");
    const input = h("input", { id, type: "password", autocomplete: "off", required: true });
    const form = h("form", { onsubmit: (e) => { e.preventDefault(); if (input.value.trim()) { session.token = input.value.trim(); answer = true; dlg.close(); } } },
      h("p", {}, intro), reason ? h("p", { class: "error-text" }, reason) : null,
      h("label", { for: id }, t("token")), input,
      h("div", { class: "actions" }, h("button", { type: "button", onclick: () => dlg.close() }, t("cancel")), h("button", { type: "submit", class: "primary" }, t("save"))));
    const dlg = dialog(t("token"), form, []);
    dlg.classList.add("token-dialog");
    dlg.addEventListener("close", () => { document.dispatchEvent(new Event("token-changed")); resolve(answer); });
    input.focus();
  });
}

/** The page and its parameters from the URL's fragment: #/procs?a=0&b=1 */
export function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [page, query = ""] = hash.split("?");
  return { page, params: new URLSearchParams(query) };
}

export function href(page, params) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "")).toString();
  return `#${page}${query ? `?${query}` : ""}`;
}

export function go(page, params) {
  location.hash = href(page, params);
}

/** How a stored value reads: enum names, yes/no, local times. */
// Times are shown and typed in one format, the page language's: 04/12/2026 09:30:00 in English
// (day first, as en-GB), 2026-12-04 09:30:00 in Chinese; local time either way.
const pad = (n) => String(n).padStart(2, "0");
export const TIME_FORMAT = { en: "DD/MM/YYYY hh:mm", zh: "YYYY-MM-DD hh:mm" };

export function formatTime(iso, seconds = true) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const day = session.lang === "en"
    ? `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`
    : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${day} ${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ""}`;
}

/** A time typed in the page's format (or ISO 8601) as a Date; null for "", undefined if unreadable. */
export function parseTime(text) {
  const s = text.trim();
  if (!s) return null;
  const en = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[ ,T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(s);
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(s);
  const [y, mo, d, hh, mm, ss] = en ? [en[3], en[2], en[1], en[4], en[5], en[6]] : iso ? iso.slice(1) : [];
  if (!y) return undefined;
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(hh || 0), Number(mm || 0), Number(ss || 0));
  return date.getDate() === Number(d) && date.getMonth() === Number(mo) - 1 ? date : undefined;
}

export function display(attr, value) {
  if (value === null || value === undefined || value === "") return "";
  if (attr && attr.bk_property_type === "enum") {
    const option = attr.option.find((o) => o.id === String(value));
    return option ? option.name : String(value);
  }
  if (typeof value === "boolean") return value ? t("yes") : t("no");
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(value)) return formatTime(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
