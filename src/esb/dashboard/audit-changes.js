// What a configuration entry of the audit trail changed, as a table a person reads:
// each setting by its path with its value before and after (added, removed or changed;
// a secret shows as *** on both sides), or the problems a refused change had.

import { h } from "./dom.js";
import { t } from "./i18n.js";

function shown(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 1);
}

function cell(values, path, missing) {
  return path in values
    ? h("td", {}, h("code", {}, shown(values[path])))
    : h("td", { class: "muted" }, t(missing));
}

function rows(before, after) {
  const paths = [...Object.keys(before), ...Object.keys(after).filter((p) => !(p in before))];
  return paths.map((path) => h("tr", { dataset: { path } },
    h("th", { scope: "row" }, h("code", {}, path)),
    cell(before, path, "audit.added"),
    cell(after, path, "audit.removed")));
}

// null when the entry is not a configuration change: its sides are then shown as JSON.
export function changesTable(entry) {
  const problems = entry.after?.problems;
  if (Array.isArray(problems)) {
    return h("div", {}, h("h4", {}, t("audit.problems")),
      h("ul", { class: "problems" }, problems.map((p) => h("li", {}, h("code", {}, p)))));
  }
  const before = entry.before?.values;
  const after = entry.after?.values;
  if (!before || !after) return null;
  if (!Object.keys(before).length && !Object.keys(after).length) {
    return h("p", { class: "muted" }, t("audit.no_effect"));
  }
  return h("table", { class: "audit-changes" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, t("audit.path")),
      h("th", { scope: "col" }, t("audit.before")),
      h("th", { scope: "col" }, t("audit.after")))),
    h("tbody", {}, rows(before, after)));
}
