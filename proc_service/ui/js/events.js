// The account's event subscriptions (docs/api.md §15): each with where its delivery stands
// (delivered, failed, waiting, dropped, last success and error), a form to add one, a button
// that tests a callback URL (the service POSTs "{}" to it and shows the answer), and delete.
import { call, paths, ApiError } from "./api.js";
import { h, newId } from "./dom.js";
import { t } from "./i18n.js";
import { run, problem, flash, refresh, confirmDialog, formatTime } from "./ui.js";

const KINDS = ["process", "set", "module"];
const ACTIONS = ["create", "update", "delete"];
const NAMES = [...KINDS.flatMap((k) => ACTIONS.map((x) => `${k}${x}`)), "processmodule"];

function field(label, control, hint) {
  const id = newId("ev");
  control.id = id;
  const error = h("p", { class: "error-text", id: `${id}-err` });
  control.setAttribute("aria-describedby", `${id}-err`);
  return { wrap: h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint" }, hint) : null, error), control, error };
}

function subscriptionForm(a) {
  const name = field(t("subName"), h("input", { autocomplete: "off", maxlength: 256 }));
  const system = field(t("subSystem"), h("input", { autocomplete: "off", maxlength: 256 }));
  const url = field(t("subUrl"), h("input", { type: "url", autocomplete: "off", maxlength: 2048 }));
  const mode = field(t("subMode"), h("select", {}, h("option", { value: "httpstatus" }, t("modeStatus")), h("option", { value: "regular" }, t("modeRegex"))));
  const pattern = field(t("subPattern"), h("input", { autocomplete: "off", maxlength: 1024, placeholder: "200" }), t("patternHint"));
  const timeOut = field(t("subTimeout"), h("input", { type: "number", min: 1, max: 60, value: 10 }));
  const boxes = NAMES.map((n) => {
    const id = newId("evt");
    return { name: n, box: h("input", { type: "checkbox", id, value: n, checked: n.startsWith("process") }), label: h("label", { for: id }, n) };
  });
  const formError = h("p", { class: "error-text", id: newId("form-err") });
  const form = h("fieldset", { class: "field", "aria-describedby": formError.id }, h("legend", {}, t("subForm")),
    h("div", { class: "checks" }, boxes.map((b) => h("span", { class: "inline" }, b.box, b.label))), formError);
  const fields = { subscription_name: name, system_name: system, callback_url: url, confirm_mode: mode, confirm_pattern: pattern, time_out: timeOut, subscription_form: { error: formError, control: boxes[0].box } };
  const result = h("p", { class: "muted", "aria-live": "polite", "data-ping-result": "" });
  const body = () => ({
    subscription_name: name.control.value.trim(),
    system_name: system.control.value.trim(),
    callback_url: url.control.value.trim(),
    confirm_mode: mode.control.value,
    confirm_pattern: pattern.control.value.trim(),
    subscription_form: boxes.filter((b) => b.box.checked).map((b) => b.name).join(","),
    time_out: Number(timeOut.control.value) || 0,
  });
  const shown = (err) => {
    const named = err instanceof ApiError ? err.fields(Object.keys(fields)) : [];
    for (const key of named) fields[key].error.textContent = err.message;
    if (named.length) fields[named[0]].control.focus();
    return named.length;
  };
  const clearErrors = () => { for (const f of Object.values(fields)) f.error.textContent = ""; result.textContent = ""; };
  const save = async () => {
    clearErrors();
    try {
      await run(() => call("POST", paths.subscribe(a), body()));
      flash(t("subSaved", body().subscription_name));
      refresh();
    } catch (err) {
      shown(err);
      problem(err, save);
    }
  };
  const test = async () => {
    clearErrors();
    try {
      const got = await run(() => call("POST", paths.ping, { callback_url: url.control.value.trim(), data: "{}" }, { account: a }));
      result.textContent = t("pingAnswer", got.http_status, got.response_body.slice(0, 200));
    } catch (err) {
      if (err instanceof ApiError && err.code === 1103004) result.textContent = err.message;
      else if (!shown(err)) problem(err);
    }
  };
  return h("form", { class: "card", novalidate: true, "data-subscription-form": "", onsubmit: (e) => { e.preventDefault(); save(); } },
    h("h2", {}, t("newSub")),
    h("div", { class: "grid" }, name.wrap, system.wrap, url.wrap, mode.wrap, pattern.wrap, timeOut.wrap), form,
    h("div", { class: "actions" },
      h("button", { "data-writes": "", type: "button", onclick: test }, t("testUrl")),
      h("button", { "data-writes": "", type: "submit", class: "primary" }, t("create"))),
    result);
}

export async function eventsView(target, params, live) {
  const a = params.get("a");
  let found;
  try {
    found = await run(() => call("POST", paths.subSearch(a), { page: { start: 0, limit: 200 } }));
  } catch (err) {
    if (live()) problem(err, () => eventsView(target, params, live));
    return;
  }
  if (!live()) return;
  const rows = found.info.map((s) => h("tr", { "data-subscription": s.subscription_id },
    h("td", {}, s.subscription_name, s.system_name ? h("span", { class: "muted" }, ` (${s.system_name})`) : null),
    h("td", { class: "wrap" }, s.callback_url),
    h("td", { class: "events" }, s.subscription_form.split(",").join(", ")),
    h("td", { class: "num" }, String(s.statistics.total)),
    h("td", { class: "num" }, String(s.statistics.failure)),
    h("td", { class: "num" }, String(s.delivery.waiting)),
    h("td", { class: "num" }, String(s.delivery.dropped)),
    h("td", {}, s.delivery.last_success_time ? formatTime(s.delivery.last_success_time) : "—"),
    h("td", { class: "wrap" }, s.delivery.last_error ? `${formatTime(s.delivery.last_error_time)}: ${s.delivery.last_error}` : "—"),
    h("td", {}, h("button", { "data-writes": "", type: "button", class: "small danger", "aria-label": `${t("delete")} ${s.subscription_name}`, onclick: async () => {
      if (!(await confirmDialog(t("deleteSub", s.subscription_name), t("delete"), true))) return;
      try {
        await run(() => call("DELETE", paths.subscription(a, s.subscription_id)));
        flash(t("subDeleted", s.subscription_name));
        refresh();
      } catch (err) {
        problem(err);
      }
    } }, t("delete")))));
  const heads = [t("subName"), t("subUrl"), t("subForm"), t("delivered"), t("failed"), t("waiting"), t("dropped"), t("lastSuccess"), t("lastError"), ""];
  target.replaceChildren(
    h("h1", {}, `${t("events")} · ${t("account")} ${a}`),
    h("p", {}, t("eventsIntro")),
    found.info.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "subscriptions" }, h("thead", {}, h("tr", {}, heads.map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows)))
      : h("p", { class: "muted" }, t("noSubs")),
    subscriptionForm(a));
}
