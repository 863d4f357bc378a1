// The phone's side of attachments (pwa/js/app/device.js): declared through the outbox, bytes kept in
// IndexedDB, uploaded in chunks from the server's offset so that a cut upload continues without
// resending a chunk, and uploaded again when a restored server answers `uploaded: false`. The
// server here is a small scripted one in the contract's shape; tests/e2e/test_field_day.py runs
// the same code against the real server.
import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { deleteDb, openDb } from "../../pwa/js/app/db.js";
import { Device } from "../../pwa/js/app/device.js";

let n = 0;
async function freshDevice() {
  const name = `attach-${n++}`;
  await deleteDb(name);
  return Device.open(await openDb(name), { deviceId: `phone${n}` });
}

// Answers a sync like the server: every mutation applied, declarations listed as not uploaded.
function syncServer(uploaded = () => false) {
  return async (body) => ({
    epoch: "E1", reset: false, cursor: "c1", more: false, warnings: [], changes: [],
    results: body.mutations.map((m) => ({
      id: m.id, status: "applied",
      ...(m.op === "attachment.add" ? { attachment: { ...m.attachment, card: m.card, uploaded: uploaded(m.attachment.id) } } : {}),
      ...(m.op === "card.put" ? { card: { id: m.card, phones: [], emails: [], tags: [], custom: {}, version: 1, deleted: false, ...m.fields } } : {}),
    })),
  });
}

// The upload endpoints: bytes appended only at the server's offset, like sync/cards/attachments.py.
function uploadServer() {
  const held = new Map();
  const puts = [];
  return {
    held, puts,
    async state(id) {
      const bytes = held.get(id) || Buffer.alloc(0);
      return { id, offset: bytes.length, size: null, uploaded: false };
    },
    async put(id, offset, piece) {
      const bytes = held.get(id) || Buffer.alloc(0);
      puts.push([id, offset, piece.byteLength]);
      if (offset !== bytes.length) return { expected: bytes.length };
      held.set(id, Buffer.concat([bytes, Buffer.from(piece)]));
      return { id, offset: bytes.length + piece.byteLength, uploaded: false };
    },
  };
}

test("a photo is declared through the outbox and its bytes wait on the device until uploaded", async () => {
  const device = await freshDevice();
  const card = await device.createCard({ name: "王伟" });
  const bytes = new Uint8Array(1000).map((_, i) => i % 251).buffer;
  const id = await device.addAttachment(card, { bytes, name: "门头.jpg", type: "image/jpeg" });
  const [shown] = await device.attachments(card);
  assert.equal(shown.id, id);
  assert.equal(shown.local, true);
  assert.equal(shown.uploaded, false);
  assert.equal(shown.sha256, createHash("sha256").update(Buffer.from(bytes)).digest("hex"));
  const outbox = await device.outbox();
  assert.deepEqual(outbox.map((e) => e.body.op), ["card.put", "attachment.add"]);
  assert.deepEqual((await device.filesWaiting()).map((f) => f.id), [id]);
  // Not uploaded before the server has the declaration.
  const server = uploadServer();
  assert.equal(await device.uploadFiles(server), 0);
  assert.equal(server.puts.length, 0);
});

test("an upload cut halfway continues from the server's offset and never resends a chunk", async () => {
  const device = await freshDevice();
  const card = await device.createCard({ name: "Li Na" });
  const bytes = new Uint8Array(10_000).map((_, i) => (i * 7) % 256).buffer;
  const id = await device.addAttachment(card, { bytes, name: "order.pdf", type: "application/pdf" });
  await device.sync(syncServer());
  const server = uploadServer();
  assert.equal(await device.uploadFiles(server, { chunk: 3000, stopAfter: 6000 }), 6000); // the connection drops
  assert.equal(server.held.get(id).length, 6000);
  assert.equal((await device.filesWaiting()).length, 1);

  const again = await device.uploadFiles(server, { chunk: 3000 });
  assert.equal(again, 4000);
  assert.deepEqual(server.puts.map(([, offset]) => offset), [0, 3000, 6000, 9000]);
  assert.ok(Buffer.from(bytes).equals(server.held.get(id)));
  assert.deepEqual(await device.filesWaiting(), []);
  assert.equal((await device.attachments(card))[0].uploaded, true);
});

test("after a restore the server's `uploaded: false` makes the phone upload the bytes again", async () => {
  const device = await freshDevice();
  const card = await device.createCard({ name: "Zhang" });
  const bytes = new Uint8Array(500).fill(9).buffer;
  const id = await device.addAttachment(card, { bytes, name: "card.png", type: "image/png" });
  await device.sync(syncServer());
  await device.uploadFiles(uploadServer());
  assert.deepEqual(await device.filesWaiting(), []);

  // The restored server has a new epoch: the journal is re-sent, and the declaration's result
  // says the bytes are missing.
  const restored = async (body) => ({ ...(await syncServer()(body)), epoch: "E2", reset: body.epoch === "E1" });
  await device.sync(restored);
  assert.deepEqual((await device.filesWaiting()).map((f) => f.id), [id]);
  const server = uploadServer();
  assert.equal(await device.uploadFiles(server), 500);
  assert.equal(server.held.get(id).length, 500);
});
