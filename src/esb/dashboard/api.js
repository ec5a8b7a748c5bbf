// The admin API, called with the key this tab keeps in sessionStorage (never in a URL).

import { t } from "./i18n.js";

const KEY_NAME = "esb.adminKey";

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }

  get unauthorised() {
    return this.status === 401 || this.status === 403;
  }
}

export const session = {
  key: () => sessionStorage.getItem(KEY_NAME),
  save: (key) => sessionStorage.setItem(KEY_NAME, key),
  clear: () => sessionStorage.removeItem(KEY_NAME),
};

// Paths are relative ("v1/report"), so a gateway behind a path prefix still works.
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${session.key()}` };
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, "unreachable", t("page.unreachable", { error: error.message }));
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const problem = data?.error ?? {};
    throw new ApiError(
      response.status,
      problem.code ?? `http_${response.status}`,
      problem.message ?? response.statusText,
      problem.field,
    );
  }
  return data;
}

export const report = () => api("v1/report?window=15m");
export const parked = () => api("v1/messages?status=parked&limit=100");
export const series = (window, step) =>
  api(`v1/report/series?window=${encodeURIComponent(window)}&step=${encodeURIComponent(step)}`);
export const queries = () => api("v1/queries");
export const routes = () => api("v1/routes?window=15m");
export const message = (id) => api(`v1/messages/${encodeURIComponent(id)}`);
export const trace = (key) => api(`v1/trace?key=${encodeURIComponent(key)}`);
export const act = (deliveryId, action, body) =>
  api(`v1/deliveries/${encodeURIComponent(deliveryId)}/${action}`, { method: "POST", body });
