// The phone's position, asked for only at the moment a person acts (sets a customer's location,
// logs a visit, opens Nearby or My day): never watched, never tracked in between.
const ASK = { enableHighAccuracy: true, timeout: 15_000, maximumAge: 60_000 };

export class NoPosition extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason; // "unsupported" | "denied" | "unavailable" | "timeout"
  }
}

// Resolves {lat, lng, accuracy_m} (WGS-84, rounded to 1e-6 degrees, about 10 cm) or throws NoPosition.
export function here(options = {}) {
  if (!("geolocation" in navigator)) return Promise.reject(new NoPosition("unsupported"));
  return new Promise((resolve, reject) => {
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({
        lat: Math.round(p.coords.latitude * 1e6) / 1e6,
        lng: Math.round(p.coords.longitude * 1e6) / 1e6,
        accuracy_m: Math.round(Math.max(0, p.coords.accuracy || 0) * 10) / 10,
      }),
      (error) => reject(new NoPosition(["", "denied", "unavailable", "timeout"][error.code] || "unavailable")),
      { ...ASK, ...options });
  });
}

// Whether a visit records the position: the rep decides, once, on the visit form.
const VISIT_KEY = "fieldcards.visitPosition";
export const visitPositionOn = () => localStorage.getItem(VISIT_KEY) !== "off";
export const setVisitPosition = (on) => localStorage.setItem(VISIT_KEY, on ? "on" : "off");
