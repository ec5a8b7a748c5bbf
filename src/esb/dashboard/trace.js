// The trace view: every message and delivery about one business key on one timeline,
// with what operators did (replay, correct, discard: who and why, from the audit log).

import { trace as fetchTrace } from "./api.js";
import { byId, h } from "./dom.js";
import { clock, count, offset, preciseClock, zoneName } from "./format.js";
import { t } from "./i18n.js";

const EVENTS = ["received", "delivered", "retry", "parked", "replayed", "corrected", "discarded", "overdue"];
const status = (name) => t(`format.status.${name}`);
const eventWord = (name) => (EVENTS.includes(name) ? t(`trace.event.${name}`) : name);

function deadline(delivery) {
  if (!delivery.due_at) return "";
  const time = clock(delivery.due_at);
  if (delivery.overdue) return t("trace.overdue_since", { time });
  if (delivery.late) return t("trace.late", { time });
  if (delivery.delivered_at) return t("trace.on_time", { time });
  return t("trace.due", { time });
}

// A delivery waiting behind its key's head, or replaced by a later document.
function ordering(delivery) {
  if (delivery.blocked_by) {
    const by = delivery.blocked_by;
    return t("trace.blocked_by", {
      status: status(by.status), delivery: by.delivery_id, message: by.message_id,
    });
  }
  if (delivery.superseded_by) return t("trace.superseded_by", { message: delivery.superseded_by });
  return "";
}

function deliveryRows(messages) {
  return messages.flatMap((message) => message.deliveries.map((delivery) => h("tr", {
    dataset: { interface: message.interface, target: delivery.target, status: delivery.status },
  },
  h("td", {}, message.interface),
  h("td", {}, delivery.target),
  h("td", { class: `result ${delivery.status}` }, status(delivery.status)),
  h("td", {}, count(delivery.attempts)),
  h("td", {}, deadline(delivery)),
  h("td", { class: "ordering" }, ordering(delivery)))));
}

const COLUMNS = ["interface", "target", "status", "attempts", "deadline", "order"];

function deliveriesTable(messages) {
  return h("table", { class: "trace-deliveries" },
    h("thead", {}, h("tr", {},
      COLUMNS.map((name) => h("th", { scope: "col" }, t(`trace.col.${name}`))))),
    h("tbody", {}, deliveryRows(messages)));
}

function detail(event) {
  const changes = event.changes?.length ? ` (${event.changes.join("; ")})` : "";
  return `${event.detail ?? ""}${changes}`;
}

function timeline(events) {
  const first = events.length ? Date.parse(events[0].at) : 0;
  return h("ol", { class: "timeline", "aria-label": t("trace.timeline", { zone: zoneName() }) },
    events.map((event) => h("li", {
      class: `event-${event.event}${event.actor ? " operator" : ""}`,
      dataset: { event: event.event, interface: event.interface, target: event.target ?? "" },
    },
    h("time", { datetime: event.at }, preciseClock(event.at)),
    h("span", { class: "offset" }, offset((Date.parse(event.at) - first) / 1000)),
    h("span", { class: "where" }, event.target ? `${event.interface} → ${event.target}` : event.interface),
    h("strong", {}, eventWord(event.event)),
    h("span", { class: "detail" }, detail(event)))));
}

function render(data) {
  const out = byId("trace");
  if (!data.messages.length) {
    out.replaceChildren(h("p", {}, t("trace.nothing", { key: data.key })));
    return;
  }
  const deliveries = data.messages.flatMap((m) => m.deliveries);
  const actions = deliveries.reduce((sum, d) => sum + (d.actions?.length ?? 0), 0);
  out.replaceChildren(
    h("p", { class: "summary" },
      t("trace.summary", {
        key: data.key,
        messages: t("trace.messages", { count: data.messages.length, n: count(data.messages.length) }),
        deliveries: t("trace.deliveries", { count: deliveries.length, n: count(deliveries.length) }),
        actions: t("trace.actions", { count: actions, n: count(actions) }),
      }),
      data.overdue ? h("span", { class: "result parked" }, ` · ${t("trace.overdue")}`) : null),
    deliveriesTable(data.messages),
    h("p", { class: "muted zone" }, t("trace.times", { zone: zoneName() })),
    timeline(data.events));
}

export async function runTrace(key) {
  const input = byId("trace-key");
  input.value = key;
  byId("trace").replaceChildren(h("p", { class: "muted" }, t("trace.tracing", { key })));
  try {
    render(await fetchTrace(key));
  } catch (error) {
    byId("trace").replaceChildren(h("p", { class: "error" }, t("trace.failed", { key, error: error.message })));
  }
}

export function setupTrace() {
  byId("trace-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = byId("trace-key").value.trim();
    if (key) runTrace(key);
  });
}
