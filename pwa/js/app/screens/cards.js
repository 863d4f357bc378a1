// The cards screen on a phone: search as you type (name, company, phone digits, email, tags, pinyin
// full and initials), filters by segment, tag and follow-up due, and the list. The desktop table
// (desktop.js) uses the same filters.
import { h } from "../../shared/dom.js";
import { language, t } from "../../shared/i18n.js";
import { segmentsOf, ymd } from "../format.js";
import { matches } from "../search.js";
import { badge, swap } from "./parts.js";
import { personLabel } from "../../shared/people.js";

const MORE = 200;

export const STAGES = ["lead", "new", "active", "at_risk", "lost", "won_back"];

export function filtered(app) {
  const { query, segment, tag, due, owner, stage } = app.ui;
  const today = ymd();
  const q = query.trim();
  return app.rows.filter((row) => {
    const v = row.view;
    if (segment && (segment === "none" ? v.segment : v.segment !== segment)) return false;
    if (tag && !(v.tags || []).includes(tag)) return false;
    if (due && !(v.follow_up && v.follow_up <= today)) return false;
    if (owner && v.owner !== owner) return false;
    if (stage && (stage === "none" ? v.stage : v.stage !== stage)) return false; // lifecycle stage (issue 17)
    return !q || matches(row.search || "", q);
  });
}

const collator = () => new Intl.Collator(language(), { sensitivity: "base", numeric: true });

export const byName = () => {
  const c = collator();
  return (a, b) => c.compare(a.view.name || "", b.view.name || "");
};

export function allTags(app) {
  const tags = new Set(app.rows.flatMap((r) => r.view.tags || []));
  return [...tags].sort(collator().compare);
}

export function allOwners(app) {
  const owners = new Set(app.rows.map((r) => r.view.owner).filter(Boolean));
  if (app.me?.user) owners.add(app.me.user);
  return [...owners].sort();
}

// Search and filters; `changed()` runs after every change of one of them.
export function filterBar(app, changed, { owners = false } = {}) {
  const search = h("input", { type: "search", id: "q", value: app.ui.query, autocomplete: "off", enterkeyhint: "search",
    placeholder: t("field.search.placeholder"), "aria-describedby": "result-count",
    oninput: (e) => {
      app.ui.query = e.target.value;
      app.ui.limit = MORE;
      changed();
    } });
  const segment = h("select", { id: "filter-segment", onchange: (e) => { app.ui.segment = e.target.value; changed(); } },
    h("option", { value: "", selected: !app.ui.segment }, t("field.filter.anySegment")),
    segmentsOf(app.schema).map((s) => h("option", { value: s, selected: app.ui.segment === s }, t("field.segment.value", { segment: s }))),
    h("option", { value: "none", selected: app.ui.segment === "none" }, t("field.filter.noSegment")));
  const tag = h("select", { id: "filter-tag", onchange: (e) => { app.ui.tag = e.target.value; changed(); } });
  const fillTags = () => swap(tag,
    h("option", { value: "", selected: !app.ui.tag }, t("field.filter.anyTag")),
    [...new Set([...allTags(app), ...(app.ui.tag ? [app.ui.tag] : [])])].map((x) => h("option", { value: x, selected: app.ui.tag === x }, x)));
  fillTags();
  const stage = h("select", { id: "filter-stage", onchange: (e) => { app.ui.stage = e.target.value; changed(); } },
    h("option", { value: "", selected: !app.ui.stage }, t("field.filter.anyStage")),
    STAGES.map((s) => h("option", { value: s, selected: app.ui.stage === s }, t(`field.stage.${s}`))),
    h("option", { value: "none", selected: app.ui.stage === "none" }, t("field.filter.noStage")));
  const due = h("input", { type: "checkbox", id: "filter-due", checked: app.ui.due, onchange: (e) => { app.ui.due = e.target.checked; changed(); } });
  let owner = null;
  const fillOwners = () => owner && swap(owner,
    h("option", { value: "", selected: !app.ui.owner }, t("field.filter.anyOwner")),
    allOwners(app).map((x) => h("option", { value: x, selected: app.ui.owner === x }, personLabel(x))));
  if (owners) {
    owner = h("select", { id: "filter-owner", onchange: (e) => { app.ui.owner = e.target.value; changed(); } });
    fillOwners();
  }
  const el = h("div", { class: "filters", role: "search" },
    h("div", { class: "search-box" }, h("label", { for: "q", class: "sr-only" }, t("field.search.label")), search),
    h("div", { class: "filter-row" },
      h("label", { class: "sr-only", for: "filter-segment" }, t("field.filter.segment")), segment,
      h("label", { class: "sr-only", for: "filter-tag" }, t("field.filter.tag")), tag,
      h("label", { class: "sr-only", for: "filter-stage" }, t("field.filter.stage")), stage,
      owner ? [h("label", { class: "sr-only", for: "filter-owner" }, t("field.filter.owner")), owner] : null,
      h("label", { class: "check", for: "filter-due" }, due, h("span", {}, t("field.filter.due")))));
  return { el, refresh: () => { fillTags(); fillOwners(); } };
}

function item(app, row, today) {
  const v = row.view;
  const overdue = v.follow_up && v.follow_up < today;
  const dueToday = v.follow_up === today;
  return h("li", {},
    h("a", { href: `#/card/${encodeURIComponent(row.id)}`, class: "card-item", "data-card-id": row.id },
      h("span", { class: "name" }, v.name || t("field.none")),
      v.company || v.title ? h("span", { class: "sub" }, [v.company, v.title].filter(Boolean).join(" · ")) : null,
      h("span", { class: "badges" },
        v.segment ? badge(t("field.segment.value", { segment: v.segment }), `seg seg-${v.segment}`) : null,
        overdue ? badge(t("field.badge.overdue", { date: v.follow_up }), "bad") : null,
        dueToday ? badge(t("field.badge.dueToday"), "wait") : null,
        app.pendingIds?.has(row.id) ? badge(t("field.badge.unsynced"), "wait") : null)));
}

export function cardsScreen(app) {
  const count = h("p", { id: "result-count", class: "hint", "aria-live": "polite" });
  const list = h("ul", { class: "card-list", id: "card-list" });
  const more = h("div", { class: "more" });
  const render = () => {
    const today = ymd();
    const found = filtered(app).sort(byName());
    const shown = found.slice(0, app.ui.limit);
    count.textContent = app.rows.length
      ? t("field.cards.count", { shown: found.length, total: app.rows.length })
      : t("field.cards.empty");
    swap(list, shown.map((row) => item(app, row, today)));
    swap(more, found.length > shown.length
      ? h("button", { type: "button", id: "show-more", class: "secondary", onclick: () => { app.ui.limit += MORE; render(); } },
        t("field.cards.more", { n: found.length - shown.length }))
      : null);
  };
  const filters = filterBar(app, render);
  render();
  const el = h("section", { class: "cards-screen", "aria-labelledby": "cards-title" },
    h("div", { class: "screen-head" },
      h("h2", { id: "cards-title", tabindex: "-1" }, t("field.nav.cards")),
      h("a", { href: "#/pool", id: "open-pool", class: "button secondary" }, t("field.pool.title")),
      h("a", { href: "#/new", id: "new-card", class: "button" }, t("field.cards.new"))),
    filters.el, count, list, more);
  return { el, title: t("field.nav.cards"), update: () => { filters.refresh(); render(); } };
}
