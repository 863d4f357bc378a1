// The card form, to create a card or edit one. It checks what the server would refuse (the rules of
// GET /api/v1/schema), says so next to the field, warns before saving a phone or email that another
// card on the device has (or that a colleague may hold, or the pool: pool.js), and saves only the fields that changed (the sync sends deltas).
import { h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { changedFields, customFieldsOf, draftOf, duplicatesOf, readDraft, regionOf, segmentsOf, splitList } from "../format.js";
import { allOwners } from "./cards.js";
import { personFromInput, personLabel } from "../../shared/people.js";
import { placeChange, placeDraft, placeFields } from "./field.js";
import { consentChange, consentDraft, consentFields } from "./consent.js";
import { colleagueCheck } from "../pool.js";
import { errorText, field, heading, reveal, swap } from "./parts.js";

const ORDER = ["name", "company", "title", "phones", "emails", "address", "region", "industry", "segment", "tags",
  "birthday", "follow_up", "owner", "notes"];
const emptyish = (v) => v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length)
  || (typeof v === "object" && !Array.isArray(v) && !Object.keys(v).length);

// The custom object to send: the card's own values (hidden fields' included, so they are kept)
// with the form's on top; keys the card never had and the form left empty are not sent.
function customValues(before, typed) {
  const out = { ...(before || {}) };
  for (const [key, value] of Object.entries(typed)) {
    if (emptyish(value) && !(key in out)) continue;
    out[key] = value;
  }
  return out;
}

function lines(text) {
  const items = String(text || "").split("\n");
  return items.length ? items : [""];
}

// The form is not re-drawn when a sync brings news (it would get in the way of typing), except
// when the card was not on the device yet: the first sync after opening a link brings it.
export function editForm(app, id, options = {}) {
  const view = id ? app.row(id)?.view || null : null;
  if (!id || view) return form(app, id, view, options);
  const el = h("section", { class: "edit-card", id: "edit-card-form" }, heading(t("field.card.gone")), h("p", { class: "hint", id: "card-gone" }, t("field.card.goneText")));
  const waiting = { el, title: t("field.card.gone") };
  waiting.update = () => {
    if (!app.row(id)) return;
    const ready = form(app, id, app.row(id).view, options);
    el.replaceWith(ready.el);
    waiting.el = ready.el;
    delete waiting.update;
  };
  return waiting;
}

function form(app, id, view, { inPanel = false }) {
  const key = id || "new";
  const el = h("section", { class: "edit-card", id: "edit-card-form", "aria-labelledby": "edit-title" });
  const back = id ? `#/card/${encodeURIComponent(id)}` : "#/cards";

  if (!app.drafts[key]) {
    const draft = draftOf(view, app.schema);
    if (id && app.canReassign()) draft.owner = view.owner || "";
    if (!customFieldsOf(app.schema).length) delete draft.custom;
    app.drafts[key] = { draft, base: view ? structuredClone(view) : null, errors: {}, dupKey: null, dups: [], busy: false };
  }
  const entry = app.drafts[key];
  const draft = entry.draft;
  if (!entry.place) entry.place = { ...placeDraft(view) };
  if (!entry.consent) entry.consent = consentDraft(view);

  const set = (name) => (e) => {
    draft[name] = e.target.value;
  };
  const text = (name, attrs = {}) => h("input", { type: "text", value: draft[name], oninput: set(name), ...attrs });
  const area = (name, rows) => h("textarea", { rows: String(rows), oninput: set(name) }, draft[name]);
  const err = (name) => errorText(entry.errors[name]);

  // Phones and emails: one input per value, "Add another" for more. An error names the bad value:
  // only its row is marked invalid (so focus lands on it), all rows when the error is the list's.
  function repeat(name, type, inputmode) {
    const values = lines(draft[name]);
    const bad = entry.errors[name]?.[1]?.value;
    const named = bad !== undefined && values.some((v) => splitList(v).includes(bad));
    const invalid = (value) => Boolean(entry.errors[name]) && (!named || splitList(value).includes(bad));
    const inputs = values.map((value, i) => h("div", { class: "repeat-row" },
      h("label", { for: `f-${name}-${i}`, class: "sr-only" }, t(`field.f.${name}.n`, { n: i + 1 })),
      h("input", { type, inputmode, id: `f-${name}-${i}`, value, autocomplete: "off",
        "aria-invalid": invalid(value) ? "true" : null, "aria-describedby": `f-${name}-hint${entry.errors[name] ? ` f-${name}-error` : ""}`,
        oninput: (e) => {
          const now = lines(draft[name]);
          now[i] = e.target.value;
          draft[name] = now.join("\n");
        } }),
      values.length > 1 ? h("button", { type: "button", class: "secondary small", id: `f-${name}-remove-${i}`,
        "aria-label": t(`field.f.${name}.remove`, { n: i + 1 }), onclick: () => {
          const now = lines(draft[name]);
          now.splice(i, 1);
          draft[name] = now.join("\n");
          render();
          document.getElementById(`f-${name}-${Math.max(0, i - 1)}`)?.focus();
        } }, "×") : null));
    const hint = name === "phones" ? t("field.hint.phones", { region: regionOf(app.schema) }) : t("field.hint.emails");
    return h("fieldset", { class: "field repeat", id: `f-${name}` },
      h("legend", {}, t(`field.f.${name}`)),
      inputs,
      h("button", { type: "button", class: "secondary small", id: `f-${name}-add`, onclick: () => {
        const now = lines(draft[name]);
        now.push("");
        draft[name] = now.join("\n");
        render();
        document.getElementById(`f-${name}-${now.length - 1}`)?.focus();
      } }, t(`field.f.${name}.add`)),
      h("p", { class: "hint", id: `f-${name}-hint` }, hint),
      entry.errors[name] ? h("p", { class: "field-error", id: `f-${name}-error` }, err(name)) : null);
  }

  function customField(spec) {
    const label = spec.label?.[document.documentElement.lang] || spec.label?.en || spec.key;
    const path = `custom.${spec.key}`;
    const value = draft.custom[spec.key];
    const id2 = `f-custom-${spec.key}`;
    if (spec.type === "choices") {
      return h("fieldset", { class: "field repeat", id: id2 }, h("legend", {}, label),
        (spec.choices || []).map((choice, i) => h("label", { class: "check", for: `${id2}-${i}` },
          h("input", { type: "checkbox", id: `${id2}-${i}`, checked: (value || []).includes(choice), onchange: (e) => {
            const now = new Set(draft.custom[spec.key] || []);
            if (e.target.checked) now.add(choice);
            else now.delete(choice);
            draft.custom[spec.key] = (spec.choices || []).filter((c) => now.has(c));
          } }), h("span", {}, String(choice)))),
        entry.errors[path] ? h("p", { class: "field-error" }, err(path)) : null);
    }
    const onInput = (e) => {
      draft.custom[spec.key] = e.target.value;
    };
    const control = spec.type === "choice"
      ? h("select", { onchange: onInput }, h("option", { value: "" }, t("field.none")),
        (spec.choices || []).map((c) => h("option", { value: String(c), selected: String(value) === String(c) }, String(c))))
      : h("input", { type: spec.type === "date" ? "date" : spec.type === "number" ? "number" : "text", value: value ?? "", oninput: onInput });
    return field(id2, label + (spec.required ? " *" : ""), control, { error: err(path) });
  }

  // The admins' suggested tags, one tap each.
  function suggestedTags() {
    const have = new Set(splitList(draft.tags));
    const offer = (app.schema?.options?.tags || []).filter((tag) => !have.has(tag)).slice(0, 30);
    if (!offer.length) return null;
    return h("div", { class: "suggest", id: "tag-suggestions", role: "group", "aria-label": t("field.hint.suggestedTags") },
      offer.map((tag) => h("button", { type: "button", class: "secondary small", "aria-label": t("field.tags.add", { tag }), onclick: () => {
        draft.tags = [...splitList(draft.tags), tag].join(", ");
        render();
        document.getElementById("f-tags")?.focus();
      } }, `+ ${tag}`)));
  }

  function controls() {
    const owners = allOwners(app);
    const options = app.schema?.options || {};
    const list = (listId, items, label = (x) => x) => h("datalist", { id: listId }, items.map((x) => h("option", { value: label(x) })));
    const known = (name) => [...new Set([...(options[`${name === "industry" ? "industries" : "regions"}`] || []),
      ...app.rows.map((r) => r.view[name]).filter(Boolean)])].slice(0, 200);
    const parts = {
      name: field("f-name", `${t("field.f.name")} *`, text("name", { required: true, autocomplete: "off", "aria-required": "true" }), { error: err("name") }),
      company: field("f-company", t("field.f.company"), text("company", { autocomplete: "organization" }), { error: err("company") }),
      title: field("f-title", t("field.f.title"), text("title", { autocomplete: "organization-title" }), { error: err("title") }),
      phones: repeat("phones", "tel", "tel"),
      emails: repeat("emails", "email", "email"),
      address: field("f-address", t("field.f.address"), area("address", 2), { error: err("address") }),
      region: [field("f-region", t("field.f.region"), text("region", { list: "regions" }), { error: err("region") }), list("regions", known("region"))],
      industry: [field("f-industry", t("field.f.industry"), text("industry", { list: "industries" }), { error: err("industry") }), list("industries", known("industry"))],
      segment: field("f-segment-value", t("field.f.segment"), h("select", { onchange: set("segment") },
        h("option", { value: "", selected: !draft.segment }, t("field.none")),
        segmentsOf(app.schema).map((s) => h("option", { value: s, selected: draft.segment === s }, t("field.segment.value", { segment: s })))), { error: err("segment") }),
      tags: [field("f-tags", t("field.f.tags"), text("tags", { autocomplete: "off" }), { error: err("tags"), hint: t("field.hint.tags") }), suggestedTags()],
      birthday: field("f-birthday", t("field.f.birthday"), h("input", { type: "date", value: draft.birthday, oninput: set("birthday") }), { error: err("birthday") }),
      follow_up: field("f-follow_up", t("field.f.follow_up"), h("input", { type: "date", value: draft.follow_up, oninput: set("follow_up") }), { error: err("follow_up") }),
      owner: "owner" in draft ? [field("f-owner", t("field.f.owner"), text("owner", { list: "owners", autocomplete: "off" }), { error: err("owner"), hint: t("field.hint.owner") }), list("owners", owners, personLabel)] : null,
      notes: field("f-notes", t("field.f.notes"), area("notes", 5), { error: err("notes") }),
    };
    return [...ORDER.map((name) => parts[name]), placeFields(entry.place, err("location")), ...("custom" in draft ? customFieldsOf(app.schema).map(customField) : [])].flat().filter(Boolean);
  }

  function render() {
    const dups = entry.dupKey ? entry.dups : [];
    const colleague = entry.dupKey ? entry.colleague : null;
    const warned = dups.length || colleague;
    const problems = Object.keys(entry.errors).length;
    swap(el,
      inPanel ? null : h("p", { class: "back" }, h("a", { href: back }, `← ${t("field.back")}`)),
      h("h2", { id: "edit-title", tabindex: "-1" }, id ? t("field.edit.title", { name: view.name }) : t("field.edit.new")),
      problems ? h("p", { class: "error", role: "alert", id: "form-errors" }, t("field.edit.problems", { n: problems })) : null,
      h("form", { id: "card-form", novalidate: true, onsubmit: submit },
        h("div", { class: "fields" }, controls(), consentFields(view, entry.consent, render)),
        // The duplicate warning sits in the sticky bar, next to the button it changes, so it is
        // never under the bar and the person reads why Save became "Save anyway".
        h("div", { class: "actions sticky", id: "save-bar" },
          warned ? h("div", { class: "dup-warning", role: "alert", id: "dup-warning", tabindex: "-1" },
            // A colleague's customer or a pool card: said, never shown (docs/security.md).
            colleague ? h("p", { id: "colleague-warning" }, t(`field.dup.${colleague}`),
              colleague === "in_pool" ? [" ", h("a", { href: "#/pool" }, t("field.pool.open"))] : null) : null,
            dups.length ? h("p", {}, t("field.dup.text")) : null,
            h("ul", {}, dups.slice(0, 3).map((row) => h("li", {}, h("a", { href: `#/card/${encodeURIComponent(row.id)}` }, row.view.name),
              row.view.company ? ` · ${row.view.company}` : "")),
            dups.length > 3 ? h("li", {}, t("field.dup.more", { n: dups.length - 3 })) : null),
            h("p", { class: "dup-choice" }, t("field.dup.choice"))) : null,
          h("button", { type: "submit", id: "save", disabled: entry.busy }, warned ? t("field.dup.saveAnyway") : t("field.save")),
          h("a", { href: back, class: "button secondary", id: "cancel", onclick: () => { delete app.drafts[key]; } }, t("field.cancel")))));
  }

  // Focus the first invalid control (in the order of the form) and bring its field, with the
  // message, into view above the Save bar and the keyboard.
  function showFirstProblem() {
    const first = el.querySelector("[aria-invalid='true']") || el.querySelector(".field-error")?.closest(".field")?.querySelector("input, select, textarea");
    if (!first) {
      document.getElementById("form-errors")?.scrollIntoView({ block: "center" });
      return;
    }
    first.focus({ preventScroll: true });
    reveal(first.closest(".field") || first, { below: document.getElementById("save-bar") });
  }

  async function submit(event) {
    event.preventDefault();
    if (entry.busy) return;
    if ("owner" in draft) draft.owner = personFromInput(draft.owner); // "王伟" or "王伟 (wang.wei)" → wang.wei
    const { fields, errors } = readDraft(draft, app.schema, { creating: !id });
    entry.errors = errors;
    const place = placeChange(entry.base, entry.place);
    if (place.error) errors.location = place.error;
    if ("custom" in fields) fields.custom = customValues(entry.base?.custom, fields.custom);
    if (Object.keys(errors).length) {
      entry.dupKey = null;
      render();
      showFirstProblem();
      return;
    }
    const changes = id ? changedFields(entry.base, fields) : Object.fromEntries(Object.entries(fields).filter(([name, v]) => name === "name" || !emptyish(v)));
    Object.assign(changes, place.change);
    Object.assign(changes, consentChange(entry.base, entry.consent));
    if (!Object.keys(changes).length) {
      delete app.drafts[key];
      app.go(back);
      return;
    }
    if (!id || ["phones", "emails", "name", "company"].some((name) => name in changes)) {
      const dups = duplicatesOf(app.rows, id, fields);
      const colleague = await colleagueCheck(await app.device.store.meta("buckets"), { ...entry.base, ...fields },
        app.rows.map((r) => r.view));
      const dupKey = JSON.stringify([dups.map((r) => r.id), colleague]);
      if ((dups.length || colleague) && entry.dupKey !== dupKey) {
        Object.assign(entry, { dupKey, dups, colleague });
        render();
        document.getElementById("dup-warning")?.focus({ preventScroll: true });
        reveal(document.getElementById("save-bar"));
        return;
      }
    }
    entry.busy = true;
    try {
      let saved = id;
      if (!id) saved = await app.device.createCard(changes);
      else await saveEdit(changes);
      delete app.drafts[key];
      const online = app.online();
      app.say(() => (online ? t("field.saved") : t("field.savedOffline")));
      await app.saved();
      app.go(`#/card/${encodeURIComponent(saved)}`);
    } catch (error) {
      entry.busy = false;
      entry.errors = { name: ["error.generic", { message: error.message }] };
      render();
    }
  }

  // `was` must be what the person saw when the form opened: if a sync changed one of these fields
  // meanwhile, the server then sees both writes and keeps the other one in a conflict record.
  const saveEdit = (changes) => app.device.editCard(id, changes, entry.base);

  render();
  return { el, title: id ? view.name : t("field.edit.new") };
}

export function editScreen(app, id) {
  const inner = editForm(app, id);
  return { el: h("section", { class: "edit-screen" }, inner.el), title: inner.title, update: () => inner.update?.() };
}
