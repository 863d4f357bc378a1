// Conflicts: values two people wrote at once. The server kept one (the later clock) and the other
// in a conflict record; a person decides here: keep current, keep the other, or type a new value.
// The list comes from GET /api/v1/conflicts?status=open and is kept for offline reading.
import { api } from "../../shared/api.js";
import { h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { personName } from "../../shared/people.js";
import { dateTime, readDraft } from "../format.js";
import { cardName, errorText, field, fieldName, swap, valueText } from "./parts.js";

const LIST_FIELDS = ["phones", "emails", "tags"];

function textOf(field, value) {
  if (Array.isArray(value)) return value.join(field === "tags" ? ", " : "\n");
  return value === null || value === undefined ? "" : String(value);
}

// A typed value read like the card form reads it (phones normalised, dates checked).
function readValue(name, text) {
  if (name === "deleted") return { error: null, value: null };
  if (name.startsWith("custom.")) return { value: text.trim() || null, error: null };
  const { fields, errors } = readDraft({ [name]: text }, null);
  return { value: fields[name] ?? null, error: errors[name] || null };
}

export function conflictsScreen(app) {
  const state = { busy: null, typed: {}, errors: {}, error: null };
  const el = h("section", { class: "conflicts-screen", "aria-labelledby": "conflicts-title" });

  async function resolve(conflict, body, label) {
    state.busy = conflict.id;
    state.error = null;
    render();
    try {
      await api(`/conflicts/${encodeURIComponent(conflict.id)}/resolve`, { method: "POST", body });
      app.conflicts.list = app.conflicts.list.filter((c) => c.id !== conflict.id);
      app.say(() => t("field.conflicts.resolved", { field: fieldName(conflict.field), choice: t(label) }));
      await app.loop.syncNow(); // the card on this device takes the decision
      await app.loadConflicts();
    } catch (error) {
      app.noteApiError(error);
      state.error = t("field.conflicts.failed", { message: error.message });
    } finally {
      state.busy = null;
      render();
    }
  }

  function side(label, value, by, at, field) {
    return h("div", { class: "side" },
      h("p", { class: "sub" }, label),
      h("p", { class: "value" }, valueText(value, field)),
      h("p", { class: "sub" }, t("field.conflicts.by", { who: personName(by) || "?", when: dateTime(at) })));
  }

  function item(conflict) {
    const offline = !app.online();
    const busy = state.busy === conflict.id || offline;
    const typedId = `new-${conflict.id}`;
    const typed = state.typed[conflict.id] ?? textOf(conflict.field, conflict.kept);
    const multiline = LIST_FIELDS.includes(conflict.field) || conflict.field === "notes";
    const input = multiline
      ? h("textarea", { rows: "3", oninput: (e) => { state.typed[conflict.id] = e.target.value; } }, typed)
      : h("input", { type: ["birthday", "follow_up"].includes(conflict.field) ? "date" : "text", value: typed, oninput: (e) => { state.typed[conflict.id] = e.target.value; } });
    return h("li", { class: "conflict", "data-conflict-id": conflict.id, "data-card-id": conflict.card, id: `conflict-${conflict.id}` },
      h("h3", {}, h("a", { href: `#/card/${encodeURIComponent(conflict.card)}` }, cardName(app, conflict.card)), " · ", fieldName(conflict.field)),
      h("div", { class: "sides" },
        side(t("field.conflicts.kept"), conflict.kept, conflict.kept_by, conflict.kept_at, conflict.field),
        side(t("field.conflicts.other"), conflict.other, conflict.other_by, conflict.other_at, conflict.field)),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "keep-current", disabled: busy, onclick: () => resolve(conflict, { keep: "current" }, "field.conflicts.keepCurrent") },
          t("field.conflicts.keepCurrent")),
        h("button", { type: "button", class: "keep-other secondary", disabled: busy, onclick: () => resolve(conflict, { keep: "other" }, "field.conflicts.keepOther") },
          t("field.conflicts.keepOther"))),
      conflict.field === "deleted" ? null : h("form", { class: "new-value", novalidate: true, onsubmit: (e) => {
        e.preventDefault();
        const { value, error } = readValue(conflict.field, state.typed[conflict.id] ?? typed);
        state.errors[conflict.id] = error;
        if (error) {
          render();
          document.getElementById(typedId)?.focus();
          return;
        }
        resolve(conflict, { value }, "field.conflicts.newValue");
      } },
      field(typedId, t("field.conflicts.typeNew"), input, { error: errorText(state.errors[conflict.id]) }),
      h("button", { type: "submit", class: "secondary use-value", disabled: busy }, t("field.conflicts.useValue"))));
  }

  function render() {
    const { list, at } = app.conflicts;
    const offline = !app.online();
    swap(el,
      h("h2", { id: "conflicts-title", tabindex: "-1" }, t("field.nav.conflicts")),
      h("p", { class: "hint", id: "conflicts-about" }, t("field.conflicts.explain")),
      offline ? h("p", { class: "warning", id: "conflicts-offline" }, at ? t("field.conflicts.offline", { when: dateTime(at) }) : t("field.conflicts.offlineNever")) : null,
      state.error ? h("p", { class: "error", role: "alert", id: "conflicts-error" }, state.error) : null,
      list.length
        ? h("ul", { class: "conflicts", id: "conflict-list" }, list.map(item))
        : h("p", { class: "hint", id: "conflicts-none" }, t("field.conflicts.none")));
  }

  render();
  return { el, update: render, title: t("field.nav.conflicts") };
}
