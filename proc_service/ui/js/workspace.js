// Choosing where to work: a supplier account and a business; recent choices are remembered.
import { call, paths } from "./api.js";
import { h, newId } from "./dom.js";
import { t } from "./i18n.js";
import { go, href, run, describe } from "./ui.js";

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
  // the businesses of the account that hold data, a page at a time (search_business)
  const known = h("section", { class: "card narrow", "aria-labelledby": "known-h" });
  let shown = "";
  const listBusinesses = async (start = 0) => {
    const a = account.value.trim();
    if (!ACCOUNT.test(a) || (start === 0 && a === shown)) return;
    shown = a;
    const heading = h("h2", { id: "known-h" }, t("withData", a));
    let page;
    try {
      page = await run(() => call("POST", paths.businesses(a), { page: { start, limit: 50 } }));
    } catch (err) {
      known.replaceChildren(heading, h("p", { class: "muted" }, describe(err)));
      return;
    }
    const items = page.info.map((x) => h("li", {}, h("a", { href: href("/procs", { a, b: x.bk_biz_id }), onclick: () => remember(a, String(x.bk_biz_id)) }, `${t("business")} ${x.bk_biz_id}`)));
    if (start === 0) known.replaceChildren(heading, page.count ? h("ul", { class: "recent businesses" }) : h("p", {}, t("none")));
    known.querySelector("ul")?.append(...items);
    known.querySelector("button.more")?.remove();
    if (start + page.info.length < page.count) {
      known.append(h("button", { type: "button", class: "more", onclick: () => listBusinesses(start + page.info.length) }, t("more")));
    }
  };
  account.addEventListener("change", () => listBusinesses());
  target.replaceChildren(h("h1", {}, t("workspace")), form, known,
    h("section", { class: "card narrow", "aria-labelledby": "recent-h" }, h("h2", { id: "recent-h" }, t("recent")),
      list.length ? h("ul", { class: "recent" }, list.map((x) => h("li", {}, h("a", { href: href("/procs", x), onclick: () => remember(x.a, x.b) }, `${t("account")} ${x.a} · ${t("business")} ${x.b}`)))) : h("p", {}, t("none"))));
  await listBusinesses();
}
