// Where customers are, worked out on the phone: great-circle distance, cards sorted by distance,
// a nearest-next route for the day, and links that open a map app. Pure functions, no DOM, so that
// node tests them (tests/js/geo.test.mjs) and bench/field.py times them.
//
// Stored positions are WGS-84 (what GPS gives). Chinese map apps draw in GCJ-02 (Amap) or BD-09
// (Baidu), which are offset from WGS-84 by up to a few hundred metres inside mainland China, so a
// link to them carries converted coordinates; the stored value never changes.

const EARTH_RADIUS_M = 6_371_008.8;
const rad = (deg) => (deg * Math.PI) / 180;

export const hasPlace = (p) => Boolean(p) && Number.isFinite(p.lat) && Number.isFinite(p.lng);

// Haversine: metres along the earth's surface between two {lat, lng}.
export function distanceM(a, b) {
  const dLat = rad(b.lat - a.lat);
  const dLng = rad(b.lng - a.lng);
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(s)));
}

// Cards by distance from `here`: [{row, distance}] nearest first, then the cards without a location
// (distance null) in the order given. `placeOf(row)` reads a row's {lat, lng} or null.
export function byDistance(rows, here, placeOf = (row) => row.location) {
  const placed = [];
  const unplaced = [];
  for (const row of rows) {
    const place = placeOf(row);
    if (hasPlace(place)) placed.push({ row, distance: distanceM(here, place) });
    else unplaced.push({ row, distance: null });
  }
  placed.sort((x, y) => x.distance - y.distance);
  return [...placed, ...unplaced];
}

// A simple nearest-next route: from `start`, always go to the closest stop not yet visited. Stops
// without a location come last, in the order given. Returns [{row, distance (from the previous
// stop, metres, or null), from (the previous point)}].
export function routeOrder(rows, start, placeOf = (row) => row.location) {
  const left = rows.filter((row) => hasPlace(placeOf(row)));
  const route = [];
  let here = start;
  while (left.length) {
    let best = 0;
    let bestDistance = Infinity;
    left.forEach((row, n) => {
      const d = distanceM(here, placeOf(row));
      if (d < bestDistance) {
        best = n;
        bestDistance = d;
      }
    });
    const [row] = left.splice(best, 1);
    route.push({ row, distance: bestDistance, from: here });
    here = placeOf(row);
  }
  return [...route, ...rows.filter((row) => !hasPlace(placeOf(row))).map((row) => ({ row, distance: null, from: null }))];
}

// Metres as people read them on a phone: "350 m" under 1 km, "1.2 km", "48 km".
export function distanceText(metres) {
  if (metres < 1000) return `${Math.max(10, Math.round(metres / 10) * 10)} m`;
  if (metres < 100_000) return `${(metres / 1000).toFixed(1)} km`;
  return `${Math.round(metres / 1000)} km`;
}

// --- WGS-84 → GCJ-02 → BD-09 (the published algorithm every Chinese map SDK implements) --------

const A = 6378245.0;
const EE = 0.00669342162296594323;

export function outOfChina({ lat, lng }) {
  return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function transformLat(x, y) {
  let ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  ret += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  ret += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  ret += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  return ret;
}

function transformLng(x, y) {
  let ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  ret += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  ret += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  ret += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  return ret;
}

// WGS-84 → GCJ-02. Outside mainland China the two are the same.
export function wgs84ToGcj02(p) {
  if (outOfChina(p)) return { lat: p.lat, lng: p.lng };
  let dLat = transformLat(p.lng - 105.0, p.lat - 35.0);
  let dLng = transformLng(p.lng - 105.0, p.lat - 35.0);
  const radLat = rad(p.lat);
  let magic = Math.sin(radLat);
  magic = 1 - EE * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
  dLng = (dLng * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return { lat: p.lat + dLat, lng: p.lng + dLng };
}

// GCJ-02 → BD-09 (Baidu's own offset on top of GCJ-02).
export function gcj02ToBd09({ lat, lng }) {
  const xPi = (Math.PI * 3000.0) / 180.0;
  const z = Math.sqrt(lng * lng + lat * lat) + 0.00002 * Math.sin(lat * xPi);
  const theta = Math.atan2(lat, lng) + 0.000003 * Math.cos(lng * xPi);
  return { lat: z * Math.sin(theta) + 0.006, lng: z * Math.cos(theta) + 0.0065 };
}

// --- links that open a map app -----------------------------------------------------------------

const fixed = (n) => n.toFixed(6);

// The route to `to` (from `from` when known, else from wherever the map app puts the person):
// Amap and Baidu in Chinese, Apple and Google Maps elsewhere. Returns [{app, href}], best first.
export function mapLinks(lang, to, { from = null, name = "" } = {}) {
  if (!hasPlace(to)) return [];
  if (lang === "zh-CN") {
    const g = wgs84ToGcj02(to);
    const amap = new URLSearchParams({ to: `${fixed(g.lng)},${fixed(g.lat)},${name}`, mode: "car", coordinate: "gaode", callnative: "1", src: "fieldcards" });
    const b = gcj02ToBd09(g);
    const baidu = new URLSearchParams({ destination: `latlng:${fixed(b.lat)},${fixed(b.lng)}|name:${name || "-"}`, mode: "driving",
      coord_type: "bd09ll", output: "html", src: "fieldcards" });
    if (hasPlace(from)) {
      const gf = wgs84ToGcj02(from);
      const bf = gcj02ToBd09(gf);
      amap.set("from", `${fixed(gf.lng)},${fixed(gf.lat)},`);
      baidu.set("origin", `latlng:${fixed(bf.lat)},${fixed(bf.lng)}|name:-`);
    }
    return [
      { app: "amap", href: `https://uri.amap.com/navigation?${amap}` },
      { app: "baidu", href: `https://api.map.baidu.com/direction?${baidu}` },
    ];
  }
  const apple = new URLSearchParams({ daddr: `${fixed(to.lat)},${fixed(to.lng)}`, dirflg: "d" });
  const google = new URLSearchParams({ api: "1", destination: `${fixed(to.lat)},${fixed(to.lng)}` });
  if (hasPlace(from)) {
    apple.set("saddr", `${fixed(from.lat)},${fixed(from.lng)}`);
    google.set("origin", `${fixed(from.lat)},${fixed(from.lng)}`);
  }
  return [
    { app: "google", href: `https://www.google.com/maps/dir/?${google}` },
    { app: "apple", href: `https://maps.apple.com/?${apple}` },
  ];
}

// Typed by office staff: "31.2304, 121.4737" or two fields. Returns {lat, lng} or null if unreadable.
export function parsePlace(latText, lngText) {
  const lat = Number(String(latText).trim());
  const lng = Number(String(lngText).trim());
  if (String(latText).trim() === "" || String(lngText).trim() === "") return null;
  if (!Number.isFinite(lat) || !Number.isFinite(lng) || lat < -90 || lat > 90 || lng < -180 || lng > 180) return null;
  return { lat: Math.round(lat * 1e6) / 1e6, lng: Math.round(lng * 1e6) / 1e6 };
}
