// Data quality (#/quality): completeness per rep, incomplete and stale cards, and stored phones and
// emails that no longer pass validation, each with an inline fix sent as an ordinary sync mutation
// (so history, merge rules and conflicts apply as for any device).
import { localMessage } from "../shared/messages.js";
import { api } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { personLabel, personName } from "../shared/people.js";
import { cell, errorText, fieldName, loading, table, today } from "./common.js";
import { shownTime } from "../shared/ui.js";
import { Clock } from "../app/hlc.js";
import { timeOrderedUuid } from "../app/ids.js";

// One device id per signed-in user: revoking one person's browser must not stop everyone's fixes.
let DEVICE = "office-web";
export const useDevice = (user) => {
  DEVICE = `office-web-${user}`.replace(/[^A-Za-z0-9._:-]/g, "_").slice(0, 100);
  clock = new Clock(DEVICE);
};
const LISTED = 100;

const s = { staleDays: "90", data: null, loading: false, error: null, notice: null, fixes: {} };

// This browser's hybrid logical clock (the app's own, pwa/js/app/hlc.js): two fixes in one
// millisecond get different stamps, and a fix never stamps behind the one before it.
let clock = new Clock(DEVICE);
const fixKey = (item) => `${item.card}:${item.field}`;

async function load(ctx) {
  const days = Number(s.staleDays);
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    s.error = t("office.quality.daysInvalid");
    ctx.render();
    return;
  }
  await loading(ctx, s, async () => {
    s.data = await api(`/quality?date=${today()}&stale_days=${days}`);
  });
}

// The fix replaces the one bad element of the list (or drops it when the box is empty); `was` is
// the list as read just now, so a concurrent edit to another element survives the merge.
async function fix(ctx, item) {
  const f = s.fixes[fixKey(item)];
  const [, name] = item.field.match(/^(\w+)\[\d+\]$/) || [];
  f.busy = true;
  f.error = null;
  s.notice = null;
  ctx.render();
  try {
    const { card } = await api(`/cards/${encodeURIComponent(item.card)}`);
    const old = card[name] || [];
    const at = old.indexOf(item.value);
    if (at < 0) throw new Error(t("office.quality.changedSince"));
    const next = old.slice();
    const value = f.value.trim();
    if (value) next[at] = value;
    else next.splice(at, 1);
    const mutation = { id: timeOrderedUuid(), op: "card.put", card: card.id, at: clock.now(), fields: { [name]: next }, was: { [name]: old } };
    const answer = await api("/sync", { method: "POST", body: { device: DEVICE, limit: 1, mutations: [mutation] } });
    const result = answer.results[0];
    if (result.status === "rejected") {
      f.error = result.errors.map((e) => localMessage(e.message)).join("; ") || result.code;
      f.busy = false;
      ctx.render();
      return;
    }
    const status = result.status;
    s.notice = () => t("office.quality.fixed", { name: item.name, field: fieldName(name), status: t(`office.quality.status.${status}`) });
    delete s.fixes[fixKey(item)];
    await load(ctx);
  } catch (error) {
    if (ctx.lost(error)) return;
    f.error = errorText(error);
    f.busy = false;
    ctx.render();
  }
}

// --- drawing -----------------------------------------------------------------------------------

const cardLink = (id, name) => h("a", { href: `index.html#/card/${encodeURIComponent(id)}` }, name);
const first = (list) => list.slice(0, LISTED);
const more = (list) => (list.length > LISTED ? h("p", { class: "hint" }, t("office.quality.firstOf", { shown: LISTED, count: list.length })) : null);

function fieldLabel(path) {
  const [, name, index] = path.match(/^(\w+)\[(\d+)\]$/) || [null, path, null];
  return index === null ? fieldName(name) : `${fieldName(name)} ${Number(index) + 1}`;
}

function invalidSection(ctx, d) {
  const cols = ["card", "field", "value", "problem", "fix"].map((k) => t(`office.quality.invalid.${k}`));
  const rows = first(d.invalid_values).map((item, n) => {
    const key = fixKey(item);
    const f = (s.fixes[key] ||= { value: item.value, error: null, busy: false });
    const id = `fix-${n}`;
    const input = h("input", { id, type: "text", value: f.value, autocomplete: "off", spellcheck: "false",
      "aria-label": t("office.quality.fixFor", { field: fieldLabel(item.field), name: item.name }),
      "aria-invalid": f.error ? "true" : null, "aria-describedby": f.error ? `${id}-error` : null,
      oninput: (e) => { f.value = e.target.value; } });
    return h("tr", { "data-card": item.card, "data-field": item.field },
      cell(cols[0], cardLink(item.card, item.name)),
      cell(cols[1], fieldLabel(item.field)),
      cell(cols[2], h("span", { class: "mono" }, item.value)),
      cell(cols[3], localMessage(item.message)),
      cell(cols[4], h("form", { class: "inline fix", onsubmit: (e) => { e.preventDefault(); fix(ctx, item); } },
        input, h("button", { type: "submit", id: `${id}-save`, disabled: f.busy,
          "aria-label": t("office.quality.saveFor", { field: fieldLabel(item.field), name: item.name }) }, t("office.quality.save"))),
      f.error ? h("p", { class: "field-error", id: `${id}-error`, role: "alert" }, f.error) : null));
  });
  return section({ name: "invalid", tableId: "invalid-values", title: t("office.quality.invalid", { count: d.invalid_values.length }),
    hint: t("office.quality.invalidHint"), cols, rows, none: t("office.quality.invalidNone"), list: d.invalid_values });
}

// A section of the report: its title over an optional hint, the table (captioned with the title)
// of the first rows, and how many more there are.
function section({ name, tableId, title, hint = null, cols, rows, none, list = null }) {
  return h("section", { class: "card", "aria-labelledby": `${name}-title` },
    h("h2", { id: `${name}-title` }, title),
    hint ? h("p", { class: "hint" }, hint) : null,
    table(tableId, title, cols, rows, none),
    list ? more(list) : null);
}

function ownersSection(d) {
  const cols = ["owner", "cards", "incomplete", "stale", "score"].map((k) => t(`office.quality.owners.${k}`));
  const rows = Object.entries(d.owners).map(([name, o]) => h("tr", { "data-owner": name },
    cell(cols[0], personLabel(name)), cell(cols[1], String(o.cards)), cell(cols[2], String(o.incomplete)), cell(cols[3], String(o.stale)),
    cell(cols[4], `${o.average_score}%`)));
  return section({ name: "owners", tableId: "quality-owners", title: t("office.quality.owners"), cols, rows, none: t("office.quality.noCards") });
}

function incompleteSection(ctx, d) {
  const custom = ctx.options.custom_fields || [];
  const cols = ["card", "owner", "score", "missing"].map((k) => t(`office.quality.incomplete.${k}`));
  const rows = first(d.incomplete).map((c) => h("tr", { "data-card": c.id },
    cell(cols[0], cardLink(c.id, c.name)), cell(cols[1], personName(c.owner)), cell(cols[2], `${c.score}%`),
    cell(cols[3], c.missing.map((m) => (m === "contact" ? t("office.quality.contact") : fieldName(m, custom))).join(", "))));
  return section({ name: "incomplete", tableId: "quality-incomplete", title: t("office.quality.incomplete", { count: d.incomplete.length }),
    hint: t("office.quality.incompleteHint"), cols, rows, none: t("office.quality.incompleteNone"), list: d.incomplete });
}

function staleSection(d) {
  const cols = ["card", "owner", "updated"].map((k) => t(`office.quality.stale.${k}`));
  const rows = first(d.stale).map((c) => h("tr", { "data-card": c.id },
    cell(cols[0], cardLink(c.id, c.name)), cell(cols[1], personName(c.owner)), cell(cols[2], shownTime(c.updated_at))));
  return section({ name: "stale", tableId: "quality-stale", title: t("office.quality.stale", { count: d.stale.length, days: d.stale_days }),
    cols, rows, none: t("office.quality.staleNone"), list: d.stale });
}

function head(ctx) {
  const d = s.data;
  const days = h("input", { id: "stale-days", type: "number", min: "1", max: "3650", step: "1", value: s.staleDays, inputmode: "numeric",
    oninput: (e) => { s.staleDays = e.target.value; } });
  const stat = (id, value, label) => h("div", { class: "stat" }, h("span", { class: "value", id }, value), h("span", { class: "label" }, label));
  return h("section", { class: "card", "aria-labelledby": "quality-title" },
    h("h2", { id: "quality-title" }, t("office.quality.title")),
    h("p", { class: "hint" }, t("office.quality.intro")),
    h("form", { class: "inline quality-form", novalidate: true, onsubmit: (e) => { e.preventDefault(); load(ctx); } },
      h("div", { class: "field" }, h("label", { for: "stale-days" }, t("office.quality.staleDays")), days),
      h("button", { type: "submit", id: "quality-refresh", disabled: s.loading }, t("office.quality.apply"))),
    d ? h("div", { class: "stats" },
      stat("stat-cards", String(d.cards), t("office.quality.cards")),
      stat("stat-score", d.average_score === null ? t("status.none") : `${d.average_score}%`, t("office.quality.average")),
      stat("stat-incomplete", String(d.incomplete.length), t("office.quality.incompleteShort")),
      stat("stat-stale", String(d.stale.length), t("office.quality.staleShort")),
      stat("stat-invalid", String(d.invalid_values.length), t("office.quality.invalidShort"))) : null);
}

export const qualityScreen = {
  name: "quality",
  reset() {
    Object.assign(s, { data: null, notice: null, error: null, fixes: {} });
  },
  enter: load,
  view(ctx) {
    const d = s.data;
    return h("div", { class: "office-screen", id: "screen-quality", "aria-busy": s.loading ? "true" : null },
      head(ctx),
      s.loading ? h("p", { class: "busy", role: "status" }, t("office.loading")) : null,
      s.notice ? h("p", { class: "notice", role: "status", id: "notice" }, s.notice()) : null,
      s.error ? h("p", { class: "error", role: "alert", id: "quality-error" }, s.error) : null,
      d ? [invalidSection(ctx, d), ownersSection(d), incompleteSection(ctx, d), staleSection(d)] : null);
  },
};
