// Unit tests of pwa/js/app/geo.js: distances, Nearby's order, the day's route, GCJ-02/BD-09 and
// the map links. Reference values for the conversions are the published test vectors of the
// eviltransform and coordtransform libraries (Shanghai, Beijing).
import assert from "node:assert/strict";
import { test } from "node:test";

import { byDistance, distanceM, distanceText, gcj02ToBd09, mapLinks, parsePlace, routeOrder, wgs84ToGcj02 } from "../../pwa/js/app/geo.js";

const close = (actual, expected, eps, what) => assert.ok(Math.abs(actual - expected) <= eps, `${what}: ${actual} vs ${expected}`);

const PEOPLE_SQUARE = { lat: 31.2304, lng: 121.4737 };
const LUJIAZUI = { lat: 31.2397, lng: 121.4998 };
const HONGQIAO = { lat: 31.1979, lng: 121.3363 };

test("haversine distance matches known city distances", () => {
  assert.equal(distanceM(PEOPLE_SQUARE, PEOPLE_SQUARE), 0);
  close(distanceM({ lat: 39.9042, lng: 116.4074 }, PEOPLE_SQUARE), 1_067_000, 5_000, "Beijing to Shanghai");
  close(distanceM(PEOPLE_SQUARE, LUJIAZUI), 2_671, 30, "People's Square to Lujiazui");
  close(distanceM({ lat: 0, lng: 179.9 }, { lat: 0, lng: -179.9 }), 22_239, 5, "across the date line");
});

test("Nearby sorts by distance and lists cards without a location last, in their order", () => {
  const rows = [
    { id: "far", location: HONGQIAO },
    { id: "none-1", location: null },
    { id: "near", location: LUJIAZUI },
    { id: "none-2" },
    { id: "here", location: { lat: 31.2305, lng: 121.4738 } },
  ];
  const sorted = byDistance(rows, PEOPLE_SQUARE);
  assert.deepEqual(sorted.map((x) => x.row.id), ["here", "near", "far", "none-1", "none-2"]);
  assert.ok(sorted[0].distance < 20);
  assert.equal(sorted[3].distance, null);
});

test("the day's route goes to the nearest stop next, not in the order of the list", () => {
  // From People's Square: Lujiazui (2.7 km east) first, then on east (8 km from the start, 5.3 km
  // from Lujiazui); the stop 5 km west is nearer to the start but far from there, so it comes last.
  const east = { id: "east", location: { lat: 31.2304, lng: 121.5577 } };
  const west = { id: "west", location: { lat: 31.2304, lng: 121.4212 } };
  const rows = [west, east, { id: "lujiazui", location: LUJIAZUI }, { id: "nowhere", location: null }];
  assert.deepEqual(byDistance(rows, PEOPLE_SQUARE).map((x) => x.row.id), ["lujiazui", "west", "east", "nowhere"]);
  const route = routeOrder(rows, PEOPLE_SQUARE);
  assert.deepEqual(route.map((x) => x.row.id), ["lujiazui", "east", "west", "nowhere"]);
  close(route[0].distance, distanceM(PEOPLE_SQUARE, LUJIAZUI), 1e-6, "first leg");
  assert.deepEqual(route[1].from, LUJIAZUI);
  assert.equal(route[3].distance, null);
  assert.deepEqual(routeOrder([], PEOPLE_SQUARE), []);
});

test("WGS-84 to GCJ-02 and BD-09 match the published vectors, and nothing moves outside China", () => {
  const sh = wgs84ToGcj02({ lat: 31.1774276, lng: 121.5272106 });
  close(sh.lat, 31.17530398364597, 1e-9, "Shanghai lat");
  close(sh.lng, 121.531541859215, 1e-9, "Shanghai lng");
  const bj = wgs84ToGcj02({ lat: 39.915, lng: 116.404 });
  close(bj.lat, 39.91640428150164, 1e-9, "Beijing lat");
  close(bj.lng, 116.41024449916938, 1e-9, "Beijing lng");
  const bd = gcj02ToBd09({ lat: 39.915, lng: 116.404 });
  close(bd.lat, 39.92133699351021, 1e-9, "BD-09 lat");
  close(bd.lng, 116.41036949371029, 1e-9, "BD-09 lng");
  assert.deepEqual(wgs84ToGcj02({ lat: 51.5007, lng: -0.1246 }), { lat: 51.5007, lng: -0.1246 });
  // The offset inside China is a few hundred metres: why a raw GPS position on Amap looks wrong.
  const offset = distanceM(PEOPLE_SQUARE, wgs84ToGcj02(PEOPLE_SQUARE));
  assert.ok(offset > 100 && offset < 1000, `offset ${offset}`);
});

test("map links: Amap and Baidu with converted coordinates in Chinese, Google and Apple elsewhere", () => {
  const zh = mapLinks("zh-CN", PEOPLE_SQUARE, { from: LUJIAZUI, name: "上海贸易" });
  assert.deepEqual(zh.map((l) => l.app), ["amap", "baidu"]);
  const amap = new URL(zh[0].href);
  assert.equal(amap.host, "uri.amap.com");
  const g = wgs84ToGcj02(PEOPLE_SQUARE);
  assert.equal(amap.searchParams.get("to"), `${g.lng.toFixed(6)},${g.lat.toFixed(6)},上海贸易`);
  assert.ok(amap.searchParams.get("from").startsWith(wgs84ToGcj02(LUJIAZUI).lng.toFixed(6)));
  const baidu = new URL(zh[1].href);
  const b = gcj02ToBd09(g);
  assert.equal(baidu.searchParams.get("coord_type"), "bd09ll");
  assert.ok(baidu.searchParams.get("destination").startsWith(`latlng:${b.lat.toFixed(6)},${b.lng.toFixed(6)}`));

  const en = mapLinks("en", PEOPLE_SQUARE);
  assert.deepEqual(en.map((l) => l.app), ["google", "apple"]);
  assert.equal(new URL(en[0].href).searchParams.get("destination"), "31.230400,121.473700"); // WGS-84 as is
  assert.equal(new URL(en[1].href).searchParams.get("daddr"), "31.230400,121.473700");
  assert.equal(new URL(en[1].href).searchParams.get("saddr"), null);
  assert.deepEqual(mapLinks("en", null), []);
});

test("distances read as metres or kilometres, typed places are checked", () => {
  assert.equal(distanceText(4), "10 m");
  assert.equal(distanceText(347), "350 m");
  assert.equal(distanceText(1234), "1.2 km");
  assert.equal(distanceText(123_456), "123 km");
  assert.deepEqual(parsePlace(" 31.2304 ", "121.4737"), { lat: 31.2304, lng: 121.4737 });
  assert.equal(parsePlace("91", "0"), null);
  assert.equal(parsePlace("31.2", ""), null);
  assert.equal(parsePlace("abc", "121"), null);
});
