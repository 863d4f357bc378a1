// The customer's voice on the phone (issue 17): links made offline from reserved tokens, the QR
// drawn with the real encoder from npm, and Undo of a customer's change as an ordinary edit.
import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { test } from "node:test";
import qrcode from "qrcode-generator";

import { openDb, deleteDb } from "../../pwa/js/app/db.js";
import { Device } from "../../pwa/js/app/device.js";
import { qrMatrix, undoFields, unseenUpdates, markSeen } from "../../pwa/js/app/voice.js";

let n = 0;
async function freshDevice(now = () => Date.parse("2026-03-02T09:00:00Z")) {
  const name = `voice-${n++}`;
  await deleteDb(name);
  const store = await openDb(name);
  return { store, device: await Device.open(store, { deviceId: `phone${n}`, now }) };
}

test("a link made offline takes a reserved token and goes to the outbox as link.create", async () => {
  const { device } = await freshDevice();
  const card = await device.createCard({ name: "李娜" });
  await assert.rejects(device.createLink(card), (e) => e.code === "no_link_tokens");
  await device.keepLinkTokens([{ id: "11111111-1111-4111-8111-111111111111", token: "AAA.bbb", url: "https://x/c/AAA.bbb" },
    { id: "22222222-2222-4222-8222-222222222222", token: "CCC.ddd", url: "https://x/c/CCC.ddd" }]);
  const link = await device.createLink(card, { purpose: "survey" });
  assert.equal(link.url, "https://x/c/AAA.bbb");
  assert.equal(link.expires, "2026-03-16T09:00:00Z");
  assert.equal(await device.linkTokensLeft(), 1); // a token is used once
  const sent = (await device.outbox()).map((e) => e.body).find((b) => b.op === "link.create");
  assert.deepEqual(sent.link, { id: "11111111-1111-4111-8111-111111111111", purpose: "survey", survey: null, expires: "2026-03-16T09:00:00Z" });
  assert.deepEqual((await device.linksOf(card)).map((l) => l.url), ["https://x/c/AAA.bbb"]);
  assert.equal((await device.card(card)).name, "李娜"); // the card's view is untouched
});

test("the QR of a link is a real QR code: finder patterns in three corners", () => {
  const matrix = qrMatrix(qrcode, "https://cards.example.com/c/AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB");
  const size = matrix.length;
  assert.ok(size >= 21 && (size - 17) % 4 === 0);
  for (const [r, c] of [[0, 0], [0, size - 7], [size - 7, 0]]) {
    assert.equal(matrix[r][c], true);
    assert.equal(matrix[r + 1][c + 1], false);
    assert.equal(matrix[r + 3][c + 3], true); // the dark centre of a finder pattern
  }
});

test("undo puts back the values before the customer's answer, and a seen update is not shown again", async () => {
  const { store } = await freshDevice();
  const update = { id: "l1", card: "c1", changes: { phones: [["+8613900001111"], ["+8613900002222"]], title: ["经理", "总监"] } };
  assert.deepEqual(undoFields(update), { phones: ["+8613900001111"], title: "经理" });
  await store.write((s) => s.meta.put({ key: "customer_updates", value: [update, { ...update, id: "l2" }] }));
  await markSeen(store, "l1");
  assert.deepEqual((await unseenUpdates(store)).map((u) => u.id), ["l2"]);
});
