// Choosing where to work: a supplier account and a business; recent choices are remembered.
import { h, newId } from "./dom.js";
import { t } from "./i18n.js";
import { go, href } from "./ui.js";

const RECENT_KEY = "proc-ui.recent";
const ACCOUNT = /^[A-Za-z0-9_.-]{1,64}$/;
const ID = /^\+?[0-9]{1,19}$/;

export function recent() {
  try {
    const list = JSON.parse(localStorage.getItem(RECENT_KEY) || "[]");
    return Array.isArray(list) ? list.filter((x) => x && ACCOUNT.test(x.a) && ID.test(x.b)) : [];
  } catch { return []; }
}

export function remember(a, b) {
  const list = [{ a, b }, ...recent().filter((x) => x.a !== a || x.b !== b)].slice(0, 8);
  localStorage.setItem(RECENT_KEY, JSON.stringify(list));
}

export async function workspaceView(target) {
  const last = recent()[0] || { a: "0", b: "" };
  const aId = newId("acct"), bId = newId("biz"), errId = newId("err");
  const account = h("input", { id: aId, value: last.a, required: true, autocomplete: "off", "aria-describedby": errId });
  const biz = h("input", { id: bId, value: last.b, required: true, inputmode: "numeric", autocomplete: "off", "aria-describedby": errId });
  const error = h("p", { id: errId, class: "error-text" });
  const form = h("form", { class: "card narrow", novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    const a = account.value.trim(), b = biz.value.trim().replace(/^\+/, "");
    if (!ACCOUNT.test(a)) { error.textContent = `${t("account")}: [A-Za-z0-9_.-]{1,64}`; account.focus(); return; }
    if (!ID.test(b) || BigInt(b) < 1n || BigInt(b) > 9223372036854775807n) { error.textContent = `${t("business")}: 1 … 9223372036854775807`; biz.focus(); return; }
    remember(a, b);
    go("/procs", { a, b });
  } },
  h("div", { class: "field" }, h("label", { for: aId }, t("account")), account),
  h("div", { class: "field" }, h("label", { for: bId }, t("business")), biz),
  error, h("button", { type: "submit", class: "primary" }, t("open")));
  const list = recent();
  target.replaceChildren(h("h1", {}, t("workspace")), form,
    h("section", { class: "card narrow", "aria-labelledby": "recent-h" }, h("h2", { id: "recent-h" }, t("recent")),
      list.length ? h("ul", { class: "recent" }, list.map((x) => h("li", {}, h("a", { href: href("/procs", x), onclick: () => remember(x.a, x.b) }, `${t("account")} ${x.a} · ${t("business")} ${x.b}`)))) : h("p", {}, t("none"))));
}
