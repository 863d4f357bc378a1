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
