// The audit trail (GET /v1/audit): who did what, when (the factory's time), to what, why,
// and the state before and after; filtered, paged back with "older", exported as CSV.
// Read when the section comes into view (a wall screen that never scrolls there never
// asks); while it is in view on its first page, read again every 15 s unless the operator
// is reading an entry's before/after or typing a filter.

import { session } from "./api.js";
import { byId, changed, h } from "./dom.js";
import { stamp, zoneName } from "./format.js";
import { t, zone } from "./i18n.js";
import { changesTable } from "./audit-changes.js";

const PAGE = 50;
const REFRESH_MS = 15000;
const FAMILIES = ["", "replay", "correct", "discard", "xref", "config", "shadow"];
const FILTERS = ["since", "until", "actor", "action", "interface"];
const state = { next: null, paged: false, busy: false, visible: false };

// A time typed in the factory's zone ("2026-12-06T08:30") as an instant the API reads.
function offsetAt(ms, name) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: name, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  for (const part of format.formatToParts(new Date(ms))) parts[part.type] = Number(part.value);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

export function factoryInstant(local, name = zone()) {
  if (!name) return new Date(local).toISOString();
  const [day, time = "00:00"] = local.split("T");
  const [y, m, d] = day.split("-").map(Number);
  const [hh, mm, ss = 0] = time.split(":").map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm, ss);
  const first = wall - offsetAt(wall, name);
  return new Date(wall - offsetAt(first, name)).toISOString();  // again: a DST edge
}

function query(extra = {}) {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = byId(`audit-${name}`).value.trim();
    if (value) params.set(name, name === "since" || name === "until" ? factoryInstant(value) : value);
  }
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  return params;
}

// The key goes in a header, never in a URL: the CSV comes through fetch, then a link to
// the downloaded copy (an object URL of this page) is clicked and let go.
async function fetchAudit(params) {
  const response = await fetch(`v1/audit?${params}`, {
    headers: { Authorization: `Bearer ${session.key()}` },
    cache: "no-store",
  });
  if (!response.ok) {
    const problem = (await response.json().catch(() => null))?.error;
    throw new Error(problem?.message ?? response.statusText);
  }
  return response;
}

function actionLabel(action) {
  const key = `audit.action.${action}`;
  const text = t(key);
  return text === `⟦${key}⟧` ? action : text;
}

function subject(entry) {
  if (entry.action.startsWith("shadow.")) {
    return t("shadow.audit_subject", { interface: entry.interface, target: entry.target });
  }
  if (entry.interface) {
    const id = entry.delivery_id ?? "";
    return t("audit.subject.delivery", { interface: entry.interface, target: entry.target, id });
  }
  const family = entry.action.split(".")[0];
  if (family === "xref") {
    return t("audit.subject.xref", { domain: entry.before?.domain ?? entry.after?.domain ?? "" });
  }
  if (family === "config") {
    return t("audit.subject.config", { before: entry.before?.config, after: entry.after?.config });
  }
  return "";
}

function json(value) {
  return h("pre", {}, JSON.stringify(value, null, 2));
}

function beforeAfter(entry) {
  const table = changesTable(entry);
  const content = table ?? h("div", { class: "audit-sides" },
    h("div", {}, h("h4", {}, t("audit.before")), json(entry.before)),
    h("div", {}, h("h4", {}, t("audit.after")), json(entry.after)));
  return h("details", {}, h("summary", {}, t("audit.details")), content);
}

function item(entry) {
  return h("li", { class: "audit-entry", dataset: { id: entry.id, action: entry.action } },
    h("div", { class: "audit-head" },
      h("time", { datetime: entry.at }, stamp(entry.at)),
      h("strong", { class: "audit-action" }, actionLabel(entry.action)),
      h("span", { class: "audit-subject" }, subject(entry))),
    h("div", { class: "audit-facts" },
      h("span", { class: "muted" }, t("audit.who")), h("span", { class: "audit-actor" }, entry.actor),
      h("span", { class: "muted" }, t("audit.why")), h("span", { class: "audit-reason" }, entry.reason),
      beforeAfter(entry)));
}

function say(text, problem = false) {
  const status = byId("audit-status");
  status.textContent = text;
  status.classList.toggle("error", problem);
}

async function load(older = false) {
  if (state.busy) return;
  state.busy = true;
  const list = byId("audit-entries");
  say(t("audit.loading"));
  try {
    const extra = older ? { limit: PAGE, before: state.next } : { limit: PAGE };
    const found = await (await fetchAudit(query(extra))).json();
    if (older) list.append(...found.entries.map(item));
    else if (changed(list, found.entries.map((e) => e.id)) || state.paged) {
      list.replaceChildren(...found.entries.map(item));
    }
    state.next = found.next_before;
    state.paged = older;
    byId("audit-older").hidden = state.next === null;
    const shown = list.children.length;
    say(shown ? t("audit.shown", { count: shown }) : t("audit.empty"));
  } catch (error) {
    say(t("audit.failed", { message: error.message }), true);
  } finally {
    state.busy = false;
  }
}

async function exportCsv() {
  try {
    const params = query({ format: "csv" });
    const blob = await (await fetchAudit(params)).blob();
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: "audit.csv", hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (error) {
    say(t("audit.export_failed", { message: error.message }), true);
  }
}

function field(name, input) {
  return h("label", { class: "audit-field" }, h("span", {}, t(`audit.${name}`)), input);
}

function filters() {
  const text = (name) => h("input", {
    id: `audit-${name}`, maxlength: 100, placeholder: t(`audit.${name}_hint`),
  });
  const when = (name) => h("input", { id: `audit-${name}`, type: "datetime-local" });
  const action = h("select", { id: "audit-action" }, FAMILIES.map((value) => h("option", { value },
    value ? t(`audit.family.${value}`) : t("audit.all"))));
  return h("form", { id: "audit-form", class: "inline-form audit-filters" },
    field("since", when("since")), field("until", when("until")), field("actor", text("actor")),
    field("action", action), field("interface", text("interface")),
    h("button", { type: "submit", class: "primary" }, t("audit.show")),
    h("button", { type: "button", id: "audit-export" }, t("audit.export")));
}

export function setupAudit() {
  const section = byId("audit");
  document.head.append(h("link", { rel: "stylesheet", href: "dashboard/audit.css" }));
  section.replaceChildren(
    h("h2", { id: "audit-title" }, t("audit.title"), " ",
      h("span", { class: "muted", id: "audit-zone" })),
    filters(),
    h("p", { id: "audit-status", class: "muted", role: "status" }),
    h("ol", { id: "audit-entries", class: "audit" }),
    h("button", { type: "button", id: "audit-older", hidden: true }, t("audit.older")));
  byId("audit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  byId("audit-export").addEventListener("click", exportCsv);
  byId("audit-older").addEventListener("click", () => load(true));
  new IntersectionObserver((seen) => {
    state.visible = seen.some((s) => s.isIntersecting);
    if (state.visible) fresh(section);
  }).observe(section);
  setInterval(() => state.visible && fresh(section), REFRESH_MS);
}

function fresh(section) {
  if (!session.key() || state.paged || section.querySelector("details[open]")) return;
  if (section.contains(document.activeElement) && document.activeElement.matches("input,select")) return;
  byId("audit-zone").textContent = zoneName() ? t("audit.zone", { zone: zoneName() }) : "";
  load();
}
