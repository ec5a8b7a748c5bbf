// The parallel runs (GET /v1/shadow): per shadow, what delivers now, today's match rate and
// comparisons, the fields that differ most, the last days' rates; promote and roll back
// with a reason (the admin API the CLI shares, audited). Shown only when the report lists
// a shadow, so a gateway without one makes no extra call.

import { api } from "./api.js";
import { byId, changed, h } from "./dom.js";
import { count, percent, stamp } from "./format.js";
import { t } from "./i18n.js";

const DAYS = 7;
const OPERATOR_NAME = "esb.operator"; // the name the parked list's dialog remembers too
const state = { declared: 0, open: null, afterAction: () => {} };

const routeOf = (entry) => `${entry.interface} → ${entry.target}`;
const path = (entry, action) =>
  `v1/shadow/${encodeURIComponent(entry.interface)}/${encodeURIComponent(entry.target)}/${action}`;

// The report says how many shadows are declared; none: the section stays hidden, no call.
export function noteShadows(shadows) {
  state.declared = shadows?.length ?? 0;
}

function delivering(now) {
  return t("shadow.delivering", { target: now.target, mapping: now.mapping ?? t("shadow.unchanged") });
}

function kind(entry) {
  return entry.kind === "mapping"
    ? t("shadow.kind.mapping", { mapping: entry.mapping })
    : t("shadow.kind.target", { live: entry.live_target });
}

function stateText(entry) {
  if (entry.state !== "promoted") return t("shadow.state.shadow");
  return t("shadow.state.promoted", { at: stamp(entry.promoted?.at), by: entry.promoted?.by ?? "" });
}

function fields(today) {
  if (!today.compared) return h("span", { class: "muted" }, t("shadow.none_today"));
  if (!today.fields.length) return h("span", { class: "muted" }, t("shadow.no_fields"));
  return h("ul", { class: "shadow-fields" }, today.fields.map((f) =>
    h("li", { dataset: { field: f.field } },
      h("code", {}, f.field), " ", t("shadow.field_count", { count: f.messages, n: count(f.messages) }))));
}

function days(entry) {
  return h("ul", { class: "shadow-days" }, entry.days.map((d) =>
    h("li", { dataset: { day: d.day } }, `${d.day.slice(5)} ${percent(d.match_rate)}`)));
}

function notes(entry) {
  const found = [];
  if (entry.ignore.length) found.push(t("shadow.ignored", { fields: entry.ignore.join(", ") }));
  if (entry.test_endpoint) found.push(t("shadow.test_endpoint"));
  if (entry.today.failed) found.push(t("shadow.failed_today", { count: entry.today.failed, n: count(entry.today.failed) }));
  return found.map((text) => h("div", { class: "muted" }, text));
}

function button(entry) {
  const action = entry.state === "promoted" ? "rollback" : "promote";
  return h("button", {
    type: "button",
    class: action === "promote" ? "primary" : "danger",
    dataset: { action },
    "aria-label": `${t(`shadow.${action}`)} ${routeOf(entry)}`,
    onclick: () => openDialog(action, entry),
  }, t(`shadow.${action}`));
}

function line(entry) {
  const today = entry.today;
  return h("tr", { class: `shadow-${entry.state}`, dataset: { shadow: `${entry.interface}/${entry.target}` } },
    h("th", { scope: "row" }, routeOf(entry), h("div", { class: "muted" }, kind(entry)), notes(entry)),
    h("td", { dataset: { field: "state" } }, stateText(entry), h("div", { class: "muted" }, delivering(entry.delivering))),
    h("td", { class: "figure", dataset: { field: "match_rate", value: today.match_rate ?? "" } }, percent(today.match_rate)),
    h("td", { class: "figure", dataset: { field: "compared", value: today.compared } }, count(today.compared)),
    h("td", { dataset: { field: "fields" } }, fields(today)),
    h("td", { dataset: { field: "days" } }, days(entry)),
    h("td", { class: "actions" }, button(entry)));
}

export async function refreshShadows() {
  const section = byId("shadow");
  if (!state.declared) {
    section.hidden = true;
    return;
  }
  const found = await api(`v1/shadow?days=${DAYS}`);
  section.hidden = found.shadows.length === 0;
  const body = byId("shadow-rows");
  if (!changed(body, found.shadows)) return;
  body.replaceChildren(...found.shadows.map(line));
}

// The dialog: what will deliver afterwards, a reason for the audit log, who.
function dialogParts() {
  return {
    dialog: byId("shadow-dialog"),
    title: byId("shadow-dialog-title"),
    effect: byId("shadow-dialog-effect"),
    reason: byId("shadow-reason"),
    operator: byId("shadow-operator"),
    error: byId("shadow-error"),
    confirm: byId("shadow-confirm"),
  };
}

const via = (way) => t("shadow.route_via", { target: way.target, mapping: way.mapping ?? t("shadow.unchanged") });

function effect(action, entry) {
  return t(`shadow.dialog.${action}_effect`, { now: via(entry.delivering), after: via(entry.switch_to) });
}

function openDialog(action, entry) {
  const f = dialogParts();
  state.open = { action, entry };
  f.title.textContent = t(`shadow.dialog.${action}_title`, { route: routeOf(entry) });
  f.effect.textContent = effect(action, entry);
  f.confirm.textContent = t(`shadow.dialog.confirm_${action}`);
  f.confirm.className = action === "promote" ? "primary" : "danger";
  f.reason.value = "";
  f.error.textContent = "";
  f.operator.value = localStorage.getItem(OPERATOR_NAME) ?? "";
  f.dialog.showModal();
  f.reason.focus();
}

async function submit(event) {
  event.preventDefault();
  const f = dialogParts();
  const { action, entry } = state.open;
  const reason = f.reason.value.trim();
  if (!reason) {
    f.error.textContent = t("shadow.dialog.need_reason");
    return;
  }
  const operator = f.operator.value.trim();
  localStorage.setItem(OPERATOR_NAME, operator);
  f.confirm.disabled = true;
  try {
    const done = await api(path(entry, action), { method: "POST", body: { reason, operator: operator || undefined } });
    f.dialog.close();
    byId("shadow-done").textContent = t(`shadow.done.${action}`, { route: routeOf(entry), after: via(done.delivering) });
    state.afterAction();
  } catch (error) {
    f.error.textContent = error.message;
  } finally {
    f.confirm.disabled = false;
  }
}

function buildDialog() {
  return h("dialog", { id: "shadow-dialog", "aria-labelledby": "shadow-dialog-title" },
    h("form", { id: "shadow-form", onsubmit: submit },
      h("h2", { id: "shadow-dialog-title" }),
      h("p", { id: "shadow-dialog-effect", class: "subject" }),
      h("label", { for: "shadow-reason" }, t("shadow.dialog.reason")),
      h("textarea", { id: "shadow-reason", rows: 2, maxlength: 2000 }),  // our own check: in words
      h("label", { for: "shadow-operator" }, t("shadow.dialog.operator")),
      h("input", { id: "shadow-operator", autocomplete: "name", maxlength: 100 }),
      h("p", { id: "shadow-error", class: "error", role: "alert" }),
      h("div", { class: "buttons" },
        h("button", { type: "button", onclick: () => byId("shadow-dialog").close() }, t("shadow.dialog.cancel")),
        h("button", { type: "submit", id: "shadow-confirm", class: "primary" }))));
}

export function setupShadows(onDone) {
  state.afterAction = onDone;
  document.body.append(buildDialog());
}
