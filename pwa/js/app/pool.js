// The shared pool (公海) on the phone, and the company-wide duplicate check (docs/protocol.md,
// "The shared pool"). What the phone keeps, in IndexedDB's meta store:
//   pool       the pool view: pool cards with only the fields an admin allows (GET /pool)
//   buckets    the offline check's lists: 3-byte prefixes of HMAC-SHA256(key, duplicate key) of
//              cards someone holds and of pool cards (GET /dedupe/buckets) — never a card itself
//   returning  my cards that go back to the pool soon (GET /pool/returning), for Today
// All three are refreshed after a sync when online and read offline.
import { api } from "../shared/api.js";
import { ymd } from "../shared/time.js";

const REFRESH_MS = 5 * 60_000;
let lastRefresh = 0;

// `n:<name>|<company>` with case and spaces folded, like the server's store.name_company_key.
const fold = (text) => String(text).toLowerCase().split(/\s+/).join("");

export function cardKeys({ phones = [], emails = [], name = "", company = "" } = {}) {
  const keys = [...(phones || []).map((p) => `p:${p}`), ...(emails || []).map((e) => `e:${String(e).toLowerCase()}`)];
  if (name && company && String(company).trim()) keys.push(`n:${fold(name)}|${fold(company)}`);
  return keys;
}

// Binary search in sorted, concatenated fixed-width prefixes.
export function holds(sorted, prefix) {
  const width = prefix.length;
  let low = 0;
  let high = Math.floor(sorted.length / width);
  const compare = (at) => {
    for (let i = 0; i < width; i += 1) {
      const d = sorted[at * width + i] - prefix[i];
      if (d) return d;
    }
    return 0;
  };
  while (low < high) {
    const middle = (low + high) >> 1;
    if (compare(middle) < 0) low = middle + 1;
    else high = middle;
  }
  return low * width < sorted.length && compare(low) === 0;
}

const fromBase64 = (text) => Uint8Array.from(atob(text || ""), (c) => c.charCodeAt(0));

async function prefixOf(key, text, width) {
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", hmacKey, new TextEncoder().encode(text));
  return new Uint8Array(mac).slice(0, width);
}

// Offline: "held_by_colleague", "in_pool" or null for the customer being typed in. A hit is a
// maybe (a bucket holds ~90 possible numbers); the sync's warning is exact. The phone's own cards
// (`own`: their views) are set aside first: those are its own duplicates, shown as such.
export async function colleagueCheck(lists, fields, own = []) {
  if (!lists?.key) return null;
  const mine = new Set(own.flatMap((card) => cardKeys(card)));
  const key = fromBase64(lists.key);
  const width = lists.bits / 8;
  const held = fromBase64(lists.held);
  const pool = fromBase64(lists.pool);
  let found = null;
  for (const text of cardKeys(fields)) {
    if (mine.has(text)) continue;
    const prefix = await prefixOf(key, text, width);
    if (holds(held, prefix)) return "held_by_colleague";
    if (holds(pool, prefix)) found = "in_pool";
  }
  return found;
}

async function pages(path) {
  const cards = [];
  let after = null;
  for (let n = 0; n < 10; n += 1) {
    const page = await api(`${path}${after ? `?after=${encodeURIComponent(after)}` : ""}`);
    cards.push(...page.cards);
    if (!page.next) break;
    after = page.next;
  }
  return cards;
}

// After a sync, online: the pool view, the buckets (only when they changed) and the cards returning
// soon. Failures keep what the phone had: it stays usable offline.
export async function refreshPoolData(store, { force = false, today = new Date() } = {}) {
  if (!force && Date.now() - lastRefresh < REFRESH_MS) return false;
  lastRefresh = Date.now();
  const day = ymd(today);
  try {
    const [pool, buckets, returning] = await Promise.all([
      pages("/pool"), api("/dedupe/buckets"), api(`/pool/returning?date=${day}`)]);
    await store.write((s) => {
      s.meta.put({ key: "pool", value: { cards: pool, at: new Date().toISOString() } });
      s.meta.put({ key: "buckets", value: buckets });
      s.meta.put({ key: "returning", value: returning.cards });
    });
    return true;
  } catch (error) {
    console.warn("pool data not refreshed; the phone keeps what it had", error);
    return false;
  }
}

export async function poolCards(store) {
  return (await store.meta("pool"))?.cards || [];
}
