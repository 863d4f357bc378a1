// Today's part of the customer's voice (issue 17): what customers changed through a link on my
// cards ("李娜 updated her details", Accept or Undo), and the open follow-up items of my cards
// (status and a resolution note, changed offline like any edit of the card).
import { h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { markSeen, undoFields } from "../voice.js";
import { badge, valueText } from "./parts.js";
import { problemText } from "./field.js";

const STATUSES = ["open", "in_progress", "resolved"];
const daysBetween = (from, to) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

export function voicePanels(app, rerender) {
  const state = { editing: null, status: "open", note: "", error: null };

  async function act(work, message) {
    try {
      await work();
      app.say(message);
      state.error = null;
      await app.saved();
    } catch (error) {
      state.error = problemText(error);
      rerender();
    }
  }

  function updates() {
    const shown = (app.customerUpdates || []).filter((u) => app.byId.has(u.card));
    if (!shown.length) return null;
    return h("section", { class: "panel", "aria-labelledby": "updates-title", id: "customer-updates" },
      h("h3", { id: "updates-title" }, t("field.updates.title", { n: shown.length })),
      h("ul", { class: "update-list", id: "update-list" }, shown.map((u) => {
        const name = app.row(u.card)?.view?.name || u.name;
        return h("li", { class: "update", "data-update": u.id },
          h("p", {}, h("a", { href: `#/card/${encodeURIComponent(u.card)}`, class: "update-who" }, t("field.updates.who", { name })),
            h("span", { class: "sub" }, ` · ${u.at.slice(0, 10)}`)),
          h("ul", { class: "changes" }, Object.entries(u.changes).map(([field, [before, after]]) => h("li", {},
            h("strong", {}, t(`field.f.${field}`)), `: ${valueText(before)} → ${valueText(after)}`))),
          h("div", { class: "actions" },
            h("button", { type: "button", class: "secondary update-accept", "aria-label": t("field.updates.acceptFor", { name }),
              onclick: () => act(() => markSeen(app.device.store, u.id), t("field.updates.accepted", { name })) }, t("field.updates.accept")),
            h("button", { type: "button", class: "secondary update-undo", "aria-label": t("field.updates.undoFor", { name }),
              onclick: () => act(async () => {
                await app.device.editCard(u.card, undoFields(u));
                await markSeen(app.device.store, u.id);
              }, t("field.updates.undone", { name })) }, t("field.updates.undo"))));
      })));
  }

  function itemForm(row, item) {
    const key = `${row.id}/${item.id}`;
    return h("form", { class: "item-form", "data-item-form": key, onsubmit: (e) => {
      e.preventDefault();
      const list = (row.view.follow_ups || []).map((f) => (f.id === item.id ? { ...f, status: state.status, note: state.note.trim() || null } : f));
      state.editing = null;
      act(() => app.device.editCard(row.id, { follow_ups: list }), t("field.items.saved", { title: item.title }));
    } },
    h("label", { for: "item-status" }, t("field.items.status")),
    h("select", { id: "item-status", onchange: (e) => { state.status = e.target.value; } },
      STATUSES.map((s) => h("option", { value: s, selected: s === state.status }, t(`field.items.${s}`)))),
    h("label", { for: "item-note" }, t("field.items.note")),
    h("textarea", { id: "item-note", rows: "2", maxlength: "2000", oninput: (e) => { state.note = e.target.value; } }, state.note),
    h("div", { class: "actions" },
      h("button", { type: "submit", id: "item-save" }, t("field.items.save")),
      h("button", { type: "button", class: "secondary", onclick: () => { state.editing = null; rerender(); } }, t("field.cancel"))));
  }

  function items(today) {
    const open = app.rows.flatMap((row) => (row.view.follow_ups || []).filter((f) => f.status !== "resolved").map((item) => ({ row, item })))
      .sort((a, b) => (a.item.due < b.item.due ? -1 : a.item.due > b.item.due ? 1 : 0));
    return h("section", { class: "panel", "aria-labelledby": "items-title", id: "follow-up-items" },
      h("h3", { id: "items-title" }, t("field.items.title", { n: open.length })),
      state.error ? h("p", { class: "error", role: "alert" }, state.error) : null,
      open.length ? h("ul", { class: "card-list item-list", id: "item-list" }, open.map(({ row, item }) => {
        const key = `${row.id}/${item.id}`;
        const late = daysBetween(item.due, today);
        return h("li", { class: "item", "data-item": key },
          h("p", {}, h("a", { href: `#/card/${encodeURIComponent(row.id)}` }, row.view.name), " · ", h("span", { class: "item-title" }, item.title)),
          h("p", { class: "badges" },
            late > 0 ? badge(t("field.today.overdue", { date: item.due, n: late }), "bad") : badge(t("field.items.due", { date: item.due }), late === 0 ? "wait" : ""),
            " ", badge(t(`field.items.${item.status}`), "")),
          item.note ? h("p", { class: "sub" }, item.note) : null,
          state.editing === key ? itemForm(row, item)
            : h("button", { type: "button", class: "secondary item-edit", "aria-label": t("field.items.editFor", { title: item.title, name: row.view.name }),
              onclick: () => {
                Object.assign(state, { editing: key, status: item.status, note: item.note || "" });
                rerender();
                document.getElementById("item-status")?.focus();
              } }, t("field.items.edit")));
      })) : h("p", { class: "hint", id: "items-none" }, t("field.items.none")));
  }

  // A rep's own scorecard (绩效考核), as the last sync left it: the figures and, where an admin set
  // a target, the progress.
  function scorecard() {
    const card = app.myScorecard;
    if (!card) return null;
    const shown = ["visits", "calls", "new_cards", "follow_ups_on_time", "follow_ups_overdue", "feedback_resolved", "csat"];
    return h("section", { class: "panel", "aria-labelledby": "my-score-title", id: "my-scorecard" },
      h("h3", { id: "my-score-title" }, t("field.score.title", { from: card.from, to: card.to })),
      h("dl", { class: "details" }, shown.flatMap((f) => {
        const value = card.row[f];
        const target = card.targets?.[f];
        const text = value === null || value === undefined ? t("field.none") : String(value);
        return [h("dt", {}, t(`office.score.f.${f}`)),
          h("dd", { "data-score": f }, target ? t("field.score.ofTarget", { value: text, target, percent: Math.round((card.row.progress?.[f] || 0) * 100) }) : text)];
      })));
  }

  return { updates, items, scorecard };
}
