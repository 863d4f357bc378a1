// Installing the service worker and the update rule: a new version of the app waits until the
// outbox is empty (no edit may be stranded between two versions), then takes over; the page tells
// the person and reloads.
import { t } from "../shared/i18n.js";

const WAITING_CHECK_MS = 2000;
const UPDATED_KEY = "fieldcards.updated";

function toast(text) {
  const note = document.createElement("p");
  note.className = "toast";
  note.setAttribute("role", "status");
  note.id = "update-toast";
  note.textContent = text;
  document.body.append(note);
  setTimeout(() => note.remove(), 6000);
}

export async function watchForUpdates(device) {
  if (!("serviceWorker" in navigator)) return null;
  if (sessionStorage.getItem(UPDATED_KEY)) {
    sessionStorage.removeItem(UPDATED_KEY);
    toast(t("update.done"));
  }
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading || !sessionStorage.getItem(UPDATED_KEY)) return; // the first install is not an update
    reloading = true;
    location.reload();
  });

  let told = false;
  async function activateWhenDrained() {
    const waiting = registration.waiting;
    if (!waiting || !navigator.serviceWorker.controller) return;
    if ((await device.pendingCount()) > 0) {
      if (!told) toast(t("update.waiting"));
      told = true;
      setTimeout(activateWhenDrained, WAITING_CHECK_MS);
      return;
    }
    sessionStorage.setItem(UPDATED_KEY, "1");
    waiting.postMessage({ type: "activate-now" });
  }

  registration.addEventListener("updatefound", () => {
    const installing = registration.installing;
    installing?.addEventListener("statechange", () => installing.state === "installed" && activateWhenDrained());
  });
  activateWhenDrained();
  // Look for a new version when the app comes back to the foreground, and hourly.
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && registration.update().catch(() => null));
  setInterval(() => registration.update().catch(() => null), 3_600_000);
  return registration;
}
