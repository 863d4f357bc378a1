// Unit tests of the PWA's data layer (store, outbox, HLC, sync logic) on fake-indexeddb.
// The server side is played by small scripted answers in the contract's shape; the browser
// tests (tests/e2e/test_field_app.py) run the same code against the real server.
import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { test } from "node:test";
import { pinyin } from "pinyin-pro";

import { openDb, deleteDb } from "../../pwa/js/app/db.js";
import { Device, SyncError, applyLocally } from "../../pwa/js/app/device.js";
import { Clock, parse } from "../../pwa/js/app/hlc.js";
import { matches, searchText, usePinyin } from "../../pwa/js/app/search.js";

usePinyin(pinyin);
let dbCount = 0;

async function freshDevice(options = {}) {
  const name = `test-${dbCount++}`;
  await deleteDb(name);
  const store = await openDb(name);
  return { store, device: await Device.open(store, { deviceId: `dev${dbCount}`, ...options }), name };
}

// A scripted server: answers each request with the next function's result, records the bodies.
function scripted(...answers) {
  const bodies = [];
  const send = async (body) => {
    bodies.push(structuredClone(body));
    const next = answers.shift();
    if (!next) throw new Error("no more scripted answers");
    return next(body);
  };
  return { send, bodies };
}

const answer = (body, extra = {}) => ({
  epoch: "E1", reset: false, cursor: "c1", more: false, warnings: [], changes: [],
  results: body.mutations.map((m) => ({ id: m.id, status: "applied", version: 1, card: { id: m.card, name: m.fields?.name, phones: [], emails: [], tags: [], custom: {}, version: 1, deleted: false, owner: "rep1", ...(m.fields || {}) } })),
  ...extra,
});

test("HLC stamps sort, never go backwards, and read like the server's", () => {
  let wall = 1763971200123;
  const clock = new Clock("phone-1", () => wall);
  const a = clock.now();
  const b = clock.now();
  assert.equal(a, "1763971200123-0000-phone-1");
  assert.ok(b > a);
  wall -= 5000; // the phone's clock is set back
  assert.ok(clock.now() > b);
  clock.receive("1763971209999-0007-server");
  const c = clock.now();
  assert.ok(c > "1763971209999-0007-server", c);
  assert.deepEqual(parse(c).node, "phone-1");
  clock.receive(`${wall + 24 * 3600 * 1000}-0000-runaway`); // a day ahead: bounded to 5 minutes
  assert.ok(parse(clock.now()).ms <= wall + 5 * 60 * 1000 + 1);
});

test("search finds Chinese names by full pinyin and initials, phones by digits", () => {
  const text = searchText({ name: "王伟", company: "上海贸易", phones: ["+8613812345678"], emails: ["wei@example.cn"], tags: ["vip"] });
  for (const query of ["wangwei", "ww", "王伟", "shanghai", "13812345678", "138 1234 5678", "vip", "WEI@example"]) {
    assert.ok(matches(text, query), query);
  }
  assert.ok(!matches(text, "lina"));
});

test("an edit is in the outbox at once, with `was`, and survives reopening the store", async () => {
  const { store, device, name } = await freshDevice();
  const card = await device.createCard({ name: "李娜", phones: ["+8613800000001"], tags: ["a"] });
  await device.editCard(card, { tags: ["a", "b"], company: "北京" });
  const outbox = await device.outbox();
  assert.equal(outbox.length, 2);
  assert.equal(outbox[0].body.op, "card.put");
  assert.equal(outbox[0].body.was, undefined); // a create has no `was`
  assert.deepEqual(outbox[1].body.was, { tags: ["a"], company: null });
  assert.ok(outbox[1].body.at > outbox[0].body.at);
  store.close();

  const reopened = await Device.open(await openDb(name));
  assert.equal(reopened.deviceId, device.deviceId);
  const view = await reopened.card(card);
  assert.deepEqual(view.tags, ["a", "b"]);
  assert.equal(view.company, "北京");
  assert.ok((await reopened.store.card(card)).search.includes("ln"));
  assert.ok(reopened.clock.now() > outbox[1].body.at);
});

test("sets merge locally like on the server: added and removed against `was`", () => {
  const view = { id: "c", phones: ["+1", "+2"], emails: [], tags: ["x", "y"], version: 3 };
  const next = applyLocally(view, { op: "card.put", card: "c", fields: { tags: ["y", "z"] }, was: { tags: ["x", "y"] } });
  assert.deepEqual(next.tags, ["y", "z"]);
  assert.equal(applyLocally(null, { op: "card.put", card: "c", fields: { name: "n" }, was: { name: "o" } }), null);
  assert.equal(applyLocally(view, { op: "card.delete", card: "c", version: 3 }), null);
});

test("sync sends the outbox, stores the server copy, and pulls until `more` is false", async () => {
  const { device } = await freshDevice();
  const card = await device.createCard({ name: "First" });
  const other = { id: crypto.randomUUID(), name: "From the office", phones: [], emails: [], tags: [], custom: {}, version: 4, deleted: false };
  const server = scripted(
    (body) => answer(body, { more: true, changes: [{ type: "card", card: other }] }),
    (body) => answer(body, { cursor: "c2", changes: [{ type: "activity", activity: { id: "a1", card: other.id, kind: "visit", at: "2026-11-25T08:00:00Z", text: "拜访" } }] }),
  );
  const report = await device.sync(server.send);
  assert.equal(report.rounds, 2);
  assert.equal(server.bodies[0].mutations.length, 1);
  assert.equal(server.bodies[0].pending, 1);
  assert.equal(server.bodies[1].mutations.length, 0);
  assert.equal(server.bodies[1].cursor, "c1");
  assert.equal(await device.pendingCount(), 0);
  assert.equal((await device.card(card)).version, 1);
  assert.equal((await device.card(other.id)).name, "From the office");
  assert.equal((await device.activities(other.id))[0].text, "拜访");
  assert.equal(await device.store.meta("cursor"), "c2");
});

test("a rejected change stays with the server's message, is fixed and sent again with the same id", async () => {
  const { device } = await freshDevice();
  const card = await device.createCard({ name: "Bad date", birthday: "2026-02-30" });
  const server = scripted(
    (body) => ({ ...answer(body), results: [{ id: body.mutations[0].id, status: "rejected", code: "invalid", errors: [{ path: "fields.birthday", message: "not a date: 2026-02-30" }] }] }),
    (body) => answer(body),
  );
  await device.sync(server.send);
  const [entry] = await device.outbox();
  assert.equal(entry.state, "rejected");
  assert.equal(entry.result.errors[0].message, "not a date: 2026-02-30");
  assert.equal(await device.card(card), null); // nothing the server refused is shown as if it were saved
  await device.fix(entry.id, { birthday: "2026-02-28" });
  await device.sync(server.send);
  assert.equal(server.bodies[1].mutations[0].id, entry.id);
  assert.equal(server.bodies[1].mutations[0].fields.birthday, "2026-02-28");
  assert.equal((await device.card(card)).birthday, "2026-02-28");
});

test("a card removed by the server leaves the device with its activities", async () => {
  const { device } = await freshDevice();
  const card = await device.createCard({ name: "Soon reassigned" });
  await device.addActivity(card, "visit", "拜访");
  const server = scripted(
    (body) => answer(body),
    (body) => answer(body, { changes: [{ type: "remove", card, reason: "revoked", into: null }] }),
  );
  await device.sync(server.send);
  assert.ok(await device.card(card));
  await device.sync(server.send);
  assert.equal(await device.card(card), null);
  assert.deepEqual(await device.activities(card), []);
});

test("an erased customer leaves nothing on the device, not even its journal or queued edits", async () => {
  const { device, store } = await freshDevice();
  const card = await device.createCard({ name: "李娜", phones: ["+8613900001111"] });
  const server = scripted(
    (body) => answer(body),
    () => ({ epoch: "E1", reset: false, cursor: "c2", more: false, warnings: [], results: [],
      changes: [{ type: "remove", card, reason: "erased", into: null }] }),
  );
  await device.sync(server.send);
  await device.editCard(card, { notes: "offline, after the erasure" }); // queued: never to be sent
  const queued = await store.journal("pending");
  assert.equal(queued.length, 1);
  await device.sync(async (body) => server.send({ ...body, mutations: [] }));
  assert.equal(await device.card(card), null);
  assert.deepEqual(await store.journal(null, card), []);
});

test("after a server restore (reset) the device re-sends its journal and rebuilds its copy", async () => {
  const { device } = await freshDevice();
  const card = await device.createCard({ name: "Acknowledged before the restore" });
  const server = scripted(
    (body) => answer(body),
    (body) => ({ ...answer(body), epoch: "E2", reset: true, cursor: "r1", more: true }),
    (body) => answer(body, { epoch: "E2", cursor: "r2" }),
  );
  await device.sync(server.send);
  const sent = server.bodies[0].mutations[0];
  await device.sync(server.send);
  assert.equal(server.bodies[1].epoch, "E1");
  assert.deepEqual(server.bodies[2].mutations.map((m) => [m.id, m.at]), [[sent.id, sent.at]]);
  assert.equal(await device.pendingCount(), 0);
  assert.ok(await device.card(card));
  assert.equal(await device.store.meta("epoch"), "E2");
});

test("a revoked device wipes its local data", async () => {
  const { device, store } = await freshDevice();
  await device.createCard({ name: "On a lost phone" });
  const revoked = async () => { throw new SyncError(403, { error: { code: "device_revoked", message: "revoked" } }); };
  await assert.rejects(device.sync(revoked), SyncError);
  assert.equal(await store.count("cards"), 0);
  assert.equal(await store.count("journal"), 0);
  assert.equal(await store.meta("device"), null);
});

test("an expired session keeps the outbox for the next sign-in", async () => {
  const { device } = await freshDevice();
  await device.createCard({ name: "Written offline" });
  const signedOut = async () => { throw new SyncError(401, { error: { code: "unauthenticated", message: "sign in again" } }); };
  await assert.rejects(device.sync(signedOut), (e) => e.status === 401);
  assert.equal(await device.pendingCount(), 1);
});
