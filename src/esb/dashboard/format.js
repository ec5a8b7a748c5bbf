// How numbers and times read on the wall screen; "—" where there is nothing to show.
// Numbers follow the page's language; times are the factory's (its zone, from the report).

import { locale, zone } from "./i18n.js";

export const NONE = "—";

export function count(value) {
  return value === null || value === undefined ? NONE : value.toLocaleString(locale());
}

// "1 message", "2 messages": a count with its noun, singular when it is one.
export function plural(value, noun, nouns = `${noun}s`) {
  return `${count(value)} ${value === 1 ? noun : nouns}`;
}

export function percent(rate) {
  return rate === null || rate === undefined ? NONE : `${(rate * 100).toFixed(1)} %`;
}

export function ms(value) {
  if (value === null || value === undefined) return NONE;
  if (value < 10) return `${value.toFixed(1)} ms`;
  if (value < 1000) return `${Math.round(value)} ms`;
  return `${(value / 1000).toFixed(1)} s`;
}

export function age(seconds) {
  if (seconds === null || seconds === undefined) return NONE;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
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

// The zone's name as shown beside times ("Asia/Shanghai"), or "" while unknown.
export const zoneName = () => zone() ?? "";

export function offset(seconds) {
  return seconds < 60 ? `+${seconds.toFixed(1)} s` : `+${age(seconds)}`;
}

export function pair(row) {
  return `${row.interface} → ${row.target}`;
}
