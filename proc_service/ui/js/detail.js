// One process: its 22 attributes (contract order), its modules (bind / unbind with one click,
// dangling bindings shown as such) and its history (audit rows, newest first, with a diff).
import { attributes, call, paths, session } from "./api.js";
import { h, newId } from "./dom.js";
import { t, opTypeName } from "./i18n.js";
import { run, guard, problem, status, flash, href, go, display, confirmDialog, refresh, formatTime, parseTime, TIME_FORMAT } from "./ui.js";
import { remember } from "./workspace.js";

const TABS = ["attrs", "modules", "history"];

export async function detailView(target, params, live) {
  const a = params.get("a"), b = params.get("b"), id = params.get("id");
  const tab = TABS.includes(params.get("tab")) ? params.get("tab") : "attrs";
  let attrs, rows;
  try {
    [attrs, rows] = await run(() => Promise.all([attributes("process", a), call("GET", paths.proc(a, b, id))]));
  } catch (err) {
    if (live()) {
      target.replaceChildren(h("p", {}, h("a", { href: href("/procs", { a, b }) }, t("back"))));
      problem(err, () => detailView(target, params, live));
    }
    return;
  }
  if (!live()) return;
  remember(a, b);
  const byId = Object.fromEntries(attrs.map((x) => [x.bk_property_id, x]));
  const name = rows.find((r) => r.bk_property_id === "bk_process_name")?.bk_property_value ?? id;

  const panel = h("div", { class: "tabpanel", role: "tabpanel", id: "tabpanel", tabindex: "0" });
  const tabs = h("div", { class: "tabs", role: "tablist", "aria-label": String(name) }, TABS.map((key) => h("a", {
    role: "tab", id: `tab-${key}`, href: href("/proc", { a, b, id, tab: key === "attrs" ? "" : key }), "aria-selected": key === tab ? "true" : "false",
    "aria-controls": "tabpanel", tabindex: key === tab ? "0" : "-1",
    onkeydown: (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!step) return;
      const next = TABS[(TABS.indexOf(key) + step + TABS.length) % TABS.length];
      go("/proc", { a, b, id, tab: next === "attrs" ? "" : next });
      setTimeout(() => document.getElementById(`tab-${next}`)?.focus(), 50);
    },
  }, t({ attrs: "detail", modules: "modules", history: "history" }[key]))));
  panel.setAttribute("aria-labelledby", `tab-${tab}`);

  const remove = async () => {
    const bound = await guard(() => call("GET", paths.modules(a, b, id)));
    if (!bound) return;
    const names = bound.filter((m) => m.is_bind).map((m) => m.bk_module_name);
    if (!(await confirmDialog(t("deleteProcess", name, names), t("delete"), true))) return;
    const done = await guard(() => call("DELETE", paths.proc(a, b, id)), remove);
    if (done === undefined) return;
    flash(t("deleted", name));
    go("/procs", { a, b });
  };
  target.replaceChildren(
    h("p", { class: "crumbs" }, h("a", { href: href("/procs", { a, b }) }, t("back"))),
    h("h1", {}, `${name}`, h("span", { class: "muted" }, ` #${id}`)),
    h("div", { class: "toolbar" }, h("a", { "data-writes": "", class: "button primary", href: href("/edit", { a, b, id }) }, t("edit")),
      h("button", { "data-writes": "", type: "button", class: "danger", onclick: remove }, t("delete"))),
    tabs, panel);

  if (tab === "attrs") {
    panel.append(h("table", { class: "detail" }, h("tbody", {}, rows.map((r) => h("tr", {},
      h("th", { scope: "row" }, r.bk_property_name), h("td", {}, formatValue(byId[r.bk_property_id], r.bk_property_value)))))));
  } else if (tab === "modules") {
    await modulesTab(panel, a, b, id, live);
  } else {
    await historyTab(panel, a, b, id, byId, params, live);
  }
}

function formatValue(attr, value) {
  const text = display(attr, value);
  return attr && attr.bk_property_type === "enum" && text && text !== String(value) ? `${text} (${value})` : text;
}

async function modulesTab(panel, a, b, id, live) {
  const list = await guard(() => call("GET", paths.modules(a, b, id)), refresh);
  if (!list || !live()) return;
  if (!list.length) {
    panel.append(h("p", {}, t("noModules"), " ", h("a", { href: href("/topo", { a, b }) }, t("topology"))));
    return;
  }
  const toggle = async (m) => {
    const method = m.is_bind ? "DELETE" : "PUT";
    const ok = await guard(() => call(method, paths.binding(a, b, id, m.bk_module_name)), () => toggle(m));
    if (ok === undefined) return;
    flash(`${m.is_bind ? t("unbind") : t("bind")}: ${m.bk_module_name} ✓`);
    refresh();
  };
  panel.append(h("table", { class: "list" }, h("thead", {}, h("tr", {},
    h("th", { scope: "col" }, t("moduleName")), h("th", { scope: "col" }, t("setNum")), h("th", { scope: "col" }, t("state")), h("th", { scope: "col" }, t("action")))),
  h("tbody", {}, list.map((m) => {
    const dangling = m.is_bind && m.set_num === 0;
    return h("tr", { class: dangling ? "dangling" : null, "data-module": m.bk_module_name },
      h("td", {}, m.bk_module_name), h("td", {}, String(m.set_num)),
      h("td", {}, dangling ? h("strong", { class: "warn" }, `⚠ ${t("dangling")}`) : m.is_bind ? `✓ ${t("bound")}` : t("unbound")),
      h("td", {}, h("button", { "data-writes": "", type: "button", class: m.is_bind ? "" : "primary", "aria-label": `${m.is_bind ? t("unbind") : t("bind")} ${m.bk_module_name}`, onclick: () => toggle(m) }, m.is_bind ? t("unbind") : t("bind"))));
  }))));
}


async function historyTab(panel, a, b, id, byId, params, live) {
  const fromId = newId("from"), toId = newId("to");
  // typed in the format the history shows its times in (not the browser's datetime-local one)
  const format = TIME_FORMAT[session.lang === "en" ? "en" : "zh"];
  const box = (id, iso) => h("input", { id, value: iso ? formatTime(iso, false) : "", placeholder: format, size: 17, autocomplete: "off" });
  const from = box(fromId, params.get("from")), to = box(toId, params.get("to"));
  const submit = (e) => {
    e.preventDefault();
    const [start, end] = [parseTime(from.value), parseTime(to.value)];
    if (start === undefined || end === undefined) { status(t("timeFormat", format), "error"); return; }
    go("/proc", { a, b, id, tab: "history", from: start && start.toISOString(), to: end && end.toISOString() });
  };
  const form = h("form", { class: "searchbar", onsubmit: submit },
    h("label", { for: fromId }, t("from")), from, h("label", { for: toId }, t("to")), to, h("button", { type: "submit", class: "primary" }, t("apply")));
  const list = h("ol", { class: "history", reversed: true });
  const more = h("button", { type: "button", hidden: true }, t("more"));
  panel.append(form, list, more);
  const condition = { bk_biz_id: Number(b), op_target: "process", inst_id: Number(id) };
  if (params.get("from") || params.get("to")) condition.op_time = [params.get("from") || null, params.get("to") || null];
  let start = 0;
  const load = async () => {
    const page = await guard(() => call("POST", paths.audit, { condition, start, limit: 20, sort: "-op_time" }, { account: a }), load);
    if (!page || !live()) return;
    if (!page.count) list.replaceWith(h("p", {}, t("noHistory")));
    for (const row of page.info) list.append(auditEntry(row, byId));
    start += page.info.length;
    more.hidden = start >= page.count;
  };
  more.onclick = load;
  await load();
}

// Fields of an audit image that are not model attributes (§11 lists those): named by the page.
const SYSTEM_NAMES = {
  bk_process_id: "processId", bk_supplier_account: "account", create_time: "createTime",
  last_time: "lastTime", bk_module_names: "modules",
};

function auditEntry(row, byId) {
  const pre = row.content?.pre_data || {}, cur = row.content?.cur_data || {};
  const keys = [...new Set([...Object.keys(pre), ...Object.keys(cur)])];
  const changed = keys.filter((k) => JSON.stringify(pre[k] ?? null) !== JSON.stringify(cur[k] ?? null) && !["last_time", "create_time"].includes(k));
  const name = (k) => byId[k]?.bk_property_name || (SYSTEM_NAMES[k] ? t(SYSTEM_NAMES[k]) : k);
  const value = (k, v) => (Array.isArray(v) ? v.join(", ") : display(byId[k], v));
  let body;
  if (row.op_type === 2) {
    body = changed.length ? h("table", { class: "diff" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("field")), h("th", { scope: "col" }, t("before")), h("th", { scope: "col" }, t("after")))),
      h("tbody", {}, changed.map((k) => h("tr", { "data-attr": k }, h("th", { scope: "row" }, name(k)), h("td", { class: "old" }, value(k, pre[k])), h("td", { class: "new" }, value(k, cur[k]))))))
      : h("p", { class: "muted" }, t("noChange"));
  } else {
    const data = row.op_type === 1 ? cur : pre;
    const shown = Object.keys(data).filter((k) => data[k] !== "" && data[k] !== null && data[k] !== false && !(Array.isArray(data[k]) && !data[k].length));
    body = h("table", { class: "diff" }, h("tbody", {}, shown.map((k) => h("tr", {}, h("th", { scope: "row" }, name(k)), h("td", {}, value(k, data[k]))))));
  }
  const when = formatTime(row.op_time);
  return h("li", { class: `audit op-${row.op_type}` }, h("p", { class: "audit-head" },
    h("time", { datetime: row.op_time }, when), " · ", h("strong", {}, opTypeName(row.op_type)), " · ", row.op_desc, " · ", row.operator, row.op_from ? ` (${row.op_from})` : ""), body);
}
