// Flow control per system from GET /v1/report (report.systems): the circuit breaker,
// calls in flight and deliveries waiting. Labels in Chinese and English.

import { h } from "./dom.js";
import { clock, count } from "./format.js";

const BREAKER_TEXT = {
  closed: "✔ 闭合 Closed",
  half_open: "◐ 试探中 Half-open",
  open: "✖ 打开 Open",
};

function cell(field, value, text) {
  return h("td", { dataset: { field, value: value ?? "" } }, text);
}

function breakerCell(row) {
  if (!row.breaker) return cell("breaker", "", "—");
  const until = row.breaker === "open" && row.reopens_at ? ` (→ ${clock(row.reopens_at)})` : "";
  return cell("breaker", row.breaker, `${BREAKER_TEXT[row.breaker] ?? row.breaker}${until}`);
}

function limit(value, unit) {
  return value == null ? "∞" : `${value}${unit}`;
}

function line(row) {
  const waiting = row.deferred;
  return h("tr", { class: `breaker-${row.breaker ?? "none"}`, dataset: { system: row.system } },
    h("th", { scope: "row" }, row.system),
    breakerCell(row),
    cell("in_flight", row.in_flight, `${count(row.in_flight)} / ${limit(row.max_in_flight, "")}`),
    cell("rate", row.rate_per_s, limit(row.rate_per_s, "/s")),
    cell("deferred_breaker", waiting.breaker, count(waiting.breaker)),
    cell("deferred_max_in_flight", waiting.max_in_flight, count(waiting.max_in_flight)),
    cell("deferred_rate", waiting.rate, count(waiting.rate)));
}

export function renderSystems(section, body, rows) {
  section.hidden = rows.length === 0;
  body.replaceChildren(...rows.map(line));
}
