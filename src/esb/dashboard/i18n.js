// The page's language: Chinese or English, from the operator's choice (remembered in this
// browser) or else the browser's own languages. One catalogue per language, fetched once;
// a key missing from it shows as ⟦key⟧ so a test (and a person) sees it at once.

const CHOICE = "esb.language";
export const LANGUAGES = ["zh", "en"];
const state = { code: "en", words: {}, zone: undefined };

function preferred() {
  const chosen = localStorage.getItem(CHOICE);
  if (LANGUAGES.includes(chosen)) return chosen;
  const asked = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const tag of asked) {
    const code = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(code)) return code;
  }
  return "en";
}

export async function loadLanguage() {
  state.code = preferred();
  const response = await fetch(`dashboard/i18n/${state.code}.json`);
  state.words = response.ok ? await response.json() : {};
  document.documentElement.lang = state.code === "zh" ? "zh-CN" : "en";
}

export const lang = () => state.code;
// The BCP 47 tag for Intl formatting of numbers and dates.
export const locale = () => (state.code === "zh" ? "zh-CN" : "en-GB");

export function chooseLanguage(code) {
  localStorage.setItem(CHOICE, code);
  location.reload();
}

// The factory's time zone (from the report): times on the page are shown in it.
export function setZone(zone) {
  state.zone = zone || undefined;
}
export const zone = () => state.zone;

export function t(key, params = {}) {
  let text = state.words[key];
  if (text && typeof text === "object") {
    const form = new Intl.PluralRules(locale()).select(Number(params.count ?? 0));
    text = text[form] ?? text.other;
  }
  if (typeof text !== "string") return `⟦${key}⟧`;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

// Static text: data-i18n="key" sets the text; data-i18n-attr="title:key;aria-label:key2".
export function translatePage(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [name, key] = pair.split(":").map((part) => part.trim());
      if (name && key) el.setAttribute(name, t(key));
    }
  }
  document.title = t("page.title");
}
