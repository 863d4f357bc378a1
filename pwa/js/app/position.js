// The phone's position, asked for only at the moment a person acts (sets a customer's location,
// logs a visit, opens Nearby or My day): never watched, never tracked in between.
// A fresh fix first (a visit 300 m down the road must not get the last customer's position); if
// none comes in time, a fix of the last two minutes is better than none.
const FRESH = { enableHighAccuracy: true, timeout: 10_000, maximumAge: 0 };
const RECENT = { enableHighAccuracy: false, timeout: 3_000, maximumAge: 120_000 };

export class NoPosition extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason; // "unsupported" | "denied" | "unavailable" | "timeout"
  }
}

// Resolves {lat, lng, accuracy_m} (WGS-84, rounded to 1e-6 degrees, about 10 cm) or throws NoPosition.
export async function here() {
  try {
    return await ask(FRESH);
  } catch (error) {
    if (error.reason !== "timeout" && error.reason !== "unavailable") throw error;
    return ask(RECENT);
  }
}

function ask(options) {
  if (!("geolocation" in navigator)) return Promise.reject(new NoPosition("unsupported"));
  return new Promise((resolve, reject) => {
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({
        lat: Math.round(p.coords.latitude * 1e6) / 1e6,
        lng: Math.round(p.coords.longitude * 1e6) / 1e6,
        accuracy_m: Math.round(Math.max(0, p.coords.accuracy || 0) * 10) / 10,
      }),
      (error) => reject(new NoPosition(["", "denied", "unavailable", "timeout"][error.code] || "unavailable")),
      options);
  });
}

// Whether a visit records the position: the rep decides, once, on the visit form.
const VISIT_KEY = "fieldcards.visitPosition";
export const visitPositionOn = () => localStorage.getItem(VISIT_KEY) !== "off";
export const setVisitPosition = (on) => localStorage.setItem(VISIT_KEY, on ? "on" : "off");
