// How numbers and times read on the wall screen; "—" where there is nothing to show.
// Numbers follow the page's language; times are the factory's (its zone, from the report).

import { locale, t, zone } from "./i18n.js";

export const NONE = "—";

export function count(value) {
  return value === null || value === undefined ? NONE : value.toLocaleString(locale());
}

// A number with exactly `digits` decimals, in the page's locale (1,234.5).
export function decimal(value, digits) {
  return value.toLocaleString(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

// "a, b and c" / "a、b和c": a list of phrases joined as the page's language does.
export function list(items) {
  return new Intl.ListFormat(locale(), { style: "long", type: "conjunction" }).format(items);
}

// "1 message", "2 messages": English only; the page's words use t() with one/other forms.
export function plural(value, noun, nouns = `${noun}s`) {
  return `${count(value)} ${value === 1 ? noun : nouns}`;
}

// 0.875 -> "87.5%" in the page's locale.
export function percent(rate, digits = 1) {
  if (rate === null || rate === undefined) return NONE;
  const style = { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits };
  return rate.toLocaleString(locale(), style);
}

export function ms(value) {
  if (value === null || value === undefined) return NONE;
  if (value < 10) return t("format.ms", { value: decimal(value, 1) });
  if (value < 1000) return t("format.ms", { value: decimal(Math.round(value), 0) });
  return t("format.s", { value: decimal(value / 1000, 1) });
}

export function age(seconds) {
  if (seconds === null || seconds === undefined) return NONE;
  if (seconds < 60) return t("format.s", { value: decimal(Math.round(seconds), 0) });
  if (seconds < 3600) return t("format.min", { value: decimal(Math.round(seconds / 60), 0) });
  if (seconds < 172800) return t("format.h", { value: decimal(seconds / 3600, 1) });
  return t("format.d", { value: decimal(seconds / 86400, 1) });
}

const TIME = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };

// 24-hour time in the factory's zone (the same digits in both languages).
function time(at) {
  return at.toLocaleTimeString("en-GB", { ...TIME, timeZone: zone() });
}

export function clock(iso) {
  return iso ? time(new Date(iso)) : NONE;
}

// 2026-11-24 08:30:05 in the factory's zone: sortable, read alike in Chinese and English.
export function stamp(iso) {
  if (!iso) return NONE;
  const at = new Date(iso);
  return `${at.toLocaleDateString("en-CA", { timeZone: zone() })} ${time(at)}`;
}

export function preciseClock(iso) {
  const at = new Date(iso);
  return `${time(at)}.${String(at.getMilliseconds()).padStart(3, "0")}`;
}

// The zone's name as shown beside times ("Asia/Shanghai"): the factory's, or while the
// report has not said it, the browser's own (the zone the times are then shown in).
export const zoneName = () => zone() ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "";

export function offset(seconds) {
  return `+${seconds < 60 ? t("format.s", { value: decimal(seconds, 1) }) : age(seconds)}`;
}

export function pair(row) {
  return `${row.interface} → ${row.target}`;
}
