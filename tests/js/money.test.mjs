// Unit tests of money() in pwa/js/i18n.js: amounts in the language's own way.
import assert from "node:assert/strict";
import { test } from "node:test";

import { money } from "../../pwa/js/i18n.js";

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
