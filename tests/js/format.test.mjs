// Unit tests of pwa/js/app/format.js: purchase amounts as people write them.
import assert from "node:assert/strict";
import { test } from "node:test";

import { readAmount } from "../../pwa/js/app/format.js";

test("amounts with thousands separators and a yuan sign are read", () => {
  assert.deepEqual(readAmount("12,500"), { amount: "12500", yuan: false });
  assert.deepEqual(readAmount("¥12,500"), { amount: "12500", yuan: true });
  assert.deepEqual(readAmount(" ￥12,500.50 "), { amount: "12500.50", yuan: true });
  assert.deepEqual(readAmount("１２５００"), { amount: "12500", yuan: false });
  assert.deepEqual(readAmount("1200.5"), { amount: "1200.5", yuan: false });
});

test("what is not an amount is refused, not guessed", () => {
  for (const wrong of ["", "12,50", "1,2345", "¥", "12.500,00", "twelve", "1.23456"]) assert.equal(readAmount(wrong), null, wrong);
});
