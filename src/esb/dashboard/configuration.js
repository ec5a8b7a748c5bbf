// A configuration change the gateway refused: shown until a good reload clears it, so an
// operator sees it where they look (not only in the log), with each file:line and problem.

import { byId, changed, h } from "./dom.js";
import { clock, plural } from "./format.js";

export function renderConfiguration(state) {
  const box = byId("configuration");
  const failed = state?.status === "reload_failed";
  box.hidden = !failed;
  if (!failed || !changed(box, state)) return;
  box.replaceChildren(
    h("h2", {}, "Configuration change refused"),
    h("p", {},
      `At ${clock(state.failed_at)} the files had ${plural(state.problems.length, "problem")}; `,
      `the gateway keeps running on the configuration loaded at ${clock(state.loaded_at)}. `,
      "Fix the files (esb check lists the same problems): the next good reload clears this."),
    h("ul", { class: "problems" }, state.problems.map((problem) => h("li", {}, h("code", {}, problem)))));
}
