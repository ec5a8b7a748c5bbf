// The dashboard's start: sign in once per tab, then refresh every 15 s without reloading.

import * as api from "./api.js";
import { openAction, setupActions } from "./actions.js";
import { setupAudit } from "./audit.js";
import { renderCharts } from "./charts.js";
import { renderConfiguration } from "./configuration.js";
import { byId } from "./dom.js";
import { clock, zoneName } from "./format.js";
import { LANGUAGES, chooseLanguage, lang, loadLanguage, setZone, t, translatePage } from "./i18n.js";
import { renderParked } from "./parked.js";
import { renderQueries } from "./queries.js";
import { noteShadows, refreshShadows, setupShadows } from "./shadow.js";
import { consistency, focusTile, renderTiles, summary } from "./tiles.js";
import { renderSystems } from "./systems.js";
import { runTrace, setupTrace } from "./trace.js";

const REFRESH_MS = 15000;
const PERIODS = {
  hour: { window: "1h", step: "1m", every: 15000 },
  day: { window: "1d", step: "30m", every: 60000 },
  week: { window: "7d", step: "6h", every: 300000 },
};
const state = { period: "hour", seriesAt: 0, timer: null, inFlight: null, again: false };
let lastGood = null;

const parkedHandlers = {
  act: openAction,
  trace: (key) => {
    runTrace(key);
    byId("trace-title").scrollIntoView();
  },
};

function showTiles(report) {
  setZone(report.time_zone);
  const first = !byId("tiles").hasChildNodes();
  renderTiles(byId("tiles"), report.interfaces);
  byId("summary").textContent = summary(report.interfaces);
  byId("consistency").textContent = consistency(report.consistency_check);
  renderSystems(byId("systems"), byId("systems-rows"), report.systems ?? []);
  renderConfiguration(report.configuration);
  noteShadows(report.shadows);
  if (first) {
    performance.mark("esb:tiles");
    focusTile(location.hash);
  }
}

async function loadSeries() {
  const period = state.period;
  const { window: span, step } = PERIODS[period];
  const data = await api.series(span, step);
  if (period !== state.period) return;
  renderCharts(data, period);
  state.seriesAt = Date.now();
}

function showUpdated(problem) {
  const updated = byId("updated");
  if (!problem) lastGood = new Date().toISOString();
  updated.classList.toggle("stale", Boolean(problem));
  const shown = { time: clock(lastGood), zone: zoneName() };
  updated.textContent = problem ? t("page.update_failed", { problem, ...shown }) : t("page.updated", shown);
}

// The value page (#value): its code is fetched the first time it is opened (a wall
// screen never needs it), then it refreshes itself with the board.
function openValuePage() {
  if (location.hash !== "#value") return Promise.resolve();
  return import("./value.js").then((page) => page.refreshValue());
}

// The tiles first: the other calls start once the report is in, so it has the gateway
// to itself and the wall screen shows its numbers as early as it can.
async function cycle() {
  const tiles = await Promise.allSettled([api.report().then(showTiles)]);
  const jobs = [
    api.parked().then((found) => renderParked(found.messages, parkedHandlers)),
    api.queries().then((found) => renderQueries(byId("queries"), byId("queries-rows"), found.queries)),
    refreshShadows(),
    // the route map: its code and data fetched together, after the tiles (off their path)
    Promise.all([import("./routemap.js"), api.routes()]).then(([map, found]) => map.showRouteMap(found, parkedHandlers)),
  ];
  if (Date.now() - state.seriesAt >= PERIODS[state.period].every) jobs.push(loadSeries());
  jobs.push(openValuePage());
  const failed = [...tiles, ...await Promise.allSettled(jobs)].find((r) => r.status === "rejected");
  if (failed?.reason?.unauthorised) {
    signOut(t("login.expired"));
  } else {
    showUpdated(failed ? failed.reason.message : null);
  }
}

// One refresh at a time; asking during one runs another right after it.
function refresh() {
  if (state.inFlight) {
    state.again = true;
    return;
  }
  clearTimeout(state.timer);
  state.inFlight = cycle().finally(() => {
    state.inFlight = null;
    if (!api.session.key()) return;
    if (state.again) {
      state.again = false;
      refresh();
    } else {
      state.timer = setTimeout(refresh, REFRESH_MS);
    }
  });
}

function choosePeriod(button) {
  for (const other of document.querySelectorAll("[data-window]")) {
    other.setAttribute("aria-pressed", String(other === button));
  }
  state.period = button.dataset.window;
  loadSeries().catch((error) => showUpdated(error.message));
}

function showBoard(visible) {
  byId("board").hidden = !visible;
  byId("sign-out").hidden = !visible;
  byId("login").hidden = visible;
}

function signOut(message = "") {
  api.session.clear();
  clearTimeout(state.timer);
  showBoard(false);
  byId("login-error").textContent = message;
  byId("admin-key").focus();
}

function refusal(error) {
  if (error.status === 403) return t("login.refused_system");
  if (error.status === 401) return t("login.unknown_key");
  return error.message;
}

async function signIn(event) {
  event.preventDefault();
  const input = byId("admin-key");
  api.session.save(input.value.trim());
  let report;
  try {
    report = await api.report();
  } catch (error) {
    api.session.clear();
    byId("login-error").textContent = refusal(error);
    return;
  }
  input.value = "";
  byId("login-error").textContent = "";
  showBoard(true);
  showTiles(report);
  refresh();
}

// The switch offers the other language, named in itself (中文 / English).
function setupLanguage() {
  const button = byId("language");
  const other = LANGUAGES.find((code) => code !== lang());
  button.textContent = other === "zh" ? "中文" : "English";
  button.lang = other === "zh" ? "zh-CN" : "en";
  button.addEventListener("click", () => chooseLanguage(other));
}

async function start() {
  await loadLanguage();
  translatePage();
  setupLanguage();
  byId("login-form").addEventListener("submit", signIn);
  byId("sign-out").addEventListener("click", () => signOut());
  for (const button of document.querySelectorAll("[data-window]")) {
    button.addEventListener("click", () => choosePeriod(button));
  }
  window.addEventListener("hashchange", () => focusTile(location.hash));
  setupActions(refresh);
  setupTrace();
  setupShadows(refresh);
  setupAudit();
  window.addEventListener("hashchange", openValuePage);
  openValuePage();
  if (api.session.key()) {
    showBoard(true);
    refresh();
  } else {
    signOut();
  }
}

start();
