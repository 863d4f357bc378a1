// Unit tests of money() in pwa/js/shared/i18n.js: amounts in the language's own way.
import assert from "node:assert/strict";
import { test } from "node:test";

import { money } from "../../pwa/js/shared/i18n.js";
import { localTime } from "../../pwa/js/shared/time.js";

test("yuan with the narrow sign, separators and two decimals, in both languages", () => {
  assert.equal(money("12500", "CNY", "zh-CN"), "¥12,500.00");
  assert.equal(money("12500", "CNY", "en"), "¥12,500.00");
  assert.equal(money("1200.5", "USD", "en"), "$1,200.50");
  assert.equal(money(12500.5, null, "en"), "12,500.50");
});

test("an unknown currency code or a non-number is shown as it is, never as NaN", () => {
  assert.equal(money("10", "XYZ1", "en"), "10.00 XYZ1");
  assert.equal(money("abc", "CNY", "en"), "abc");
});

test("server times are shown in the local clock's time, in the app's format", () => {
  const before = process.env.TZ;
  process.env.TZ = "Asia/Shanghai"; // UTC+8: what an office in China reads
  try {
    assert.equal(localTime("2026-12-04T08:05:09.123456Z"), "2026-12-04 16:05:09");
    assert.equal(localTime("2026-12-31T20:00:00Z"), "2027-01-01 04:00:00");
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
  assert.equal(localTime("not a time"), "not a time");
});
