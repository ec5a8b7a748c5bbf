// One tile per interface × target from GET /v1/report: status in colour and in words.

import { h } from "./dom.js";
import { age, clock, count, ms, pair, percent } from "./format.js";

const STATUS_TEXT = { ok: "✔ OK", degraded: "▲ Degraded", failing: "✖ Failing" };
let focused = ""; // the tile an alert linked to, kept across refreshes

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
    ...detail(`On time (${age(deadline.within_s)})`, "on_time_share",
      deadline.on_time_share, percent(deadline.on_time_share)),
    ...detail("Overdue now", "overdue_now", deadline.overdue_now, count(deadline.overdue_now)),
  ];
}

// Ordering per business key: what waits, and which parked deliveries hold it back.
function blockedBy(row) {
  const heads = row.blocked_by_parked ?? [];
  if (!heads.length) return null;
  return h("ul", { class: "blocked-by", "aria-label": "Blocked by parked deliveries · 被挂起投递阻塞" },
    heads.map((head) => h("li", { dataset: { delivery: head.delivery_id, key: head.key } },
      `${head.key}: ${count(head.blocked)} waiting behind parked delivery ${head.delivery_id.slice(-12)}` +
      ` · ${count(head.blocked)} 条在挂起的投递之后等待`)));
}

function lastError(row) {
  if (!row.last_error) return null;
  return h("p", { class: "last-error" },
    `Last error ${clock(row.last_error.at)}: ${row.last_error.error}`);
}

function tile(row) {
  const latency = row.attempt_latency_ms;
  const id = `${row.interface}/${row.target}`;
  return h("article", {
    class: `tile status-${row.status}${id === focused ? " focused" : ""}`,
    id,
    "aria-label": `${pair(row)}: ${row.status}`,
    dataset: { interface: row.interface, target: row.target, status: row.status },
  },
  h("div", { class: "tile-head" },
    h("h3", { elementtiming: "tile" }, pair(row)),
    h("p", { class: "badge" }, STATUS_TEXT[row.status] ?? row.status)),
  h("dl", { class: "figures" },
    figure("Success rate", "success_rate", row.success_rate, percent(row.success_rate)),
    figure("p95 latency", "p95", latency.p95, ms(latency.p95)),
    figure("Backlog", "pending", row.pending, count(row.pending)),
    figure("Parked", "parked", row.parked, count(row.parked))),
  h("dl", { class: "details" },
    ...detail("Received", "received", row.received, count(row.received)),
    ...detail("Delivered", "delivered", row.delivered, count(row.delivered)),
    ...detail("Failed calls", "failed_attempts", row.failed_attempts,
      `${count(row.failed_attempts)} of ${count(row.attempts)}`),
    ...detail("Blocked · 阻塞", "blocked", row.blocked, count(row.blocked)),
    ...detail("Oldest waiting", "oldest_pending_age_s", row.oldest_pending_age_s,
      age(row.oldest_pending_age_s)),
    ...detail("End-to-end p95", "end_to_end_p95", row.end_to_end_latency_ms.p95,
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
  return `${counts.failing} failing · ${counts.degraded} degraded · ${counts.ok} ok` +
    ` · ${parked} parked`;
}

export function consistency(run) {
  if (!run) return "The consistency check has not run yet.";
  const found = Object.entries(run.found ?? {})
    .filter(([, value]) => typeof value === "number")
    .map(([name, value]) => `${name.replaceAll("_", " ")} ${value}`);
  return `Consistency check ${clock(run.finished_at)} (${run.trigger}): ${found.join(", ")}`;
}
