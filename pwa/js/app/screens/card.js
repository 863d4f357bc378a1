// One card: tap to call, text or mail, the address on a map, every field, the activity timeline,
// "Log visit" in two taps, a quick follow-up date, Edit and Delete. Used full screen on a phone
// and in the side panel of the desktop table.
import { h } from "../../shared/dom.js";
import { money } from "../../shared/i18n.js";
import { personName } from "../../shared/people.js";
import { language as uiLanguage } from "../../shared/i18n.js";
import { addressHref, chosenMapApp, resolveMapApp } from "../maplink.js";
import { language, t } from "../../shared/i18n.js";
import { consentSummary } from "./consent.js";
import { addDays, addMonths, customFieldsOf, dateTime, isRealDate, readAmount, ymd } from "../format.js";
import { badge, field, heading, phoneText, reveal, swap, valueText } from "./parts.js";
import { here, setVisitPosition, visitPositionOn } from "../position.js";
import { activityExtras, filesSection, keepFiles, loadUrls, placeSection, problemText, visitPhotoPicker } from "./field.js";
import { customerLinkBox } from "./customerlink.js";
import { stageField } from "./stage.js";

const KINDS = ["visit", "call", "email", "chat", "note", "purchase", "feedback"];
const kindName = (kind) => (KINDS.includes(kind) ? t(`field.kind.${kind}`) : kind);
const CURRENCIES = ["CNY", "HKD", "TWD", "USD", "EUR", "JPY", "KRW", "GBP", "SGD", "AUD", "CAD", "CHF"];
function currencyName(code) {
  try {
    const name = new Intl.DisplayNames([uiLanguage()], { type: "currency" }).of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

function contact(v) {
  const items = [];
  for (const phone of v.phones || []) {
    items.push(h("li", { class: "contact-row" },
      h("a", { href: `tel:${phone}`, class: "contact call", "aria-label": t("field.card.call", { phone: phoneText(phone) }) }, phoneText(phone)),
      h("a", { href: `sms:${phone}`, class: "contact sms", "aria-label": t("field.card.sms", { phone: phoneText(phone) }) }, t("field.card.smsShort"))));
  }
  for (const email of v.emails || []) {
    items.push(h("li", { class: "contact-row" }, h("a", { href: `mailto:${email}`, class: "contact mail" }, email)));
  }
  if (v.address) {
    items.push(h("li", { class: "contact-row" },
      h("a", { href: addressHref(v.address, resolveMapApp(chosenMapApp(), uiLanguage(), navigator.userAgent)), class: "contact map",
        target: "_blank", rel: "noopener noreferrer", id: "address-link",
        "aria-label": t("field.card.map", { address: v.address }) }, v.address)));
  }
  return items.length ? h("ul", { class: "contacts", id: "contacts" }, items) : null;
}

function details(app, v) {
  const rows = [
    ["segment", v.segment ? t("field.segment.value", { segment: v.segment }) : null],
    ["tags", (v.tags || []).length ? h("span", { class: "tags" }, v.tags.map((tag) => badge(tag, "tag"))) : null],
    ["follow_up", v.follow_up], ["birthday", v.birthday], ["region", v.region], ["industry", v.industry],
    ["owner", v.owner ? personName(v.owner) : t("field.pool.title")], ["notes", v.notes ? h("span", { class: "notes" }, v.notes) : null],
  ];
  for (const spec of customFieldsOf(app.schema)) {
    const label = spec.label?.[document.documentElement.lang] || spec.label?.en || spec.key;
    rows.push([label, v.custom?.[spec.key] ?? null, true]);
  }
  rows.push(["updated", v.updated_at ? dateTime(v.updated_at) : null]);
  return h("dl", { class: "details", id: "details" }, rows.flatMap(([name, value, custom]) => [
    h("dt", {}, custom ? name : t(`field.f.${name}`)),
    h("dd", { "data-field": custom ? `custom.${name}` : name }, value instanceof Node ? value : valueText(value)),
  ]));
}

function timeline(activities, extras = () => []) {
  if (!activities.length) return h("p", { class: "hint", id: "timeline" }, t("field.timeline.empty"));
  return h("ol", { class: "timeline", id: "timeline" }, activities.map((a) => h("li", { "data-activity-id": a.id },
    h("p", { class: "when" }, h("strong", {}, kindName(a.kind)), " · ", h("time", { datetime: a.at }, dateTime(a.at)),
      a.by ? ` · ${personName(a.by)}` : ` · ${t("field.timeline.unsynced")}`),
    a.text ? h("p", { class: "what" }, a.text) : null,
    a.amount ? h("p", { class: "sub money" }, money(a.amount, a.currency)) : null,
    a.rating ? h("p", { class: "sub" }, t("field.timeline.rating", { n: a.rating })) : null,
    extras(a))));
}

// The card as a component: {el, update}. `close` (desktop panel) replaces the back link.
export function cardDetail(app, id, { inPanel = false } = {}) {
  const state = { logging: false, visitText: "", followUp: "", error: null, activities: [], loaded: false, adding: null,
    attachments: [], locating: false, filing: false, visitFiles: [], withPlace: visitPositionOn() };
  const el = h("article", { class: "card-detail", id: "card-detail", "aria-labelledby": "card-title" });
  const linkBox = customerLinkBox(app, id); // the customer link and its QR (issue 17)

  async function act(work, message) {
    try {
      await work();
      if (message) app.say(message);
      await app.saved();
    } catch (error) {
      state.error = problemText(error);
      render();
    }
  }

  // "I am at this customer": the phone's position now becomes the card's location (an ordinary edit).
  async function setHere() {
    state.locating = true;
    render();
    let place;
    try {
      place = await here();
    } catch (error) {
      state.locating = false;
      state.error = problemText(error);
      render();
      return;
    }
    state.locating = false;
    await act(() => app.device.editCard(id, { location: { lat: place.lat, lng: place.lng } }),
      () => t("field.place.set", { m: Math.round(place.accuracy_m) }));
  }

  // Photos and files: downscaled and kept on the phone at once, uploaded after the next sync.
  const addFiles = (files) => {
    state.filing = true;
    render();
    return act(async () => {
      try {
        await keepFiles(app, id, files);
      } finally {
        state.filing = false;
      }
    }, () => t("field.files.kept", { n: files.length }));
  };

  const setFollowUp = (date) => act(() => app.device.editCard(id, { follow_up: date }),
    () => (date ? t("field.followup.set", { date }) : t("field.followup.cleared")));

  function visitForm() {
    if (!state.logging) {
      return h("button", { type: "button", id: "log-visit", class: "big", onclick: () => {
        state.logging = true;
        render();
        document.getElementById("visit-text")?.focus();
      } }, t("field.visit.log"));
    }
    const text = h("textarea", { rows: "3", maxlength: "5000", oninput: (e) => { state.visitText = e.target.value; } }, state.visitText);
    return h("form", { class: "visit-form", id: "visit-form", onsubmit: (e) => {
      e.preventDefault();
      const note = state.visitText.trim();
      const [withPlace, photos] = [state.withPlace, state.visitFiles];
      state.logging = false;
      state.visitText = "";
      state.visitFiles = [];
      state.locating = withPlace;
      let missing = null; // why no position was recorded: said, never refused
      act(async () => {
        let place = null;
        if (withPlace) {
          try {
            place = await here();
          } catch (error) {
            missing = problemText(error);
          }
        }
        state.locating = false;
        const activity = await app.device.addActivity(id, "visit", note, place ? { location: place } : {});
        if (photos.length) await keepFiles(app, id, photos, activity);
      }, () => (missing ? t("field.visit.savedNoPlace", { why: missing }) : t("field.visit.saved")));
      render();
    } },
    field("visit-text", t("field.visit.text"), text),
    h("p", { class: "check" }, h("label", { for: "visit-place" },
      h("input", { type: "checkbox", id: "visit-place", checked: state.withPlace, onchange: (e) => {
        state.withPlace = e.target.checked;
        setVisitPosition(e.target.checked);
      } }), " ", t("field.visit.withPlace"))),
    h("div", { class: "actions" }, visitPhotoPicker((files) => {
      state.visitFiles = [...state.visitFiles, ...files];
      render();
    }), state.visitFiles.length ? h("span", { class: "sub", id: "visit-photos" }, t("field.visit.photos", { n: state.visitFiles.length })) : null),
    h("div", { class: "actions" },
      h("button", { type: "submit", id: "visit-save" }, t("field.visit.save")),
      h("button", { type: "button", class: "secondary", id: "visit-cancel", onclick: () => {
        state.logging = false;
        render();
        document.getElementById("log-visit")?.focus();
      } }, t("field.cancel"))));
  }

  // Any kind of activity: a call, a chat, a purchase with its amount, feedback with a 1–5 rating.
  function activityForm() {
    if (!state.adding) {
      return h("button", { type: "button", id: "add-activity", class: "secondary", onclick: () => {
        state.adding = { kind: "call", text: "", amount: "", currency: "CNY", rating: "5" };
        render();
        document.getElementById("activity-kind")?.focus();
      } }, t("field.activity.add"));
    }
    const a = state.adding;
    const set = (key) => (e) => { a[key] = e.target.value; if (key === "kind") render(); };
    const kind = h("select", { id: "activity-kind", onchange: set("kind") },
      KINDS.map((k) => h("option", { value: k, selected: k === a.kind }, kindName(k))));
    const text = h("textarea", { id: "activity-text", rows: "2", maxlength: "5000", oninput: set("text") }, a.text);
    const extra = [];
    if (a.kind === "purchase") {
      // The message sits under the amount, not at the top of the card, out of view.
      extra.push(field("activity-amount", t("field.activity.amount"),
        h("input", { id: "activity-amount", inputmode: "decimal", value: a.amount, oninput: set("amount"), placeholder: "12,500.00" }),
        { error: a.amountError || null }));
      // A currency from a list, named in the person's language ("人民币 (CNY)"), CNY first.
      extra.push(field("activity-currency", t("field.activity.currency"),
        h("select", { id: "activity-currency", onchange: set("currency") },
          CURRENCIES.map((code) => h("option", { value: code, selected: code === a.currency }, currencyName(code))))));
    }
    if (a.kind === "feedback") {
      extra.push(field("activity-rating", t("field.activity.rating"),
        h("select", { id: "activity-rating", onchange: set("rating") },
          ["5", "4", "3", "2", "1"].map((n) => h("option", { value: n, selected: n === a.rating }, "★".repeat(Number(n)))))));
      // Feedback that needs someone to act opens a follow-up item for the card's owner (issue 17).
      extra.push(h("p", { class: "check" }, h("label", { for: "activity-needs-action" },
        h("input", { type: "checkbox", id: "activity-needs-action", checked: Boolean(a.needsAction), onchange: (e) => { a.needsAction = e.target.checked; } }),
        " ", t("field.activity.needsAction"))));
    }
    return h("form", { class: "activity-form", id: "activity-form", onsubmit: (e) => {
      e.preventDefault();
      const more = {};
      if (a.kind === "purchase") {
        const read = readAmount(a.amount);
        if (!read || read.amount.startsWith("-")) {
          a.amountError = t("field.activity.badAmount", { value: a.amount.trim() });
          render();
          const input = document.getElementById("activity-amount");
          input?.focus({ preventScroll: true });
          reveal(input?.closest(".field"));
          return;
        }
        more.amount = read.amount;
        more.currency = read.yuan ? "CNY" : a.currency;
      }
      if (a.kind === "feedback") more.rating = Number(a.rating);
      if (a.kind === "feedback" && a.needsAction) more.needs_action = true;
      const chosen = a.kind;
      state.adding = null;
      act(() => app.device.addActivity(id, chosen, a.text.trim(), more), () => t("field.activity.saved"));
    } },
    field("activity-kind", t("field.activity.kind"), kind),
    field("activity-text", t(`field.activity.text.${a.kind}`), text), // the labels say what is logged: a purchase, not a visit
    ...extra,
    h("div", { class: "actions" },
      h("button", { type: "submit", id: "activity-save" }, t(`field.activity.save.${a.kind}`)),
      h("button", { type: "button", class: "secondary", onclick: () => { state.adding = null; render(); } }, t("field.cancel"))));
  }

  // Purchase totals per currency and the average feedback rating, from the timeline.
  function totals() {
    const sums = {};
    const ratings = [];
    for (const a of state.activities) {
      if (a.kind === "purchase" && a.amount) sums[a.currency || ""] = (sums[a.currency || ""] || 0) + Number(a.amount);
      if (a.kind === "feedback" && a.rating) ratings.push(a.rating);
    }
    const parts = Object.entries(sums).map(([cur, sum]) => t("field.totals.purchases", { amount: money(sum, cur || null) }));
    if (ratings.length) {
      const average = (ratings.reduce((x, y) => x + y, 0) / ratings.length).toFixed(1);
      parts.push(t("field.totals.rating", { average, n: ratings.length }));
    }
    return parts.length ? h("p", { class: "totals", id: "card-totals" }, parts.join(" · ")) : null;
  }

  function followUp(v) {
    const today = ymd();
    const picker = h("input", { type: "date", value: state.followUp || v.follow_up || "", oninput: (e) => { state.followUp = e.target.value; } });
    const quick = (label, id2, date) => h("button", { type: "button", class: "secondary", id: id2, onclick: () => setFollowUp(date) }, label);
    return h("section", { class: "followup", "aria-labelledby": "fu-title" },
      h("h3", { id: "fu-title" }, t("field.followup.title"),
        h("span", { class: "sub", id: "fu-current" }, v.follow_up
          ? ` ${v.follow_up}${v.follow_up < today ? ` · ${t("field.followup.overdue")}` : ""}` : ` ${t("field.followup.none")}`)),
      h("div", { class: "actions" },
        quick(t("field.followup.tomorrow"), "fu-1d", addDays(today, 1)),
        quick(t("field.followup.week"), "fu-1w", addDays(today, 7)),
        quick(t("field.followup.month"), "fu-1m", addMonths(today, 1)),
        v.follow_up ? quick(t("field.followup.clear"), "fu-clear", null) : null),
      h("form", { class: "inline", onsubmit: (e) => {
        e.preventDefault();
        const date = state.followUp || picker.value;
        if (!isRealDate(date)) {
          state.error = t("field.err.date", { value: date || "" });
          render();
          return;
        }
        state.followUp = "";
        setFollowUp(date);
      } },
      h("label", { for: "fu-date", class: "sr-only" }, t("field.followup.pick")), Object.assign(picker, { id: "fu-date" }),
      h("button", { type: "submit", id: "fu-set" }, t("field.followup.setButton"))));
  }

  function render() {
    const row = app.row(id);
    if (!row) {
      swap(el, heading(t("field.card.gone")), h("p", { class: "hint", id: "card-gone" }, t("field.card.goneText")),
        inPanel ? null : h("p", {}, h("a", { href: "#/cards" }, t("field.back"))));
      return;
    }
    const v = row.view;
    swap(el,
      inPanel ? null : h("p", { class: "back" }, h("a", { href: "#/cards", id: "back" }, `← ${t("field.nav.cards")}`)),
      h("header", { class: "card-head" },
        h("h2", { id: "card-title", tabindex: "-1" }, v.name || t("field.none")),
        v.company || v.title ? h("p", { class: "sub", id: "card-company" }, [v.company, v.title].filter(Boolean).join(" · ")) : null,
        app.pendingIds?.has(id) ? badge(t("field.badge.unsynced"), "wait") : null),
      state.error ? h("p", { class: "error", role: "alert" }, state.error) : null,
      contact(v),
      v.consent ? h("p", { class: `consent-line ${v.consent.contact}`, id: "card-consent" }, consentSummary(v.consent)) : null,
      placeSection(v, { busy: state.locating, onHere: setHere }),
      totals(),
      h("div", { class: "visit" }, visitForm(), state.logging ? null : activityForm()),
      followUp(v),
      stageField(app, id, v),
      (linkBox.update(), linkBox.el),
      state.loaded ? filesSection(state.attachments, { busy: state.filing, onFiles: addFiles }) : null,
      details(app, v),
      h("div", { class: "actions" },
        h("a", { href: `#/edit/${encodeURIComponent(id)}`, id: "edit-card", class: "button" }, t("field.card.edit")),
        // The right of access (office, admins): everything held about this customer, to read or to send.
        app.canReassign() ? h("a", { href: `/api/v1/cards/${encodeURIComponent(id)}/export?format=html&lang=${encodeURIComponent(language())}`,
          id: "export-person", class: "button secondary", download: "" }, t("field.card.exportPerson")) : null,
        h("button", { type: "button", id: "delete-card", class: "danger", onclick: () => {
          if (!window.confirm(t("field.card.deleteQuestion", { name: v.name }))) return;
          act(async () => {
            await app.device.deleteCard(id);
            app.go("#/cards");
          }, () => t("field.card.deleted", { name: v.name }));
        } }, t("field.card.delete"))),
      h("section", { class: "timeline-box", "aria-labelledby": "timeline-title" },
        h("h3", { id: "timeline-title" }, t("field.timeline.title")),
        state.loaded ? timeline(state.activities, (a) => activityExtras(a, v.location, state.attachments)) : null));
  }

  async function update() {
    state.activities = await app.device.activities(id);
    state.attachments = await app.device.attachments(id);
    await loadUrls(app, state.attachments);
    state.loaded = true;
    state.error = null;
    render();
  }
  render();
  update();
  return { el, update, title: app.row(id)?.view?.name || t("field.nav.cards") };
}

export function cardScreen(app, id) {
  const detail = cardDetail(app, id);
  return { el: h("section", { class: "card-screen" }, detail.el), update: detail.update, title: detail.title };
}
