// The device: local edits into the outbox, the view of each card, and the sync protocol.
// It follows sync/protocol/client.py (the reference client) step by step; read that for the why.
//   - an edit is applied locally at once, stamped with the device's HLC, kept in the journal as
//     "pending", and sent by sync(); `was` carries what the device showed, so the server merges
//   - acknowledged mutations stay in the journal for 90 days: after a server restore (new epoch)
//     they are re-sent with the same ids and `at`, so work the restore rolled back comes back
//   - a rejected mutation stays, with the server's message, until the person fixes or discards it
//   - a photo or file is declared by an `attachment.add` mutation and its bytes kept on the device;
//     once the declaration is acknowledged, uploadFiles() sends them in chunks from wherever the
//     server's copy ends (docs/protocol.md), so a cut upload or a reload never sends a chunk twice
import { Clock } from "./hlc.js";
import { searchText } from "./search.js";
import { timeOrderedUuid } from "./ids.js";

export const JOURNAL_DAYS = 90;
export const BATCH = 1000;
export const CHUNK = 256 * 1024; // bytes per upload request: small enough for a weak mobile link
const SET_FIELDS = ["phones", "emails", "tags"];
const DAY_MS = 86_400_000;
const LINK_TOKENS_KEPT = 20;

export class SyncError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `sync failed with HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.code = body?.error?.code || null;
  }
}

// An optimistic local copy of what the server will do; the server's answer replaces it.
export function applyLocally(view, body) {
  if (body.op === "card.delete") return null;
  if (body.op !== "card.put") return view;
  if (!view && body.was) return null; // an edit of a card this device no longer holds creates nothing
  const card = view ? structuredClone(view) : { id: body.card, phones: [], emails: [], tags: [], custom: {}, version: 0, deleted: false };
  const was = body.was || {};
  for (const [name, value] of Object.entries(body.fields)) {
    if (SET_FIELDS.includes(name) && Array.isArray(value)) {
      const before = was[name] || [];
      const removed = before.filter((x) => !value.includes(x));
      const added = value.filter((x) => !before.includes(x));
      const current = (card[name] || []).filter((x) => !removed.includes(x));
      card[name] = [...current, ...added.filter((x) => !current.includes(x))];
    } else {
      card[name] = value;
    }
  }
  return card;
}

export function viewOf(server, pendingBodies) {
  let view = server || null;
  for (const body of pendingBodies) view = applyLocally(view, body);
  return view && !view.deleted ? view : null;
}

const bySeq = (a, b) => a.seq - b.seq;

// What a card's view starts from: the server's copy, or, while this device's claim of a pool card
// waits for the server's answer, the pool view it claimed (sync/protocol/client.py `_refresh_view`).
export function baseOf(row, pendingBodies) {
  if (row?.server) return row.server;
  return pendingBodies.some((b) => b.op === "card.claim") ? row?.pool || null : null;
}

export async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class Device {
  constructor(store, deviceId, { appVersion = "pwa", now = () => Date.now() } = {}) {
    this.store = store;
    this.deviceId = deviceId;
    this.appVersion = appVersion;
    this.now = now;
    this.clock = new Clock(deviceId, now);
  }

  static async open(store, options = {}) {
    const meta = await store.allMeta();
    const deviceId = meta.device || options.deviceId || crypto.randomUUID();
    const device = new Device(store, deviceId, options);
    if (!meta.device) await store.write((s) => s.meta.put({ key: "device", value: deviceId }));
    if (meta.last_at) device.clock.receive(meta.last_at); // never stamp behind what we stamped before
    return device;
  }

  // --- local edits ---------------------------------------------------------------------------

  async createCard(fields) {
    const card = timeOrderedUuid(this.now());
    await this.record({ op: "card.put", card, fields });
    return card;
  }

  // `seen`: the card as the person saw it when they started (a form opened before a sync changed
  // it); `was` is taken from it, so the server sees both writes and keeps the other in a conflict
  // record. Without it, `was` is the card as it is on the device now.
  async editCard(cardId, fields, seen = null) {
    const view = await this.card(cardId);
    if (!view) throw new Error(`no card ${cardId} on this device`);
    const base = seen ?? view;
    const was = Object.fromEntries(Object.keys(fields).map((name) => [name, base[name] ?? (SET_FIELDS.includes(name) ? [] : null)]));
    return this.record({ op: "card.put", card: cardId, fields, was });
  }

  async deleteCard(cardId) {
    const view = await this.card(cardId);
    if (!view) throw new Error(`no card ${cardId} on this device`);
    return this.record({ op: "card.delete", card: cardId, version: view.version || 0 });
  }

  async addActivity(cardId, kind, text = "", extra = {}) {
    const activity = { id: timeOrderedUuid(this.now()), card: cardId, kind, at: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z"), text, ...extra };
    await this.record({ op: "activity.add", card: cardId, activity });
    return activity.id;
  }

  // A photo or file (`bytes`: an ArrayBuffer, already downscaled by the screen) on a card or one of
  // its activities: the declaration goes to the outbox, the bytes stay here until uploaded.
  async addAttachment(cardId, { bytes, name, type, activity = null }) {
    const sha256 = await sha256Hex(bytes);
    const attachment = { id: timeOrderedUuid(this.now()), activity, name, type, size: bytes.byteLength, sha256 };
    await this.record({ op: "attachment.add", card: cardId, attachment }, (s, body) => {
      s.files.put({ id: attachment.id, card: cardId, mutation: body.id, name, type, size: bytes.byteLength, uploaded: false, created_ms: this.now() });
      s.blobs.put({ id: attachment.id, bytes });
      s.attachments.put({ ...attachment, card: cardId, uploaded: false, by: null, created_at: null });
    });
    return attachment.id;
  }

  // --- customer links (issue 17) --------------------------------------------------------------
  // While online the app keeps signed tokens in reserve (GET /links/reserve): a link made offline
  // is declared with a reserved id, so its QR shows at once and works after the next sync.

  async keepLinkTokens(tokens) {
    const kept = (await this.store.meta("link_tokens")) || [];
    const known = new Set(kept.map((k) => k.id));
    const all = [...kept, ...tokens.filter((k) => !known.has(k.id))].slice(-LINK_TOKENS_KEPT);
    await this.store.write((s) => s.meta.put({ key: "link_tokens", value: all }));
    return all.length;
  }

  async linkTokensLeft() {
    return ((await this.store.meta("link_tokens")) || []).length;
  }

  // A `link.create` through the outbox; returns {id, purpose, survey, expires, url, card}.
  async createLink(cardId, { purpose = "update", survey = null, days = 14 } = {}) {
    const [reserve, made] = [(await this.store.meta("link_tokens")) || [], (await this.store.meta("links_made")) || []];
    if (!reserve.length) throw Object.assign(new Error("no link tokens kept on this device"), { code: "no_link_tokens" });
    const [token, ...rest] = reserve;
    const expires = new Date(this.now() + days * DAY_MS).toISOString().replace(/\.\d{3}Z$/, "Z");
    const link = { id: token.id, purpose, survey, expires };
    const mine = { ...link, card: cardId, url: token.url, created_ms: this.now() };
    const fresh = made.filter((l) => Date.parse(l.expires) > this.now());
    await this.record({ op: "link.create", card: cardId, link }, (s) => {
      s.meta.put({ key: "link_tokens", value: rest });
      s.meta.put({ key: "links_made", value: [...fresh, mine] });
    });
    return mine;
  }

  // The links this device made for a card that have not expired, newest first.
  async linksOf(cardId) {
    const made = (await this.store.meta("links_made")) || [];
    return made.filter((l) => l.card === cardId && Date.parse(l.expires) > this.now()).reverse();
  }

  async record(partial, alsoWrite = null) {
    const body = { id: timeOrderedUuid(this.now()), ...partial, at: this.clock.now() };
    const [row, pending] = [await this.store.card(body.card), await this.store.journal("pending", body.card)];
    const bodies = [...pending.sort(bySeq).map((e) => e.body), body];
    const view = viewOf(baseOf(row, bodies), bodies);
    await this.store.write((s) => {
      s.journal.add({ id: body.id, card: body.card, body, state: "pending", result: null, created_ms: this.now() });
      s.meta.put({ key: "last_at", value: body.at });
      this.putView(s, body.card, row?.server || null, view, row?.pool);
      if (body.op === "activity.add") s.activities.put(body.activity);
      alsoWrite?.(s, body);
    });
    return body.id;
  }

  putView(s, id, server, view, pool = null) {
    if (!server && !view) s.cards.delete(id);
    else s.cards.put({ id, server, view, search: view ? searchText(view) : "", ...(pool && !server ? { pool } : {}) });
  }

  // Claim a pool card (`poolCard`: its pool view), offline too. It shows as this device's at once;
  // if a colleague's earlier claim wins, the claim comes back rejected ("claimed"), stays on the
  // Pending screen as the notice, and the card leaves the phone.
  async claimCard(poolCard) {
    const row = await this.store.card(poolCard.id);
    if (!row) await this.store.write((s) => s.cards.put({ id: poolCard.id, server: null, view: null, pool: poolCard, search: "" }));
    return this.record({ op: "card.claim", card: poolCard.id });
  }

  // --- what the device shows -----------------------------------------------------------------

  async card(id) {
    return (await this.store.card(id))?.view || null;
  }

  async cards() {
    return (await this.store.cards()).map((row) => row.view);
  }

  async activities(cardId) {
    return (await this.store.activitiesOf(cardId)).sort((a, b) => (a.at < b.at ? 1 : -1));
  }

  // Photos and files of a card, newest first; `local` says whether this device holds the bytes.
  async attachments(cardId) {
    const [rows, files] = [await this.store.attachmentsOf(cardId), await this.store.files(cardId)];
    const here = new Map(files.map((f) => [f.id, f]));
    return rows.map((a) => ({ ...a, local: here.has(a.id), uploaded: Boolean(a.uploaded || here.get(a.id)?.uploaded) }))
      .sort((a, b) => ((a.created_at || "9") < (b.created_at || "9") ? 1 : -1));
  }

  fileBytes(id) {
    return this.store.bytes(id);
  }

  // The files this device still has to upload (their declaration may still be in the outbox).
  async filesWaiting() {
    return (await this.store.files()).filter((f) => !f.uploaded).sort((a, b) => a.created_ms - b.created_ms);
  }

  // Upload the bytes of every acknowledged declaration the server does not hold yet, each from the
  // server's offset. `transport` is {state(id) → {offset, size, uploaded} | null, put(id, offset,
  // bytes) → {offset, uploaded} | {expected: n}}. `stopAfter` (bytes) cuts it short, as a lost
  // connection would. Returns the bytes sent.
  async uploadFiles(transport, { chunk = CHUNK, stopAfter = null } = {}) {
    let sent = 0;
    for (const row of await this.filesWaiting()) {
      const entry = await this.store.journalEntry(row.mutation);
      if (!entry || entry.state !== "acked") continue; // not declared yet, or refused
      let state = await transport.state(row.id);
      if (!state) continue; // the server does not know it (a restore the journal has not re-sent yet)
      if (!state.uploaded) {
        const bytes = await this.fileBytes(row.id);
        let offset = state.offset;
        while (offset < bytes.byteLength) {
          if (stopAfter !== null && sent >= stopAfter) return sent;
          const piece = bytes.slice(offset, offset + chunk);
          const answer = await transport.put(row.id, offset, piece);
          if (answer.expected !== undefined) { // the server holds another amount: continue from there
            offset = answer.expected;
            continue;
          }
          sent += piece.byteLength;
          offset = answer.offset;
          state = answer;
        }
      }
      await this.markUploaded([row.id]);
    }
    return sent;
  }

  async markUploaded(ids, uploaded = true) {
    await this.store.write((s) => ids.forEach((id) => {
      for (const name of ["files", "attachments"]) {
        const request = s[name].get(id);
        request.onsuccess = () => request.result && s[name].put({ ...request.result, uploaded });
      }
    }));
  }

  // The outbox and its history for the pending page: waiting, rejected (with the server's errors).
  async outbox() {
    const [pending, rejected] = [await this.store.journal("pending"), await this.store.journal("rejected")];
    return [...pending, ...rejected].sort(bySeq);
  }

  async pendingCount() {
    return (await this.store.journal("pending")).length;
  }

  // Correct a rejected edit: it goes back to the outbox with the same id.
  async fix(mutationId, fields) {
    const entry = await this.store.journalEntry(mutationId);
    if (!entry || entry.state !== "rejected") throw new Error("only a rejected change can be fixed");
    const body = { ...entry.body, fields: { ...entry.body.fields, ...fields } };
    await this.store.write((s) => s.journal.put({ ...entry, body, state: "pending", result: null }));
    await this.refreshViews([entry.card]);
  }

  async discard(mutationId) {
    const entry = await this.store.journalEntry(mutationId);
    if (!entry) return;
    await this.store.write((s) => s.journal.put({ ...entry, state: "discarded" }));
    await this.refreshViews([entry.card]);
  }

  async refreshViews(cardIds) {
    const pending = (await this.store.journal("pending")).sort(bySeq);
    const rows = await Promise.all(cardIds.map((id) => this.store.card(id)));
    await this.store.write((s) => cardIds.forEach((id, n) => {
      const server = rows[n]?.server || null;
      const bodies = pending.filter((e) => e.card === id).map((e) => e.body);
      this.putView(s, id, server, viewOf(baseOf(rows[n], bodies), bodies), rows[n]?.pool);
    }));
  }

  // --- sync ----------------------------------------------------------------------------------

  // `send(body)` posts to /api/v1/sync and resolves with the answer, or throws SyncError.
  // Loops until the server has nothing more and the outbox is empty (or maxRounds).
  async sync(send, { limit = 1000, maxRounds = 10_000 } = {}) {
    const report = { rounds: 0, sent: 0, pulled: 0, reset: false, statuses: {}, warnings: [] };
    for (let round = 0; round < maxRounds; round += 1) {
      const outbox = (await this.store.journal("pending")).sort(bySeq);
      const batch = outbox.slice(0, BATCH);
      const meta = await this.store.allMeta();
      const body = {
        device: this.deviceId, epoch: meta.epoch || null, cursor: meta.cursor || null, limit,
        pending: outbox.length, app: this.appVersion, mutations: batch.map((e) => e.body),
      };
      let answer;
      try {
        answer = await send(body);
      } catch (error) {
        if (error instanceof SyncError && error.code === "device_revoked") await this.wipe();
        throw error;
      }
      report.rounds += 1;
      report.sent += batch.length;
      if (answer.reset) {
        await this.startOver();
        report.reset = true;
      }
      await this.applyAnswer(answer, report);
      if (!answer.more && (await this.pendingCount()) === 0) break;
    }
    return report;
  }

  async applyAnswer(answer, report) {
    const results = new Map(answer.results.map((r) => [r.id, r]));
    const journal = (await this.store.journal("pending")).sort(bySeq);
    const answered = journal.filter((e) => results.has(e.id));
    const stillPending = journal.filter((e) => !results.has(e.id));
    // Server copies: from results (our own mutations) and from the pulled changes, newest wins.
    const incoming = new Map();
    const keepNewer = (card) => {
      const known = incoming.get(card.id);
      if (!known || known.version <= card.version) incoming.set(card.id, card);
    };
    answer.results.forEach((r) => r.card && keepNewer(r.card));
    const removed = new Set();
    const erased = new Set();
    const activities = [];
    const attachments = answer.results.filter((r) => r.attachment).map((r) => r.attachment);
    for (const change of answer.changes) {
      if (change.type === "card") {
        keepNewer(change.card);
        removed.delete(change.card.id);
      } else if (change.type === "activity") activities.push(change.activity);
      else if (change.type === "attachment") attachments.push(change.attachment);
      else if (change.type === "remove") {
        incoming.delete(change.card);
        removed.add(change.card);
        if (change.reason === "erased") erased.add(change.card);
      }
    }
    const touched = new Set([...incoming.keys(), ...removed, ...answered.map((e) => e.card)]);
    const ids = [...touched];
    const rows = await Promise.all(ids.map((id) => this.store.card(id)));
    const removedActivities = await Promise.all([...removed].map((id) => this.store.activitiesOf(id)));
    const removedAttachments = await Promise.all([...removed].map((id) => this.store.attachmentsOf(id)));
    const erasedFiles = erased.size ? (await this.store.files()).filter((f) => erased.has(f.card)) : [];
    // An erased customer leaves nothing behind on the phone: not even queued or sent changes.
    const erasedEntries = await Promise.all([...erased].map((id) => this.store.journal(null, id)));

    await this.store.write((s) => {
      for (const entry of answered) {
        const result = results.get(entry.id);
        report.statuses[result.status] = (report.statuses[result.status] || 0) + 1;
        s.journal.put({ ...entry, state: result.status === "rejected" ? "rejected" : "acked", result });
      }
      ids.forEach((id, n) => {
        const current = rows[n]?.server || null;
        let server = current;
        if (removed.has(id)) server = null;
        else if (incoming.has(id) && (!current || current.version <= incoming.get(id).version)) server = incoming.get(id);
        // An older copy (a stored result replayed) must not hide a newer one; a removed card leaves
        // the device together with any edit still waiting for it (the server keeps that as a conflict).
        const pending = removed.has(id) ? [] : stillPending.filter((e) => e.card === id).map((e) => e.body);
        const base = server || (removed.has(id) ? null : baseOf(rows[n], pending));
        this.putView(s, id, server, viewOf(base, pending), rows[n]?.pool);
      });
      removedActivities.flat().forEach((a) => s.activities.delete(a.id));
      erasedEntries.flat().forEach((e) => s.journal.delete(e.seq));
      activities.filter((a) => !removed.has(a.card)).forEach((a) => s.activities.put(a));
      removedAttachments.flat().forEach((a) => s.attachments.delete(a.id));
      erasedFiles.forEach((f) => {
        s.files.delete(f.id);
        s.blobs.delete(f.id);
      });
      // The server's word on each attachment; after a restore `uploaded: false` makes this device
      // upload its bytes again.
      for (const a of attachments.filter((x) => !removed.has(x.card))) {
        s.attachments.put(a);
        const request = s.files.get(a.id);
        request.onsuccess = () => request.result && request.result.uploaded !== a.uploaded && s.files.put({ ...request.result, uploaded: a.uploaded });
      }
      s.meta.put({ key: "epoch", value: answer.epoch });
      s.meta.put({ key: "cursor", value: answer.cursor });
      s.meta.put({ key: "last_sync", value: new Date(this.now()).toISOString() });
    });
    report.pulled += answer.changes.length;
    report.warnings.push(...(answer.warnings || []));
  }

  // The server was restored: re-send the 90-day journal, replace the local copy with a full pull.
  async startOver() {
    const cutoff = this.now() - JOURNAL_DAYS * DAY_MS;
    const acked = (await this.store.journal("acked")).filter((e) => e.created_ms >= cutoff);
    await this.store.write((s) => {
      acked.forEach((e) => s.journal.put({ ...e, state: "pending", result: null }));
      s.cards.clear();
      s.activities.clear();
      s.attachments.clear();
      s.meta.delete("cursor");
    });
  }

  // Forget everything: a revoked (lost) device must not keep customer data.
  async wipe() {
    await this.store.clearAll();
  }

  // Acknowledged journal entries older than 90 days are no longer needed for a rescue.
  async pruneJournal() {
    const cutoff = this.now() - JOURNAL_DAYS * DAY_MS;
    const old = [...(await this.store.journal("acked")), ...(await this.store.journal("discarded"))].filter((e) => e.created_ms < cutoff);
    const oldFiles = (await this.store.files()).filter((f) => f.uploaded && f.created_ms < cutoff);
    if (old.length || oldFiles.length) {
      await this.store.write((s) => {
        old.forEach((e) => s.journal.delete(e.seq));
        oldFiles.forEach((f) => {
          s.files.delete(f.id);
          s.blobs.delete(f.id);
        });
      });
    }
    return old.length;
  }
}
