// Unit tests of pwa/js/app/visits.js: a visit's distance from the customer and its late arrival.
import assert from "node:assert/strict";
import { test } from "node:test";

import { arrival, delayParts, visitDistance } from "../../pwa/js/app/visits.js";

test("a visit's distance from the customer, or nothing when either place is missing", () => {
  const customer = { lat: 31.2304, lng: 121.4737 };
  const d = visitDistance({ location: { lat: 31.2331, lng: 121.4737, accuracy_m: 12 } }, customer);
  assert.ok(d > 290 && d < 310, String(d));
  assert.equal(visitDistance({ location: null }, customer), null);
  assert.equal(visitDistance({ location: { lat: 1, lng: 2, accuracy_m: 5 } }, null), null);
});

test("a visit that reached the server a minute or more after it was logged counts as logged offline", () => {
  assert.deepEqual(arrival({ at: "2026-03-02T08:00:00Z", created_at: "2026-03-02T08:00:02Z" }), { offline: false, lateMs: 2000 });
  assert.deepEqual(arrival({ at: "2026-03-02T08:00:00Z", created_at: "2026-03-02T11:10:00Z" }), { offline: true, lateMs: 11_400_000 });
  assert.deepEqual(arrival({ at: "2026-03-02T08:00:00Z" }), { offline: null, lateMs: null }); // not synced yet
  assert.equal(arrival({ at: "2026-03-02T08:00:05Z", created_at: "2026-03-02T08:00:00Z" }).lateMs, 0); // a phone clock ahead
  assert.deepEqual(delayParts(11_400_000), { hours: 3, mins: 10 });
  assert.deepEqual(delayParts(2 * 86_400_000 + 3 * 3_600_000 + 5 * 60_000), { days: 2, hours: 3 });
  assert.deepEqual(delayParts(240_000), { mins: 4 });
});
