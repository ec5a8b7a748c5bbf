// A configuration change the gateway refused: shown until a good reload clears it, so an
// operator sees it where they look (not only in the log), with each file:line and problem.

import { byId, changed, h } from "./dom.js";
import { clock, count } from "./format.js";
import { t } from "./i18n.js";

export function renderConfiguration(state) {
  const box = byId("configuration");
  const failed = state?.status === "reload_failed";
  box.hidden = !failed;
  if (!failed || !changed(box, state)) return;
  const problems = state.problems.length;
  box.replaceChildren(
    h("h2", {}, t("page.refused_title")),
    h("p", {}, t("page.refused", {
      failed: clock(state.failed_at),
      problems: t("page.problems", { count: problems, n: count(problems) }),
      loaded: clock(state.loaded_at),
    })),
    h("ul", { class: "problems" }, state.problems.map((problem) => h("li", {}, h("code", {}, problem)))));
}
