// Hand-drawn SVG line charts of GET /v1/report/series: p95 latency and success rate.

import { byId, h, s } from "./dom.js";
import { list, ms, pair, percent, zoneName } from "./format.js";
import { locale, t, zone } from "./i18n.js";

const WIDTH = 800;
const HEIGHT = 260;
const MARGIN = { left: 70, right: 16, top: 14, bottom: 32 };
const COLOURS = ["#58a6ff", "#f0883e", "#d2a8ff", "#56d364", "#ff7b72", "#e3b341", "#39c5cf"];
const DASHES = ["", "12 6", "3 6", "16 6 3 6"];

// Colour and dash pattern both differ, so lines are told apart without colour too.
const lineStyle = (index) => ({
  stroke: COLOURS[index % COLOURS.length],
  "stroke-dasharray": DASHES[index % DASHES.length] || null,
});

function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [2, 4, 6, 8, 10].find((m) => m * power >= value) * power;
}

// Axis times in the factory's zone, in the page's language (a week's axis names days).
function timeLabel(at, span) {
  const when = new Date(at);
  if (span <= 86400000) {
    const clock = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone() };
    return when.toLocaleTimeString(locale(), clock);
  }
  return when.toLocaleDateString(locale(), { weekday: "short", day: "numeric", timeZone: zone() });
}

function axes(scale, yMax, yText, from, to) {
  const parts = [];
  for (let i = 0; i <= 4; i += 1) {
    const value = (yMax * i) / 4;
    const y = scale.y(value);
    parts.push(s("line", { class: "grid", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y, y2: y }));
    parts.push(s("text", { class: "axis", x: MARGIN.left - 8, y: y + 5, "text-anchor": "end" },
      yText(value)));
  }
  for (let i = 0; i <= 4; i += 1) {
    const at = from + ((to - from) * i) / 4;
    const anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";
    parts.push(s("text", { class: "axis", x: scale.x(at), y: HEIGHT - 8, "text-anchor": anchor },
      timeLabel(at, to - from)));
  }
  return parts;
}

// Steps without calls are skipped: the line joins the steps that had calls, and when
// there are few of them each also gets a dot, so a lone call still shows.
const DOTS_UP_TO = 30;

function shapes(line, index, scale) {
  const points = line.points.filter((p) => p.v !== null);
  const style = lineStyle(index);
  const at = (p) => `${scale.x(p.t).toFixed(1)} ${scale.y(p.v).toFixed(1)}`;
  const drawn = [];
  if (points.length > 1) {
    drawn.push(s("path", {
      class: "series", ...style, d: points.map((p, i) => `${i ? "L" : "M"}${at(p)}`).join(""),
    }));
  }
  if (points.length <= DOTS_UP_TO) {
    drawn.push(...points.map((p) => s("circle", {
      cx: scale.x(p.t), cy: scale.y(p.v), r: 4, fill: style.stroke,
    })));
  }
  return drawn;
}

function lastValue(line) {
  const found = [...line.points].reverse().find((p) => p.v !== null);
  return found ? found.v : null;
}

function drawChart(svg, { title, lines, from, to, yMax, yText }) {
  const scale = {
    x: (t) => MARGIN.left + ((t - from) / (to - from || 1)) * (WIDTH - MARGIN.left - MARGIN.right),
    y: (v) => HEIGHT - MARGIN.bottom - (v / yMax) * (HEIGHT - MARGIN.top - MARGIN.bottom),
  };
  const latest = lines.map((l) => `${l.label} ${lastValue(l) === null ? t("charts.no_calls") : yText(lastValue(l))}`);
  svg.setAttribute("aria-label", t("charts.latest", { title, latest: latest.length ? list(latest) : t("charts.no_data") }));
  svg.replaceChildren(
    s("title", {}, title),
    ...axes(scale, yMax, yText, from, to),
    ...lines.flatMap((line, index) => shapes(line, index, scale)),
  );
}

function legendItem(label, index) {
  const style = lineStyle(index);
  return h("li", {},
    s("svg", { viewBox: "0 0 40 10", "aria-hidden": "true" },
      s("line", { x1: 0, x2: 40, y1: 5, y2: 5, "stroke-width": 3, ...style })),
    label);
}

function linesOf(data, pick) {
  const step = data.step_s * 1000;
  return data.series.map((one) => ({
    label: pair(one),
    points: one.points.map((p) => ({ t: Date.parse(p.t) + step / 2, v: pick(p) })),
  }));
}

export function renderCharts(data, periodName) {
  const from = Date.parse(data.from);
  const points = data.series[0]?.points.length ?? 0;
  const to = from + points * data.step_s * 1000;
  const latency = linesOf(data, (p) => p.p95_ms);
  const highest = Math.max(0, ...latency.flatMap((l) => l.points.map((p) => p.v ?? 0)));
  const period = t(`charts.over.${periodName}`);
  const times = t("charts.times", { zone: zoneName() });
  drawChart(byId("chart-latency"), {
    title: t("charts.latency_title", { period, times }), lines: latency, from, to,
    yMax: niceMax(highest), yText: (v) => (v === 0 ? "0" : ms(v)),
  });
  drawChart(byId("chart-success"), {
    title: t("charts.success_title", { period, times }), from, to, yMax: 100,
    lines: linesOf(data, (p) => (p.success_rate === null ? null : p.success_rate * 100)),
    yText: (v) => percent(v / 100, 0),
  });
  byId("charts-zone").textContent = times;
  byId("legend").replaceChildren(...latency.map((l, i) => legendItem(l.label, i)));
}
