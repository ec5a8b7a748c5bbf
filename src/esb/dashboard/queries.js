// The named read-only queries (GET /v1/queries): what each returns, its parameters and
// who may run it. Labels in Chinese and English.

import { h } from "./dom.js";

const TYPE_TEXT = {
  string: "文本 text",
  integer: "整数 integer",
  number: "数值 number",
  date: "日期 date",
  datetime: "日期时间 date-time",
  boolean: "是/否 boolean",
};

function parameter(p) {
  const need = p.required ? "必填 required" : `默认 default ${p.default ?? "—"}`;
  return h("li", { dataset: { parameter: p.name } },
    h("code", {}, p.name), ` ${TYPE_TEXT[p.type] ?? p.type} (${need})`,
    p.description ? ` — ${p.description}` : "");
}

function line(query) {
  const parameters = query.parameters.length
    ? h("ul", { class: "parameters" }, query.parameters.map(parameter))
    : "无 none";
  return h("tr", { dataset: { query: query.name } },
    h("th", { scope: "row" }, h("code", {}, query.path),
      query.description ? h("div", { class: "muted" }, query.description) : ""),
    h("td", {}, parameters),
    h("td", {}, query.systems.join(", ") || "仅管理员 admin only"),
    h("td", {}, `${query.row_limit} / ${query.timeout_s}s`));
}

export function renderQueries(section, body, queries) {
  section.hidden = queries.length === 0;
  body.replaceChildren(...queries.map(line));
}
