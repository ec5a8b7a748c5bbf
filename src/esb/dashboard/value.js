// The value page (#value): what the integration did for the factory in one month, per
// interface and in total (GET /v1/report/value), to print (the print stylesheet leaves
// only the report) or to download as CSV. Shown instead of the board while the address
// ends in #value; refreshed once a minute while it is shown. Loaded by main.js the first
// time the page is opened, it sets itself up then.

import * as api from "./api.js";
import { byId, h } from "./dom.js";
import { count, ms } from "./format.js";
import { t } from "./i18n.js";

const PAGE = "#value";
const EVERY_MS = 60000;
const state = { period: "", loadedAt: 0, loading: null };

const onPage = () => location.hash === PAGE;

function cell(field, value, text) {
  return h("td", { class: "number", dataset: { field, value: value ?? "" } }, text);
}

function fields(refused) {
  if (!refused?.length) return null;
  return h("ul", { class: "fields" }, refused.map((f) =>
    h("li", {}, t("value.field_count", { field: f.field || t("value.body"), count: count(f.documents) }))));
}

function figures(row) {
  return [
    cell("moved", row.moved, count(row.moved)),
    h("td", { class: "number", dataset: { field: "refused", value: row.refused } },
      h("span", { class: "figure" }, count(row.refused)), fields(row.refused_fields)),
    cell("fixed", row.fixed, count(row.fixed)),
    cell("retried", row.retried, count(row.retried)),
    cell("median", row.median_end_to_end_ms, ms(row.median_end_to_end_ms)),
    cell("minutes", row.minutes_per_document, count(row.minutes_per_document)),
    cell("hours", row.hours_saved, count(row.hours_saved)),
  ];
}

function line(row) {
  return h("tr", { dataset: { interface: row.interface } },
    h("th", { scope: "row" }, row.interface,
      row.description ? h("div", { class: "muted" }, row.description) : null),
    figures(row));
}

function render(report) {
  state.period = report.period;
  byId("value-month").value = report.period;
  const words = report.complete ? "value.period_complete" : "value.period_so_far";
  byId("value-period").textContent = t(words, { period: report.period, zone: report.time_zone });
  byId("value-error").textContent = "";
  byId("value-rows").replaceChildren(...report.interfaces.map(line));
  const total = { ...report.total, refused_fields: [], minutes_per_document: null };
  byId("value-total").replaceChildren(h("tr", { dataset: { interface: "" } },
    h("th", { scope: "row" }, t("value.total")), figures(total)));
}

function path(period, format = "") {
  const query = new URLSearchParams();
  if (period) query.set("period", period);
  if (format) query.set("format", format);
  return `v1/report/value?${query}`;
}

async function load(period) {
  try {
    render(await api.api(path(period)));
    state.loadedAt = Date.now();
  } catch (error) {
    if (error.unauthorised) throw error;
    byId("value-error").textContent = t("value.error", { problem: error.message });
  }
}

// Called with every refresh of the board: reads the report only while the page is shown
// and its figures are a minute old (or another month was chosen).
export function refreshValue(force = false) {
  if (!onPage() || !api.session.key()) return Promise.resolve();
  if (state.loading) return state.loading;
  if (!force && Date.now() - state.loadedAt < EVERY_MS) return Promise.resolve();
  state.loading = load(byId("value-month").value || state.period).finally(() => {
    state.loading = null;
  });
  return state.loading;
}

// The CSV comes with the key in a header (never in a link), so it is fetched and saved.
async function download() {
  const period = byId("value-month").value || state.period;
  const response = await fetch(path(period, "csv"), {
    headers: { Authorization: `Bearer ${api.session.key()}` },
    cache: "no-store",
  });
  if (!response.ok) {
    const problem = (await response.json().catch(() => null))?.error?.message;
    byId("value-error").textContent = t("value.error", { problem: problem ?? response.statusText });
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: `value-${period || "month"}.csv`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function showPage() {
  const shown = onPage();
  document.body.classList.toggle("page-value", shown);
  for (const link of document.querySelectorAll(".pages a")) {
    const current = (link.getAttribute("href") === PAGE) === shown;
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (shown) refreshValue(true).catch(() => {});
}

function setup() {
  byId("value-month").addEventListener("change", () => {
    state.loadedAt = 0; // another month: read it now, even while a refresh is on its way
    const before = state.loading ?? Promise.resolve();
    before.catch(() => {}).then(() => refreshValue(true)).catch(() => {});
  });
  byId("value-print").addEventListener("click", () => window.print());
  byId("value-csv").addEventListener("click", () => download());
  window.addEventListener("hashchange", showPage);
  showPage();
}

setup();

