// Plays one generated history with pwa/js/app/device.js (what phones run) against a real server:
// the convergence property of tests/test_convergence.py, for the PWA's device over fake-indexeddb.
// Not a test file itself (no `.test.` in its name); tests/test_convergence.py runs it.
//
//   node tests/js/drive_device.mjs < history.json
//   history: {"url": "http://127.0.0.1:8123", "tokens": ["fc_…", …], "steps": [[action, who, target, value], …]}
//   prints:  {"devices": [{"cards": {id: card}, "pending": n, "acknowledged": [{…body, result}]}, …]}
//
// Each device syncs through the app's own transport (syncloop.js `httpSend`) over Node's fetch. A lost
// response: the request reaches the server and is handled, the answer is thrown away, and the phone
// sees what it sees offline; its next sync re-sends the same mutations with the same ids.
import "fake-indexeddb/auto";
import { text } from "node:stream/consumers";

import { openDb } from "../../pwa/js/app/db.js";
import { Device, SyncError } from "../../pwa/js/app/device.js";
import { httpSend } from "../../pwa/js/app/syncloop.js";

const history = JSON.parse(await text(process.stdin));
const realFetch = globalThis.fetch;
let loseNext = false;

// The app fetches "/api/v1/sync" from its own origin; here the origin is the test's server.
globalThis.fetch = async (path, init) => {
  const response = await realFetch(new URL(path, history.url), init);
  if (loseNext) {
    loseNext = false;
    await response.arrayBuffer(); // the server answered; the answer never reaches the phone
    throw new TypeError("response lost on the way back");
  }
  return response;
};

const devices = [];
for (const [n, token] of history.tokens.entries()) {
  const device = await Device.open(await openDb(`drive-${n}`), { deviceId: `${history.prefix ?? "js-phone"}-${n}`, appVersion: "drive" });
  devices.push({ device, send: httpSend(() => token) });
}

async function cardIds(device) {
  return (await device.cards()).filter(Boolean).map((card) => card.id).sort();
}

// The same moves as `play` in tests/test_convergence.py, one for one.
async function play({ device, send }, [action, target, value]) {
  if (action === "create") {
    await device.createCard({ name: target, phones: [value] });
    return;
  }
  if (action === "sync") {
    loseNext = Boolean(target);
    try {
      await device.sync(send);
    } catch (error) {
      const lost = loseNext === false && target && error instanceof SyncError && error.status === 0;
      if (!lost) throw error;
    } finally {
      loseNext = false;
    }
    return;
  }
  const ids = await cardIds(device);
  if (!ids.length) return;
  const card = ids[target % ids.length];
  if (action === "delete") await device.deleteCard(card);
  else if (action === "visit") await device.addActivity(card, "visit", "拜访客户");
  else if (action === "reassign") await device.editCard(card, { owner: value });
  else await device.editCard(card, { [action]: value });
}

for (const [action, who, target, value] of history.steps) {
  await play(devices[who], [action, target, value]);
}
for (let round = 0; round < 2; round += 1) { // everyone syncs twice: the second round brings the others' first
  for (const { device, send } of devices) await device.sync(send);
}

const out = [];
for (const { device } of devices) {
  const cards = Object.fromEntries((await device.cards()).filter(Boolean).map((card) => [card.id, card]));
  const acknowledged = (await device.store.journal("acked")).sort((a, b) => a.seq - b.seq)
    .map((entry) => ({ ...entry.body, result: entry.result }));
  out.push({ cards, pending: await device.pendingCount(), acknowledged });
}
process.stdout.write(JSON.stringify({ devices: out }));
