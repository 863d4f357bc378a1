// Unit tests of pwa/js/app/ids.js: time-ordered UUIDs the server reads as any other UUID.
import assert from "node:assert/strict";
import { test } from "node:test";

import { timeOrderedUuid } from "../../pwa/js/app/ids.js";

const CANONICAL_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("ids are canonical UUIDv7 whose first 48 bits are the millisecond", () => {
  const ms = Date.UTC(2026, 11, 4, 19, 30);
  const id = timeOrderedUuid(ms);
  assert.match(id, CANONICAL_V7);
  assert.equal(parseInt(id.replace(/-/g, "").slice(0, 12), 16), ms);
});

test("every id is greater than the last, in one millisecond and when the clock steps back", () => {
  const ms = Date.UTC(2027, 0, 1);
  const ids = [];
  for (let i = 0; i < 5000; i++) ids.push(timeOrderedUuid(ms + Math.floor(i / 1000)));
  ids.push(timeOrderedUuid(ms - 60_000)); // a phone whose clock was set back a minute
  ids.push(timeOrderedUuid(ms + 10));
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `${ids[i]} after ${ids[i - 1]}`);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, CANONICAL_V7);
});
