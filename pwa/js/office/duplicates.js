// Duplicates (#/duplicates): groups of cards that are likely one customer, side by side; merging
// one group keeps the card chosen and, per field, the value chosen; phones, emails and tags are
// united. The card kept by default is the one with the most history (activities, then the oldest),
// so a merge never quietly hands a customer to the rep of a newer, emptier card; when the cards
// belong to different people the screen asks who keeps the customer before it merges.
// This session's merges are listed with an undo button.
import { api, ApiError } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { personLabel, personName } from "../shared/people.js";
import { entryAction, errorText, fieldName, isEmpty, loading, short, shown } from "./common.js";
import { shownTime } from "../shared/ui.js";

const MERGES_KEY = "fieldcards.office.merges";
const PAGE = 10;
// The fields a person chooses between; phones, emails and tags are united by the server.
const CHOSEN = ["name", "company", "title", "address", "region", "industry", "segment", "owner", "birthday", "follow_up", "notes"];
const UNITED = ["phones", "emails", "tags"];
// What a card may hold (the contract's limits): past them the person picks what to keep.
const LIMITS = { phones: 10, emails: 10, tags: 20 };
const LONG = 160;

const readMerges = () => {
  try {
    return JSON.parse(sessionStorage.getItem(MERGES_KEY) || "[]");
  } catch {
    return [];
  }
};

const s = {
  loading: false, groups: null, error: null, notice: null, page: 0,
  cards: new Map(), // id → {card, activities} | {error}
  forms: {}, // group key → {keep, picks: {field: card id}, error, busy}
  merges: readMerges(),
};

const keyOf = (group) => group.cards.join(",");
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function saveMerges() {
  sessionStorage.setItem(MERGES_KEY, JSON.stringify(s.merges.slice(0, 50)));
}

async function loadCards(ctx) {
  const wanted = (s.groups || []).slice(s.page * PAGE, (s.page + 1) * PAGE).flatMap((g) => g.cards).filter((id) => !s.cards.has(id));
  await Promise.all([...new Set(wanted)].map(async (id) => {
    try {
      s.cards.set(id, await api(`/cards/${encodeURIComponent(id)}`));
    } catch (error) {
      if (ctx.lost(error)) throw error;
      s.cards.set(id, { error: errorText(error) });
    }
  }));
}

async function load(ctx) {
  await loading(ctx, s, async () => {
    s.groups = (await api("/duplicates")).groups;
    s.page = Math.min(s.page, Math.max(0, Math.ceil(s.groups.length / PAGE) - 1));
    await loadCards(ctx);
  });
}

// The default for each field: the kept card's value, else the first card that has one.
function defaults(group, keep) {
  const picks = {};
  for (const name of CHOSEN) {
    const order = [keep, ...group.cards.filter((id) => id !== keep)];
    picks[name] = order.find((id) => !isEmpty(s.cards.get(id)?.card?.[name])) || keep;
  }
  return picks;
}

// Every value of a set field across the cards, the kept card's first, as the server unites them.
function unionOf(group, keep, name) {
  const out = [];
  for (const id of [keep, ...group.cards.filter((c) => c !== keep)]) {
    for (const value of s.cards.get(id)?.card?.[name] || []) if (!out.includes(value)) out.push(value);
  }
  return out;
}

// Set fields whose union is over the limit: which values to keep (the first ones, until changed).
function trimsOf(group, keep) {
  const trims = {};
  for (const name of UNITED) {
    const union = unionOf(group, keep, name);
    if (union.length > LIMITS[name]) trims[name] = new Set(union.slice(0, LIMITS[name]));
  }
  return trims;
}

const activityCount = (id) => s.cards.get(id)?.activities?.length ?? 0;

// The card with the most history: most activities, then the oldest card, then the server's order.
export function preferredCard(cards) {
  const ranked = cards.map((c, n) => ({ c, n })).sort((a, b) => (b.c.activities - a.c.activities)
    || String(a.c.created_at || "").localeCompare(String(b.c.created_at || "")) || (a.n - b.n));
  return ranked[0]?.c.id;
}

const ownersOf = (group) => [...new Set(group.cards.map((id) => s.cards.get(id)?.card?.owner).filter((o) => !isEmpty(o)))];

function formOf(group) {
  const key = keyOf(group);
  if (!s.forms[key]) {
    const keep = preferredCard(group.cards.map((id) => ({ id, activities: activityCount(id), created_at: s.cards.get(id)?.card?.created_at })));
    // Owners that differ are never settled by a default: the person answers (ownerAnswered).
    s.forms[key] = { keep, picks: defaults(group, keep), trims: trimsOf(group, keep), error: null, busy: false,
      ownerAnswered: ownersOf(group).length < 2 };
  }
  return s.forms[key];
}

async function merge(ctx, group) {
  const form = formOf(group);
  if (!form.ownerAnswered) {
    form.error = t("office.dup.ownerFirst");
    ctx.render();
    document.querySelector(`[data-group="${keyOf(group)}"] fieldset.owner-choice input`)?.focus();
    return;
  }
  const kept = s.cards.get(form.keep).card;
  const values = {};
  for (const name of CHOSEN) {
    const from = form.picks[name];
    if (from !== form.keep && !same(s.cards.get(from).card[name], kept[name])) values[name] = s.cards.get(from).card[name];
  }
  for (const [name, kept] of Object.entries(form.trims)) {
    if (kept.size > LIMITS[name]) {
      form.error = t("office.dup.trimTooMany", { field: fieldName(name), limit: LIMITS[name] });
      ctx.render();
      return;
    }
    values[name] = unionOf(group, form.keep, name).filter((v) => kept.has(v));
  }
  const others = group.cards.filter((id) => id !== form.keep);
  form.busy = true;
  form.error = null;
  s.notice = null;
  ctx.render();
  try {
    const done = await api("/cards/merge", { method: "POST", body: { into: form.keep, from: others, values } });
    s.merges.unshift({ id: done.merge, into: done.card.id, name: done.card.name, from: others.map((id) => s.cards.get(id).card.name),
      at: new Date().toISOString(), undone: null });
    saveMerges();
    s.notice = () => t("office.dup.merged", { name: done.card.name, count: others.length });
    delete s.forms[keyOf(group)];
    for (const id of group.cards) s.cards.delete(id);
    await load(ctx);
  } catch (error) {
    if (ctx.lost(error)) return;
    form.error = error instanceof ApiError && error.fields.length
      ? error.fields.map((f) => `${f.path}: ${f.message}`).join("; ") : errorText(error);
    form.busy = false;
    ctx.render();
  }
}

async function unmerge(ctx, entry) {
  await entryAction(ctx, s, entry, async () => {
    const done = await api(`/merges/${encodeURIComponent(entry.id)}/undo`, { method: "POST" });
    entry.undone = { conflicts: done.conflicts, at: new Date().toISOString() };
    for (const card of done.cards || []) s.cards.delete(card.id);
    const conflicts = done.conflicts;
    s.notice = () => `${t("office.dup.undone", { name: entry.name })} ${conflicts ? t("office.dup.undoneConflicts", { count: conflicts }) : ""}`.trim();
  }, {
    refused: (error) => {
      if (error instanceof ApiError && /undone already/.test(error.message)) entry.undone = { conflicts: 0, at: null };
    },
    settle: saveMerges,
    after: () => load(ctx),
  });
}

// --- drawing -----------------------------------------------------------------------------------

function valueText(value) {
  const text = shown(value);
  return text.length > LONG ? h("span", { title: text }, `${text.slice(0, LONG)}…`) : text;
}

function cardHead(id, n) {
  const found = s.cards.get(id);
  const card = found?.card;
  return h("th", { scope: "col", class: "dup-card" },
    h("span", { class: "name" }, card ? card.name : t("office.dup.cardN", { n: n + 1 })),
    card ? h("span", { class: "sub dup-facts" }, t("office.dup.carries", { count: activityCount(id) }),
      card.owner ? ` · ${t("office.dup.ownedBy", { owner: personName(card.owner) })}` : "") : null,
    h("span", { class: "sub" }, h("span", { class: "mono", title: id }, short(id)), " · ",
      h("a", { href: `index.html#/card/${encodeURIComponent(id)}`, "aria-label": t("office.dup.openCard", { name: card?.name || short(id) }) }, t("office.dup.open"))),
    found?.error ? h("span", { class: "field-error" }, found.error) : null);
}

function groupView(ctx, group, gi) {
  const ready = group.cards.every((id) => s.cards.get(id)?.card);
  const form = ready ? formOf(group) : null;
  const cards = group.cards.map((id) => s.cards.get(id)?.card);
  const keptCol = (id) => (form && id === form.keep ? "kept" : null);
  const title = h("h3", { id: `group-${gi}-title` },
    t(`office.dup.reason.${group.reason}`), ": ", h("span", { class: "mono" }, group.key || ""),
    h("span", { class: "sub inline-sub" }, t("office.dup.score", { score: Math.round(group.score * 100) }),
      (group.reasons || []).length > 1 ? ` · ${group.reasons.map((r) => t(`office.dup.reason.${r}`)).join(", ")}` : ""),
    // A rep was told at sync that a colleague holds this customer (or that it is in the pool).
    group.candidate ? h("span", { class: "badge wait dup-candidate" }, t("office.dup.candidate")) : null);
  if (!ready) {
    return h("section", { class: "card dup-group", "aria-labelledby": `group-${gi}-title`, "data-group": keyOf(group) },
      title, h("p", { class: "busy" }, t("office.dup.loadingCards")));
  }
  const keepRow = h("tr", { class: "keep-row" },
    h("th", { scope: "row" }, t("office.dup.keep")),
    group.cards.map((id, ci) => h("td", { class: keptCol(id) },
      h("label", { class: "check", for: `keep-${gi}-${ci}` },
        h("input", { type: "radio", name: `keep-${gi}`, id: `keep-${gi}-${ci}`, value: id, checked: id === form.keep,
          onchange: () => {
            const owner = form.picks.owner;
            form.keep = id;
            form.picks = defaults(group, id);
            if (form.ownerAnswered) form.picks.owner = owner; // an answer stays answered
            form.trims = trimsOf(group, id);
            ctx.render();
          } }),
        t("office.dup.keepThis")))));
  const chosenRows = CHOSEN.map((name) => {
    const values = cards.map((c) => c[name]);
    const distinct = values.filter((v) => !isEmpty(v)).filter((v, i, all) => all.findIndex((w) => same(w, v)) === i);
    // The owner, when it differs, is asked below the table in words, not picked in a cell.
    const choose = distinct.length > 1 && name !== "owner";
    return h("tr", { "data-field": name, class: choose ? "differs" : null },
      h("th", { scope: "row" }, fieldName(name)),
      group.cards.map((id, ci) => {
        const value = values[ci];
        if (!choose || isEmpty(value)) return h("td", { class: keptCol(id) }, valueText(name === "owner" && value ? personLabel(value) : value));
        const rid = `pick-${gi}-${name}-${ci}`;
        return h("td", { class: keptCol(id) }, h("label", { class: "check pick", for: rid },
          h("input", { type: "radio", name: `pick-${gi}-${name}`, id: rid, value: id, checked: form.picks[name] === id,
            onchange: () => { form.picks[name] = id; ctx.render(); } }),
          valueText(value)));
      }));
  });
  const unitedRows = UNITED.map((name) => h("tr", { "data-field": name },
    h("th", { scope: "row" }, fieldName(name)),
    cards.map((c) => h("td", { class: keptCol(c.id) }, valueText(c[name])))));
  const facts = h("tr", {},
    h("th", { scope: "row" }, t("office.dup.activities")),
    group.cards.map((id) => h("td", { class: keptCol(id) }, String(s.cards.get(id).activities?.length ?? 0))));
  const updated = h("tr", {},
    h("th", { scope: "row" }, t("office.dup.updated")),
    cards.map((c) => h("td", { class: keptCol(c.id) }, shownTime(c.updated_at))));
  return h("section", { class: "card dup-group", "aria-labelledby": `group-${gi}-title`, "data-group": keyOf(group) },
    title,
    h("div", { class: "table-scroll" },
      h("table", { class: "compare", id: `group-${gi}` },
        h("caption", { class: "sr-only" }, t("office.dup.compare")),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("office.dup.field")), group.cards.map((id, n) => cardHead(id, n)))),
        h("tbody", {}, keepRow, chosenRows, unitedRows, facts, updated))),
    h("p", { class: "hint" }, t("office.dup.unitedHint")),
    ownerChoice(ctx, group, gi, form),
    Object.entries(form.trims).map(([name, kept]) => trimChoice(ctx, group, gi, form, name, kept)),
    form.error ? h("p", { class: "error", role: "alert", id: `merge-error-${gi}` }, form.error) : null,
    h("button", { type: "button", id: `merge-${gi}`, disabled: form.busy, "aria-describedby": form.ownerAnswered ? null : `owner-${gi}-hint`,
      onclick: () => merge(ctx, group) },
      t("office.dup.merge", { count: group.cards.length })));
}

// Cards of different people: who keeps the customer is a question the person answers, with the
// owner of the card with the most history named as the suggestion; nothing is ticked until then.
function ownerChoice(ctx, group, gi, form) {
  const owners = ownersOf(group);
  if (owners.length < 2) return null;
  const suggested = s.cards.get(form.keep)?.card?.owner;
  const carried = (owner) => group.cards.filter((id) => s.cards.get(id).card.owner === owner)
    .reduce((n, id) => n + activityCount(id), 0);
  return h("fieldset", { class: "owner-choice", id: `owner-${gi}` },
    h("legend", {}, t("office.dup.ownersDiffer", { count: owners.length })),
    owners.map((owner, n) => {
      const id = `owner-${gi}-${n}`;
      return h("label", { class: "check", for: id },
        h("input", { type: "radio", name: `owner-${gi}`, id, value: owner, checked: form.ownerAnswered && s.cards.get(form.picks.owner)?.card?.owner === owner,
          onchange: () => {
            // picks name, per field, the card whose value is kept
            form.picks.owner = group.cards.find((c) => s.cards.get(c).card.owner === owner);
            form.ownerAnswered = true;
            form.error = null;
            ctx.render();
          } }),
        t("office.dup.ownerOption", { owner: personLabel(owner), count: carried(owner) }),
        owner === suggested ? h("span", { class: "badge" }, t("office.dup.suggested")) : null);
    }),
    form.ownerAnswered ? null : h("p", { class: "hint", id: `owner-${gi}-hint` }, t("office.dup.ownerHint")));
}

// More phones (emails, tags) than a card may hold: the person ticks the ones to keep.
function trimChoice(ctx, group, gi, form, name, kept) {
  const union = unionOf(group, form.keep, name);
  return h("fieldset", { class: "trim", id: `trim-${gi}-${name}` },
    h("legend", {}, t("office.dup.trim", { count: union.length, field: fieldName(name), limit: LIMITS[name] })),
    union.map((value, n) => {
      const id = `trim-${gi}-${name}-${n}`;
      return h("label", { class: "check", for: id },
        h("input", { type: "checkbox", id, value, checked: kept.has(value), onchange: (e) => {
          if (e.target.checked) kept.add(value);
          else kept.delete(value);
          form.error = null;
          ctx.render();
        } }), shown(value));
    }),
    h("p", { class: kept.size > LIMITS[name] ? "error" : "hint", id: `trim-${gi}-${name}-count` },
      t("office.dup.trimCount", { n: kept.size, limit: LIMITS[name] })));
}

function mergesCard(ctx) {
  if (!s.merges.length) return null;
  return h("section", { class: "card", "aria-labelledby": "merges-title" },
    h("h2", { id: "merges-title" }, t("office.dup.session")),
    h("ul", { class: "merges", id: "merges" }, s.merges.map((m) => h("li", { "data-merge": m.id },
      h("span", {}, t("office.dup.mergedEntry", { name: m.name, from: m.from.join(", "), time: shownTime(m.at) })),
      m.undone ? h("span", { class: "badge" }, t("office.dup.undoneBadge"))
        : h("button", { type: "button", class: "danger", id: `undo-merge-${m.id}`, disabled: Boolean(m.busy),
          "aria-label": t("office.dup.undoFor", { name: m.name }), onclick: () => unmerge(ctx, m) }, t("office.dup.undo"))))));
}

function pager(ctx) {
  const pages = Math.ceil((s.groups?.length || 0) / PAGE);
  if (pages <= 1) return null;
  const go = async (page) => { s.page = page; ctx.render(); await loadCards(ctx).catch(() => null); ctx.render(); };
  return h("nav", { class: "pager", "aria-label": t("office.dup.pages") },
    h("button", { type: "button", class: "secondary", id: "dup-prev", disabled: s.page === 0, onclick: () => go(s.page - 1) }, t("office.dup.prev")),
    h("span", {}, t("office.dup.page", { page: s.page + 1, pages })),
    h("button", { type: "button", class: "secondary", id: "dup-next", disabled: s.page >= pages - 1, onclick: () => go(s.page + 1) }, t("office.dup.next")));
}

export const duplicatesScreen = {
  name: "duplicates",
  reset() {
    Object.assign(s, { groups: null, error: null, notice: null, forms: {} });
    s.cards.clear();
  },
  enter: load,
  view(ctx) {
    const groups = s.groups || [];
    const shownGroups = groups.slice(s.page * PAGE, (s.page + 1) * PAGE);
    return h("div", { class: "office-screen", id: "screen-duplicates" },
      h("section", { class: "card", "aria-labelledby": "dup-title" },
        h("div", { class: "screen-head" },
          h("h2", { id: "dup-title" }, t("office.duplicates.title")),
          h("button", { type: "button", class: "secondary", id: "dup-refresh", disabled: s.loading, onclick: () => load(ctx) }, t("status.refresh"))),
        h("p", { class: "hint" }, t("office.dup.intro")),
        s.loading ? h("p", { class: "busy", role: "status" }, t("office.loading")) : null,
        s.groups && !s.loading ? h("p", { id: "dup-count", role: "status" }, t("office.dup.count", { count: groups.length })) : null),
      s.notice ? h("p", { class: "notice", role: "status", id: "notice" }, s.notice()) : null,
      s.error ? h("p", { class: "error", role: "alert", id: "dup-error" }, s.error) : null,
      mergesCard(ctx),
      shownGroups.map((g, n) => groupView(ctx, g, s.page * PAGE + n)),
      pager(ctx));
  },
};
