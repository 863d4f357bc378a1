// Two admin settings on the people screen (issue 18): the privacy notice customers and reps read at
// /privacy, in English and Chinese, and the lost-phone lock (days without a sync after which the app
// locks its local data until a fresh sign-in). The section keeps its own element and state, so the
// people screen's redraws never lose what the admin is typing.
import { api, problemText } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { whileBusy } from "../shared/ui.js";

const state = { loaded: false, notice: { en: "", "zh-CN": "" }, custom: false, updatedAt: null, days: "", said: null, error: null, busy: false };
const el = h("section", { class: "card", id: "settings", "aria-labelledby": "settings-title" });

async function load() {
  try {
    const [notice, device] = await Promise.all([api("/public/privacy"), api("/settings")]);
    Object.assign(state, { loaded: true, notice: { en: notice.en, "zh-CN": notice["zh-CN"] }, custom: notice.custom,
      updatedAt: notice.updated_at, days: device.lock_after_days ?? "" });
  } catch (error) {
    state.error = error.message;
  }
  draw();
}

// `fresh`: the controls whose saved value (as the server now says it) replaces what was typed.
async function save(what, work, fresh) {
  await whileBusy(state, async () => {
    await work();
    state.said = what;
    fresh.forEach((id) => el.querySelector(`#${id}`)?.remove());
  }, { draw, clear: ["said", "error"], failed: (error) => { state.error = problemText(error); } });
  await load();
  document.getElementById(state.error ? "settings-error" : "settings-said")?.focus();
}

function saveNotice(event) {
  event.preventDefault();
  save(t("settings.notice.saved"), () => api("/admin/privacy", { method: "PUT", body: {
    en: document.getElementById("notice-en").value, "zh-CN": document.getElementById("notice-zh-CN").value } }), ["notice-en", "notice-zh-CN"]);
}

function saveLock(event) {
  event.preventDefault();
  const text = document.getElementById("lock-days").value.trim();
  save(t("settings.lock.saved"), () => api("/admin/settings", { method: "PUT", body: { lock_after_days: text ? Number(text) : null } }), ["lock-days"]);
}

function draw() {
  // What the admin typed and has not saved yet survives a redraw (a change of language, a refresh).
  for (const lang of ["en", "zh-CN"]) {
    const typed = el.querySelector(`#notice-${lang}`);
    if (typed) state.notice[lang] = typed.value;
  }
  const days = el.querySelector("#lock-days");
  if (days) state.days = days.value;
  if (!state.loaded && !state.error) {
    el.replaceChildren(h("h2", { id: "settings-title" }, t("settings.title")), h("p", { class: "busy", role: "status" }, t("people.loading")));
    return;
  }
  const area = (lang, label) => h("div", { class: "field" }, h("label", { for: `notice-${lang}` }, label),
    h("textarea", { id: `notice-${lang}`, rows: "8", lang, maxlength: "20000" }, state.notice[lang]));
  el.replaceChildren(
    h("h2", { id: "settings-title" }, t("settings.title")),
    state.said ? h("p", { class: "notice", role: "status", id: "settings-said", tabindex: "-1" }, state.said) : null,
    state.error ? h("p", { class: "error", role: "alert", id: "settings-error", tabindex: "-1" }, state.error) : null,
    h("form", { id: "notice-form", class: "subform", "aria-labelledby": "notice-title", onsubmit: saveNotice },
      h("h3", { id: "notice-title" }, t("settings.notice.title")),
      h("p", { class: "hint" }, t(state.custom ? "settings.notice.custom" : "settings.notice.default", { at: (state.updatedAt || "").slice(0, 10) }), " ",
        h("a", { href: "/privacy", id: "notice-view", target: "_blank", rel: "noopener" }, t("settings.notice.view"))),
      area("en", t("settings.notice.en")), area("zh-CN", t("settings.notice.zh")),
      h("button", { type: "submit", id: "notice-save", disabled: state.busy }, t("settings.notice.save"))),
    h("form", { id: "lock-form", class: "subform", "aria-labelledby": "lock-title", onsubmit: saveLock },
      h("h3", { id: "lock-title" }, t("settings.lock.title")),
      h("p", { class: "hint", id: "lock-days-hint" }, t("settings.lock.hint")),
      h("div", { class: "field" }, h("label", { for: "lock-days" }, t("settings.lock.days")),
        h("input", { id: "lock-days", type: "number", min: "1", max: "365", step: "1", inputmode: "numeric", value: String(state.days),
          "aria-describedby": "lock-days-hint" })),
      h("button", { type: "submit", id: "lock-save", disabled: state.busy }, t("settings.lock.save"))));
}

// The section for the people screen: loads once; drawn again with the screen (its language).
export function settingsCard() {
  const first = !el.childElementCount;
  draw();
  if (first) load();
  return el;
}
