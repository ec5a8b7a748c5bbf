// Operator actions on a parked delivery: replay, correct-and-replay, discard.
// Each asks for a reason (the audit log keeps it), then follows the delivery to its end.

import { act, message as fetchMessage } from "./api.js";
import { byId, h } from "./dom.js";
import { clock } from "./format.js";
import { t } from "./i18n.js";

const OPERATOR_NAME = "esb.operator";
const FINAL = new Set(["delivered", "parked", "discarded", "superseded"]);
const FOLLOW_MS = 1000;
const FOLLOW_TRIES = 180;

let open = null; // { action, item }
let afterAction = () => {};

const fields = () => ({
  dialog: byId("action-dialog"),
  body: byId("action-body"),
  reason: byId("action-reason"),
  operator: byId("action-operator"),
  error: byId("action-error"),
  confirm: byId("action-confirm"),
});

async function loadBodies(item, f) {
  const detail = await fetchMessage(item.message.id);
  const delivery = detail.deliveries.find((d) => d.id === item.delivery.id) ?? {};
  const start = delivery.corrected_body ?? delivery.sent_body ?? null;
  f.body.value = start === null ? "" : JSON.stringify(start, null, 2);
  byId("action-body-hint").textContent = t(start === null ? "actions.hint_empty" : "actions.hint_prefilled");
  byId("action-source").textContent = JSON.stringify(detail.body, null, 2);
}

export async function openAction(action, item) {
  const f = fields();
  open = { action, item };
  byId("action-title").textContent = t(`actions.title.${action}`);
  byId("action-subject").textContent =
    `${item.message.key} · ${item.message.interface} → ${item.delivery.target}: ` +
    `${item.delivery.last_error ?? ""}`;
  f.confirm.textContent = t(`actions.title.${action}`);
  f.confirm.className = action === "discard" ? "danger" : "primary";
  f.reason.value = "";
  f.error.textContent = "";
  f.operator.value = localStorage.getItem(OPERATOR_NAME) ?? "";
  byId("correct-fields").hidden = action !== "correct";
  if (action === "correct") {
    try {
      await loadBodies(item, f);
    } catch (error) {
      f.error.textContent = t("actions.load_failed", { error: error.message });
    }
  }
  f.dialog.showModal();
  (action === "correct" ? f.body : f.reason).focus();
}

function payloadOf(action, f) {
  const reason = f.reason.value.trim();
  if (!reason) throw new Error(t("actions.reason_needed"));
  const operator = f.operator.value.trim();
  const payload = { reason, operator: operator || undefined };
  if (action === "correct") {
    try {
      payload.body = JSON.parse(f.body.value);
    } catch (error) {
      throw new Error(t("actions.bad_json", { error: error.message }));
    }
  }
  return payload;
}

async function submit(event) {
  event.preventDefault();
  const f = fields();
  const { action, item } = open;
  let payload;
  try {
    payload = payloadOf(action, f);
  } catch (error) {
    f.error.textContent = error.message;
    return;
  }
  localStorage.setItem(OPERATOR_NAME, payload.operator ?? "");
  f.confirm.disabled = true;
  try {
    const result = await act(item.delivery.id, action, payload);
    f.dialog.close();
    track(action, item, payload, result);
    afterAction();
  } catch (error) {
    f.error.textContent = error.message;
  } finally {
    f.confirm.disabled = false;
  }
}

function showResult(el, status, text) {
  el.className = `result ${status}`;
  el.textContent = text;
}

// Follow the delivery until it is delivered, parked again or discarded.
async function follow(el, item, tries = 0) {
  let delivery;
  try {
    const detail = await fetchMessage(item.message.id);
    delivery = detail.deliveries.find((d) => d.id === item.delivery.id);
  } catch (error) {
    showResult(el, "failed", t("actions.cannot_follow", { error: error.message }));
    return;
  }
  if (FINAL.has(delivery.status)) {
    const when = clock(delivery.delivered_at ?? new Date().toISOString());
    const why = delivery.status === "parked" ? t("actions.because", { error: delivery.last_error }) : "";
    showResult(el, delivery.status, `${t(`format.status.${delivery.status}`)} ${when}${why}`);
    afterAction();
  } else if (tries >= FOLLOW_TRIES) {
    showResult(el, delivery.status, t("actions.still", { status: t(`format.status.${delivery.status}`) }));
  } else {
    showResult(el, delivery.status, `${t(`format.status.${delivery.status}`)}…`);
    setTimeout(() => follow(el, item, tries + 1), FOLLOW_MS);
  }
}

function track(action, item, payload, result) {
  const status = action === "discard"
    ? h("span", { class: "result discarded" }, t("format.status.discarded"))
    : h("span", { class: "result" }, t("actions.queued"));
  const changes = result.changes?.length ? h("ul", {}, result.changes.map((c) => h("li", {}, c))) : null;
  const li = h("li", { dataset: { delivery: item.delivery.id, action } },
    t("actions.done", {
      time: clock(new Date().toISOString()), key: item.message.key, target: item.delivery.target,
      done: t(`actions.done.${action}`), reason: payload.reason,
    }), " ", status, changes);
  byId("activity").prepend(li);
  if (action !== "discard") follow(status, item);
}

export function setupActions(onDone) {
  afterAction = onDone;
  const f = fields();
  byId("action-form").addEventListener("submit", submit);
  byId("action-cancel").addEventListener("click", () => f.dialog.close());
}
