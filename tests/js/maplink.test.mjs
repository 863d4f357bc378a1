// Unit tests of pwa/js/app/maplink.js: where an address opens, by language, device and choice.
import assert from "node:assert/strict";
import { test } from "node:test";

import { addressHref, resolveMapApp } from "../../pwa/js/app/maplink.js";

const ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 7) Chrome/131.0 Mobile Safari/537.36";
const IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Version/17.1 Mobile/15E148 Safari/604.1";
const WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36";

test("automatic: geo: on Android, Amap in Chinese, Apple on Apple devices, Google elsewhere", () => {
  assert.equal(resolveMapApp("auto", "zh-CN", ANDROID), "geo");
  assert.equal(resolveMapApp("auto", "zh-CN", IPHONE), "amap");
  assert.equal(resolveMapApp("auto", "zh-CN", WINDOWS), "amap");
  assert.equal(resolveMapApp("auto", "en", IPHONE), "apple");
  assert.equal(resolveMapApp("auto", "en", WINDOWS), "google");
  assert.equal(resolveMapApp("baidu", "en", ANDROID), "baidu"); // a choice wins
});

test("each app gets the address, encoded", () => {
  const address = "上海市浦东新区世纪大道100号";
  const q = encodeURIComponent(address);
  assert.equal(addressHref(address, "amap"), `https://uri.amap.com/search?keyword=${q}&src=fieldcards&callnative=1`);
  assert.ok(addressHref(address, "baidu").startsWith(`https://api.map.baidu.com/geocoder?address=${q}`));
  assert.equal(addressHref(address, "geo"), `geo:0,0?q=${q}`);
  assert.equal(addressHref("1 Main St & 2nd", "google"), "https://www.google.com/maps/search/?api=1&query=1%20Main%20St%20%26%202nd");
  assert.equal(addressHref(address, "apple"), `https://maps.apple.com/?q=${q}`);
});
