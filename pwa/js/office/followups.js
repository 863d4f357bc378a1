// The dashboard's part of feedback followed up (issue 17): open and overdue follow-up items and
// the median days to resolve (GET /dashboard's `follow_ups`, with CSV), and the overdue items
// across reps (GET /follow-ups?state=overdue), each with its card, owner and due date.
import { api } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { personName } from "../shared/people.js";
import { cell, table } from "./common.js";

export async function loadOverdue(query) {
  return (await api(`/follow-ups?state=overdue&${query}`)).items;
}

export function followUpSection(figures, overdue, csvLink) {
  const f = figures || { open: 0, overdue: 0, resolved: 0, median_days_to_resolve: null };
  const stat = (id, value, label) => h("div", { class: "stat" }, h("span", { class: "value", id }, value), h("span", { class: "label" }, label));
  const cols = ["card", "title", "owner", "due", "status"].map((k) => t(`office.items.${k}`));
  const rows = (overdue || []).map((o) => h("tr", {},
    cell(cols[0], h("a", { href: `/#/card/${encodeURIComponent(o.card)}` }, o.name || o.card)),
    cell(cols[1], o.item.title), cell(cols[2], o.owner ? personName(o.owner) : t("office.items.pool")),
    cell(cols[3], o.item.due), cell(cols[4], t(`field.items.${o.item.status}`))));
  return [
    h("div", { class: "screen-head" }, h("h3", { id: "fig-follow_ups" }, t("office.dash.figure.follow_ups")), csvLink),
    h("div", { class: "stats", id: "follow-up-stats" },
      stat("items-open", String(f.open), t("office.items.open")),
      stat("items-overdue", String(f.overdue), t("office.items.overdue")),
      stat("items-median", f.median_days_to_resolve === null ? t("status.none") : String(f.median_days_to_resolve),
        t("office.items.median", { n: f.resolved }))),
    h("h4", { id: "overdue-title" }, t("office.items.overdueList")),
    table("table-overdue-items", t("office.items.overdueList"), cols, rows, t("office.items.noneOverdue")),
  ];
}

// Surveys (issue 17): links sent and answered, CSAT and NPS overall and by segment, region, rep and week.
export function surveySection(figures, csvLink) {
  const f = figures || { sent: 0, answered: 0, response_rate: null, csat: null, nps: null, csat_by: {}, nps_by: {} };
  const stat = (id, value, label) => h("div", { class: "stat" }, h("span", { class: "value", id }, value), h("span", { class: "label" }, label));
  const none = t("status.none");
  const cols = ["group", "key", "csat", "csatCount", "nps", "npsCount"].map((k) => t(`office.surveys.${k}`));
  const rows = [];
  for (const group of ["segment", "region", "rep", "week"]) {
    const csat = new Map((f.csat_by?.[group] || []).map((r) => [r.key, r]));
    const nps = new Map((f.nps_by?.[group] || []).map((r) => [r.key, r]));
    for (const key of [...new Set([...csat.keys(), ...nps.keys()])].sort()) {
      const c = csat.get(key);
      const n = nps.get(key);
      rows.push(h("tr", {}, cell(cols[0], t(`office.surveys.by.${group}`)), cell(cols[1], group === "rep" && key !== "—" ? personName(key) : key),
        cell(cols[2], c ? String(c.average) : none), cell(cols[3], String(c?.count || 0)),
        cell(cols[4], n ? String(n.score) : none), cell(cols[5], String(n?.count || 0))));
    }
  }
  return [
    h("div", { class: "screen-head" }, h("h3", { id: "fig-surveys" }, t("office.dash.figure.surveys")), csvLink),
    h("div", { class: "stats", id: "survey-stats" },
      stat("surveys-sent", String(f.sent), t("office.surveys.sent")),
      stat("surveys-answered", String(f.answered), t("office.surveys.answered")),
      stat("surveys-rate", f.response_rate === null ? none : `${Math.round(f.response_rate * 100)}%`, t("office.surveys.rate")),
      stat("surveys-csat", f.csat ? String(f.csat.average) : none, t("office.surveys.csatAll", { n: f.csat?.count || 0 })),
      stat("surveys-nps", f.nps ? String(f.nps.score) : none, t("office.surveys.npsAll", { n: f.nps?.count || 0 }))),
    table("table-surveys", t("office.dash.figure.surveys"), cols, rows, t("office.surveys.noAnswers")),
  ];
}

// Lifecycle stages (issue 17): cards per stage, moves per month, the win-back list, and the rules
// (office and admins change them here; the server applies them hourly).
// `draft`: what the person typed, kept across redraws (the dashboard redraws when its figures or
// these rules arrive, and a redraw must not put back the stored value over what was typed).
const stageRules = { rules: null, error: null, said: null, busy: false, draft: {} };
const STAGE_KEYS = ["lead", "new", "active", "at_risk", "lost", "won_back", "none"];
const stageName = (key) => (key === "none" ? t("field.stage.none") : t(`field.stage.${key}`));

export async function loadStageRules() {
  try {
    stageRules.rules = (await api("/stages/rules")).rules;
  } catch (error) {
    stageRules.error = error.message;
  }
}

function rulesForm(redraw) {
  if (!stageRules.rules && !stageRules.error) return h("p", { class: "busy", role: "status" }, t("office.loading"));
  const r = stageRules.rules || {};
  const number = (name) => h("div", { class: "field" }, h("label", { for: `stage-${name}` }, t(`office.stages.rule.${name}`)),
    h("input", { id: `stage-${name}`, type: "number", min: "1", max: "3650", step: "1", inputmode: "numeric",
      value: stageRules.draft[name] ?? String(r[name] ?? ""), oninput: (e) => { stageRules.draft[name] = e.target.value; } }));
  return h("form", { id: "stage-rules", class: "inline", "aria-labelledby": "stage-rules-title", onsubmit: async (e) => {
    e.preventDefault();
    const read = (name) => Number(document.getElementById(`stage-${name}`).value);
    const body = { at_risk_days: read("at_risk_days"), lost_days: read("lost_days"), new_days: read("new_days") };
    Object.assign(stageRules, { busy: true, error: null, said: null });
    try {
      stageRules.rules = (await api("/stages/rules", { method: "PUT", body })).rules;
      stageRules.said = t("office.stages.saved");
      stageRules.draft = {};
    } catch (error) {
      stageRules.error = error.fields?.length ? error.fields.map((f) => `${f.path}: ${f.message}`).join("; ") : error.message;
    }
    stageRules.busy = false;
    redraw();
  } },
  h("h4", { id: "stage-rules-title" }, t("office.stages.rules")),
  number("at_risk_days"), number("lost_days"), number("new_days"),
  h("button", { type: "submit", id: "stage-rules-save", disabled: stageRules.busy }, t("office.stages.save")),
  stageRules.said ? h("p", { class: "notice", role: "status", id: "stage-rules-said" }, stageRules.said) : null,
  stageRules.error ? h("p", { class: "error", role: "alert", id: "stage-rules-error" }, stageRules.error) : null);
}

export function stageSection(figures, csvLink, redraw) {
  const f = figures || { counts: [], flows: [], win_back: [] };
  const counts = new Map(f.counts.map((c) => [c.key, c.count]));
  const countCols = [t("field.stage.label"), t("office.dash.count")];
  const flowCols = ["month", "from", "to", "count"].map((k) => t(`office.stages.${k}`));
  const backCols = ["card", "stage", "owner", "last"].map((k) => t(`office.stages.back.${k}`));
  return [
    h("div", { class: "screen-head" }, h("h3", { id: "fig-stages" }, t("office.dash.figure.stages")), csvLink),
    table("table-stages", t("office.dash.figure.stages"), countCols,
      STAGE_KEYS.map((k) => h("tr", {}, cell(countCols[0], stageName(k)), cell(countCols[1], String(counts.get(k) || 0)))), t("office.dash.noData")),
    h("h4", { id: "stage-flows-title" }, t("office.stages.flows")),
    table("table-stage-flows", t("office.stages.flows"), flowCols, f.flows.map((m) => h("tr", {},
      cell(flowCols[0], m.month), cell(flowCols[1], stageName(m.from)), cell(flowCols[2], stageName(m.to)), cell(flowCols[3], String(m.count)))),
    t("office.stages.noFlows")),
    h("h4", { id: "win-back-title" }, t("office.stages.winBack")),
    table("table-win-back", t("office.stages.winBack"), backCols, f.win_back.map((w) => h("tr", {},
      cell(backCols[0], h("a", { href: `/#/card/${encodeURIComponent(w.card)}` }, w.name || w.card)), cell(backCols[1], stageName(w.stage)),
      cell(backCols[2], w.owner ? personName(w.owner) : t("office.items.pool")), cell(backCols[3], w.last_touch || t("status.none")))),
    t("office.stages.noWinBack")),
    rulesForm(redraw),
  ];
}
