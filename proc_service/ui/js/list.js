// The process list: columns from the attribute list, name substring, per-attribute filters with
// the contract's operators (plus module name), sort by header, paging with the total; the URL
// holds all of it. Selection of rows, or of every match (up to 1000), feeds batch edit.
import { attributes, call, paths, session, ApiError } from "./api.js";
import { h, newId } from "./dom.js";
import { t } from "./i18n.js";
import { run, guard, problem, describe, flash, refresh, href, go, display, confirmDialog, mayWrite, parseTime, TIME_FORMAT } from "./ui.js";
import { fieldControl, showRefusal } from "./form.js";
import { remember } from "./workspace.js";

const DEFAULT_COLUMNS = ["bk_process_id", "bk_process_name", "bk_func_name", "bind_ip", "port", "protocol", "last_time"];
const OPERATORS = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$regex"];
const MODULE_OPERATORS = ["$eq", "$in"];
const PAGE_SIZES = [10, 20, 50, 100, 200];
const PAGE_MAX = 200; // §3: an explicit page holds at most 200
const BATCH_MAX = 1000; // §3: a batch takes at most 1000 ids
// The seed forbids these in a batch (§3: 400 / 1199006); tests/test_metadata.py keeps this list
// equal to the attribute table's batch_writable flags.
export const NOT_IN_BATCH = ["bk_process_name", "bk_func_id"];

const selection = { key: "", ids: new Set() };
// The header whose button changed the sort: it keeps the focus when the table is drawn again
// (otherwise the focus falls back to <main>, far from where the person was).
let sortedBy = null;

// System fields: not attributes of the model (§11), so named by the page itself.
function systemColumns() {
  return [
    { bk_property_id: "bk_process_id", bk_property_name: t("processId"), bk_property_type: "int", option: { min: "1", max: "9223372036854775807" } },
    { bk_property_id: "create_time", bk_property_name: t("createTime"), bk_property_type: "time", option: "" },
    { bk_property_id: "last_time", bk_property_name: t("lastTime"), bk_property_type: "time", option: "" },
  ];
}

function readState(params) {
  let filters = [];
  try {
    filters = JSON.parse(params.get("f") || "[]");
    if (!Array.isArray(filters)) filters = [];
  } catch { filters = []; }
  const limit = Number(params.get("limit")) || 20;
  return {
    a: params.get("a"), b: params.get("b"), q: params.get("q") || "",
    filters: filters.filter((f) => Array.isArray(f) && f.length === 3).map((f) => f.map(String)),
    sort: params.get("sort") || "", start: Math.max(0, Number(params.get("start")) || 0),
    limit: Math.min(PAGE_MAX, Math.max(1, limit)),
    cols: (params.get("cols") || DEFAULT_COLUMNS.join(",")).split(",").filter(Boolean),
  };
}

function writeState(s, changes) {
  const next = { ...s, ...changes };
  go("/procs", { a: next.a, b: next.b, q: next.q, f: next.filters.length ? JSON.stringify(next.filters) : "", sort: next.sort,
    start: next.start || "", limit: next.limit === 20 ? "" : next.limit, cols: next.cols.join(",") === DEFAULT_COLUMNS.join(",") ? "" : next.cols.join(",") });
}

function typed(attr, text) {
  const type = attr ? attr.bk_property_type : "singlechar";
  if (type === "int" && /^[+-]?\d+$/.test(text.trim())) return Number(text.trim());
  if (type === "float" && text.trim() !== "" && Number.isFinite(Number(text.trim()))) return Number(text.trim());
  if (type === "bool") return text === "true";
  // a custom "time" (§14) is a text "YYYY-MM-DD HH:MM:SS", compared as it is written
  if (type === "time" && attr.ispre !== false) { // typed as the page shows times; sent as ISO 8601 (what the service reads)
    const when = parseTime(text);
    return when ? when.toISOString() : text;
  }
  return text;
}

const escapeRegex = (text) => text.replace(/[\\^$.|?*+()[\]{}-]/g, "\\$&");

/** search_process's condition from the name box and the filters (§3). */
export function condition(s, byId) {
  const cond = {};
  for (const [field, op, text] of s.filters) {
    const attr = byId[field];
    const value = op === "$in" || op === "$nin" ? text.split(",").map((x) => typed(attr, x.trim())).filter((x) => x !== "") : typed(attr, text);
    if (field === "bk_module_name") {
      // §3: a module name condition is a name or {"$in": [names]}
      cond[field] = op === "$in" ? { $in: value } : String(value);
      continue;
    }
    const operators = typeof cond[field] === "object" && cond[field] !== null ? cond[field] : {};
    cond[field] = { ...operators, [op]: value };
  }
  if (s.q) {
    if (cond.bk_process_name) cond.bk_process_name = { ...cond.bk_process_name, $regex: escapeRegex(s.q) };
    else cond.bk_process_name = s.q; // a plain string: literal, case-sensitive substring
  }
  return cond;
}

// A selection outlives the page that made it: drop the ids that no longer exist (deleted here,
// on the detail page, or by someone else) before it is shown or sent in a batch.
async function dropVanished(s) {
  const ids = [...selection.ids];
  const found = await run(() => call("POST", paths.search(s.a, s.b), { condition: { bk_process_id: { $in: ids } }, fields: ["bk_process_id"], page: { start: 0 } }));
  const alive = new Set(found.info.map((x) => x.bk_process_id));
  for (const id of ids) if (!alive.has(id)) selection.ids.delete(id);
}

export async function listView(target, params, live) {
  const s = readState(params);
  const key = `${s.a}/${s.b}`;
  if (selection.key !== key) Object.assign(selection, { key, ids: new Set() });
  let attrs;
  try {
    attrs = await run(() => attributes("process", s.a));
    if (selection.ids.size) await dropVanished(s);
  } catch (err) {
    if (live()) problem(err, () => listView(target, params, live));
    return;
  }
  if (!live()) return;
  remember(s.a, s.b);
  const columns = [...attrs, ...systemColumns()];
  const byId = Object.fromEntries(columns.map((x) => [x.bk_property_id, x]));
  s.cols = s.cols.filter((c) => byId[c]);
  if (!s.cols.length) s.cols = [...DEFAULT_COLUMNS];
  const cond = condition(s, byId);

  // search box
  const qId = newId("q");
  const q = h("input", { id: qId, type: "search", value: s.q, autocomplete: "off" });
  const searchForm = h("form", { class: "searchbar", role: "search", onsubmit: (e) => { e.preventDefault(); writeState(s, { q: q.value, start: 0 }); } },
    h("label", { for: qId }, t("nameSearch")), q, h("button", { type: "submit", class: "primary" }, t("search")));

  // filters
  const rows = h("div", { class: "filters" });
  const filterFields = [...columns, { bk_property_id: "bk_module_name", bk_property_name: t("moduleName"), bk_property_type: "singlechar", option: "" }];
  const filterById = Object.fromEntries(filterFields.map((x) => [x.bk_property_id, x]));
  function filterRow(field = "bk_process_name", op = "$eq", text = "") {
    const fId = newId("ff"), oId = newId("fo"), vId = newId("fv");
    const fieldSel = h("select", { id: fId }, filterFields.map((x) => h("option", { value: x.bk_property_id, selected: x.bk_property_id === field }, x.bk_property_name)));
    const opSel = h("select", { id: oId });
    const drawOperators = (chosen) => opSel.replaceChildren(...(fieldSel.value === "bk_module_name" ? MODULE_OPERATORS : OPERATORS)
      .map((o) => h("option", { value: o, selected: o === chosen }, o)));
    drawOperators(op);
    const valueBox = h("span", { class: "value" });
    let valueInput;
    const drawValue = (value) => {
      const attr = filterById[fieldSel.value];
      const many = opSel.value === "$in" || opSel.value === "$nin";
      if (attr.bk_property_type === "enum" && !many) {
        valueInput = h("select", { id: vId }, attr.option.map((o) => h("option", { value: o.id, selected: o.id === value }, o.name)));
      } else if (attr.bk_property_type === "bool") {
        valueInput = h("select", { id: vId }, h("option", { value: "true", selected: value === "true" }, t("yes")), h("option", { value: "false", selected: value === "false" }, t("no")));
      } else {
        valueInput = h("input", { id: vId, value, autocomplete: "off", placeholder: many ? t("inHint") : (attr.bk_property_type === "time" ? (attr.ispre === false ? "YYYY-MM-DD HH:MM:SS" : TIME_FORMAT[session.lang === "en" ? "en" : "zh"]) : null) });
      }
      valueBox.replaceChildren(h("label", { for: vId, class: "sr" }, t("value")), valueInput);
    };
    fieldSel.addEventListener("change", () => { drawOperators(opSel.value); drawValue(""); });
    opSel.addEventListener("change", () => drawValue(valueInput.value));
    drawValue(text);
    const row = h("div", { class: "filter-row" }, h("label", { for: fId, class: "sr" }, t("field")), fieldSel,
      h("label", { for: oId, class: "sr" }, t("operatorOp")), opSel, valueBox,
      h("button", { type: "button", class: "small", onclick: () => row.remove() }, t("remove")));
    row.read = () => [fieldSel.value, opSel.value, valueInput.value];
    rows.append(row);
    return row;
  }
  for (const [f, o, v] of s.filters) filterRow(f, o, v);
  const filterForm = h("form", { onsubmit: (e) => { e.preventDefault(); writeState(s, { filters: [...rows.children].map((r) => r.read()), start: 0 }); } },
    rows, h("div", { class: "actions" }, h("button", { type: "button", onclick: () => filterRow().querySelector("select").focus() }, t("addFilter")),
      h("button", { type: "submit", class: "primary" }, t("apply"))));
  const filterBox = h("details", { class: "panel", open: s.filters.length > 0 }, h("summary", {}, `${t("filters")} (${s.filters.length})`), filterForm);

  // columns
  const colBox = h("details", { class: "panel" }, h("summary", {}, t("columns")),
    h("div", { class: "columns" }, columns.map((x) => {
      const id = newId("col");
      return h("span", { class: "check" }, h("input", { type: "checkbox", id, checked: s.cols.includes(x.bk_property_id),
        onchange: (e) => writeState(s, { cols: e.target.checked ? columns.map((c) => c.bk_property_id).filter((c) => c === x.bk_property_id || s.cols.includes(c)) : s.cols.filter((c) => c !== x.bk_property_id) }) }),
      h("label", { for: id }, x.bk_property_name));
    })));

  // selection and actions
  const selInfo = h("span", { class: "selinfo", "aria-live": "polite" });
  const batchButton = h("button", { "data-writes": "", type: "button", onclick: () => batchDialog(s, attrs) }, t("batchEdit"));
  const selectAll = h("button", { type: "button", hidden: true });
  const clearSel = h("button", { type: "button", class: "small", onclick: () => { selection.ids.clear(); refreshSelection(); } }, t("clearSelection"));
  function refreshSelection() {
    selInfo.textContent = t("selected", selection.ids.size);
    batchButton.disabled = selection.ids.size === 0 || !mayWrite();
    clearSel.hidden = selection.ids.size === 0;
    for (const box of target.querySelectorAll("input[data-pid]")) box.checked = selection.ids.has(Number(box.dataset.pid));
    const page = target.querySelector("input.select-page");
    if (page) {
      const boxes = [...target.querySelectorAll("input[data-pid]")];
      page.checked = boxes.length > 0 && boxes.every((x) => x.checked);
      page.indeterminate = !page.checked && boxes.some((x) => x.checked);
    }
  }
  const actions = h("div", { class: "toolbar" },
    h("a", { "data-writes": "", class: "button primary", href: href("/new", { a: s.a, b: s.b }) }, t("newProcess")), batchButton, selectAll, selInfo, clearSel);

  const table = h("div", { class: "table-wrap" }, h("p", { class: "loading" }, t("loading")));
  const pager = h("nav", { class: "pager", "aria-label": t("paging") });
  target.replaceChildren(h("h1", {}, t("processes")), searchForm, h("div", { class: "panels" }, filterBox, colBox), actions, table, pager);
  refreshSelection();

  const fields = [...new Set(["bk_process_id", "bk_process_name", ...s.cols])];
  const body = { condition: cond, fields, page: { start: s.start, limit: s.limit, sort: s.sort } };
  let found;
  try {
    found = await run(() => call("POST", paths.search(s.a, s.b), body));
  } catch (err) {
    if (!live()) return;
    table.replaceChildren();
    problem(err, () => listView(target, params, live));
    return;
  }
  if (!live()) return;
  const answered = performance.now();

  // the table
  const sortKey = s.sort.replace(/^-/, ""), descending = s.sort.startsWith("-");
  const head = h("tr", {}, h("th", { scope: "col", class: "select" }, h("input", { type: "checkbox", class: "select-page", "aria-label": t("selectPage"),
    onchange: (e) => { for (const row of found.info) e.target.checked ? selection.ids.add(row.bk_process_id) : selection.ids.delete(row.bk_process_id); refreshSelection(); } })),
  s.cols.map((c) => {
    const attr = byId[c], active = sortKey === c;
    const next = active && !descending ? `-${c}` : c;
    return h("th", { scope: "col", "aria-sort": active ? (descending ? "descending" : "ascending") : null },
      h("button", { type: "button", class: "sort", "data-sort": c, title: t("sortBy", attr.bk_property_name), onclick: () => { sortedBy = c; writeState(s, { sort: next, start: 0 }); } },
        attr.bk_property_name, h("span", { "aria-hidden": "true", class: "arrow" }, active ? (descending ? " ▼" : " ▲") : "")));
  }));
  const tbody = h("tbody");
  const fragment = document.createDocumentFragment();
  for (const row of found.info) {
    const pid = row.bk_process_id;
    const detail = href("/proc", { a: s.a, b: s.b, id: pid });
    const tr = document.createElement("tr");
    const box = h("input", { type: "checkbox", "data-pid": pid, checked: selection.ids.has(pid), "aria-label": t("selectRow", row.bk_process_name) });
    box.addEventListener("change", () => { box.checked ? selection.ids.add(pid) : selection.ids.delete(pid); refreshSelection(); });
    tr.append(h("td", { class: "select" }, box));
    for (const c of s.cols) {
      const td = document.createElement("td");
      const text = display(byId[c], row[c]);
      if (c === "bk_process_name") td.append(h("a", { href: detail }, text));
      else td.textContent = text;
      tr.append(td);
    }
    fragment.append(tr);
  }
  tbody.append(fragment);
  table.replaceChildren(found.info.length
    ? h("table", { class: "list" }, h("caption", { class: "sr" }, t("processes")), h("thead", {}, head), tbody)
    : h("p", { class: "empty" }, t("noMatches")));
  if (sortedBy) {
    table.querySelector(`button.sort[data-sort="${CSS.escape(sortedBy)}"]`)?.focus();
    sortedBy = null;
  }

  // paging with the total
  const first = found.count ? s.start + 1 : 0, last = s.start + found.info.length;
  const sizeId = newId("size");
  pager.replaceChildren(h("span", { class: "count" }, t("total", first, last, found.count)),
    h("button", { type: "button", disabled: s.start === 0, onclick: () => writeState(s, { start: Math.max(0, s.start - s.limit) }) }, t("prev")),
    h("button", { type: "button", disabled: last >= found.count, onclick: () => writeState(s, { start: s.start + s.limit }) }, t("next")),
    h("label", { for: sizeId }, t("pageSize")),
    h("select", { id: sizeId, onchange: (e) => writeState(s, { limit: Number(e.target.value), start: 0 }) }, PAGE_SIZES.map((n) => h("option", { value: n, selected: n === s.limit }, n))));

  // select every match: explicit pages of 200, at most 1000 ids (§3)
  selectAll.hidden = found.count === 0;
  selectAll.disabled = found.count > BATCH_MAX;
  selectAll.textContent = found.count > BATCH_MAX ? t("selectAllTooMany") : t("selectAll", found.count);
  selectAll.onclick = async () => {
    selectAll.disabled = true;
    const ids = await guard(async () => {
      const got = [];
      for (let start = 0; start < Math.min(found.count, BATCH_MAX); start += PAGE_MAX) {
        const page = await call("POST", paths.search(s.a, s.b), { condition: cond, fields: ["bk_process_id"], page: { start, limit: PAGE_MAX, sort: s.sort } });
        got.push(...page.info.map((x) => x.bk_process_id));
        if (page.info.length < PAGE_MAX) break;
      }
      return got;
    }, () => selectAll.click());
    selectAll.disabled = false;
    if (!ids) return;
    for (const id of ids.slice(0, BATCH_MAX)) selection.ids.add(id);
    refreshSelection();
  };
  refreshSelection();
  const built = performance.now();
  // how long drawing took once the API had answered (read by the browser test)
  window.__procList = { rows: found.info.length, count: found.count, buildMs: built - answered };
  requestAnimationFrame(() => setTimeout(() => { window.__procList.paintedMs = performance.now() - answered; }, 0));
}

/** Batch edit: only the attributes the seed allows, the count confirmed, the result as it is. */
function batchDialog(s, attrs) {
  const ids = [...selection.ids];
  const allowed = attrs.filter((x) => x.editable && !NOT_IN_BATCH.includes(x.bk_property_id));
  const controls = allowed.map((x) => {
    const c = fieldControl(x, { batch: true });
    const pickId = newId("pick");
    c.pick = h("input", { type: "checkbox", id: pickId, "data-pick": x.bk_property_id, "aria-label": `${t("change")}: ${x.bk_property_name}` });
    c.input.addEventListener("input", () => { c.pick.checked = true; });
    c.row = h("div", { class: "batch-row" }, c.pick, c.wrap);
    return c;
  });
  const titleId = newId("batch");
  const error = h("p", { class: "error-text", role: "alert" });
  const apply = h("button", { type: "submit", class: "primary" }, t("applyTo", ids.length));
  const dlg = h("dialog", { class: "dialog wide", "aria-labelledby": titleId },
    h("h2", { id: titleId }, t("batchTitle", ids.length)),
    h("form", { novalidate: true, onsubmit: (e) => { e.preventDefault(); send(); } },
      h("p", {}, t("batchPick")), h("div", { class: "grid" }, controls.map((c) => c.row)), error,
      h("div", { class: "actions" }, h("button", { type: "button", onclick: () => dlg.close() }, t("cancel")), apply)));
  document.body.append(dlg);
  dlg.addEventListener("close", () => dlg.remove());
  dlg.showModal();
  async function send() {
    error.textContent = "";
    const picked = controls.filter((c) => c.pick.checked);
    if (!picked.length) { error.textContent = t("batchNothing"); return; }
    if (picked.some((c) => c.check())) return;
    const body = { bk_process_id: ids.join(",") };
    for (const c of picked) body[c.attr.bk_property_id] = c.get();
    if (!(await confirmDialog(t("batchConfirm", ids.length), t("applyTo", ids.length)))) return;
    apply.disabled = true;
    try {
      await run(() => call("PUT", paths.procs(s.a, s.b), body));
      dlg.close();
      selection.ids.clear();
      flash(t("batchDone", ids.length));
      refresh();
    } catch (err) {
      // all or nothing (§3): a refusal means no process changed
      showRefusal(err, picked);
      error.replaceChildren(t("batchFailed") + describe(err));
      if (err instanceof ApiError && err.retryable) error.append(" ", h("button", { type: "button", class: "retry", onclick: send }, t("retry")));
    } finally {
      apply.disabled = false;
    }
  }
}
