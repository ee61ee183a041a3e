// Create and edit forms, generated from the attribute definitions (§11): required marks, enum
// drop-downs with their names, number limits and the port pattern; checked before sending;
// the service's refusal is shown on the field it names, in the session language.
import { attributes, call, paths, ApiError } from "./api.js";
import { h, newId } from "./dom.js";
import { t } from "./i18n.js";
import { run, problem, status, flash, go, href } from "./ui.js";
import { remember } from "./workspace.js";

const MAX_LENGTH = { singlechar: 256, longchar: 2000, objuser: 2000 }; // §2, §14: characters, by type
const TIME_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/; // a custom "time" (§14)
const bound = (option, end) => (option && option[end] !== undefined && option[end] !== "" ? option[end] : null);

/** One labelled control for an attribute: get()/set() values as the API takes them. */
export function fieldControl(attr, { batch = false } = {}) {
  const id = newId(attr.bk_property_id), errId = `${id}-err`, hintId = `${id}-hint`;
  const type = attr.bk_property_type;
  let input;
  const common = { id, name: attr.bk_property_id, "aria-describedby": `${hintId} ${errId}`, "data-attr": attr.bk_property_id };
  if (type === "enum") {
    input = h("select", common, h("option", { value: "" }, t("choose")), attr.option.map((o) => h("option", { value: o.id }, o.name)));
  } else if (type === "bool") {
    input = h("input", { ...common, type: "checkbox" });
  } else if (type === "longchar" || type === "objuser") {
    input = h("textarea", { ...common, rows: 2, maxlength: MAX_LENGTH[type] });
  } else if (type === "int" || type === "float") {
    input = h("input", { ...common, type: "number", step: type === "int" ? 1 : "any", min: bound(attr.option, "min"), max: bound(attr.option, "max"), inputmode: type === "int" ? "numeric" : "decimal" });
  } else if (type === "date") {
    input = h("input", { ...common, type: "date" });
  } else {
    input = h("input", { ...common, maxlength: MAX_LENGTH.singlechar, autocomplete: "off", placeholder: type === "time" ? "YYYY-MM-DD HH:MM:SS" : null });
  }
  let hint = "";
  if ((type === "int" || type === "float") && (bound(attr.option, "min") !== null || bound(attr.option, "max") !== null)) {
    hint = `${bound(attr.option, "min") ?? "…"} – ${bound(attr.option, "max") ?? "…"}`;
  }
  if (attr.placeholder) hint = attr.placeholder;
  const required = attr.isrequired && !batch;
  const label = h("label", { for: id }, attr.bk_property_name, required ? h("span", { class: "req", title: t("required") }, " *", h("span", { class: "sr" }, ` (${t("required")})`)) : null);
  const error = h("p", { id: errId, class: "error-text" });
  const wrap = h("div", { class: `field field-${type}` }, type === "bool" ? [input, label] : [label, input], h("p", { id: hintId, class: "hint" }, hint), error);
  if (type === "bool") wrap.classList.add("inline");
  const control = {
    attr, input, wrap,
    get() {
      if (type === "bool") return input.checked;
      const raw = input.value;
      if (type === "int" || type === "float") return raw.trim() === "" ? null : Number(raw.trim());
      if (type === "enum") return raw === "" ? null : raw;
      return raw;
    },
    set(value) {
      if (type === "bool") input.checked = value === true;
      else input.value = value === null || value === undefined ? "" : String(value);
    },
    showError(message) {
      error.textContent = message || "";
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    },
    /** The browser-side check; returns the message, or "". */
    check() {
      const message = checkValue(attr, type === "int" || type === "float" ? input.value.trim() : control.get(), required);
      control.showError(message);
      return message;
    },
  };
  // Typing clears (or updates) a shown error at once, so the form settles before the person
  // reaches for a button; leaving the field only adds an error. Clearing it on leaving moved the
  // button up under the pointer between mousedown and mouseup, and the click was lost.
  input.addEventListener("input", () => { if (error.textContent) control.check(); });
  input.addEventListener("change", () => { if (!error.textContent) control.check(); });
  return control;
}

export function checkValue(attr, value, required) {
  const type = attr.bk_property_type;
  const empty = value === null || value === "" || value === undefined;
  if (empty) return required ? t("requiredMsg") : "";
  if (MAX_LENGTH[type] && [...value].length > MAX_LENGTH[type]) return t("tooLong", MAX_LENGTH[type]);
  const low = bound(attr.option, "min"), high = bound(attr.option, "max");
  if (type === "int") {
    const text = String(value);
    const outside = !/^[+-]?\d+$/.test(text) || (low !== null && BigInt(text) < BigInt(low)) || (high !== null && BigInt(text) > BigInt(high));
    if (outside) return low !== null && high !== null ? t("intRange", low, high) : t("notNumber");
  }
  if (type === "float") {
    const n = Number(value);
    if (String(value).trim() === "" || !Number.isFinite(n) || (low !== null && n < Number(low)) || (high !== null && n > Number(high))) return t("notNumber");
  }
  if (type === "time" && attr.ispre === false && !TIME_TEXT.test(String(value))) return t("timeText");
  if (typeof attr.option === "string" && attr.option && attr.ispre === false) {
    // a custom text attribute's pattern (§14): the value must contain a match
    return new RegExp(attr.option).test(value) ? "" : t("patternMsg", attr.option);
  }
  if (typeof attr.option === "string" && attr.option) {
    if (!new RegExp(attr.option).test(value)) return t("badPort");
    for (const item of value.split(",")) {
      const [low, high] = item.split("-").map(Number);
      if (high !== undefined && low > high) return t("badRange");
    }
  }
  return "";
}

/** What create fills in when the attribute is absent: an enum's default option (protocol TCP). */
export function defaultValue(attr) {
  if (attr.bk_property_type !== "enum") return null;
  const option = attr.option.find((o) => o.is_default);
  return option ? option.id : null;
}

/** Show a refusal on the fields its message names (a 409 names the taken attribute). */
export function showRefusal(err, controls) {
  const named = err instanceof ApiError ? err.fields(controls.map((c) => c.attr.bk_property_id)) : [];
  for (const c of controls) {
    if (!named.includes(c.attr.bk_property_id)) continue;
    // a 409 names the attribute whose value is taken: say so in words, then the service's text
    c.showError(err.status === 409 ? `${t("taken", c.attr.bk_property_name)} — ${err.message}` : err.message);
  }
  if (named.length) controls.find((c) => c.attr.bk_property_id === named[0]).input.focus();
  return named.length > 0;
}

export async function formView(target, params, live, page) {
  const a = params.get("a"), b = params.get("b"), id = params.get("id");
  const editing = page === "/edit";
  let attrs, original = null;
  try {
    attrs = await run(() => attributes("process", a));
    if (editing) {
      const found = await run(() => call("POST", paths.search(a, b), { condition: { bk_process_id: Number(id) }, page: { start: 0, limit: 1 } }));
      original = found.info[0];
      if (!original) throw new ApiError(404, 1199019, `bk_process_id ${id}`);
    }
  } catch (err) {
    if (live()) {
      // the failure replaces "Loading…", with a way back (a deleted process's edit URL: 404)
      target.replaceChildren(h("p", { class: "crumbs" }, h("a", { href: href("/procs", { a, b }) }, t("back"))));
      problem(err, () => formView(target, params, live, page));
    }
    return;
  }
  if (!live()) return;
  remember(a, b);
  const controls = attrs.filter((x) => x.editable).map((x) => fieldControl(x));
  if (original) for (const c of controls) c.set(original[c.attr.bk_property_id]);
  else for (const c of controls) c.set(defaultValue(c.attr));
  const groups = new Map();
  for (const c of controls) {
    const key = c.attr.bk_property_group;
    if (!groups.has(key)) groups.set(key, { name: c.attr.bk_property_group_name, items: [] });
    groups.get(key).items.push(c.wrap);
  }
  const submit = h("button", { "data-writes": "", type: "submit", class: "primary" }, editing ? t("save") : t("create"));
  const form = h("form", { class: "card", novalidate: true, onsubmit: (e) => { e.preventDefault(); send(); } },
    [...groups.values()].map((g) => h("fieldset", {}, h("legend", {}, g.name), h("div", { class: "grid" }, g.items))),
    h("div", { class: "actions" }, h("a", { href: editing ? href("/proc", { a, b, id }) : href("/procs", { a, b }), class: "button" }, t("cancel")), submit));

  async function send() {
    const failures = controls.filter((c) => c.check());
    if (failures.length) {
      status(t("fixErrors"), "error");
      failures[0].input.focus();
      return;
    }
    const body = {};
    for (const c of controls) {
      const key = c.attr.bk_property_id, value = c.get();
      if (editing) {
        const before = original[key] ?? (c.attr.bk_property_type === "bool" ? false : c.attr.bk_property_type === "int" || c.attr.bk_property_type === "enum" ? null : "");
        if (value !== before) body[key] = value;
      } else if (value !== null && value !== "" && value !== false) {
        body[key] = value;
      }
    }
    submit.disabled = true;
    try {
      if (editing) {
        await run(() => call("PUT", paths.proc(a, b, id), body));
        flash(t("saved"));
        go("/proc", { a, b, id });
      } else {
        const made = await run(() => call("POST", paths.procs(a, b), body));
        flash(t("created", body.bk_process_name));
        go("/proc", { a, b, id: made.bk_process_id });
      }
    } catch (err) {
      // the form keeps every value: fix and send again, or retry after a network failure
      const onField = showRefusal(err, controls);
      problem(err, send);
      if (!onField) document.getElementById("messages").querySelector("button")?.focus();
    } finally {
      submit.disabled = false;
    }
  }

  const title = editing ? t("editTitle", original.bk_process_name) : t("newProcess");
  target.replaceChildren(h("h1", {}, title), form);
  controls[0].input.focus();
}
