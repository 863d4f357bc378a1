// Unit tests of pwa/js/shared/messages.js: the server's English sentences a person meets, in Chinese.
import assert from "node:assert/strict";
import { test } from "node:test";

globalThis.localStorage = { getItem: () => null, setItem: () => {} };
globalThis.document = { documentElement: {} };
globalThis.fetch = async () => ({ json: async () => ({}) });

const { loadLanguage } = await import("../../pwa/js/shared/i18n.js");
const { localMessage } = await import("../../pwa/js/shared/messages.js");

test("the drill's result and an amount's refusal read in Chinese, with their numbers", async () => {
  await loadLanguage("zh-CN");
  assert.equal(localMessage("restored 120 cards and 45 activities; 0 changes of the last 120 s still in flight"),
    "已恢复 120 张客户卡片和 45 条跟进记录；最近 120 秒内还有 0 项修改在传输中");
  assert.equal(localMessage("the replica is missing 3 changes, the oldest from 2026-11-24T10:00:00Z: replication is behind or broken"),
    "副本缺少 3 项修改，最早的一项来自 2026-11-24T10:00:00Z：复制落后或已中断");
  assert.equal(localMessage('"12,50" is not an amount: write a number like 12500 or 12,500.50'), "“12,50”不是金额：请填写数字，例如 12500 或 12,500.50");
  assert.equal(localMessage("something new"), "something new"); // unknown: kept
});
