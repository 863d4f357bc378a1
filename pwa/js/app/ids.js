// Time-ordered UUIDs (version 7, RFC 9562) for what this device creates: cards, activities,
// attachments and mutations. Each is a key of a B-tree on the server (cards, history, the
// idempotency records); a random key lands on a random page, while ids that grow with time land at
// the end, which made a push of 100,000 new cards about a third faster (docs/performance.md). The
// contract takes a UUID of any version. The same scheme as sync/ids.py.

let last = { ms: 0, bits: 0n }; // the last id made: every new one is greater

const RANDOM_BITS = 74n; // rand_a (12 bits) and rand_b (62 bits)

function randomStart() {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  return bits >> (80n - RANDOM_BITS + 1n); // 73 bits: room to count within a millisecond
}

export function timeOrderedUuid(nowMs = Date.now()) {
  let ms = Math.floor(nowMs);
  let bits;
  if (ms > last.ms) {
    bits = randomStart();
  } else {
    // The same millisecond, or a clock that stepped back: one more than the last, never behind it.
    ms = last.ms;
    bits = last.bits + 1n;
    if (bits >> RANDOM_BITS) [ms, bits] = [last.ms + 1, 0n];
  }
  last = { ms, bits };
  const value =
    (BigInt(ms) << 80n) | (7n << 76n) | ((bits >> 62n) << 64n) | (0b10n << 62n) | (bits & ((1n << 62n) - 1n));
  const hex = value.toString(16).padStart(32, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
