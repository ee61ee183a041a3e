// Sets and their modules (docs/api.md §6): create, rename, delete. Deleting a set warns that its
// modules go with it. Sets are paged; a set's modules load when it is opened.
import { attributes, call, paths } from "./api.js";
import { h, newId } from "./dom.js";
import { t } from "./i18n.js";
import { run, guard, problem, flash, refresh, display, confirmDialog, promptDialog } from "./ui.js";
import { fieldControl, showRefusal } from "./form.js";
import { remember } from "./workspace.js";

const PAGE = 50;
const opened = new Set(); // sets whose modules are shown, kept across redraws

export async function topologyView(target, params, live) {
  const a = params.get("a"), b = params.get("b");
  let setAttrs, moduleAttrs;
  try {
    [setAttrs, moduleAttrs] = await run(() => Promise.all([attributes("set", a), attributes("module", a)]));
  } catch (err) {
    if (live()) problem(err, () => topologyView(target, params, live));
    return;
  }
  if (!live()) return;
  remember(a, b);
  const setBy = Object.fromEntries(setAttrs.map((x) => [x.bk_property_id, x]));
  const moduleBy = Object.fromEntries(moduleAttrs.map((x) => [x.bk_property_id, x]));
  const account = { account: a }; // set and module writes take the account from a header (§1)

  // create a set: name, environment, service status (from the metadata)
  // the account's own set attributes (§14) join the form
  const custom = setAttrs.filter((x) => x.ispre === false);
  const setControls = [...["bk_set_name", "bk_set_env", "bk_service_status"].map((k) => setBy[k]), ...custom].map((x) => fieldControl(x));
  setControls[1].set("3");
  setControls[2].set("1");
  const createSet = async () => {
    if (setControls.some((c) => c.check())) return;
    const body = Object.fromEntries(setControls.filter((c) => c.get() !== null).map((c) => [c.attr.bk_property_id, c.get()]));
    try {
      const made = await run(() => call("POST", paths.sets(b), body, account));
      opened.add(made.bk_set_id);
      flash(`${t("newSet")}: ${made.bk_set_name} ✓`);
      refresh();
    } catch (err) {
      showRefusal(err, setControls);
      problem(err, createSet);
    }
  };
  const setForm = h("form", { class: "card", novalidate: true, onsubmit: (e) => { e.preventDefault(); createSet(); } },
    h("h2", {}, t("newSet")), h("div", { class: "grid" }, setControls.map((c) => c.wrap)),
    h("div", { class: "actions" }, h("button", { "data-writes": "", type: "submit", class: "primary" }, t("create"))));

  const list = h("ul", { class: "sets" });
  const more = h("button", { type: "button", hidden: true }, t("more"));
  target.replaceChildren(h("h1", {}, t("topology")), setForm, h("h2", {}, t("sets")), list, more);

  let start = 0;
  const load = async () => {
    const page = await guard(() => call("POST", paths.setSearch(a, b), { page: { start, limit: PAGE, sort: "bk_set_name" } }), load);
    if (!page || !live()) return;
    if (!page.count) list.replaceWith(h("p", {}, t("noSets")));
    for (const set of page.info) list.append(setItem(set));
    start += page.info.length;
    more.hidden = start >= page.count;
  };
  more.onclick = load;

  function setItem(set) {
    const modules = h("ul", { class: "modules" });
    const nameId = newId("mod");
    const moduleName = h("input", { id: nameId, autocomplete: "off", maxlength: 256 });
    const moduleError = h("p", { class: "error-text" });
    const createModule = async () => {
      if (!moduleName.value.trim()) { moduleError.textContent = t("requiredMsg"); moduleName.focus(); return; }
      try {
        await run(() => call("POST", paths.moduleCreate(b, set.bk_set_id), { bk_module_name: moduleName.value }, account));
        opened.add(set.bk_set_id);
        flash(`${t("newModule")}: ${moduleName.value} ✓`);
        refresh();
      } catch (err) {
        moduleError.textContent = err.message;
        problem(err, createModule);
      }
    };
    const details = h("details", { open: opened.has(set.bk_set_id), "data-set": set.bk_set_name },
      h("summary", {}, h("strong", {}, set.bk_set_name), h("span", { class: "muted" }, ` #${set.bk_set_id} · ${display(setBy.bk_set_env, set.bk_set_env)} · ${display(setBy.bk_service_status, set.bk_service_status)}`)),
      h("div", { class: "toolbar" },
        h("button", { "data-writes": "", type: "button", "aria-label": `${t("rename")} ${set.bk_set_name}`, onclick: () => rename("set", set) }, t("rename")),
        h("button", { "data-writes": "", type: "button", class: "danger", "aria-label": `${t("delete")} ${set.bk_set_name}`, onclick: () => removeSet(set) }, t("delete"))),
      modules,
      h("form", { class: "inline-form", novalidate: true, onsubmit: (e) => { e.preventDefault(); createModule(); } },
        h("label", { for: nameId }, `${t("newModule")} (${moduleBy.bk_module_name.bk_property_name})`), moduleName,
        h("button", { "data-writes": "", type: "submit", class: "primary" }, t("create")), moduleError));
    const loadModules = async () => {
      const page = await guard(() => call("POST", paths.moduleSearch(a, b, set.bk_set_id), { page: { start: 0, limit: 200, sort: "bk_module_name" } }), loadModules);
      if (!page) return;
      modules.replaceChildren(...page.info.map((m) => h("li", { "data-module": m.bk_module_name }, h("span", {}, m.bk_module_name),
        h("span", { class: "muted" }, ` ${display(moduleBy.bk_module_type, m.bk_module_type)}`),
        h("button", { "data-writes": "", type: "button", class: "small", "aria-label": `${t("rename")} ${m.bk_module_name}`, onclick: () => rename("module", m) }, t("rename")),
        h("button", { "data-writes": "", type: "button", class: "small danger", "aria-label": `${t("delete")} ${m.bk_module_name}`, onclick: () => removeModule(m) }, t("delete")))));
      if (page.count > page.info.length) modules.append(h("li", { class: "muted" }, `… ${page.count - page.info.length}`));
      set.moduleCount = page.count;
    };
    details.addEventListener("toggle", () => {
      if (details.open) { opened.add(set.bk_set_id); loadModules(); } else opened.delete(set.bk_set_id);
    });
    return h("li", {}, details);
  }

  async function rename(kind, item) {
    const key = kind === "set" ? "bk_set_name" : "bk_module_name";
    const value = await promptDialog(`${t("rename")}: ${item[key]}`, t("newName"), item[key]);
    if (value === null || value === item[key]) return;
    const path = kind === "set" ? paths.set(b, item.bk_set_id) : paths.module(b, item.bk_set_id, item.bk_module_id);
    const done = await guard(() => call("PUT", path, { [key]: value }, account), () => rename(kind, item));
    if (done === undefined) return;
    flash(`${t("rename")}: ${item[key]} → ${value} ✓`);
    refresh();
  }

  async function removeSet(set) {
    const page = await guard(() => call("POST", paths.moduleSearch(a, b, set.bk_set_id), { fields: ["bk_module_id"], page: { start: 0, limit: 1 } }));
    if (!page) return;
    if (!(await confirmDialog(t("deleteSet", set.bk_set_name, page.count), t("delete"), true))) return;
    const done = await guard(() => call("DELETE", paths.set(b, set.bk_set_id), undefined, account), () => removeSet(set));
    if (done === undefined) return;
    opened.delete(set.bk_set_id);
    flash(t("deleted", set.bk_set_name));
    refresh();
  }

  async function removeModule(m) {
    if (!(await confirmDialog(t("deleteModule", m.bk_module_name), t("delete"), true))) return;
    const done = await guard(() => call("DELETE", paths.module(b, m.bk_set_id, m.bk_module_id), undefined, account), () => removeModule(m));
    if (done === undefined) return;
    flash(t("deleted", m.bk_module_name));
    refresh();
  }

  await load();
}
