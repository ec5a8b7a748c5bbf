// The named read-only queries (GET /v1/queries): what each returns, its parameters and
// who may run it.

import { h } from "./dom.js";
import { count } from "./format.js";
import { t } from "./i18n.js";

const TYPES = ["string", "integer", "number", "date", "datetime", "boolean"];

function parameter(p) {
  const need = p.required ? t("queries.required") : t("queries.default", { value: p.default ?? "—" });
  const type = TYPES.includes(p.type) ? t(`queries.type.${p.type}`) : p.type;
  return h("li", { dataset: { parameter: p.name } },
    h("code", {}, p.name), ` ${type} (${need})`,
    p.description ? ` — ${p.description}` : "");
}

function line(query) {
  const parameters = query.parameters.length
    ? h("ul", { class: "parameters" }, query.parameters.map(parameter))
    : t("queries.no_parameters");
  return h("tr", { dataset: { query: query.name } },
    h("th", { scope: "row" }, h("code", {}, query.path),
      query.description ? h("div", { class: "muted" }, query.description) : ""),
    h("td", {}, parameters),
    h("td", {}, query.systems.join(", ") || t("queries.admin_only")),
    h("td", {}, t("queries.limits", { rows: count(query.row_limit), seconds: count(query.timeout_s) })));
}

export function renderQueries(section, body, queries) {
  section.hidden = queries.length === 0;
  body.replaceChildren(...queries.map(line));
}
