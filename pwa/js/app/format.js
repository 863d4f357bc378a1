// Dates, phone numbers and the card rules the field app checks before an edit enters the outbox.
// The rules come from GET /api/v1/schema (cached for offline use), so the form refuses what the
// server would refuse; the server still has the last word, and what it rejects shows on Pending.
// Problems are returned as [i18n key, params] so the screens say them in the person's language.
import { pad, ymd } from "../shared/time.js";

export const SET_FIELDS = ["phones", "emails", "tags"];
export const TEXT_FIELDS = ["name", "company", "title", "address", "region", "industry", "notes"];
export const DATE_FIELDS = ["birthday", "follow_up"];

// What the server answered last time we asked; used until the first answer arrives.
export const DEFAULT_SCHEMA = {
  card: {
    properties: {
      name: { minLength: 1, maxLength: 200 }, company: { maxLength: 200 }, title: { maxLength: 200 },
      address: { maxLength: 500 }, region: { maxLength: 100 }, industry: { maxLength: 100 }, notes: { maxLength: 10000 },
      phones: { maxItems: 10, items: { pattern: "^\\+[1-9]\\d{6,14}$" } },
      emails: { maxItems: 10 },
      tags: { maxItems: 20, items: { minLength: 1, maxLength: 40 } },
    },
  },
  options: { segments: ["A", "B", "C"], tags: [], industries: [], regions: [], default_region: "CN", custom_fields: [] },
};

// --- dates: always YYYY-MM-DD, in the device's own time zone (shared/time.js) ------------------

export { ymd };

export function isRealDate(text) {
  if (typeof text !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const [y, m, d] = text.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

export function addDays(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  return ymd(new Date(y, m - 1, d + n));
}

export function addMonths(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  const last = new Date(y, m - 1 + n + 1, 0).getDate(); // 31 January + 1 month = 28/29 February
  return ymd(new Date(y, m - 1 + n, Math.min(d, last)));
}

// A server time (RFC 3339) or a clock stamp (HLC, "<unix ms>-<counter>-<device>") as the device's
// local "YYYY-MM-DD HH:MM".
export function dateTime(iso) {
  if (!iso) return "";
  const hlc = /^(\d{13})-\d{4}-/.exec(iso);
  const date = new Date(hlc ? Number(hlc[1]) : iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return `${ymd(date)} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

// Days from `today` to the next birthday (0 = today), ignoring the year; 29 February is kept on
// 28 February in other years.
export function daysToBirthday(birthday, today) {
  if (!isRealDate(birthday)) return null;
  const [, bm, bd] = birthday.split("-").map(Number);
  const [ty, tm, td] = today.split("-").map(Number);
  const start = Date.UTC(ty, tm - 1, td);
  for (const year of [ty, ty + 1]) {
    const leap = new Date(Date.UTC(year, 1, 29)).getUTCMonth() === 1;
    const day = bm === 2 && bd === 29 && !leap ? 28 : bd;
    const at = Date.UTC(year, bm - 1, day);
    if (at >= start) return Math.round((at - start) / 86_400_000);
  }
  return null;
}

// --- phones, emails, lists -------------------------------------------------------------------

// Numbers written without a country code, per default region: [pattern of the national digits, country code, strip].
const NATIONAL = {
  CN: [[/^1\d{10}$/, "86", ""], [/^0([1-9]\d{8,10})$/, "86", "0"]],
  US: [[/^1?([2-9]\d{9})$/, "1", "1"]],
  CA: [[/^1?([2-9]\d{9})$/, "1", "1"]],
};

// `138 1234 5678` with region CN -> "+8613812345678"; `+1 415 555 0100` -> "+14155550100".
// Returns null when the number cannot be read; the server checks the real numbering plans.
export function normalizePhone(text, region = "CN") {
  const typed = String(text).normalize("NFKC").trim(); // full-width digits from Chinese keyboards
  if (!/^\+?[\d\s().\-/]+$/.test(typed)) return null;
  let digits = typed.replace(/\D/g, "");
  if (typed.startsWith("+")) return /^[1-9]\d{6,14}$/.test(digits) ? `+${digits}` : null;
  if (digits.startsWith("00")) {
    digits = digits.slice(2);
    return /^[1-9]\d{6,14}$/.test(digits) ? `+${digits}` : null;
  }
  for (const [pattern, code, strip] of NATIONAL[region] || []) {
    if (pattern.test(digits)) {
      const national = strip && digits.startsWith(strip) ? digits.slice(strip.length) : digits;
      return `+${code}${national}`;
    }
  }
  return null;
}

// The local part as typed, the domain in lower case; null when it is not shaped like an address.
export function normalizeEmail(text) {
  const value = String(text).trim();
  if (!/^[^\s@]{1,64}@[^\s@]+\.[^\s@.]{2,63}$/.test(value) || value.includes("..") || value.length > 254) return null;
  const at = value.lastIndexOf("@");
  return `${value.slice(0, at)}@${value.slice(at + 1).toLowerCase()}`;
}

// Lists as people type them: one per line, or separated by commas (also the Chinese ones).
export function splitList(text, { spaces = false } = {}) {
  const separators = spaces ? /[\n,;，、；\s]+/ : /[\n,;，、；]+/;
  return String(text || "").split(separators).map((s) => s.trim()).filter(Boolean);
}

export const uniq = (items) => items.filter((x, i) => items.indexOf(x) === i);

// A purchase amount as people write it ("12,500", "¥12,500", "￥12,500.50", full-width digits):
// {amount: "12500.50", yuan: true when a ¥ sign was typed}, or null. Commas only between groups of
// three, as sync/cards/validate.py reads them: "12,50" stays wrong rather than becoming 1250.
export function readAmount(text) {
  const value = String(text ?? "").trim().replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0))
    .replace(/．/g, ".");
  const m = /^(-?)([¥￥])? ?(\d{1,3}(?:[,，\u00a0 ]\d{3})+|\d+)(\.\d{1,4})?$/.exec(value);
  if (!m) return null;
  const digits = m[3].replace(/\D/g, "");
  if (digits.length > 15) return null;
  return { amount: `${m[1]}${digits}${m[4] || ""}`, yuan: Boolean(m[2]) };
}

// --- the card form ---------------------------------------------------------------------------

const CUSTOM_TEXT_MAX = 1000;

// The server's patterns are Python regular expressions; one JavaScript cannot read is left to the server.
function matchesPattern(pattern, value) {
  try {
    return new RegExp(`^(?:${pattern})$`, "u").test(value);
  } catch {
    return true;
  }
}

const limitOf = (schema, field, key, fallback) => schema?.card?.properties?.[field]?.[key] ?? DEFAULT_SCHEMA.card.properties[field]?.[key] ?? fallback;
const itemLimit = (schema, field, key, fallback) => schema?.card?.properties?.[field]?.items?.[key] ?? DEFAULT_SCHEMA.card.properties[field]?.items?.[key] ?? fallback;

export const regionOf = (schema) => schema?.options?.default_region || "CN";
export const segmentsOf = (schema) => schema?.options?.segments || ["A", "B", "C"];
export const customFieldsOf = (schema) => schema?.options?.custom_fields || [];

// Form text (what the inputs hold) -> card fields, and the problems found, by field name.
// `draft` holds strings: phones/emails one per line, tags separated by commas, custom as {key: text|list}.
// Custom fields come back with every defined key (null or [] when empty); like the server, a
// required custom field is only demanded when the card is created.
export function readDraft(draft, schema, { creating = false } = {}) {
  const region = regionOf(schema);
  const fields = {};
  const errors = {};
  const fail = (name, key, params = {}) => {
    if (!errors[name]) errors[name] = [key, params];
  };

  for (const name of TEXT_FIELDS) {
    if (!(name in draft)) continue;
    const value = String(draft[name] ?? "").trim();
    fields[name] = value || null;
    const max = limitOf(schema, name, "maxLength", 200);
    if (name === "name" && !value) fail(name, "field.err.required");
    else if (value.length > max) fail(name, "field.err.tooLong", { max, n: value.length });
  }

  if ("phones" in draft) {
    const typed = splitList(draft.phones);
    const out = [];
    for (const phone of typed) {
      const normal = normalizePhone(phone, region);
      if (!normal) fail("phones", "field.err.phone", { value: phone, region });
      else if (!out.includes(normal)) out.push(normal);
    }
    const max = limitOf(schema, "phones", "maxItems", 10);
    if (out.length > max) fail("phones", "field.err.tooMany", { max });
    fields.phones = out;
  }

  if ("emails" in draft) {
    const out = [];
    for (const email of splitList(draft.emails, { spaces: true })) {
      const normal = normalizeEmail(email);
      if (!normal) fail("emails", "field.err.email", { value: email });
      else if (!out.some((e) => e.toLowerCase() === normal.toLowerCase())) out.push(normal);
    }
    const max = limitOf(schema, "emails", "maxItems", 10);
    if (out.length > max) fail("emails", "field.err.tooMany", { max });
    fields.emails = out;
  }

  if ("tags" in draft) {
    const tags = uniq(splitList(draft.tags));
    const max = limitOf(schema, "tags", "maxItems", 20);
    const longest = itemLimit(schema, "tags", "maxLength", 40);
    const tooLong = tags.find((tag) => tag.length > longest);
    if (tooLong) fail("tags", "field.err.tagTooLong", { value: tooLong, max: longest });
    if (tags.length > max) fail("tags", "field.err.tooMany", { max });
    fields.tags = tags;
  }

  if ("segment" in draft) {
    const value = draft.segment || null;
    if (value !== null && !segmentsOf(schema).includes(value)) fail("segment", "field.err.segment");
    fields.segment = value;
  }

  for (const name of DATE_FIELDS) {
    if (!(name in draft)) continue;
    const value = String(draft[name] ?? "").trim();
    if (value && !isRealDate(value)) fail(name, "field.err.date", { value });
    fields[name] = value || null;
  }

  if ("owner" in draft) {
    const value = String(draft.owner ?? "").trim();
    if (!/^[a-z0-9._-]{1,64}$/.test(value)) fail("owner", "field.err.owner");
    fields.owner = value;
  }

  if ("custom" in draft) {
    const custom = {};
    for (const spec of customFieldsOf(schema)) {
      const raw = draft.custom?.[spec.key];
      const path = `custom.${spec.key}`;
      let value = null;
      if (spec.type === "choices") value = Array.isArray(raw) ? raw : [];
      else if (raw !== undefined && raw !== null && String(raw).trim() !== "") value = String(raw).trim();
      if (value !== null && spec.type === "number") {
        const number = Number(value);
        if (!Number.isFinite(number)) fail(path, "field.err.number");
        value = number;
      }
      if (value !== null && spec.type === "date" && !isRealDate(value)) fail(path, "field.err.date", { value });
      if (typeof value === "string" && spec.type === "text") {
        if (value.length > CUSTOM_TEXT_MAX) fail(path, "field.err.tooLong", { max: CUSTOM_TEXT_MAX, n: value.length });
        else if (spec.pattern && !matchesPattern(spec.pattern, value)) fail(path, "field.err.pattern");
      }
      if (creating && spec.required && (value === null || (Array.isArray(value) && !value.length))) fail(path, "field.err.required");
      custom[spec.key] = value;
    }
    fields.custom = custom;
  }
  return { fields, errors };
}

// A card's values as the form shows them.
export function draftOf(card, schema) {
  const c = card || {};
  const custom = {};
  for (const spec of customFieldsOf(schema)) {
    const value = c.custom?.[spec.key];
    custom[spec.key] = spec.type === "choices" ? (Array.isArray(value) ? value : []) : value ?? "";
  }
  return {
    name: c.name || "", company: c.company || "", title: c.title || "",
    phones: (c.phones || []).join("\n"), emails: (c.emails || []).join("\n"),
    address: c.address || "", region: c.region || "", industry: c.industry || "",
    segment: c.segment || "", tags: (c.tags || []).join(", "),
    birthday: c.birthday || "", follow_up: c.follow_up || "", notes: c.notes || "",
    custom,
  };
}

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const emptyLike = (v) => v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length) || (typeof v === "object" && !Array.isArray(v) && !Object.keys(v).length);

// Only the fields whose value differs from the card as it was shown (the sync sends deltas).
export function changedFields(before, fields) {
  const out = {};
  for (const [name, value] of Object.entries(fields)) {
    const old = before?.[name];
    if (emptyLike(old) && emptyLike(value)) continue;
    if (!same(old, value)) out[name] = value;
  }
  return out;
}

// Other cards on the device that share a phone or an email with these fields.
export function duplicatesOf(rows, id, fields) {
  const phones = new Set(fields.phones || []);
  const emails = new Set((fields.emails || []).map((e) => e.toLowerCase()));
  if (!phones.size && !emails.size) return [];
  return rows.filter((row) => row.id !== id && (
    (row.view.phones || []).some((p) => phones.has(p)) || (row.view.emails || []).some((e) => emails.has(e.toLowerCase()))));
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return "?";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  return `${n.toFixed(i && n < 10 ? 1 : 0)} ${units[i]}`;
}
