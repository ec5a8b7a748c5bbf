// One route of the map, opened: its tile is marked (and linked), what is parked on it
// (the parked list filtered to this interface and target) and its mapping, run as it is
// now on the last message that took this route (POST /v1/mappings/{name}/preview).

import { api } from "./api.js";
import { byId, changed, h } from "./dom.js";
import { age, count, stamp } from "./format.js";
import { t } from "./i18n.js";
import { focusTile } from "./tiles.js";

// Health in colour on the map, and always in a sign and words too.
export const MARK = { ok: "✔", degraded: "▲", failing: "✖", breaker_open: "⊘" };
export const healthText = (health) => `${MARK[health] ?? ""} ${t(`routes.health.${health}`)}`;
const state = { edge: null, handlers: null, onClose: null };
const enc = encodeURIComponent;

function fact(label, field, text) {
  return [h("dt", {}, label), h("dd", { dataset: { field } }, text)];
}

function facts(edge) {
  const rules = [
    ...fact(t("routes.detail.health"), "health", healthText(edge.health)),
    ...fact(t("routes.detail.target"), "to",
      t("routes.detail.to", { system: edge.to, connector: edge.connector })),
    ...fact(t("routes.detail.condition"), "when",
      edge.when ? t("routes.when", { condition: edge.when }) : t("routes.detail.always")),
    ...fact(t("routes.detail.counts"), "counts",
      `${t("routes.waiting", { count: count(edge.pending) })} · ` +
      `${t("routes.parked", { count: count(edge.parked) })} · ` +
      `${t("routes.blocked", { count: count(edge.blocked) })}`),
  ];
  if (edge.ordering === "key") rules.push(...fact(t("routes.detail.order"), "ordering", t("routes.detail.ordered")));
  if (edge.deadline_s != null) {
    rules.push(...fact(t("routes.detail.deadline"), "deadline", age(edge.deadline_s)));
  }
  if (edge.last_error) {
    rules.push(...fact(t("routes.detail.last_error"), "last_error",
      `${stamp(edge.last_error.at)}: ${edge.last_error.error}`));
  }
  return h("dl", { class: "details route-facts" }, rules);
}

// The parked list's own row for this delivery, with its buttons (replay, correct...).
function showInList(delivery) {
  const row = document.querySelector(`#parked tr[data-delivery="${CSS.escape(delivery.id)}"]`);
  row?.scrollIntoView({ block: "center" });
  row?.querySelector("button[data-action]")?.focus({ preventScroll: true });
}

function parkedRow({ message, delivery }) {
  return h("tr", { dataset: { delivery: delivery.id, key: message.key ?? "" } },
    h("td", {}, h("button", {
      type: "button", class: "link", onclick: () => state.handlers?.trace(message.key),
    }, message.key ?? message.id)),
    h("td", { class: "reason" }, delivery.last_error ?? ""),
    h("td", {}, stamp(message.received_at)),
    h("td", {}, count(delivery.attempts)),
    h("td", {}, h("button", { type: "button", onclick: () => showInList(delivery) },
      t("routes.detail.open_parked"))));
}

function renderParkedHere(box, edge, messages) {
  const items = messages.flatMap((message) => message.deliveries
    .filter((d) => d.target === edge.target && d.status === "parked")
    .map((delivery) => ({ message, delivery })));
  if (!changed(box, items.map(({ delivery }) => [delivery.id, delivery.attempts, delivery.last_error]))) return;
  box.replaceChildren(
    h("h4", {}, t("routes.detail.parked_title", { count: count(items.length) })),
    items.length
      ? h("table", { class: "parked route-parked" }, h("tbody", {}, items.map(parkedRow)))
      : h("p", { class: "muted" }, t("routes.detail.parked_none")));
}

async function loadParked(box, edge) {
  const found = await api(`v1/messages?status=parked&interface=${enc(edge.interface)}` +
    `&target=${enc(edge.target)}&limit=100`);
  if (state.edge?.id === edge.id) renderParkedHere(box, edge, found.messages);
}

function json(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function mappingHead(mapping) {
  return [
    h("h4", {}, t("routes.detail.mapping_title", { name: mapping.name })),
    mapping.description ? h("p", { class: "muted" }, mapping.description) : null,
    mapping.xref.length ? h("p", {}, t("routes.detail.xref", { domains: mapping.xref.join(", ") })) : null,
  ].filter(Boolean);
}

function previewShown(message, result, sent) {
  const output = result.error
    ? h("p", { class: "error", dataset: { field: "mapping_error" } },
      t("routes.detail.mapping_error", { error: result.error }))
    : h("pre", { dataset: { field: "output" } }, json(result.output));
  const differs = sent != null && !result.error && JSON.stringify(sent) !== JSON.stringify(result.output);
  return [
    h("p", {}, t("routes.detail.last_message", { key: message.key ?? message.id, at: stamp(message.received_at) })),
    h("div", { class: "route-preview" },
      h("figure", {}, h("figcaption", {}, t("routes.detail.input")),
        h("pre", { dataset: { field: "input" } }, json(message.body))),
      h("figure", {}, h("figcaption", {}, t("routes.detail.output")), output)),
    differs ? h("p", { class: "muted" }, t("routes.detail.differs")) : null,
  ].filter(Boolean);
}

async function loadPreview(box, edge) {
  if (!edge.mapping) {
    box.replaceChildren(h("p", { class: "muted" }, t("routes.detail.no_mapping")));
    return;
  }
  const head = mappingHead(edge.mapping);
  box.replaceChildren(...head, h("p", { class: "muted" }, t("routes.detail.loading")));
  const found = await api(`v1/messages?interface=${enc(edge.interface)}&target=${enc(edge.target)}&limit=1`);
  const last = found.messages[0];
  if (!last) {
    box.replaceChildren(...head, h("p", { class: "muted" }, t("routes.detail.no_message")));
    return;
  }
  const message = await api(`v1/messages/${enc(last.id)}`);
  const result = await api(`v1/mappings/${enc(edge.mapping.name)}/preview`,
    { method: "POST", body: { input: message.body } });
  const sent = message.deliveries.find((d) => d.target === edge.target)?.sent_body;
  if (state.edge?.id === edge.id) box.replaceChildren(...head, ...previewShown(message, result, sent));
}

function failed(box) {
  return (error) => box.replaceChildren(h("p", { class: "error" }, t("routes.detail.failed", { error: error.message })));
}

export function closeDetail() {
  const panel = byId("route-detail");
  panel.hidden = true;
  panel.replaceChildren();
  state.edge = null;
  state.onClose?.();
}

// Opened from the map: mark the tile (its link is the page's address now), then fill in.
export function openDetail(edge, handlers, onClose) {
  Object.assign(state, { edge, handlers, onClose });
  history.replaceState(null, "", `#${edge.id}`);
  focusTile(`#${edge.id}`);
  const panel = byId("route-detail");
  const parked = h("div", { class: "route-parked-here" });
  const mapping = h("div", { class: "route-mapping" });
  panel.replaceChildren(
    h("div", { class: "route-detail-head" },
      h("h3", { id: "route-detail-title" }, `${edge.interface} → ${edge.target}`),
      h("a", { href: `#${edge.id}`, class: "route-tile-link" }, t("routes.detail.tile")),
      h("button", { type: "button", onclick: closeDetail }, t("routes.detail.close"))),
    h("div", { class: "route-facts-box" }, facts(edge)),
    parked, mapping);
  panel.hidden = false;
  panel.scrollIntoView({ block: "nearest" });
  panel.focus({ preventScroll: true });
  loadParked(parked, edge).catch(failed(parked));
  loadPreview(mapping, edge).catch(failed(mapping));
}

// Every refresh of the board: the open route's facts and parked deliveries follow.
export async function refreshDetail(edge) {
  const panel = byId("route-detail");
  if (!state.edge || state.edge.id !== edge.id || panel.hidden) return;
  state.edge = edge;
  const box = panel.querySelector(".route-facts-box");
  if (changed(box, edge)) box.replaceChildren(facts(edge));
  await loadParked(panel.querySelector(".route-parked-here"), edge);
}
