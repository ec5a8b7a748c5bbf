// The trace view: every message and delivery about one business key on one timeline,
// with what operators did (replay, correct, discard: who and why, from the audit log).

import { trace as fetchTrace } from "./api.js";
import { byId, h } from "./dom.js";
import { clock, count, offset, plural, preciseClock } from "./format.js";

function deadline(delivery) {
  if (!delivery.due_at) return "";
  if (delivery.overdue) return `overdue since ${clock(delivery.due_at)}`;
  if (delivery.late) return `late (due ${clock(delivery.due_at)})`;
  if (delivery.delivered_at) return `on time (due ${clock(delivery.due_at)})`;
  return `due ${clock(delivery.due_at)}`;
}

// A delivery waiting behind its key's head, or replaced by a later document.
function ordering(delivery) {
  if (delivery.blocked_by) {
    const by = delivery.blocked_by;
    return `blocked by ${by.status} delivery ${by.delivery_id} (message ${by.message_id})` +
      ` · 等待 ${by.status === "parked" ? "挂起的" : ""}投递 ${by.delivery_id}`;
  }
  if (delivery.superseded_by) {
    return `superseded by message ${delivery.superseded_by} · 已被消息 ${delivery.superseded_by} 取代`;
  }
  return "";
}

function deliveryRows(messages) {
  return messages.flatMap((message) => message.deliveries.map((delivery) => h("tr", {
    dataset: { interface: message.interface, target: delivery.target, status: delivery.status },
  },
  h("td", {}, message.interface),
  h("td", {}, delivery.target),
  h("td", { class: `result ${delivery.status}` }, delivery.status),
  h("td", {}, count(delivery.attempts)),
  h("td", {}, deadline(delivery)),
  h("td", { class: "ordering" }, ordering(delivery)))));
}

function deliveriesTable(messages) {
  return h("table", { class: "trace-deliveries" },
    h("thead", {}, h("tr", {},
      ["Interface", "Target", "Status", "Attempts", "Deadline", "Order · 顺序"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, deliveryRows(messages)));
}

function detail(event) {
  const changes = event.changes?.length ? ` (${event.changes.join("; ")})` : "";
  return `${event.detail ?? ""}${changes}`;
}

function timeline(events) {
  const first = events.length ? Date.parse(events[0].at) : 0;
  return h("ol", { class: "timeline", "aria-label": "Timeline" }, events.map((event) => h("li", {
    class: `event-${event.event}${event.actor ? " operator" : ""}`,
    dataset: { event: event.event, interface: event.interface, target: event.target ?? "" },
  },
  h("time", { datetime: event.at }, preciseClock(event.at)),
  h("span", { class: "offset" }, offset((Date.parse(event.at) - first) / 1000)),
  h("span", { class: "where" }, event.target ? `${event.interface} → ${event.target}` : event.interface),
  h("strong", {}, event.event),
  h("span", { class: "detail" }, detail(event)))));
}

function render(data) {
  const out = byId("trace");
  if (!data.messages.length) {
    out.replaceChildren(h("p", {}, `Nothing found for ${data.key}.`));
    return;
  }
  const deliveries = data.messages.flatMap((m) => m.deliveries);
  const actions = deliveries.reduce((sum, d) => sum + (d.actions?.length ?? 0), 0);
  out.replaceChildren(
    h("p", { class: "summary" },
      `${data.key}: ${plural(data.messages.length, "message")}, `,
      `${plural(deliveries.length, "delivery", "deliveries")}, `,
      plural(actions, "operator action"),
      data.overdue ? h("span", { class: "result parked" }, " · overdue") : null),
    deliveriesTable(data.messages),
    timeline(data.events));
}

export async function runTrace(key) {
  const input = byId("trace-key");
  input.value = key;
  byId("trace").replaceChildren(h("p", { class: "muted" }, `Tracing ${key}…`));
  try {
    render(await fetchTrace(key));
  } catch (error) {
    byId("trace").replaceChildren(h("p", { class: "error" }, `Cannot trace ${key}: ${error.message}`));
  }
}

export function setupTrace() {
  byId("trace-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = byId("trace-key").value.trim();
    if (key) runTrace(key);
  });
}
