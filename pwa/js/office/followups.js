// The dashboard's part of feedback followed up (issue 17): open and overdue follow-up items and
// the median days to resolve (GET /dashboard's `follow_ups`, with CSV), and the overdue items
// across reps (GET /follow-ups?state=overdue), each with its card, owner and due date.
import { api } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { personName } from "../people.js";
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
