// The one module that owns IndexedDB. Everything the device keeps lives here:
//   cards       {id, server, view, search}  server = the last copy the server sent, view = that copy
//                                             with this device's pending edits on top, search = index text
//   activities  {id, card, ...activity}
//   journal     {seq, id, card, body, state, result, created_ms}  every mutation this device made:
//                state "pending" (the outbox), "acked", "rejected" (kept to fix), "discarded";
//                acknowledged ones stay 90 days so they can be re-sent after a server restore
//   meta        {key, value}  device id, epoch, cursor, last sync, last clock stamp
//   attachments {id, card, activity, name, type, size, sha256, uploaded, ...}  what the server (or
//                this device, before it syncs) says about each photo or file on a card
//   files       {id, card, mutation, name, type, size, uploaded, created_ms}  photos and files this
//                device added: kept until uploaded, and 90 days after, to re-send after a restore
//   blobs       {id, bytes}  their bytes, apart, so that listing files never reads megabytes
// Other modules call these functions; none of them opens a transaction of its own.
const NAME = "fieldcards";
const VERSION = 2;
const STORES = ["cards", "activities", "journal", "meta", "attachments", "files", "blobs"];

const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

const finished = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = () => resolve();
  tx.onerror = () => reject(tx.error);
  tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
});

export async function openDb(name = NAME) {
  const request = indexedDB.open(name, VERSION);
  request.onupgradeneeded = (event) => {
    const db = request.result;
    if (event.oldVersion < 1) {
      db.createObjectStore("cards", { keyPath: "id" });
      db.createObjectStore("activities", { keyPath: "id" }).createIndex("card", "card");
      const journal = db.createObjectStore("journal", { keyPath: "seq", autoIncrement: true });
      journal.createIndex("id", "id", { unique: true });
      journal.createIndex("state", "state");
      journal.createIndex("card", "card");
      db.createObjectStore("meta", { keyPath: "key" });
    }
    if (event.oldVersion < 2) {
      db.createObjectStore("attachments", { keyPath: "id" }).createIndex("card", "card");
      db.createObjectStore("files", { keyPath: "id" }).createIndex("card", "card");
      db.createObjectStore("blobs", { keyPath: "id" });
    }
  };
  return new LocalStore(await done(request));
}

export async function deleteDb(name = NAME) {
  await done(indexedDB.deleteDatabase(name));
}

export class LocalStore {
  constructor(idb) {
    this.idb = idb;
  }

  close() {
    this.idb.close();
  }

  // --- reads (each its own read-only transaction) -----------------------------------------------

  async meta(key) {
    const row = await done(this.idb.transaction("meta").objectStore("meta").get(key));
    return row ? row.value : null;
  }

  async allMeta() {
    const rows = await done(this.idb.transaction("meta").objectStore("meta").getAll());
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  card(id) {
    return done(this.idb.transaction("cards").objectStore("cards").get(id));
  }

  async cards() {
    return (await done(this.idb.transaction("cards").objectStore("cards").getAll())).filter((row) => row.view);
  }

  activitiesOf(card) {
    return done(this.idb.transaction("activities").objectStore("activities").index("card").getAll(card));
  }

  journal(state, card = null) {
    const index = this.idb.transaction("journal").objectStore("journal").index(state ? "state" : "card");
    return done(index.getAll(state || card)).then((rows) => (card && state ? rows.filter((r) => r.card === card) : rows));
  }

  async journalEntry(id) {
    return done(this.idb.transaction("journal").objectStore("journal").index("id").get(id));
  }

  attachmentsOf(card) {
    return done(this.idb.transaction("attachments").objectStore("attachments").index("card").getAll(card));
  }

  file(id) {
    return done(this.idb.transaction("files").objectStore("files").get(id));
  }

  files(card = null) {
    const files = this.idb.transaction("files").objectStore("files");
    return done(card ? files.index("card").getAll(card) : files.getAll());
  }

  async bytes(id) {
    return (await done(this.idb.transaction("blobs").objectStore("blobs").get(id)))?.bytes || null;
  }

  async count(storeName) {
    return done(this.idb.transaction(storeName).objectStore(storeName).count());
  }

  // --- writes: `write(fn)` runs fn with the object stores of one read-write transaction --------
  // fn must only issue requests (no awaiting other promises), so the transaction stays alive; the
  // returned promise settles when it has committed, which is when the work is safe on the device.

  async write(fn) {
    const tx = this.idb.transaction(STORES, "readwrite");
    const stores = Object.fromEntries(STORES.map((s) => [s, tx.objectStore(s)]));
    let result;
    try {
      result = fn(stores, tx);
    } catch (error) {
      tx.abort();
      throw error;
    }
    await finished(tx);
    return result;
  }

  async clearAll() {
    await this.write((s) => STORES.forEach((name) => s[name].clear()));
  }
}

export { done };
