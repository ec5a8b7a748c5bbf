// The route map (GET /v1/routes): source systems left, the gateway's interfaces in the
// middle, target systems right; each route out coloured by its live health, with what
// waits and what is parked; a click opens the route (routedetail.js). Plain SVG, placed
// by routelayout.js. Read-only: the YAML stays the source of truth.

import { byId, changed, h, s } from "./dom.js";
import { count } from "./format.js";
import { t } from "./i18n.js";
import { MARK, closeDetail, healthText, openDetail, refreshDetail } from "./routedetail.js";
import { NODE_HEIGHT, WIDTH, layout, path, textWidth } from "./routelayout.js";

export const HEALTHS = ["ok", "degraded", "failing", "breaker_open"];
const state = { selected: null, handlers: null };

// A name wider than its box is squeezed to fit rather than cut.
function name(x, y, text, width, cls, size) {
  const fit = textWidth(text, size) > width - 14 ? { textLength: width - 14, lengthAdjust: "spacingAndGlyphs" } : {};
  return s("text", { class: cls, x, y, "text-anchor": "middle", ...fit }, text);
}

function nodeShape(node, label, sub, tip) {
  const cx = node.x + node.width / 2;
  const cy = node.y + NODE_HEIGHT / 2;
  const kind = node.kind ?? "interface";
  return s("g", {
    class: `route-node column-${node.column} kind-${kind}${node.breaker === "open" ? " breaker-open" : ""}`,
    dataset: { node: node.name, column: node.column, kind },
  },
  s("title", {}, tip),
  s("rect", { x: node.x, y: node.y, width: node.width, height: NODE_HEIGHT, rx: 8 }),
  name(cx, sub ? cy - 3 : cy + 6, label, node.width, "route-name", 16),
  sub ? name(cx, cy + 15, sub, node.width, "route-sub", 12) : null);
}

function systemNode(node) {
  const breaker = node.breaker === "open" ? `${MARK.breaker_open} ` : "";
  const sub = node.kind === "gateway" ? t("routes.gateway_node") : null;
  return nodeShape(node, `${breaker}${node.name}`, sub, node.description || node.name);
}

const interfaceNode = (node) => nodeShape(node, node.name, node.message_type, node.description || node.name);

// The two lines on a route's plate: how and when it goes; health, waiting and parked.
function words(edge) {
  const how = [edge.connector, edge.when && t("routes.when", { condition: edge.when })];
  return [
    how.filter(Boolean).join(" · "),
    `${MARK[edge.health] ?? ""} ${t("routes.waiting", { count: count(edge.pending) })}` +
      ` · ${t("routes.parked", { count: count(edge.parked) })}`,
  ];
}

function select(id) {
  state.selected = id;
  for (const g of document.querySelectorAll(".route-edge")) {
    g.classList.toggle("selected", g.dataset.edge === id);
  }
}

function open(edge) {
  select(edge.id);
  openDetail(edge, state.handlers, () => select(null));
}

function plate({ badge }, [how, counts]) {
  return s("g", { class: "route-badge" },
    s("rect", { x: badge.x, y: badge.y, width: badge.width, height: badge.height, rx: 6 }),
    s("text", { class: "route-label", x: badge.cx, y: badge.cy - 4, "text-anchor": "middle" }, how),
    s("text", { class: "route-label route-counts", x: badge.cx, y: badge.cy + 15, "text-anchor": "middle" },
      counts));
}

function routeOut(line) {
  const { edge } = line;
  const d = path(line);
  const label = t("routes.edge_label", {
    interface: edge.interface, target: edge.target, system: edge.to,
    health: t(`routes.health.${edge.health}`), waiting: count(edge.pending), parked: count(edge.parked),
  });
  return s("g", {
    class: `route-edge health-${edge.health}${edge.id === state.selected ? " selected" : ""}`,
    tabindex: 0, role: "button", "aria-label": label,
    dataset: { edge: edge.id, health: edge.health, from: edge.from, to: edge.to },
    onclick: () => open(edge),
    onkeydown: (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      open(edge);
    },
  },
  s("title", {}, label),
  s("path", { class: "route-line", d }),
  s("path", { class: "route-hit", d }),
  plate(line, words(edge)));
}

function routeIn(line) {
  const kinds = line.to.sources.map((way) => way.kind);
  const ways = kinds.join(" · ");
  const x = (line.from.x + line.from.width + line.to.x) / 2;
  const y = (line.fromY + line.toY) / 2 - 6;
  return s("g", { class: "route-in", dataset: { interface: line.to.name, from: line.from.name, ways } },
    s("title", {}, t("routes.inbound_label", { source: line.from.name, interface: line.to.name, ways })),
    s("path", { class: "route-line", d: path(line) }),
    kinds.map((kind, index) => s("text", { // one way in a line, stacked above the route
      class: "route-label", x, y: y - 15 * (kinds.length - 1 - index), "text-anchor": "middle",
    }, kind)));
}

function draw(routes) {
  const { height, nodes, inbound, outbound } = layout(routes, words);
  const failing = routes.edges.filter((e) => e.health === "failing" || e.health === "breaker_open");
  return s("svg", {
    class: "route-svg", viewBox: `0 0 ${WIDTH} ${Math.ceil(height)}`, role: "group",
    "aria-label": t("routes.map_label", {
      systems: count(nodes.left.length + nodes.right.length), routes: count(routes.edges.length),
      failing: count(failing.length),
    }),
  },
  ...inbound.map(routeIn), ...outbound.map(routeOut),
  ...nodes.left.map(systemNode), ...nodes.middle.map(interfaceNode), ...nodes.right.map(systemNode));
}

function legend() {
  return h("ul", { class: "legend route-legend", "aria-label": t("routes.legend") },
    HEALTHS.map((health) => h("li", { class: `health-${health}`, dataset: { health } },
      s("svg", { viewBox: "0 0 40 10", "aria-hidden": "true" },
        s("line", { class: "route-line", x1: 0, x2: 40, y1: 5, y2: 5 })),
      healthText(health))));
}

// Drawn again only when the configuration or a live figure changed (not its time stamp).
export function renderRouteMap(section, routes) {
  const { at, ...shown } = routes;
  section.hidden = false;
  const map = byId("routemap");
  if (!changed(map, shown)) return false;
  const off = routes.switched_off.length
    ? h("p", { class: "muted", id: "routemap-off" }, t("routes.switched_off", { names: routes.switched_off.join(", ") }))
    : "";
  const first = !map.hasChildNodes();
  const focused = map.contains(document.activeElement) ? document.activeElement.dataset.edge : null;
  map.replaceChildren(routes.edges.length ? draw(routes) : h("p", { class: "muted" }, t("routes.empty")), legend(), off);
  if (first) performance.mark("esb:routes"); // bench/dashboard_bench.py reads it
  if (focused) map.querySelector(`[data-edge="${CSS.escape(focused)}"]`)?.focus(); // keep the keyboard's place
  return true;
}

// Each refresh of the board (GET /v1/routes): the map, and the open route's details with it.
export async function showRouteMap(routes, handlers) {
  state.handlers = handlers;
  renderRouteMap(byId("routes"), routes);
  if (!state.selected) return;
  const selected = routes.edges.find((edge) => edge.id === state.selected);
  if (selected) await refreshDetail(selected);
  else closeDetail(); // a reload took the route away
}
