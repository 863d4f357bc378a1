// When the device syncs, and what the header shows about it. The protocol itself is device.js.
// Syncs: at start, when the network comes back, shortly after each edit, every 30 s while the app
// is visible, and on "Sync now". Failures back off exponentially with jitter (up to 5 minutes).
// A 401 (session ended) keeps the outbox and asks for a sign-in; device_revoked wipes the device.
import { SyncError } from "./device.js";

const INTERVAL_MS = 30_000;
const DEBOUNCE_MS = 800;
const MAX_BACKOFF_MS = 5 * 60_000;

// The browser transport: the session cookie (or a bearer token kept in this tab) plus our CSRF header.
export function httpSend(token = () => null) {
  return async (body) => {
    const headers = { "Content-Type": "application/json", "X-Fieldcards": "1" };
    if (token()) headers.Authorization = `Bearer ${token()}`;
    let response;
    try {
      response = await fetch("/api/v1/sync", { method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin" });
    } catch (error) {
      throw new SyncError(0, { error: { code: "offline", message: "no connection" } });
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new SyncError(response.status, data);
    return data;
  };
}

// The upload transport of Device.uploadFiles: the server's offset, and one chunk at a time
// (docs/protocol.md, "Attachments"). A 409 names the offset the server expects.
export function httpUpload(token = () => null) {
  const call = async (path, init = {}) => {
    const headers = { "X-Fieldcards": "1", ...(init.headers || {}) };
    if (token()) headers.Authorization = `Bearer ${token()}`;
    let response;
    try {
      response = await fetch(`/api/v1/attachments/${path}`, { ...init, headers, credentials: "same-origin" });
    } catch {
      throw new SyncError(0, { error: { code: "offline", message: "no connection" } });
    }
    return { status: response.status, data: await response.json().catch(() => null) };
  };
  return {
    async state(id) {
      const { status, data } = await call(`${encodeURIComponent(id)}/upload`);
      if (status === 404) return null;
      if (status !== 200) throw new SyncError(status, data);
      return data;
    },
    async put(id, offset, bytes) {
      const { status, data } = await call(`${encodeURIComponent(id)}/upload?offset=${offset}`, {
        method: "PUT", body: bytes, headers: { "Content-Type": "application/octet-stream" } });
      if (status === 409) {
        const expected = Number(/expected (\d+)/.exec(data?.error?.fields?.[0]?.message || "")?.[1]);
        return { expected: Number.isFinite(expected) ? expected : (await this.state(id)).offset };
      }
      if (status !== 200) throw new SyncError(status, data);
      return data;
    },
  };
}

export class SyncLoop extends EventTarget {
  // `beforeSync()` may answer false to hold syncing (another user signed in on this device).
  constructor(device, send, { online = () => navigator.onLine, beforeSync = async () => true, upload = null } = {}) {
    super();
    this.device = device;
    this.send = send;
    this.upload = upload;
    this.online = online;
    this.beforeSync = beforeSync;
    this.state = { status: "idle", pending: 0, lastSync: null, error: null, conflicts: 0 };
    this.running = null;
    this.again = false;
    this.failures = 0;
    this.timer = null;
    this.debounce = null;
  }

  async start() {
    this.state.lastSync = await this.device.store.meta("last_sync");
    window.addEventListener("online", () => this.syncNow());
    window.addEventListener("offline", () => this.refresh());
    document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && this.syncNow());
    setInterval(() => document.visibilityState === "visible" && this.failures === 0 && this.syncNow(), INTERVAL_MS);
    await this.refresh();
    this.syncNow();
  }

  // After a local edit: sync soon, once the person has paused.
  kick() {
    this.refresh();
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.syncNow(), DEBOUNCE_MS);
  }

  async refresh(patch = {}) {
    Object.assign(this.state, patch, { pending: await this.device.pendingCount() });
    if (!this.online() && !["signedout", "revoked"].includes(this.state.status)) this.state.status = "offline";
    else if (this.state.status === "offline") this.state.status = this.state.pending ? "pending" : "ok";
    this.dispatchEvent(new CustomEvent("status", { detail: { ...this.state } }));
  }

  // One sync at a time; a request for another while one runs makes it go round once more.
  syncNow() {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.syncNow();
      }
    });
    return this.running;
  }

  // Photos and files after the sync that declared them; a failure here waits for the next round
  // (the server keeps what arrived, so nothing is sent twice).
  async uploadFiles() {
    try {
      const sent = await this.device.uploadFiles(this.upload);
      if (sent) this.dispatchEvent(new CustomEvent("uploaded", { detail: { sent } }));
      return sent;
    } catch (error) {
      console.warn("upload stopped; it continues at the next sync", error);
      return 0;
    }
  }

  async run() {
    clearTimeout(this.timer);
    if (this.state.status === "revoked") return null; // wiped: nothing may sync under this id again
    if (!this.online()) return this.refresh({ status: "offline" });
    if (!(await this.beforeSync())) return this.refresh({ status: "held" });
    await this.refresh({ status: "syncing" });
    try {
      const report = await this.device.sync(this.send);
      if (this.upload) report.uploaded = await this.uploadFiles();
      this.failures = 0;
      const pending = await this.device.pendingCount();
      const rejected = (await this.device.outbox()).filter((e) => e.state === "rejected").length;
      await this.refresh({ status: pending ? "pending" : "ok", error: null, lastSync: new Date().toISOString(), rejected });
      this.dispatchEvent(new CustomEvent("synced", { detail: report }));
    } catch (error) {
      if (error instanceof SyncError && error.status === 401) return this.refresh({ status: "signedout", error: error.message });
      if (error instanceof SyncError && error.code === "device_revoked") {
        this.dispatchEvent(new CustomEvent("revoked"));
        return this.refresh({ status: "revoked", error: error.message });
      }
      this.failures += 1;
      const wait = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.failures) * (0.5 + Math.random());
      this.timer = setTimeout(() => this.syncNow(), wait);
      const status = error instanceof SyncError && error.status === 0 ? "offline" : "error";
      return this.refresh({ status, error: error.message });
    }
  }
}
