// The customer's voice on the phone (issue 17). What the phone keeps, in IndexedDB's meta store:
//   link_tokens       signed link tokens in reserve (GET /links/reserve), so a QR shows offline
//   links_made        the links this phone made, to show their QR and address again
//   customer_updates  what customers changed through links on my cards (GET /customer-updates)
//   updates_seen      the ids of those the rep accepted or undid: not shown on Today again
//   surveys           the surveys an admin defined (GET /surveys), to choose one for a link offline
//   my_scorecard      the signed-in rep's own scorecard for the last 30 days (GET /scorecards), for Today
// Refreshed after a sync when online, read offline. QR codes are drawn here, on the phone, with
// qrcode-generator from npm (served at /vendor/qrcode-generator/).
import { api } from "../shared/api.js";
import { h } from "../shared/dom.js";

const TOKENS_LOW = 5;
const TOKENS_ASKED = 10;
const REFRESH_MS = 2 * 60_000;
let lastRefresh = 0;
let encoder = null;

// After a sync: top up the reserve of tokens and fetch what customers changed. True when news came.
export async function refreshVoiceData(device, { force = false, me = null } = {}) {
  if (!navigator.onLine || (!force && Date.now() - lastRefresh < REFRESH_MS)) return false;
  lastRefresh = Date.now();
  try {
    if ((await device.linkTokensLeft()) < TOKENS_LOW) {
      await device.keepLinkTokens((await api(`/links/reserve?n=${TOKENS_ASKED}`)).links);
    }
    const rep = me?.role === "rep" ? me.user : null; // a rep's own scorecard; office reads all on the dashboard
    const [{ updates }, { surveys }, scores] = await Promise.all([api("/customer-updates?days=30"), api("/surveys"),
      rep ? api(`/scorecards?rep=${encodeURIComponent(rep)}`) : null]);
    const before = [await device.store.meta("customer_updates"), await device.store.meta("my_scorecard")];
    const mine = scores?.reps.find((r) => r.rep === rep);
    const card = mine ? { from: scores.from, to: scores.to, targets: scores.targets, row: mine } : before[1];
    await device.store.write((s) => {
      s.meta.put({ key: "customer_updates", value: updates });
      s.meta.put({ key: "surveys", value: surveys.filter((x) => x.active) });
      if (card) s.meta.put({ key: "my_scorecard", value: card });
    });
    // News only when something shown changed: a first empty answer redraws nothing.
    return JSON.stringify([before[0] || [], before[1] || null]) !== JSON.stringify([updates, card || null]);
  } catch (error) {
    console.warn("customer links and updates not refreshed", error);
    return false;
  }
}

// The updates to show on Today: not accepted or undone on this phone, on cards the phone holds.
export async function unseenUpdates(store) {
  const [updates, seen] = [(await store.meta("customer_updates")) || [], new Set((await store.meta("updates_seen")) || [])];
  return updates.filter((u) => !seen.has(u.id));
}

export async function markSeen(store, id) {
  const seen = (await store.meta("updates_seen")) || [];
  await store.write((s) => s.meta.put({ key: "updates_seen", value: [...seen.filter((x) => x !== id), id].slice(-500) }));
}

// The fields a rep's Undo sends: each changed field back to its value before the customer's answer.
export function undoFields(update) {
  return Object.fromEntries(Object.entries(update.changes).map(([name, [before]]) => [name, before]));
}

// A QR code's modules (true: dark), from the encoder (`qrcode` of qrcode-generator).
export function qrMatrix(qrcode, text) {
  const qr = qrcode(0, "M");
  qr.addData(text, "Byte");
  qr.make();
  const n = qr.getModuleCount();
  return Array.from({ length: n }, (_, row) => Array.from({ length: n }, (_, col) => qr.isDark(row, col)));
}

export async function loadQr() {
  if (!encoder) encoder = (await import("/vendor/qrcode-generator/qrcode.mjs")).default;
  return encoder;
}

// An SVG element (no markup strings), black on white with the 4-module quiet zone scanners need.
export function qrSvg(matrix, label) {
  const NS = "http://www.w3.org/2000/svg";
  const n = matrix.length + 8;
  const svg = document.createElementNS(NS, "svg");
  for (const [k, v] of Object.entries({ viewBox: `0 0 ${n} ${n}`, role: "img", "aria-label": label, class: "qr", "shape-rendering": "crispEdges" })) {
    svg.setAttribute(k, v);
  }
  const back = document.createElementNS(NS, "rect");
  for (const [k, v] of Object.entries({ width: n, height: n, fill: "#fff" })) back.setAttribute(k, v);
  let d = "";
  matrix.forEach((row, r) => row.forEach((dark, c) => { if (dark) d += `M${c + 4} ${r + 4}h1v1h-1z`; }));
  const path = document.createElementNS(NS, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(back, path);
  return h("figure", { class: "qr-box" }, svg);
}
