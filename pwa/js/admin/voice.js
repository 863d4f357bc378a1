// The customer's voice on the people screen (issue 17): when feedback opens a follow-up item (a
// rating at or below a threshold) and how many days the owner has to resolve it, and the surveys
// (a CSAT or NPS question and up to five more, in English and Chinese). The section keeps its own
// element and state (the survey being written lives in `state.draft`, updated as the admin types),
// so the screen's redraws never lose what the admin is typing.
import { api, problemText } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { whileBusy } from "../shared/ui.js";

const state = { loaded: false, rules: { rating_at_most: 2, due_days: 3 }, typed: {}, said: null, error: null, busy: false,
  surveys: [], draft: null, targets: {} };
const TARGETS = ["visits", "calls", "new_cards", "visits_with_position", "follow_ups_on_time", "follow_ups_late",
  "follow_ups_overdue", "feedback_resolved", "completeness", "csat"];
const MAX_QUESTIONS = 5;
const blank = () => ({ id: null, name: { en: "", "zh-CN": "" }, scale: "csat", question: { en: "", "zh-CN": "" }, questions: [], active: true });
const blankQuestion = () => ({ type: "choice", label: { en: "", "zh-CN": "" }, required: false, choicesText: "" });
const el = h("section", { class: "card", id: "voice", "aria-labelledby": "voice-title" });

async function load() {
  try {
    const [rules, surveys, scores] = await Promise.all([api("/follow-ups/settings"), api("/surveys"),
      api(`/scorecards?from=${new Date().toISOString().slice(0, 10)}`)]);
    state.rules = rules.settings;
    state.surveys = surveys.surveys;
    state.targets = scores.targets;
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
    state.error = problemText(error);
  }
  state.busy = false;
  draw();
  document.getElementById(state.error ? "voice-error" : "voice-said")?.focus();
}

// Choices are typed one a line as "English | 中文" (one text alone serves both languages).
function choicesOf(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const [en, zh] = line.split("|").map((x) => x.trim());
    return { en, "zh-CN": zh || en };
  });
}

function fromSurvey(survey) {
  return { ...structuredClone(survey), questions: survey.questions.map((q) => ({ ...q,
    choicesText: (q.choices || []).map((c) => `${c.en} | ${c["zh-CN"]}`).join("\n") })) };
}

async function saveSurvey(event) {
  event.preventDefault();
  const d = state.draft;
  const body = { name: d.name, scale: d.scale, question: d.question, active: d.active,
    questions: d.questions.map((q) => ({ ...(q.id ? { id: q.id } : {}), type: q.type, label: q.label, required: q.required,
      ...(q.type === "choice" ? { choices: choicesOf(q.choicesText).map((c, n) => ({ ...(q.choices?.[n]?.id ? { id: q.choices[n].id } : {}), ...c })) } : {}) })) };
  await save(async () => {
    await api(d.id ? `/surveys/${encodeURIComponent(d.id)}` : "/surveys", { method: d.id ? "PUT" : "POST", body });
    state.said = t("voice.survey.saved", { name: d.name[document.documentElement.lang] || d.name.en });
    state.draft = null;
    state.surveys = (await api("/surveys")).surveys;
  }, draw);
}

// Saves with the buttons disabled (`first` draws them so); then the outcome is said, and the
// keyboard goes to it.
async function save(work, first) {
  await whileBusy(state, work, { draw: first, clear: ["said", "error"], failed: (error) => { state.error = problemText(error); } });
  draw();
  document.getElementById(state.error ? "voice-error" : "voice-said")?.focus();
}

function surveyForm() {
  const d = state.draft;
  const twoLangs = (id, label, value, max) => ["en", "zh-CN"].map((lang) => h("div", { class: "field" },
    h("label", { for: `${id}-${lang}` }, `${label} (${lang === "en" ? "English" : "中文"})`),
    h("input", { id: `${id}-${lang}`, lang, maxlength: String(max), value: value[lang] || "", oninput: (e) => { value[lang] = e.target.value; } })));
  const question = (q, n) => h("fieldset", { class: "subform", "data-question": String(n) },
    h("legend", {}, t("voice.survey.questionN", { n: n + 1 })),
    h("div", { class: "field" }, h("label", { for: `sq-type-${n}` }, t("voice.survey.type")),
      h("select", { id: `sq-type-${n}`, onchange: (e) => { q.type = e.target.value; draw(); } },
        ["choice", "rating", "text"].map((k) => h("option", { value: k, selected: q.type === k }, t(`voice.survey.type.${k}`))))),
    twoLangs(`sq-label-${n}`, t("voice.survey.label"), q.label, 300),
    q.type === "choice" ? h("div", { class: "field" }, h("label", { for: `sq-choices-${n}` }, t("voice.survey.choices")),
      h("p", { class: "hint", id: `sq-choices-hint-${n}` }, t("voice.survey.choicesHint")),
      h("textarea", { id: `sq-choices-${n}`, rows: "3", "aria-describedby": `sq-choices-hint-${n}`, oninput: (e) => { q.choicesText = e.target.value; } }, q.choicesText)) : null,
    h("p", {}, h("label", { class: "check", for: `sq-required-${n}` },
      h("input", { type: "checkbox", id: `sq-required-${n}`, checked: q.required, onchange: (e) => { q.required = e.target.checked; } }), ` ${t("voice.survey.required")}`)),
    h("button", { type: "button", class: "secondary", id: `sq-remove-${n}`, onclick: () => { d.questions.splice(n, 1); draw(); } }, t("voice.survey.remove", { n: n + 1 })));
  return h("form", { id: "survey-form", class: "subform", "aria-labelledby": "survey-form-title", onsubmit: saveSurvey },
    h("h4", { id: "survey-form-title" }, d.id ? t("voice.survey.edit") : t("voice.survey.new")),
    twoLangs("survey-name", t("voice.survey.name"), d.name, 100),
    h("div", { class: "field" }, h("label", { for: "survey-scale" }, t("voice.survey.scale")),
      h("select", { id: "survey-scale", disabled: Boolean(d.id), onchange: (e) => { d.scale = e.target.value; } },
        ["csat", "nps"].map((k) => h("option", { value: k, selected: d.scale === k }, t(`voice.survey.scale.${k}`))))),
    twoLangs("survey-question", t("voice.survey.question"), d.question, 300),
    d.questions.map(question),
    d.questions.length < MAX_QUESTIONS ? h("button", { type: "button", class: "secondary", id: "survey-add-question",
      onclick: () => { d.questions.push(blankQuestion()); draw(); document.getElementById(`sq-type-${d.questions.length - 1}`)?.focus(); } }, t("voice.survey.addQuestion")) : null,
    h("p", {}, h("label", { class: "check", for: "survey-active" },
      h("input", { type: "checkbox", id: "survey-active", checked: d.active, onchange: (e) => { d.active = e.target.checked; } }), ` ${t("voice.survey.active")}`)),
    h("div", { class: "actions" },
      h("button", { type: "submit", id: "survey-save", disabled: state.busy }, t("voice.survey.save")),
      h("button", { type: "button", class: "secondary", id: "survey-cancel", onclick: () => { state.draft = null; draw(); } }, t("teams.cancel"))));
}

async function saveTargets(event) {
  event.preventDefault();
  const body = Object.fromEntries(TARGETS.map((f) => {
    const text = document.getElementById(`target-${f}`).value.trim();
    return [f, text === "" ? null : Number(text)];
  }));
  await save(async () => {
    state.targets = (await api("/scorecards/targets", { method: "PUT", body })).targets;
    state.said = t("voice.targets.saved");
  }, null);
}

function targetsPart() {
  const typed = (f) => el.querySelector(`#target-${f}`)?.value;
  return h("form", { id: "targets-form", class: "subform", "aria-labelledby": "targets-title", onsubmit: saveTargets },
    h("h3", { id: "targets-title" }, t("voice.targets.title")),
    h("p", { class: "hint" }, t("voice.targets.hint")),
    h("div", { class: "filter-grid" }, TARGETS.map((f) => h("div", { class: "field" },
      h("label", { for: `target-${f}` }, t(`office.score.f.${f}`)),
      h("input", { id: `target-${f}`, type: "number", min: "0", step: "any", inputmode: "decimal",
        value: typed(f) ?? (state.targets[f] ?? "") })))),
    h("button", { type: "submit", id: "targets-save", disabled: state.busy }, t("voice.targets.save")));
}

function surveysPart() {
  const lang = document.documentElement.lang;
  return h("div", { class: "subform", id: "surveys" },
    h("h3", { id: "surveys-title" }, t("voice.survey.title")),
    h("p", { class: "hint" }, t("voice.survey.hint")),
    state.surveys.length ? h("ul", { id: "survey-list" }, state.surveys.map((sv) => h("li", { "data-survey": sv.id },
      `${sv.name[lang] || sv.name.en} · ${t(`voice.survey.scale.${sv.scale}`)} · ${t("voice.survey.count", { n: sv.questions.length })}${sv.active ? "" : ` · ${t("voice.survey.off")}`} `,
      h("button", { type: "button", class: "secondary", "aria-label": t("voice.survey.editFor", { name: sv.name[lang] || sv.name.en }),
        onclick: () => { state.draft = fromSurvey(sv); draw(); document.getElementById("survey-name-en")?.focus(); } }, t("voice.survey.change")))))
      : h("p", { class: "hint", id: "survey-none" }, t("voice.survey.none")),
    state.draft ? surveyForm() : h("button", { type: "button", id: "survey-new", class: "secondary",
      onclick: () => { state.draft = blank(); draw(); document.getElementById("survey-name-en")?.focus(); } }, t("voice.survey.new")));
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
    surveysPart(),
    targetsPart(),
  ].filter(Boolean));
}

// The section for the people screen: loads once; drawn again with the screen (its language).
export function voiceCard() {
  const first = !el.childElementCount;
  draw();
  if (first) load();
  return el;
}
