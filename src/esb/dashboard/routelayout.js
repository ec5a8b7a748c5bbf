// Where the route map puts things: pure geometry over GET /v1/routes, no DOM. The same
// configuration always gives the same picture (no randomness, no measuring).

export const WIDTH = 1240;
export const NODE_HEIGHT = 48;
const ROW = 104;
const PAD = 10;
// The routes out carry the longest words (connector, condition, counts): the widest gap.
const COLUMNS = {
  left: { x: PAD, width: 140 },
  middle: { x: 300, width: 200 },
  right: { x: WIDTH - PAD - 170, width: 170 },
};
const BADGE_HEIGHT = 44;
// Where on its route a plate may sit, tried in turn from the middle outwards.
const ALONG = [0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82];
const NUDGE = [0, -12, 12, -24, 24];

const nodeKey = (kind, name) => `${kind}:${name}`;

// SVG text cannot be measured before it is drawn: CJK characters count as wide ones.
export const textWidth = (text, size = 13) =>
  [...text].reduce((sum, ch) => sum + (ch.codePointAt(0) > 0x2e80 ? 1 : 0.58) * size, 0);

// Sources as systems.yaml lists them; interfaces by their source's place; targets by the
// mean place of the interfaces that reach them (fewer crossings), ties in systems.yaml's order.
export function columns(routes) {
  const order = new Map(routes.systems.map((node, index) => [nodeKey(node.kind, node.name), index]));
  const left = routes.systems.filter((node) => node.kind === "system"
    && routes.interfaces.some((i) => i.source === node.name));
  const leftAt = new Map(left.map((node, index) => [node.name, index]));
  const middle = routes.interfaces.map((i, index) => ({ ...i, index }))
    .sort((a, b) => leftAt.get(a.source) - leftAt.get(b.source) || a.index - b.index);
  const middleAt = new Map(middle.map((i, index) => [i.name, index]));
  const into = (node) => routes.edges.filter((e) => e.to === node.name && e.to_kind === node.kind);
  const right = routes.systems.filter((node) => into(node).length)
    .map((node) => ({
      ...node,
      mean: into(node).reduce((sum, e) => sum + middleAt.get(e.interface), 0) / into(node).length,
      order: order.get(nodeKey(node.kind, node.name)),
    }))
    .sort((a, b) => a.mean - b.mean || a.order - b.order);
  return { left, middle, right };
}

function place(nodes, column, height, id) {
  const span = (height - 2 * PAD) / nodes.length;
  return nodes.map((node, index) => ({
    ...node, column, ...COLUMNS[column], id: id(node),
    y: PAD + (index + 0.5) * span - NODE_HEIGHT / 2,
  }));
}

// Where lines meet a node: spread over its side in the order of their other ends.
function ports(lines, end, other) {
  const groups = new Map();
  for (const line of lines) groups.set(line[end].id, [...(groups.get(line[end].id) ?? []), line]);
  for (const group of groups.values()) {
    group.sort((a, b) => a[other].y - b[other].y);
    const step = Math.min(12, (NODE_HEIGHT - 12) / group.length);
    group.forEach((line, index) => {
      line[`${end}Y`] = line[end].y + NODE_HEIGHT / 2 + (index - (group.length - 1) / 2) * step;
    });
  }
}

// A horizontal S: leaves and reaches each node level.
function bezier(line) {
  const x1 = line.from.x + line.from.width;
  const x2 = line.to.x;
  const dx = (x2 - x1) / 2;
  return [[x1, line.fromY], [x1 + dx, line.fromY], [x2 - dx, line.toY], [x2, line.toY]];
}

export function path(line) {
  const [a, b, c, d] = bezier(line).map(([x, y]) => `${x.toFixed(1)} ${y.toFixed(1)}`);
  return `M${a}C${b} ${c} ${d}`;
}

function pointAt(points, t) {
  const k = [(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3];
  return [0, 1].map((axis) => points.reduce((sum, p, i) => sum + k[i] * p[axis], 0));
}

const overlaps = (a, b) => a.x < b.x + b.width + 4 && b.x < a.x + a.width + 4
  && a.y < b.y + b.height + 4 && b.y < a.y + a.height + 4;

// Each route's plate on its route where it covers no plate placed before it: along the
// route from the middle outwards, then nudged up or down a little; failing routes are
// placed first, so theirs keep the middle. Crowded: the candidate covering the least.
function badges(lines, words) {
  const placed = [];
  const rank = (line) => (["failing", "breaker_open"].includes(line.edge.health) ? 0 : 1);
  const covered = (box) => placed.reduce((sum, p) => sum + (overlaps(box, p)
    ? (Math.min(box.x + box.width, p.x + p.width) - Math.max(box.x, p.x))
      * (Math.min(box.y + box.height, p.y + p.height) - Math.max(box.y, p.y)) : 0), 0);
  for (const line of [...lines].sort((a, b) => rank(a) - rank(b))) {
    const width = Math.max(...words(line.edge).map((text) => textWidth(text))) + 16;
    const points = bezier(line);
    const low = points[0][0] + 6 + width / 2;
    const high = Math.max(low, points[3][0] - 6 - width / 2);
    const candidates = NUDGE.flatMap((dy) => ALONG.map((t) => {
      const [x, y] = pointAt(points, t);
      const cx = Math.min(Math.max(x, low), high);
      return { x: cx - width / 2, y: y + dy - BADGE_HEIGHT / 2, width, height: BADGE_HEIGHT, cx, cy: y + dy };
    }));
    const box = candidates.find((c) => !placed.some((p) => overlaps(c, p)))
      ?? candidates.reduce((best, c) => (covered(c) < covered(best) ? c : best));
    line.badge = box;
    placed.push(box);
  }
}

// Everything the map draws, placed: nodes, routes in (source -> interface) and routes
// out (interface -> target) with the plate of words each route out carries.
export function layout(routes, words) {
  const { left, middle, right } = columns(routes);
  const rows = Math.max(left.length, middle.length, right.length, 1);
  let height = rows * ROW + 2 * PAD;
  const nodes = {
    left: place(left, "left", height, (n) => `l:${n.name}`),
    middle: place(middle, "middle", height, (n) => `m:${n.name}`),
    right: place(right, "right", height, (n) => `r:${nodeKey(n.kind, n.name)}`),
  };
  const inbound = nodes.middle.map((to) => ({ from: nodes.left.find((n) => n.name === to.source), to }));
  const outbound = routes.edges.map((edge) => ({
    edge,
    from: nodes.middle.find((n) => n.name === edge.interface),
    to: nodes.right.find((n) => n.name === edge.to && n.kind === edge.to_kind),
  }));
  for (const lines of [inbound, outbound]) {
    ports(lines, "from", "to");
    ports(lines, "to", "from");
  }
  badges(outbound, words);
  height = Math.max(height, ...outbound.map((line) => line.badge.y + BADGE_HEIGHT + PAD));
  return { height, nodes, inbound, outbound };
}
