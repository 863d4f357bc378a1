// The phone's side of the shared pool (pwa/js/app/pool.js, device.js): the offline duplicate check
// over keyed-hash buckets, and a claim made offline that shows the pool card at once and lets it go
// when the server answers "claimed". tests/test_pool.py checks the server; the e2e test both.
import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";

import { deleteDb, openDb } from "../../pwa/js/app/db.js";
import { Device } from "../../pwa/js/app/device.js";
import { cardKeys, colleagueCheck, holds } from "../../pwa/js/app/pool.js";

const KEY = Buffer.from("0123456789abcdef0123456789abcdef");
const prefix = (text) => createHmac("sha256", KEY).update(text).digest().subarray(0, 3);
const list = (texts) => Buffer.concat(texts.map(prefix).sort(Buffer.compare)).toString("base64");

test("keys fold name and company like the server and need a company", () => {
  assert.deepEqual(cardKeys({ phones: ["+8613812345678"], emails: ["Li@Example.CN"], name: "张 伟", company: " 华为 " }),
    ["p:+8613812345678", "e:li@example.cn", "n:张伟|华为"]);
  assert.deepEqual(cardKeys({ name: "张伟", company: "" }), []);
});

test("binary search finds exactly the prefixes in the list", () => {
  const sorted = Buffer.from(list(["a", "b", "c", "d", "e"]), "base64");
  for (const text of ["a", "b", "c", "d", "e"]) assert.equal(holds(sorted, prefix(text)), true, text);
  assert.equal(holds(sorted, prefix("z")), false);
  assert.equal(holds(new Uint8Array(), prefix("a")), false);
});

test("the offline check says held, pool or nothing, and sets the phone's own cards aside", async () => {
  const lists = { key: KEY.toString("base64"), bits: 24, held: list(["p:+8613812345678"]), pool: list(["e:liu@example.cn"]) };
  assert.equal(await colleagueCheck(lists, { phones: ["+8613812345678"] }), "held_by_colleague");
  assert.equal(await colleagueCheck(lists, { emails: ["LIU@example.cn"] }), "in_pool");
  assert.equal(await colleagueCheck(lists, { phones: ["+8613900000000"] }), null);
  assert.equal(await colleagueCheck(lists, { phones: ["+8613812345678"] }, [{ phones: ["+8613812345678"] }]), null);
  assert.equal(await colleagueCheck(null, { phones: ["+8613812345678"] }), null);
});

test("a claim made offline shows the pool card at once and a lost claim lets it go", async () => {
  await deleteDb("pool-claim");
  const device = await Device.open(await openDb("pool-claim"), { deviceId: "phone1" });
  const pooled = { id: "8f6f2f3c-2b1a-4c6e-9d0e-1a2b3c4d5e6f", name: "张伟", company: "华为", owner: null, version: 1, pool: true };
  const claim = await device.claimCard(pooled);
  assert.equal((await device.card(pooled.id)).name, "张伟");
  const edit = await device.editCard(pooled.id, { title: "经理" });
  assert.equal((await device.card(pooled.id)).title, "经理");
  const answers = [{ epoch: "e1", reset: false, cursor: "c1", more: false, changes: [], warnings: [], results: [
    { id: claim, status: "rejected", code: "claimed", errors: [{ path: "card", message: "already claimed by a colleague" }] },
    { id: edit, status: "conflict", version: 2, conflicts: ["k1"] }] }];
  const report = await device.sync(async () => answers.shift() || { epoch: "e1", reset: false, cursor: "c1", more: false, changes: [], warnings: [], results: [] });
  assert.deepEqual(report.statuses, { rejected: 1, conflict: 1 });
  assert.equal(await device.card(pooled.id), null);
  const [kept] = (await device.outbox()).filter((e) => e.state === "rejected");
  assert.equal(kept.id, claim);
  assert.equal(kept.result.code, "claimed");
});
