// Unit tests of the app's consent choices (pwa/js/app/screens/consent.js) and lost-phone lock rule
// (pwa/js/app/lock.js). Time is passed in; nothing here reads today's date.
import assert from "node:assert/strict";
import { test } from "node:test";

import { consentChange, consentDraft } from "../../pwa/js/app/screens/consent.js";
import { lockDue } from "../../pwa/js/app/lock.js";

const DAY = 86_400_000;
const store = (meta) => ({ allMeta: async () => meta });

test("an unchanged consent sends nothing; a changed one is stamped rep, with channels only when granted", () => {
  const card = { consent: { contact: "granted", channels: ["email"], basis: "contract", at: "2026-11-02", source: "import" } };
  assert.deepEqual(consentChange(card, consentDraft(card)), {});
  const refused = { ...consentDraft(card), contact: "refused" };
  const { consent } = consentChange(card, refused);
  assert.equal(consent.contact, "refused");
  assert.deepEqual(consent.channels, []);
  assert.equal(consent.basis, "contract");
  assert.equal(consent.source, "rep");
  assert.match(consent.at, /^\d{4}-\d{2}-\d{2}T/);
  assert.deepEqual(consentChange(null, consentDraft(null)), {});
  assert.deepEqual(consentChange(card, { contact: "", channels: [], basis: "" }), { consent: null });
});

test("the lock falls due only past the admin's days since the last sync or unlock, and stays until lifted", async () => {
  const synced = Date.parse("2026-03-01T08:00:00Z");
  const meta = { lock_after_days: 3, last_sync: new Date(synced).toISOString() };
  assert.equal(await lockDue(store(meta), synced + 3 * DAY - 1), false);
  assert.equal(await lockDue(store(meta), synced + 3 * DAY + 1), true);
  assert.equal(await lockDue(store({ ...meta, unlocked_at: new Date(synced + 2 * DAY).toISOString() }), synced + 4 * DAY), false);
  assert.equal(await lockDue(store({ ...meta, lock_after_days: null }), synced + 400 * DAY), false);
  assert.equal(await lockDue(store({ lock_after_days: 3 }), synced + 400 * DAY), false); // never synced: no rule yet
  assert.equal(await lockDue(store({ ...meta, locked: "2026-03-05T00:00:00Z" }), synced), true); // a clock turned back
});
