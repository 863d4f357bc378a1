// The lost-phone lock (issue 18). An admin sets how many days a device may go without a successful
// sync (GET /api/v1/settings, read after every sync and kept in IndexedDB's meta). Past that, the app
// shows no card: only a lock screen. The session it had is ended on the server (at once, or as soon
// as the phone is online again), so only a fresh sign-in, with a passkey or a token typed after the
// lock, opens the data again. The local data itself stays on the phone, unencrypted, with the
// outbox, so no unsynced work is lost; docs/security.md says what a thief can still read.
import { api, ApiError, setToken } from "../shared/api.js";
import { whoAmI } from "../auth/passkey.js";
import { h } from "../shared/dom.js";
import { language, t } from "../shared/i18n.js";

const DAY_MS = 86_400_000;
const CHECK_EVERY_MS = 60_000;

const put = (store, key, value) => store.write((s) => s.meta.put({ key, value }));

// Whether the data must be locked now: locked before and not opened since, or too long unsynced.
export async function lockDue(store, now = Date.now()) {
  const meta = await store.allMeta();
  if (meta.locked) return true;
  const days = meta.lock_after_days;
  if (!Number.isInteger(days) || days < 1) return false;
  const last = Math.max(Date.parse(meta.last_sync || "") || 0, Date.parse(meta.unlocked_at || "") || 0);
  return last > 0 && now - last > days * DAY_MS;
}

// Ends the session this browser holds; true once the server no longer knows it.
async function endSession() {
  try {
    await api("/auth/logout", { method: "POST", body: {} });
    return true;
  } catch (error) {
    return error instanceof ApiError && error.status === 401; // nothing to end
  }
}

// At start, before any card is read: false to go on; true when the lock screen is up instead.
export async function lockedOut(store, root) {
  if (!(await lockDue(store))) return false;
  const meta = await store.allMeta();
  if (!meta.locked) {
    await put(store, "locked", new Date().toISOString());
    setToken(null); // a token of this tab from before the lock no longer opens it
  }
  if (!meta.lock_signed_out) {
    if (navigator.onLine && (await endSession())) await put(store, "lock_signed_out", true);
  } else {
    const me = await whoAmI().catch(() => undefined);
    if (me) { // signed in after the session was ended: the same person, with a passkey or a token
      await store.write((s) => {
        s.meta.delete("locked");
        s.meta.delete("lock_signed_out");
        s.meta.put({ key: "unlocked_at", value: new Date().toISOString() });
      });
      return false;
    }
  }
  const signedOut = Boolean(await store.meta("lock_signed_out"));
  window.addEventListener("online", () => location.reload(), { once: true });
  root.replaceChildren(h("main", { class: "field locked", id: "lock-screen", tabindex: "-1" },
    h("h1", {}, t("lock.title")),
    h("p", { id: "lock-text" }, t("lock.text", { days: meta.lock_after_days ?? "?" })),
    signedOut
      ? h("p", {}, h("a", { href: "signin.html?next=index.html", class: "button", id: "lock-signin" }, t("lock.signin")))
      : h("p", { class: "hint", id: "lock-offline" }, t("lock.offline")),
    h("p", { class: "hint" }, t("lock.kept")),
    privacyLink()));
  document.title = t("lock.title");
  return true;
}

// After each successful sync: the admin's current rule. While the app is open: lock when due.
export function watchLock(store, loop) {
  loop.addEventListener("synced", async () => {
    try {
      const { lock_after_days: days } = await api("/settings");
      await put(store, "lock_after_days", days);
    } catch (error) {
      console.warn("settings unavailable", error); // the rule last read stands
    }
  });
  const check = async () => {
    if (await lockDue(store)) location.reload(); // the start shows the lock screen
  };
  setInterval(check, CHECK_EVERY_MS);
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && check());
}

// The privacy notice, in the app's language (served by the server at /privacy).
export function privacyLink(id = "privacy-link") {
  return h("p", { class: "hint privacy-footer" },
    h("a", { href: `/privacy?lang=${encodeURIComponent(language())}`, id, target: "_blank", rel: "noopener" }, t("privacy.link")));
}
