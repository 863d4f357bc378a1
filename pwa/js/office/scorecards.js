// Rep scorecards on the dashboard (绩效考核, issue 17): per rep and period, the figures of
// GET /scorecards with the admin's targets and each rep's progress, and a CSV per figure.
import { api, token } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { personName } from "../shared/people.js";
import { cell, errorText, fetchRaw, saveBlob, table, today } from "./common.js";

const s = { from: "", to: "", data: null, error: null, loading: false };

function shift(day, days) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const query = (extra = {}) => new URLSearchParams({ from: s.from, to: s.to, ...extra }).toString();

export async function loadScorecards(redraw = null) {
  if (!s.to) s.to = today();
  if (!s.from) s.from = shift(s.to, -29);
  s.loading = true;
  s.error = null;
  try {
    s.data = await api(`/scorecards?${query()}`);
  } catch (error) {
    s.error = errorText(error);
  }
  s.loading = false;
  redraw?.();
}

function csv(figure, redraw) {
  const path = `/scorecards.csv?${query({ figure })}`;
  const name = `fieldcards-scorecard-${figure}.csv`;
  const all = figure === "all"; // the others are named by their figure, after "CSV per figure:"
  return h("a", { href: `/api/v1${path}`, download: name, class: "csv", id: `score-csv-${figure}`,
    "aria-label": all ? t("office.score.csvAll") : null, onclick: async (e) => {
      if (!token()) return;
      e.preventDefault();
      try {
        saveBlob(await (await fetchRaw(path)).blob(), name);
      } catch (error) {
        s.error = errorText(error);
        redraw();
      }
    } }, all ? t("office.dash.csv") : t(`office.score.f.${figure}`));
}

// Ten figures make the table wider than a screen: its scrolling box takes the keyboard (and says what it is).
function scrollable(box) {
  if (box.classList.contains("table-scroll")) {
    box.setAttribute("tabindex", "0");
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", t("office.score.title"));
  }
  return box;
}

export function scorecardSection(redraw) {
  const d = s.data;
  const figures = d?.figures || [];
  const cols = [t("office.score.rep"), ...figures.map((f) => t(`office.score.f.${f}`))];
  const value = (row, f) => {
    const v = row[f];
    const text = v === null || v === undefined ? t("status.none") : String(v);
    const p = row.progress?.[f];
    return p === undefined ? text : `${text} (${Math.round(p * 100)}% ${t("office.score.ofTarget", { target: d.targets[f] })})`;
  };
  const rows = (d?.reps || []).map((row) => h("tr", { "data-rep": row.rep }, cell(cols[0], personName(row.rep)),
    figures.map((f, i) => cell(cols[i + 1], value(row, f)))));
  const period = (name) => h("div", { class: "field" }, h("label", { for: `score-${name}` }, t(`office.score.${name}`)),
    h("input", { id: `score-${name}`, type: "date", value: s[name], onchange: (e) => { s[name] = e.target.value; loadScorecards(redraw); } }));
  return h("section", { class: "card", id: "scorecards", "aria-labelledby": "score-title" },
    h("div", { class: "screen-head" }, h("h3", { id: "score-title" }, t("office.score.title")), d ? csv("all", redraw) : null),
    h("p", { class: "hint" }, t("office.score.hint")),
    h("div", { class: "filter-grid" }, period("from"), period("to")),
    s.error ? h("p", { class: "error", role: "alert", id: "score-error" }, s.error) : null,
    d ? scrollable(table("table-scorecards", t("office.score.title"), cols, rows, t("office.score.none"))) : h("p", { class: "busy", role: "status" }, t("office.loading")),
    d ? h("p", { class: "csv-list" }, t("office.score.csvEach"), " ", figures.flatMap((f) => [csv(f, redraw), " "])) : null);
}
