// Dashboard (#/dashboard): the figures of GET /dashboard under the filters at the top, each as a
// chart the server draws (SVG), a small table with the same numbers, and a CSV download.
import { api, token } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { money, t } from "../shared/i18n.js";
import { personLabel, personName } from "../shared/people.js";
import { cell, errorText, fetchRaw, saveBlob, table, today } from "./common.js";
import { followUpSection, loadOverdue, loadStageRules, stageSection, surveySection } from "./followups.js";
import { loadScorecards, scorecardSection } from "./scorecards.js";

const FILTERS = ["owner", "segment", "region", "industry", "tag"];
const CHARTS = ["by_segment", "by_region", "by_industry", "by_owner", "by_tag", "new_cards_per_week", "activities_per_week", "segment_by_region"];
const NONE = "—"; // the server's bucket of cards where the field is empty
const IN_ALT = 12; // items named in a chart's text alternative; the table has them all
const SVG_TAGS = new Set(["svg", "g", "rect", "line", "text", "tspan", "title", "desc", "path", "polyline", "polygon", "circle", "ellipse"]);

const s = {
  filters: { date: "", owner: "", segment: "", region: "", industry: "", tag: "" },
  data: null, loading: false, error: null,
  known: { owner: new Set(), region: new Set(), industry: new Set(), tag: new Set() },
  open: new Set(), // figures whose table is unfolded, kept across redraws
  svgs: {}, // figure → inline <svg> (token sign-in) or an error text, for the current query
};

function query(extra = {}) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...s.filters, ...extra })) if (v) params.set(k, v);
  return params.toString();
}

// A chart from the server, put inline after stripping anything but drawing elements. Needed when
// signed in with a token: an <img> cannot send it, and the CSP allows no blob: images.
function safeSvg(text, label) {
  const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
  if (svg.localName !== "svg") return null;
  for (const el of [svg, ...svg.querySelectorAll("*")]) {
    if (!SVG_TAGS.has(el.localName)) {
      el.remove();
      continue;
    }
    for (const attr of [...el.attributes]) if (/^on|href$|^style$/i.test(attr.name)) el.removeAttribute(attr.name);
  }
  svg.querySelector("title")?.remove();
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("class", "chart");
  return document.importNode(svg, true);
}

async function loadCharts(ctx, wanted) {
  if (!token()) return; // a session cookie: <img> loads them itself
  await Promise.all(CHARTS.map(async (figure) => {
    try {
      const text = await (await fetchRaw(`/dashboard.svg?${query({ figure })}`)).text();
      if (wanted !== query()) return;
      s.svgs[figure] = safeSvg(text, altText(figure)) || t("office.dash.noChart");
    } catch (error) {
      if (ctx.lost(error)) return;
      if (wanted === query()) s.svgs[figure] = t("office.dash.noChart");
    }
  }));
  if (wanted === query()) ctx.render();
}

async function load(ctx) {
  if (!s.filters.date) s.filters.date = today();
  s.loading = true;
  s.error = null;
  s.svgs = {};
  ctx.render();
  const wanted = query();
  try {
    // The issue 17 sections load with the figures, so that none redraws the screen on its own later.
    const [data, overdue] = await Promise.all([api(`/dashboard?${wanted}`), loadOverdue(query({ segment: "", region: "", industry: "", tag: "" })),
      loadScorecards(), loadStageRules()]);
    if (wanted !== query()) return; // a newer choice of filters is on its way
    s.data = data;
    s.overdue = overdue; // follow-up items past due, across reps (issue 17)
    const o = ctx.options;
    [["owner", data.by_owner], ["region", data.by_region], ["industry", data.by_industry], ["tag", data.by_tag]]
      .forEach(([name, items]) => items.forEach((i) => s.known[name].add(i.key)));
    (o.regions || []).forEach((v) => s.known.region.add(v));
    (o.industries || []).forEach((v) => s.known.industry.add(v));
    (o.tags || []).forEach((v) => s.known.tag.add(v));
    loadCharts(ctx, wanted);
  } catch (error) {
    if (ctx.lost(error)) return;
    s.error = errorText(error);
  } finally {
    if (wanted === query()) s.loading = false;
  }
  ctx.render();
}

// --- drawing -----------------------------------------------------------------------------------

const keyText = (key) => (key === NONE ? t("office.dash.empty") : key);
const ownerText = (key) => (key === NONE ? keyText(key) : personName(key)); // 王伟, not wang.wei

function altText(figure) {
  const d = s.data;
  const title = t(`office.dash.figure.${figure}`);
  if (!d) return title;
  if (figure === "segment_by_region") return `${title}: ${t("office.dash.seeTable")}`;
  const items = d[figure] || [];
  if (!items.length) return `${title}: ${t("office.dash.noData")}`;
  const named = items.slice(0, IN_ALT).map((i) => `${(figure === "by_owner" ? ownerText : keyText)(i.key)} ${i.count}`).join(", ");
  return `${title}: ${named}${items.length > IN_ALT ? ` … (${t("office.dash.seeTable")})` : ""}`;
}

function csvLink(ctx, figure) {
  const path = `/dashboard.csv?${query({ figure })}`;
  const name = `fieldcards-${figure}.csv`;
  return h("a", { href: `/api/v1${path}`, download: name, class: "csv", id: `csv-${figure}`,
    "aria-label": t("office.dash.csvFor", { figure: t(`office.dash.figure.${figure}`) }),
    onclick: async (e) => {
      if (!token()) return; // the session cookie goes with the link itself
      e.preventDefault();
      try {
        saveBlob(await (await fetchRaw(path)).blob(), name);
      } catch (error) {
        if (ctx.lost(error)) return;
        s.error = errorText(error);
        ctx.render();
      }
    } }, t("office.dash.csv"));
}

function chart(figure) {
  if (!token()) {
    const img = h("img", { src: `/api/v1/dashboard.svg?${query({ figure })}`, alt: altText(figure), class: "chart", id: `chart-${figure}` });
    img.addEventListener("error", () => img.replaceWith(h("p", { class: "hint" }, t("office.dash.noChart"))));
    return img;
  }
  const found = s.svgs[figure];
  if (found instanceof Node) {
    found.id = `chart-${figure}`;
    found.setAttribute("aria-label", altText(figure)); // follows a change of language
    return found;
  }
  return h("p", { class: "hint", id: `chart-${figure}` }, found || t("office.dash.drawing"));
}

function dataTable(figure) {
  const d = s.data;
  const id = `table-${figure}`;
  const caption = t(`office.dash.figure.${figure}`);
  if (figure === "segment_by_region") {
    const p = d.segment_by_region;
    const cols = [t("office.field.segment"), ...p.columns.map(keyText)];
    return table(id, caption, cols, p.rows.map((row, i) => h("tr", {},
      cell(cols[0], keyText(row)), p.cells[i].map((n, j) => cell(cols[j + 1], String(n))))), t("office.dash.noData"));
  }
  const cols = [t(figure.endsWith("_week") ? "office.dash.week" : "office.dash.key"), t("office.dash.count")];
  const label = figure === "by_owner" ? ownerText : keyText;
  return table(id, caption, cols, d[figure].map((i) => h("tr", {}, cell(cols[0], label(i.key)), cell(cols[1], String(i.count)))), t("office.dash.noData"));
}

function figureCard(ctx, figure) {
  return h("section", { class: "card figure", "aria-labelledby": `fig-${figure}`, "data-figure": figure },
    h("div", { class: "screen-head" }, h("h3", { id: `fig-${figure}` }, t(`office.dash.figure.${figure}`)), csvLink(ctx, figure)),
    chart(figure),
    h("details", { class: "figure-data", open: s.open.has(figure),
      ontoggle: (e) => { if (e.target.open) s.open.add(figure); else s.open.delete(figure); } }, h("summary", {}, t("office.dash.table")), dataTable(figure)));
}

function select(ctx, name, values, labelOf = keyText) {
  const chosen = s.filters[name];
  const list = [...new Set([...values, ...(chosen ? [chosen] : [])])].sort((a, b) => (a === NONE) - (b === NONE) || a.localeCompare(b));
  return h("div", { class: "field" },
    h("label", { for: `filter-${name}` }, t(`office.dash.filter.${name}`)),
    h("select", { id: `filter-${name}`, onchange: (e) => { s.filters[name] = e.target.value; load(ctx); } },
      h("option", { value: "", selected: !chosen }, t("office.dash.all")),
      list.map((v) => h("option", { value: v, selected: v === chosen }, labelOf(v)))));
}

function filters(ctx) {
  const date = h("input", { id: "filter-date", type: "date", value: s.filters.date,
    onchange: (e) => { s.filters.date = e.target.value || today(); load(ctx); } });
  const any = FILTERS.some((f) => s.filters[f]);
  return h("form", { class: "card dash-filters", "aria-labelledby": "dash-title", onsubmit: (e) => { e.preventDefault(); load(ctx); } },
    h("div", { class: "screen-head" },
      h("h2", { id: "dash-title" }, t("office.dashboard.title")),
      h("div", { class: "inline" },
        any ? h("button", { type: "button", class: "secondary", id: "filter-clear",
          onclick: () => { FILTERS.forEach((f) => { s.filters[f] = ""; }); load(ctx); } }, t("office.dash.clear")) : null,
        h("button", { type: "submit", class: "secondary", id: "dash-refresh", disabled: s.loading }, t("status.refresh")))),
    h("div", { class: "filter-grid" },
      h("div", { class: "field" }, h("label", { for: "filter-date" }, t("office.dash.filter.date")), date),
      select(ctx, "owner", s.known.owner, (v) => personLabel(v)),
      select(ctx, "segment", [...(ctx.options.segments || ["A", "B", "C"]), NONE]),
      select(ctx, "region", s.known.region),
      select(ctx, "industry", s.known.industry),
      select(ctx, "tag", s.known.tag, (v) => v)),
    h("p", { class: "hint" }, t("office.dash.dateHint")));
}

function summary(ctx) {
  const d = s.data;
  const stat = (id, value, label) => h("div", { class: "stat" }, h("span", { class: "value", id }, value), h("span", { class: "label" }, label));
  const fb = d.feedback;
  const cols = ["segment", "currency", "total", "count"].map((k) => t(`office.dash.purchase.${k}`));
  const purchases = d.purchases_by_segment.map((p) => h("tr", {},
    cell(cols[0], keyText(p.segment)), cell(cols[1], keyText(p.currency)), cell(cols[2], money(p.total, p.currency)), cell(cols[3], String(p.count))));
  return h("section", { class: "card", "aria-labelledby": "dash-summary" },
    h("h3", { id: "dash-summary", class: "sr-only" }, t("office.dash.summary")),
    h("div", { class: "stats" },
      stat("dash-cards", String(d.cards), t("office.dash.cards")),
      stat("dash-feedback", fb.average === null ? t("status.none") : String(fb.average), t("office.dash.feedback", { count: fb.count }))),
    h("div", { class: "screen-head" }, h("h3", { id: "fig-purchases_by_segment" }, t("office.dash.figure.purchases_by_segment")), csvLink(ctx, "purchases_by_segment")),
    table("table-purchases_by_segment", t("office.dash.figure.purchases_by_segment"), cols, purchases, t("office.dash.noPurchases")),
    visitsNear(ctx, d.visits_near || []),
    followUpSection(d.follow_ups, s.overdue, csvLink(ctx, "follow_ups")),
    surveySection(d.surveys, csvLink(ctx, "surveys")),
    stageSection(d.stages, csvLink(ctx, "stages"), () => ctx.render()),
    scorecardSection(() => ctx.render()));
}

// Per rep, the visits logged within 500 m of the customer (issue 16): shown, never used to refuse.
function visitsNear(ctx, rows) {
  const keys = ["rep", "visits", "with_position", "near", "share"];
  const cols = keys.map((k) => t(`office.dash.visit.${k}`));
  const body = rows.map((r) => h("tr", {}, cell(cols[0], ownerText(r.key)), cell(cols[1], String(r.visits)),
    cell(cols[2], String(r.with_position)), cell(cols[3], String(r.near)), cell(cols[4], `${Math.round(r.share * 100)}%`)));
  return [
    h("div", { class: "screen-head" }, h("h3", { id: "fig-visits_near" }, t("office.dash.figure.visits_near")), csvLink(ctx, "visits_near")),
    h("p", { class: "hint" }, t("office.dash.visitsHint")),
    table("table-visits_near", t("office.dash.figure.visits_near"), cols, body, t("office.dash.noVisits")),
  ];
}

export const dashboardScreen = {
  name: "dashboard",
  reset() {
    s.data = null;
    s.svgs = {};
  },
  enter: load,
  view(ctx) {
    return h("div", { class: "office-screen", id: "screen-dashboard", "aria-busy": s.loading ? "true" : null },
      filters(ctx),
      s.loading ? h("p", { class: "busy", role: "status" }, t("office.loading")) : null,
      s.error ? h("p", { class: "error", role: "alert", id: "dash-error" }, s.error) : null,
      s.data ? [summary(ctx), h("div", { class: "figures" }, CHARTS.map((f) => figureCard(ctx, f)))] : null);
  },
};
