// One tile per interface × target from GET /v1/report: status in colour and in words.

import { h } from "./dom.js";
import { age, clock, count, list, ms, pair, percent } from "./format.js";
import { t } from "./i18n.js";

const STATUSES = ["ok", "degraded", "failing"];
let focused = ""; // the tile an alert linked to, kept across refreshes

const statusText = (status) => (STATUSES.includes(status) ? t(`tiles.status.${status}`) : status);

function figure(label, field, value, text) {
  return h("div", {},
    h("dt", {}, label),
    h("dd", { dataset: { field, value: value ?? "" } }, text));
}

function detail(label, field, value, text) {
  return [h("dt", {}, label), h("dd", { dataset: { field, value: value ?? "" } }, text)];
}

function deadlineDetails(deadline) {
  if (!deadline) return [];
  return [
    ...detail(t("tiles.on_time", { within: age(deadline.within_s) }), "on_time_share",
      deadline.on_time_share, percent(deadline.on_time_share)),
    ...detail(t("tiles.overdue_now"), "overdue_now", deadline.overdue_now, count(deadline.overdue_now)),
  ];
}

// Ordering per business key: what waits, and which parked deliveries hold it back.
function blockedBy(row) {
  const heads = row.blocked_by_parked ?? [];
  if (!heads.length) return null;
  return h("ul", { class: "blocked-by", "aria-label": t("tiles.blocked_by") },
    heads.map((head) => h("li", { dataset: { delivery: head.delivery_id, key: head.key } },
      t("tiles.waiting_behind", {
        count: head.blocked, blocked: count(head.blocked), delivery: head.delivery_id.slice(-12),
      }))));
}

function lastError(row) {
  if (!row.last_error) return null;
  return h("p", { class: "last-error" },
    t("tiles.last_error", { time: clock(row.last_error.at), error: row.last_error.error }));
}

function tile(row) {
  const latency = row.attempt_latency_ms;
  const id = `${row.interface}/${row.target}`;
  return h("article", {
    class: `tile status-${row.status}${id === focused ? " focused" : ""}`,
    id,
    "aria-label": t("tiles.aria", { pair: pair(row), status: statusText(row.status) }),
    dataset: { interface: row.interface, target: row.target, status: row.status },
  },
  h("div", { class: "tile-head" },
    h("h3", { elementtiming: "tile" }, pair(row)),
    h("p", { class: "badge" }, statusText(row.status))),
  h("dl", { class: "figures" },
    figure(t("tiles.success_rate"), "success_rate", row.success_rate, percent(row.success_rate)),
    figure(t("tiles.p95"), "p95", latency.p95, ms(latency.p95)),
    figure(t("tiles.backlog"), "pending", row.pending, count(row.pending)),
    figure(t("tiles.parked"), "parked", row.parked, count(row.parked))),
  h("dl", { class: "details" },
    ...detail(t("tiles.received"), "received", row.received, count(row.received)),
    ...detail(t("tiles.delivered"), "delivered", row.delivered, count(row.delivered)),
    ...detail(t("tiles.failed_calls"), "failed_attempts", row.failed_attempts,
      t("tiles.failed_of", { failed: count(row.failed_attempts), attempts: count(row.attempts) })),
    ...detail(t("tiles.blocked"), "blocked", row.blocked, count(row.blocked)),
    ...detail(t("tiles.oldest"), "oldest_pending_age_s", row.oldest_pending_age_s,
      age(row.oldest_pending_age_s)),
    ...detail(t("tiles.end_to_end"), "end_to_end_p95", row.end_to_end_latency_ms.p95,
      ms(row.end_to_end_latency_ms.p95)),
    ...deadlineDetails(row.deadline)),
  blockedBy(row),
  lastError(row));
}

export function renderTiles(container, rows) {
  container.replaceChildren(...rows.map(tile));
}

// An alert links to "/dashboard#interface/target": bring that tile into view.
export function focusTile(hash) {
  focused = decodeURIComponent(hash.replace(/^#/, ""));
  for (const tile of document.querySelectorAll(".tile")) {
    tile.classList.toggle("focused", tile.id === focused);
  }
  const found = focused ? document.getElementById(focused) : null;
  if (found?.classList.contains("tile")) found.scrollIntoView({ block: "center" });
}

export function summary(rows) {
  const counts = { ok: 0, degraded: 0, failing: 0 };
  for (const row of rows) counts[row.status] = (counts[row.status] ?? 0) + 1;
  const parked = rows.reduce((sum, row) => sum + row.parked, 0);
  return t("tiles.summary", {
    failing: count(counts.failing), degraded: count(counts.degraded), ok: count(counts.ok),
    parked: count(parked),
  });
}

// What the consistency check found, by name ("lost 0, waiting in queue 0, ...").
const FINDINGS = ["unpublished", "claims_released", "lost", "waiting_in_queue", "keys_restarted"];
const TRIGGERS = ["startup", "schedule", "cli", "api"];

export function consistency(run) {
  if (!run) return t("tiles.consistency_none");
  const found = Object.entries(run.found ?? {})
    .filter(([, value]) => typeof value === "number")
    .map(([name, value]) => t("tiles.finding", {
      name: FINDINGS.includes(name) ? t(`tiles.found.${name}`) : name.replaceAll("_", " "),
      count: count(value),
    }));
  const trigger = TRIGGERS.includes(run.trigger) ? t(`tiles.trigger.${run.trigger}`) : run.trigger;
  return t("tiles.consistency", { time: clock(run.finished_at), trigger, found: list(found) });
}
