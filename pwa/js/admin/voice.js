// The customer's voice on the people screen (issue 17): when feedback opens a follow-up item (a
// rating at or below a threshold) and how many days the owner has to resolve it. The section keeps
// its own element and state, so the screen's redraws never lose what the admin is typing.
import { api } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

const state = { loaded: false, rules: { rating_at_most: 2, due_days: 3 }, typed: {}, said: null, error: null, busy: false };
const el = h("section", { class: "card", id: "voice", "aria-labelledby": "voice-title" });

async function load() {
  try {
    state.rules = (await api("/follow-ups/settings")).settings;
    state.loaded = true;
  } catch (error) {
    state.error = error.message;
  }
  draw();
}

async function saveRules(event) {
  event.preventDefault();
  const read = (id) => Number(document.getElementById(id).value);
  const body = { rating_at_most: read("rule-rating"), due_days: read("rule-days") };
  state.busy = true;
  state.said = null;
  state.error = null;
  draw();
  try {
    state.rules = (await api("/follow-ups/settings", { method: "PUT", body })).settings;
    state.typed = {};
    state.said = t("voice.rules.saved");
  } catch (error) {
    state.error = error.fields?.length ? error.fields.map((f) => `${f.path || "—"}: ${f.message}`).join("; ") : error.message;
  }
  state.busy = false;
  draw();
  document.getElementById(state.error ? "voice-error" : "voice-said")?.focus();
}

function draw() {
  // What the admin typed and has not saved yet survives a redraw of the people screen.
  for (const [id, key] of [["rule-rating", "rating_at_most"], ["rule-days", "due_days"]]) {
    const typed = el.querySelector(`#${id}`);
    if (typed) state.typed[key] = typed.value;
  }
  if (!state.loaded && !state.error) {
    el.replaceChildren(h("h2", { id: "voice-title" }, t("voice.title")), h("p", { class: "busy", role: "status" }, t("people.loading")));
    return;
  }
  const number = (id, label, value, min, max) => h("div", { class: "field" }, h("label", { for: id }, label),
    h("input", { id, type: "number", min: String(min), max: String(max), step: "1", inputmode: "numeric", value: String(value) }));
  el.replaceChildren(...[
    h("h2", { id: "voice-title" }, t("voice.title")),
    state.said ? h("p", { class: "notice", role: "status", id: "voice-said", tabindex: "-1" }, state.said) : null,
    state.error ? h("p", { class: "error", role: "alert", id: "voice-error", tabindex: "-1" }, state.error) : null,
    h("form", { id: "rules-form", class: "subform", "aria-labelledby": "rules-title", onsubmit: saveRules },
      h("h3", { id: "rules-title" }, t("voice.rules.title")),
      h("p", { class: "hint" }, t("voice.rules.hint")),
      number("rule-rating", t("voice.rules.rating"), state.typed.rating_at_most ?? state.rules.rating_at_most, 0, 5),
      number("rule-days", t("voice.rules.days"), state.typed.due_days ?? state.rules.due_days, 0, 90),
      h("button", { type: "submit", id: "rules-save", disabled: state.busy }, t("voice.rules.save"))),
  ].filter(Boolean));
}

// The section for the people screen: loads once; drawn again with the screen (its language).
export function voiceCard() {
  const first = !el.childElementCount;
  draw();
  if (first) load();
  return el;
}
