// The parked list: every parked delivery with its reason and the operator's buttons.

import { byId, changed, h } from "./dom.js";
import { count, stamp, zoneName } from "./format.js";
import { t } from "./i18n.js";

const ACTIONS = [
  ["replay", "primary"],
  ["correct", ""],
  ["discard", "danger"],
];

export function parkedItems(messages) {
  return messages.flatMap((message) => message.deliveries
    .filter((delivery) => delivery.status === "parked")
    .map((delivery) => ({ message, delivery })));
}

// Ordering per business key: a parked delivery holds the later ones of its key back.
function holding(delivery) {
  if (!delivery.blocking) return null;
  return h("span", { class: "holding", dataset: { blocking: delivery.blocking } },
    ` · ${t("parked.holding", { count: delivery.blocking, later: count(delivery.blocking) })}`);
}

function row({ message, delivery }, handlers) {
  const subject = { key: message.key ?? message.id, target: delivery.target };
  return h("tr", { dataset: { delivery: delivery.id, key: message.key ?? "" } },
    h("td", {}, h("button", {
      type: "button", class: "link", "aria-label": t("parked.trace", { key: message.key ?? message.id }),
      onclick: () => handlers.trace(message.key),
    }, message.key ?? message.id)),
    h("td", {}, `${message.interface} → ${delivery.target}`),
    h("td", { class: "reason" }, delivery.last_error ?? "", holding(delivery)),
    h("td", {}, h("time", { datetime: message.received_at }, stamp(message.received_at))),
    h("td", {}, count(delivery.attempts)),
    h("td", { class: "actions" }, ACTIONS.map(([action, style]) => h("button", {
      type: "button",
      class: style || null,
      dataset: { action },
      "aria-label": t("parked.act", { action: t(`actions.title.${action}`), ...subject }),
      onclick: () => handlers.act(action, { message, delivery }),
    }, t(`parked.button.${action}`)))));
}

// Keep keyboard focus on the same button when the list is drawn again.
function focusedButton(table) {
  const active = document.activeElement;
  if (!table.contains(active)) return null;
  return { delivery: active.closest("tr")?.dataset.delivery, action: active.dataset.action };
}

function refocus(table, focus) {
  if (!focus?.delivery) return;
  const tr = table.querySelector(`tr[data-delivery="${CSS.escape(focus.delivery)}"]`);
  const button = focus.action ? tr?.querySelector(`[data-action="${focus.action}"]`) : tr?.querySelector("button");
  (button ?? byId("parked-title")).focus();
}

export function renderParked(messages, handlers) {
  const items = parkedItems(messages);
  const table = byId("parked");
  if (!changed(table, items.map(({ message, delivery }) => [delivery.id, delivery.attempts,
    delivery.last_error, delivery.blocking, message.key]))) return;
  const focus = focusedButton(table);
  table.tBodies[0].replaceChildren(...items.map((item) => row(item, handlers)));
  table.hidden = items.length === 0;
  byId("parked-empty").hidden = items.length > 0;
  byId("parked-zone").textContent = `(${zoneName()})`;
  byId("parked-count").textContent = `(${items.length}${messages.length >= 100 ? "+" : ""})`;
  refocus(table, focus);
}
