// The account's model (docs/api.md §14): its custom attributes of processes, sets and modules,
// listed after nothing but themselves (the preset ones are fixed), with a form to add one and
// buttons to edit and delete. What the service refuses is shown on the field it names, in the
// service's own words, as on every other form.
import { attributes, call, forgetAttributes, paths, ApiError } from "./api.js";
import { h, newId } from "./dom.js";
import { t } from "./i18n.js";
import { run, problem, flash, refresh, confirmDialog } from "./ui.js";

const KINDS = [["process", "objProcess"], ["set", "objSet"], ["module", "objModule"]];
const TYPES = ["singlechar", "longchar", "int", "float", "enum", "bool", "date", "time", "objuser", "timezone"];

/** The option text of the form as the API takes it, by type (see optionHint). */
export function parseOption(type, text) {
  const raw = text.trim();
  if (type === "int" || type === "float") {
    const [min = "", max = ""] = raw ? raw.split(",").map((x) => x.trim()) : [];
    return { min, max };
  }
  if (type === "enum") {
    return raw.split("\n").filter((line) => line.trim()).map((line) => {
      const star = line.trim().startsWith("*");
      const [id, ...name] = line.trim().replace(/^\*/, "").split("=");
      return { id: id.trim(), name: (name.join("=") || id).trim(), type: "text", is_default: star };
    });
  }
  if (type === "singlechar" || type === "longchar") return raw;
  return null;
}

function optionText(attr) {
  const option = attr.option;
  if (attr.bk_property_type === "enum" && Array.isArray(option)) {
    return option.map((o) => `${o.is_default ? "*" : ""}${o.id}=${o.name}`).join("\n");
  }
  if (option && typeof option === "object" && "min" in option) return option.min || option.max ? `${option.min},${option.max}` : "";
  return typeof option === "string" ? option : "";
}

function labelled(label, control) {
  const id = newId("m");
  control.id = id;
  const error = h("p", { class: "error-text", id: `${id}-err` });
  control.setAttribute("aria-describedby", `${id}-err`);
  return { wrap: h("div", { class: "field" }, h("label", { for: id }, label), control, error), control, error };
}

/** The add/edit form; ``attr`` given: edit it (its kind, id and type stay). */
function attributeForm(a, attr, done) {
  const kind = labelled(t("attrKind"), h("select", { disabled: !!attr }, KINDS.map(([k, label]) => h("option", { value: k, selected: attr && attr.bk_obj_id === k }, t(label)))));
  const id = labelled(t("attrId"), h("input", { autocomplete: "off", maxlength: 128, value: attr ? attr.bk_property_id : "", disabled: !!attr }));
  const name = labelled(t("attrName"), h("input", { autocomplete: "off", maxlength: 128, value: attr ? attr.bk_property_name : "" }));
  const type = labelled(t("attrType"), h("select", { disabled: !!attr }, TYPES.map((x) => h("option", { value: x, selected: attr && attr.bk_property_type === x }, x))));
  const option = labelled(t("attrOption"), h("textarea", { rows: 2 }));
  option.control.value = attr ? optionText(attr) : "";
  option.wrap.append(h("p", { class: "hint" }, t("optionHint")));
  const required = h("input", { type: "checkbox", checked: !!(attr && attr.isrequired) });
  const unique = h("input", { type: "checkbox", checked: !!(attr && attr.isonly), disabled: !!attr && !["singlechar", "int"].includes(attr.bk_property_type) });
  const requiredId = newId("req"), uniqueId = newId("uniq");
  required.id = requiredId;
  unique.id = uniqueId;
  const fields = { bk_obj_id: kind, bk_property_id: id, bk_property_name: name, bk_property_type: type, option };
  const body = () => {
    const out = { bk_property_name: name.control.value, isrequired: required.checked, isonly: unique.checked, option: parseOption(type.control.value, option.control.value) };
    if (!attr) Object.assign(out, { bk_obj_id: kind.control.value, bk_property_id: id.control.value, bk_property_type: type.control.value, bk_supplier_account: a });
    return out;
  };
  const save = async () => {
    for (const f of Object.values(fields)) f.error.textContent = "";
    try {
      await run(() => (attr ? call("PUT", paths.attr(attr.id), body(), { account: a }) : call("POST", paths.attr(), body(), { account: a })));
      forgetAttributes();
      flash(t("attrSaved", name.control.value));
      done();
    } catch (err) {
      // the field the service names gets its message; else the general problem line
      const named = err instanceof ApiError ? err.fields(Object.keys(fields)) : [];
      for (const key of named) fields[key].error.textContent = err.message;
      if (named.length) fields[named[0]].control.focus();
      problem(err, save);
    }
  };
  return h("form", { class: "card", novalidate: true, "data-model-form": attr ? attr.id : "new", onsubmit: (e) => { e.preventDefault(); save(); } },
    h("h2", {}, attr ? `${t("edit")}: ${attr.bk_property_name}` : t("newAttr")),
    h("div", { class: "grid" }, kind.wrap, id.wrap, name.wrap, type.wrap, option.wrap,
      h("div", { class: "field inline" }, required, h("label", { for: requiredId }, t("attrRequired"))),
      h("div", { class: "field inline" }, unique, h("label", { for: uniqueId }, t("attrUnique")))),
    h("div", { class: "actions" }, h("button", { "data-writes": "", type: "submit", class: "primary" }, attr ? t("save") : t("create"))));
}

export async function modelView(target, params, live) {
  const a = params.get("a");
  let lists;
  try {
    lists = await run(() => Promise.all(KINDS.map(([k]) => attributes(k, a))));
  } catch (err) {
    if (live()) problem(err, () => modelView(target, params, live));
    return;
  }
  if (!live()) return;
  const editor = h("div", {});
  const showForm = (attr) => editor.replaceChildren(attributeForm(a, attr, refresh));
  showForm(null);
  const sections = KINDS.map(([kind, label], n) => {
    const custom = lists[n].filter((x) => x.ispre === false);
    const rows = custom.map((x) => h("tr", { "data-attr-id": x.bk_property_id },
      h("td", {}, x.bk_property_id), h("td", {}, x.bk_property_name), h("td", {}, x.bk_property_type),
      h("td", {}, x.isrequired ? "✓" : ""), h("td", {}, x.isonly ? "✓" : ""),
      h("td", {},
        h("button", { "data-writes": "", type: "button", class: "small", "aria-label": `${t("edit")} ${x.bk_property_name}`, onclick: () => { showForm(x); editor.querySelector("input:not([disabled]), textarea").focus(); } }, t("edit")),
        h("button", { "data-writes": "", type: "button", class: "small danger", "aria-label": `${t("delete")} ${x.bk_property_name}`, onclick: async () => {
          if (!(await confirmDialog(t("deleteAttr", x.bk_property_name), t("delete"), true))) return;
          try {
            await run(() => call("DELETE", paths.attr(x.id), undefined, { account: a }));
            forgetAttributes();
            flash(t("attrDeleted", x.bk_property_name));
            refresh();
          } catch (err) {
            problem(err);
          }
        } }, t("delete")))));
    return h("section", { "data-kind": kind }, h("h2", {}, t(label)),
      custom.length
        ? h("table", { class: "model" }, h("thead", {}, h("tr", {}, [t("attrId"), t("attrName"), t("attrType"), t("attrRequired"), t("attrUnique"), ""].map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows))
        : h("p", { class: "muted" }, t("noCustom")));
  });
  target.replaceChildren(h("h1", {}, `${t("customAttrs")} · ${t("account")} ${a}`), h("p", {}, t("modelIntro")), ...sections, editor);
}
