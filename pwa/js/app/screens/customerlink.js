// "Customer link" on a card (issue 17): the rep makes a link for the customer to confirm or correct
// their details, or to answer a survey, and shows its QR code to scan at the visit, with the address
// to paste into WeChat, SMS or email. Offline too: the link uses a token the phone kept in reserve
// and works once the phone has synced (until then the customer's page says it is not active yet).
import { token } from "../../shared/api.js";
import { h } from "../../shared/dom.js";
import { language, t } from "../../shared/i18n.js";
import { loadQr, qrMatrix, qrSvg, refreshVoiceData } from "../voice.js";
import { problemText } from "./field.js";

export function customerLinkBox(app, cardId) {
  const state = { open: false, purpose: "update", survey: null, surveys: [], busy: false, error: null, link: null, matrix: null, copied: false };
  const el = h("section", { class: "panel customer-link", "aria-labelledby": "cl-title", id: "customer-link" });

  async function show(link) {
    state.link = link;
    try {
      state.matrix = qrMatrix(await loadQr(), link.url);
    } catch (error) {
      state.matrix = null; // the address below still works
      console.warn("no QR encoder", error);
    }
  }

  async function make() {
    state.busy = true;
    state.error = null;
    render();
    try {
      if (!(await app.device.linkTokensLeft())) await refreshVoiceData(app.device, { force: true });
      const survey = state.purpose === "survey" ? state.survey || state.surveys[0]?.id || null : null;
      const link = await app.device.createLink(cardId, { purpose: state.purpose, survey });
      await show(link);
      state.open = false;
      app.say(t("field.link.made"));
      await app.saved();
    } catch (error) {
      state.error = error.code === "no_link_tokens" ? t("field.link.noTokens") : problemText(error);
    }
    state.busy = false;
    render();
    document.getElementById(state.link ? "link-url" : "link-purpose")?.focus();
  }

  async function copy() {
    try {
      await navigator.clipboard.writeText(state.link.url);
      state.copied = true;
    } catch {
      document.getElementById("link-url")?.select(); // the person copies it by hand
    }
    render();
  }

  function render() {
    const link = state.link;
    const form = state.open
      ? h("div", { class: "link-form" },
        h("label", { for: "link-purpose" }, t("field.link.purpose")),
        h("select", { id: "link-purpose", onchange: (e) => {
          state.purpose = e.target.value;
          render();
          document.getElementById("link-purpose")?.focus();
        } },
          ["update", "survey"].map((p) => h("option", { value: p, selected: p === state.purpose }, t(`field.link.purpose.${p}`)))),
        // The admin's surveys, kept on the phone; without any, the customer is asked a plain 1–5 rating.
        state.purpose === "survey" && state.surveys.length ? [
          h("label", { for: "link-survey" }, t("field.link.survey")),
          h("select", { id: "link-survey", onchange: (e) => { state.survey = e.target.value; } },
            state.surveys.map((sv) => h("option", { value: sv.id, selected: sv.id === state.survey }, sv.name?.[language()] || sv.name?.en || sv.id)))] : null,
        h("div", { class: "actions" },
          h("button", { type: "button", id: "link-make", disabled: state.busy, onclick: make }, t("field.link.make")),
          h("button", { type: "button", class: "secondary", id: "link-cancel", onclick: () => { state.open = false; render(); } }, t("field.cancel"))))
      : h("button", { type: "button", class: "secondary", id: "customer-link-button", onclick: async () => {
        state.surveys = (await app.device.store.meta("surveys")) || []; // as the last sync left them
        state.open = true;
        render();
        document.getElementById("link-purpose")?.focus();
      } }, t("field.link.button"));
    el.replaceChildren(...[
      h("h3", { id: "cl-title" }, t("field.link.title")),
      state.error ? h("p", { class: "error", role: "alert", id: "link-error" }, state.error) : null,
      link ? h("div", { class: "link-made", id: "link-made" },
        state.matrix ? qrSvg(state.matrix, t("field.link.qr", { purpose: t(`field.link.purpose.${link.purpose}`) })) : null,
        h("p", { class: "hint" }, t("field.link.expires", { date: link.expires.slice(0, 10) }),
          app.pendingIds?.has(cardId) ? ` ${t("field.link.afterSync")}` : ""),
        h("label", { for: "link-url" }, t("field.link.url")),
        h("input", { id: "link-url", readonly: true, value: link.url, onfocus: (e) => e.target.select() }),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "secondary", id: "link-copy", onclick: copy }, state.copied ? t("field.link.copied") : t("field.link.copy")))) : null,
      form].filter(Boolean));
  }

  render();
  loadQr().catch(() => null); // now, while online: the service worker keeps it for offline days too
  app.device.linksOf(cardId).then(async ([last]) => {
    if (last && !state.link) {
      await show(last);
      render();
    }
  });
  return { el, update: render };
}

// Survey links for the cards selected in the desktop table, as a spreadsheet for bulk SMS or WeChat:
// the server declares one link per card (POST /surveys/{id}/links). Online only.
export function surveyLinksForm(app, ids) {
  const state = surveyLinksForm.state || (surveyLinksForm.state = { survey: "", format: "xlsx", busy: false, error: null, surveys: null });
  const el = h("form", { class: "inline", id: "bulk-survey-form", onsubmit: async (e) => {
    e.preventDefault();
    const survey = state.survey || state.surveys?.[0]?.id;
    if (!survey) return;
    state.busy = true;
    state.error = null;
    draw();
    try {
      const headers = { "Content-Type": "application/json", "X-Fieldcards": "1" };
      if (token()) headers.Authorization = `Bearer ${token()}`;
      const response = await fetch(`/api/v1/surveys/${encodeURIComponent(survey)}/links`, { method: "POST", headers,
        body: JSON.stringify({ cards: ids(), format: state.format, lang: language() }) });
      if (!response.ok) throw new Error((await response.json().catch(() => null))?.error?.message || `HTTP ${response.status}`);
      const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "")?.[1] || `survey-links.${state.format}`;
      const url = URL.createObjectURL(await response.blob());
      const a = h("a", { href: url, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      app.say(t("field.desk.surveyLinksMade", { n: Number(response.headers.get("x-fieldcards-count") || 0) }));
    } catch (error) {
      state.error = problemText(error);
    }
    state.busy = false;
    draw();
  } });
  function draw() {
    const lang = language();
    el.replaceChildren(...[
      h("label", { for: "bulk-survey" }, t("field.desk.surveyLinks")),
      state.surveys?.length ? h("select", { id: "bulk-survey", onchange: (e) => { state.survey = e.target.value; } },
        state.surveys.map((sv) => h("option", { value: sv.id, selected: sv.id === state.survey }, sv.name?.[lang] || sv.name?.en || sv.id)))
        : h("span", { class: "hint", id: "bulk-survey" }, t("field.desk.noSurveys")),
      h("label", { for: "bulk-survey-format", class: "sr-only" }, t("field.desk.surveyFormat")),
      h("select", { id: "bulk-survey-format", onchange: (e) => { state.format = e.target.value; } },
        ["xlsx", "csv"].map((f) => h("option", { value: f, selected: f === state.format }, f.toUpperCase()))),
      h("button", { type: "submit", id: "bulk-survey-links", disabled: state.busy || !state.surveys?.length || !navigator.onLine }, t("field.desk.surveyLinksButton")),
      state.error ? h("p", { class: "field-error", role: "alert" }, state.error) : null,
    ].filter(Boolean));
  }
  draw();
  app.device.store.meta("surveys").then((found) => {
    state.surveys = found || [];
    draw();
  });
  return el;
}
