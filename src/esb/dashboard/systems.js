// Flow control per system from GET /v1/report (report.systems): the circuit breaker,
// calls in flight and deliveries waiting.

import { h } from "./dom.js";
import { clock, count } from "./format.js";
import { t } from "./i18n.js";

const BREAKERS = ["closed", "half_open", "open"];

function cell(field, value, text) {
  return h("td", { dataset: { field, value: value ?? "" } }, text);
}

function breakerCell(row) {
  if (!row.breaker) return cell("breaker", "", "—");
  const until = row.breaker === "open" && row.reopens_at ? ` (→ ${clock(row.reopens_at)})` : "";
  const word = BREAKERS.includes(row.breaker) ? t(`systems.breaker.${row.breaker}`) : row.breaker;
  return cell("breaker", row.breaker, `${word}${until}`);
}

const unlimited = (value, text) => (value == null ? "∞" : text);

function line(row) {
  const waiting = row.deferred;
  return h("tr", { class: `breaker-${row.breaker ?? "none"}`, dataset: { system: row.system } },
    h("th", { scope: "row" }, row.system),
    breakerCell(row),
    cell("in_flight", row.in_flight,
      `${count(row.in_flight)} / ${unlimited(row.max_in_flight, count(row.max_in_flight))}`),
    cell("rate", row.rate_per_s,
      unlimited(row.rate_per_s, t("systems.per_second", { rate: count(row.rate_per_s) }))),
    cell("deferred_breaker", waiting.breaker, count(waiting.breaker)),
    cell("deferred_max_in_flight", waiting.max_in_flight, count(waiting.max_in_flight)),
    cell("deferred_rate", waiting.rate, count(waiting.rate)));
}

export function renderSystems(section, body, rows) {
  section.hidden = rows.length === 0;
  body.replaceChildren(...rows.map(line));
}
