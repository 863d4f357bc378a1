// What office reads from a logged visit: how far from the customer it was logged, and whether it
// was logged offline (it reached the server well after the phone logged it). Pure, tested under
// node (tests/js/visits.test.mjs). Nothing here judges: a visit without a position is shown as such.
import { distanceM, hasPlace } from "./geo.js";

export const NEAR_M = 500; // "at the customer": the figure office sees per rep (sync/office/dashboard.py)
export const OFFLINE_AFTER_MS = 60_000; // a visit that reached the server later was kept offline

// Metres between where the activity was logged and the customer's location, or null.
export function visitDistance(activity, cardLocation) {
  if (!hasPlace(activity?.location) || !hasPlace(cardLocation)) return null;
  return distanceM(activity.location, cardLocation);
}

// {offline, lateMs}: `at` is the phone's time when logged, `created_at` the server's on receipt.
export function arrival(activity) {
  const logged = Date.parse(activity?.at || "");
  const received = Date.parse(activity?.created_at || "");
  if (!Number.isFinite(logged) || !Number.isFinite(received)) return { offline: null, lateMs: null };
  const lateMs = Math.max(0, received - logged);
  return { offline: lateMs >= OFFLINE_AFTER_MS, lateMs };
}

// "2 d 3 h", "3 h 10 min", "4 min": how late, in the two largest units.
export function delayParts(ms) {
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days) return { days, hours };
  if (hours) return { hours, mins };
  return { mins };
}
