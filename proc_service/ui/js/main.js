// The router and the header: language, operator (BK_User), token; then one view per route.
import { permissions, session } from "./api.js";
import { h, clear, newId } from "./dom.js";
import { t } from "./i18n.js";
import { route, href, askToken, clearStatus, markWrites, setPermissions } from "./ui.js";
import { workspaceView } from "./workspace.js";
import { listView } from "./list.js";
import { formView } from "./form.js";
import { detailView } from "./detail.js";
import { topologyView } from "./topology.js";
import { modelView } from "./model.js";
import { eventsView } from "./events.js";

const VIEWS = { "/": workspaceView, "/procs": listView, "/new": formView, "/edit": formView, "/proc": detailView, "/topo": topologyView, "/model": modelView, "/events": eventsView };
let current = 0;

function header(params) {
  document.documentElement.lang = session.lang === "en" ? "en" : "zh-CN";
  document.title = `${t("title")} · proc-service`;
  const skip = document.getElementById("skip-link");
  skip.textContent = t("skip");
  skip.onclick = (e) => { e.preventDefault(); document.getElementById("main").focus(); };
  const nav = clear(document.getElementById("nav"));
  nav.setAttribute("aria-label", t("menu"));
  const a = params.get("a"), b = params.get("b");
  if (a !== null && b !== null) {
    const page = route().page;
    const link = (target, label) => h("a", { href: href(target, { a, b }), "aria-current": page === target ? "page" : null }, label);
    nav.append(link("/procs", t("processes")), link("/topo", t("topology")), link("/model", t("model")), link("/events", t("events")),
      h("span", { class: "where" }, `${t("account")} ${a} · ${t("business")} ${b}`),
      h("a", { href: "#/" }, t("change")));
  }
  const settings = clear(document.getElementById("settings"));
  const langId = newId("lang"), userId = newId("user");
  const lang = h("select", { id: langId, onchange: async () => {
    // the page is drawn again in the other language; what was typed in a form stays
    const typed = [...document.querySelectorAll("#main [data-attr]")].map((el) => [el.dataset.attr, el.type === "checkbox" ? el.checked : el.value]);
    session.setLang(lang.value);
    await render();
    for (const [key, value] of typed) {
      const el = document.querySelector(`#main [data-attr="${CSS.escape(key)}"]`);
      if (el && el.type === "checkbox") el.checked = value;
      else if (el) el.value = value;
    }
  } },
    h("option", { value: "zh", selected: session.lang !== "en", lang: "zh" }, "中文"),
    h("option", { value: "en", selected: session.lang === "en", lang: "en" }, "English"));
  const user = h("input", { id: userId, value: session.user, size: 12, autocomplete: "username", onchange: () => { session.user = user.value.trim(); } });
  const token = session.token
    ? h("button", { type: "button", class: "small", onclick: () => { session.token = ""; header(route().params); learn(); } }, `${t("tokenSet")} · ${t("clearToken")}`)
    : h("button", { type: "button", class: "small", onclick: async () => { if (await askToken("")) render(); } }, t("setToken"));
  settings.append(h("label", { for: langId }, t("language")), lang, h("label", { for: userId }, t("operator")), user, token);
}

// What the token may do, asked once per token: write controls follow it (ui.markWrites).
async function learn() {
  setPermissions(await permissions());
}

export async function render() {
  const mine = ++current;
  const { page, params } = route();
  header(params);
  learn();
  clearStatus();
  const view = VIEWS[page] || workspaceView;
  const main = document.getElementById("main");
  const target = h("div", { class: "view" }, h("p", { class: "loading" }, t("loading")));
  main.replaceChildren(target);
  // a view draws into `target`; `live()` tells it whether a newer route replaced it meanwhile
  await view(target, params, () => mine === current, page);
  // after a route change (not the first load: Tab reaches the skip link first), focus goes to the content, not back to the top of the page
  if (mine > 1 && mine === current && (!document.activeElement || document.activeElement === document.body)) main.focus({ preventScroll: true });
}

window.addEventListener("hashchange", render);
document.addEventListener("token-changed", () => { header(route().params); learn(); });
// controls drawn later (a tab, a dialog's list) follow the token's permissions too
new MutationObserver(() => markWrites(document.getElementById("main")))
  .observe(document.getElementById("main"), { childList: true, subtree: true });
render();
