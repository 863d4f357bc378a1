// Import (#/import): a spreadsheet is checked first (a dry run: counts, every problem at its row,
// column and value, a preview per row, the column mapping and unknown tiers to adjust), then
// imported with a progress bar. A bad optional cell is a warning, never the row's loss; the rows
// with problems download as a spreadsheet to fix and import again. The imports are listed from
// the server (GET /imports), each with its undo, for as long as the server keeps them.
import { localMessage } from "../shared/messages.js";
import { api, ApiError } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { language, t } from "../shared/i18n.js";
import { CARD_FIELDS, cell, checkbox, entryAction, errorText, fetchRaw, fieldName, group, postForm, postFormRaw, saveBlob, short, shown, table } from "./common.js";
import { field, shownTime } from "../shared/ui.js";

const MODES = ["upsert", "create", "update"];
const MATCHES = ["phone", "email", "name+company"];
const SEGMENTS = ["A", "B", "C"];
const POLL_MS = 500;

const s = {
  input: null, // the file input is kept across redraws: a browser cannot put a chosen file back
  file: null, mode: "upsert", match: ["phone", "email"], owner: "",
  mapping: null, // {header: field or ""} once the person changed one; null: the server's suggestion
  values: {}, // {field: {value in the file: card value, or "" to leave it out}}
  dry: null, checking: false, error: null, mappingErrors: {},
  running: null, // {done, total} while the import runs, and after it, full
  result: null, notice: null,
  history: null, historyError: null, // the server's list of imports, newest first
};

function form(dryRun, progress) {
  const data = new FormData();
  data.append("file", s.file, s.file.name);
  data.append("mode", s.mode);
  data.append("match", s.match.join(","));
  data.append("dry_run", dryRun ? "true" : "false");
  if (s.mapping) data.append("mapping", JSON.stringify(s.mapping));
  if (Object.keys(s.values).length) data.append("values", JSON.stringify(s.values));
  if (s.owner.trim()) data.append("owner", s.owner.trim());
  if (progress) data.append("progress", progress);
  return data;
}

async function loadHistory(ctx) {
  try {
    s.history = (await api("/imports")).imports;
    s.historyError = null;
  } catch (error) {
    if (ctx.lost(error)) return;
    s.historyError = errorText(error);
  }
  ctx.render();
}

// The problems file: of a check (the same form, answered as a spreadsheet) or of an import.
async function download(ctx, importId) {
  const query = `format=xlsx&lang=${encodeURIComponent(language())}`;
  try {
    const response = importId
      ? await fetchProblems(importId, query)
      : await postFormRaw(`/imports/problems?${query}`, form(true));
    saveBlob(await response.blob(), t("office.import.problemsFile"));
  } catch (error) {
    if (ctx.lost(error)) return;
    s.error = errorText(error);
    ctx.render();
  }
}

const fetchProblems = (importId, query) => fetchRaw(`/imports/${encodeURIComponent(importId)}/problems?${query}`);

// Errors at `mapping.HEADER` go next to that column's select; the rest above the form.
function showError(ctx, error) {
  if (ctx.lost(error)) return;
  s.mappingErrors = {};
  const fields = error instanceof ApiError ? error.fields : [];
  for (const f of fields) {
    if (f.path.startsWith("mapping.")) s.mappingErrors[f.path.slice(8)] = localMessage(f.message);
  }
  const rest = fields.filter((f) => !f.path.startsWith("mapping."));
  if (rest.some((f) => f.path === "mapping") && !s.dry) {
    s.error = t("office.import.noNameColumn"); // without a preview there is no column list to map from
  } else if (rest.length) s.error = rest.map((f) => (f.path ? `${f.path}: ${localMessage(f.message)}` : localMessage(f.message))).join("; ");
  else s.error = fields.length ? t("office.import.mappingProblem") : errorText(error);
}

async function dryRun(ctx) {
  if (!s.file) return;
  s.checking = true;
  s.error = null;
  s.notice = null;
  ctx.render();
  try {
    s.dry = await postForm("/imports", form(true));
    s.mappingErrors = {};
  } catch (error) {
    s.dry = s.mapping ? s.dry : null; // a refused mapping keeps the last good preview beside the error
    showError(ctx, error);
  } finally {
    s.checking = false;
  }
  ctx.render();
}

function changeMapping(ctx, header, name) {
  const current = s.mapping || Object.fromEntries(s.dry.headers.map((hd) => [hd, s.dry.mapping[hd] || ""]));
  s.mapping = { ...current, [header]: name };
  dryRun(ctx);
}

async function runImport(ctx) {
  const { create, update } = s.dry;
  if (!window.confirm(t("office.import.confirm", { file: s.file.name, create, update }))) return;
  const progress = crypto.randomUUID();
  s.running = { done: 0, total: 0 };
  s.error = null;
  s.notice = null;
  ctx.render();
  let finished = false;
  const poll = async () => {
    try {
      const now = await api(`/imports/progress/${progress}`);
      if (!finished && now.total) {
        s.running = now;
        ctx.render();
      }
    } catch {
      // a missed poll only delays the bar; the import's own answer says how it went
    }
  };
  poll();
  const timer = setInterval(poll, POLL_MS);
  try {
    const result = await postForm("/imports", form(false, progress));
    finished = true;
    const written = result.create + result.update;
    s.running = { done: written, total: written };
    s.result = { ...result, file: s.file.name };
    s.dry = null;
    s.file = null;
    s.mapping = null;
    s.values = {};
    s.input.value = "";
    loadHistory(ctx);
  } catch (error) {
    finished = true;
    s.running = null;
    showError(ctx, error);
  } finally {
    clearInterval(timer);
  }
  ctx.render();
}

async function undo(ctx, entry) {
  if (!window.confirm(t("office.import.undoQuestion", { file: entry.filename }))) return;
  await entryAction(ctx, s, entry, async () => {
    const done = await api(`/imports/${encodeURIComponent(entry.id)}/undo`, { method: "POST" });
    s.notice = { undone: done.undone, conflicts: done.conflicts };
  }, { after: () => loadHistory(ctx) }); // the server says what is undone, also when another tab did it
}

// --- drawing -----------------------------------------------------------------------------------

function fileInput(ctx) {
  if (!s.input) {
    s.input = h("input", { id: "import-file", type: "file", accept: ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
  }
  s.input.onchange = () => {
    s.file = s.input.files[0] || null;
    Object.assign(s, { mapping: null, values: {}, dry: null, result: null, running: null, mappingErrors: {} });
    dryRun(ctx);
  };
  return s.input;
}

function options(ctx) {
  const mode = h("select", { id: "import-mode", onchange: (e) => { s.mode = e.target.value; dryRun(ctx); } },
    MODES.map((m) => h("option", { value: m, selected: m === s.mode }, t(`office.import.mode.${m}`))));
  const match = h("fieldset", { class: "checks", id: "import-match" },
    h("legend", {}, t("office.import.match")),
    MATCHES.map((m) => checkbox(`match-${m.replace("+", "-")}`, t(`office.import.match.${m}`), s.match.includes(m), (on) => {
      s.match = MATCHES.filter((x) => (x === m ? on : s.match.includes(x)));
      dryRun(ctx);
    })));
  return h("section", { class: "card", "aria-labelledby": "import-title" },
    h("h2", { id: "import-title" }, t("office.import.title")),
    h("p", { class: "hint" }, t("office.import.intro")),
    h("div", { class: "fields" },
      field("import-file", t("office.import.file"), fileInput(ctx), { hint: s.file ? t("office.import.chosen", { file: s.file.name }) : t("office.import.fileHint") }),
      field("import-mode", t("office.import.mode"), mode, { hint: t(`office.import.mode.${s.mode}.hint`) }),
      field("import-owner", t("office.import.owner"), h("input", { id: "import-owner", type: "text", value: s.owner,
        autocomplete: "off", onchange: (e) => { s.owner = e.target.value; dryRun(ctx); } }), { hint: t("office.import.ownerHint") }),
      match),
    h("div", { class: "actions" },
      h("button", { type: "button", id: "import-check", class: "secondary", disabled: !s.file || s.checking || Boolean(s.running && !s.result),
        onclick: () => dryRun(ctx) }, t("office.import.check"))));
}

function counts(d, id) {
  const stat = (key, value, cls = "") => h("div", { class: `stat ${cls}` }, h("span", { class: "value", id: `${id}-${key}` }, String(value)),
    h("span", { class: "label" }, t(`office.import.count.${key}`)));
  const errors = Array.isArray(d.errors) ? d.errors.length : d.errors;
  const warnings = Array.isArray(d.warnings) ? d.warnings.length : d.warnings || 0;
  return h("div", { class: "stats", id }, stat("rows", d.rows), stat("create", d.create, "good"), stat("update", d.update, "wait"),
    stat("skip", d.skip), stat("errors", errors, errors ? "bad" : ""), stat("warnings", warnings, warnings ? "wait" : ""));
}

// A problem in the person's language, from its code; the English message for codes this screen
// does not know (a newer server) or problems without one.
export function problemText(p) {
  const params = { column: p.column || "", value: p.value ?? "", ...(p.params || {}) };
  if (params.detail) params.detail = localMessage(params.detail);
  const key = `office.import.problem.${p.code}`;
  const text = p.code ? t(key, params) : key;
  return text === key ? localMessage(p.message) : text;
}

// Every error and warning, none left out: each is a customer's cell someone has to look at.
function errorsTable(ctx, d, id, importId) {
  const problems = [...(d.errors || []).map((p) => ({ ...p, kind: "error" })), ...(d.warnings || []).map((p) => ({ ...p, kind: "warning" }))]
    .sort((a, b) => a.row - b.row);
  if (!problems.length) return h("p", { class: "hint", id }, t("office.import.noErrors"));
  const cols = ["row", "kind", "column", "value", "message"].map((k) => t(`office.import.error.${k}`));
  const rows = problems.map((p) => h("tr", { "data-row": p.row, "data-code": p.code || "", class: `problem-${p.kind}` },
    cell(cols[0], String(p.row)),
    cell(cols[1], h("span", { class: `badge ${p.kind === "error" ? "bad" : "wait"}` }, t(`office.import.kind.${p.kind}`))),
    cell(cols[2], p.column || t("status.none")), cell(cols[3], p.value || ""), cell(cols[4], problemText(p))));
  return group(h("h3", {}, t("office.import.errors")),
    h("p", { class: "hint" }, t("office.import.problemsHint")),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", id: `${id}-download`, onclick: () => download(ctx, importId) },
        t("office.import.download"))),
    table(id, t("office.import.errors"), cols, rows, ""));
}

// Tiers the file writes its own way (重要客户, VIP): the person says which tier each one is.
function valuesSection(ctx, d) {
  const column = Object.keys(d.mapping || {}).find((hd) => (s.mapping || d.mapping)[hd] === "segment");
  const chosen = s.values.segment || {};
  const unknown = [...new Set([...(d.warnings || []).filter((w) => w.code === "not_a_segment").map((w) => w.value),
    ...Object.keys(chosen)])];
  if (!column || !unknown.length) return null;
  const rows = unknown.map((value, n) => {
    const id = `value-segment-${n}`;
    const select = h("select", { id, "data-value": value, "aria-label": t("office.import.valueFor", { value }), disabled: s.checking,
      onchange: (e) => { s.values = { ...s.values, segment: { ...chosen, [value]: e.target.value || null } }; dryRun(ctx); } },
    h("option", { value: "", selected: !chosen[value] }, t("office.import.leaveOut")),
    SEGMENTS.map((seg) => h("option", { value: seg, selected: chosen[value] === seg }, seg)));
    return h("tr", { "data-value": value }, cell(t("office.import.valueInFile"), value), cell(t("office.import.valueOnCard"), select));
  });
  return h("div", { class: "values" },
    h("h3", {}, t("office.import.values", { column })),
    h("p", { class: "hint" }, t("office.import.valuesHint")),
    table("import-values", t("office.import.values", { column }), [t("office.import.valueInFile"), t("office.import.valueOnCard")], rows, ""));
}

function mappingSection(ctx, d) {
  const custom = ctx.options.custom_fields || [];
  const names = [...CARD_FIELDS, "lat", "lng", ...custom.map((f) => `custom.${f.key}`)]; // 纬度/经度 make `location`
  const current = s.mapping || d.mapping;
  const rows = d.headers.map((header, n) => {
    const value = current[header] || "";
    const choices = value && !names.includes(value) ? [...names, value] : names;
    const id = `map-${n}`;
    const error = s.mappingErrors[header];
    const select = h("select", { id, "data-header": header, "aria-label": t("office.import.mapFor", { column: header }), disabled: s.checking,
      "aria-invalid": error ? "true" : null, "aria-describedby": error ? `${id}-error` : null,
      onchange: (e) => changeMapping(ctx, header, e.target.value) },
    h("option", { value: "", selected: !value }, t("office.import.ignore")),
    choices.map((name) => h("option", { value: name, selected: name === value }, `${fieldName(name, custom)} (${name})`)));
    return h("tr", { "data-header": header },
      cell(t("office.import.column"), h("span", { class: "colname" }, header)),
      cell(t("office.import.field"), select, error ? h("p", { class: "field-error", id: `${id}-error` }, error) : null));
  });
  return h("div", { class: "mapping" },
    h("h3", {}, t("office.import.mapping")),
    h("p", { class: "hint" }, t("office.import.mappingHint")),
    table("import-mapping", t("office.import.mapping"), [t("office.import.column"), t("office.import.field")], rows, ""));
}

function previewTable(ctx, d) {
  const custom = ctx.options.custom_fields || [];
  const cols = ["row", "action", "card", "fields", "reason"].map((k) => t(`office.import.preview.${k}`));
  const fieldsText = (fields) => Object.entries(fields || {}).map(([k, v]) => (k === "custom"
    ? Object.entries(v).map(([ck, cv]) => `${fieldName(`custom.${ck}`, custom)}: ${shown(cv)}`).join("; ")
    : `${fieldName(k)}: ${shown(v)}`)).join("; ");
  const rows = d.preview.map((p) => h("tr", { "data-row": p.row, class: `action-${p.action}` },
    cell(cols[0], String(p.row)),
    cell(cols[1], h("span", { class: `badge ${p.action === "create" ? "good" : p.action === "update" ? "wait" : ""}` }, t(`office.import.action.${p.action}`))),
    cell(cols[2], p.card && p.action !== "create" ? h("span", { class: "mono", title: p.card }, short(p.card)) : t("status.none")),
    cell(cols[3], fieldsText(p.fields) || t("status.none")),
    cell(cols[4], p.reason || "")));
  return group(h("h3", {}, t("office.import.preview")),
    d.rows > d.preview.length ? h("p", { class: "hint" }, t("office.import.previewFirst", { shown: d.preview.length, rows: d.rows })) : null,
    table("import-preview", t("office.import.preview"), cols, rows, t("office.import.previewNone")));
}

function dryRunCard(ctx) {
  const d = s.dry;
  if (!d && !s.checking) return null;
  const writes = d ? d.create + d.update : 0;
  const running = Boolean(s.running && !s.result);
  return h("section", { class: "card", id: "dry-run", "aria-labelledby": "dry-title", "aria-busy": s.checking ? "true" : null },
    h("h2", { id: "dry-title" }, t("office.import.dryTitle")),
    s.checking ? h("p", { class: "busy", role: "status" }, t("office.import.checking")) : null,
    d ? group(
      h("p", { class: "hint" }, t("office.import.dryHint")),
      counts(d, "dry-counts"),
      mappingSection(ctx, d),
      valuesSection(ctx, d),
      errorsTable(ctx, d, "import-errors", null),
      previewTable(ctx, d),
      h("div", { class: "actions" },
        h("button", { type: "button", id: "import-run", disabled: s.checking || running || !writes || Boolean(s.error), onclick: () => runImport(ctx) },
          t("office.import.run", { count: writes })),
        writes ? null : h("p", { class: "hint" }, t("office.import.nothing"))),
    ) : null);
}

function progressBar() {
  if (!s.running) return null;
  const { done, total } = s.running;
  const bar = total ? h("progress", { id: "import-progress", max: String(total), value: String(done) }) : h("progress", { id: "import-progress" });
  bar.setAttribute("aria-labelledby", "import-progress-label");
  return h("div", { class: "progress" },
    h("p", { id: "import-progress-label", role: "status" },
      total ? t("office.import.progress", { done, total }) : t("office.import.starting")),
    bar);
}

function resultCard(ctx) {
  const r = s.result;
  if (!r && !s.running) return null;
  const entry = r && (s.history || []).find((e) => e.id === r.import);
  return h("section", { class: "card", id: "import-result", "aria-labelledby": "result-title" },
    h("h2", { id: "result-title" }, r ? t("office.import.done", { file: r.file }) : t("office.import.running")),
    progressBar(),
    r ? group(
      counts(r, "result-counts"),
      errorsTable(ctx, r, "result-errors", r.import),
      h("p", { class: "hint" }, t("office.import.undoHint")),
      entry ? undoButton(ctx, entry, "undo-import") : null,
    ) : null);
}

function undoButton(ctx, entry, id) {
  if (entry.undone_at) {
    return h("span", { class: "badge", id, title: shownTime(entry.undone_at) },
      t("office.import.undoneBy", { user: entry.undone_by || "", time: shownTime(entry.undone_at) }));
  }
  return h("button", { type: "button", class: "danger", id, disabled: Boolean(entry.busy),
    "aria-label": t("office.import.undoFor", { file: entry.filename }), onclick: () => undo(ctx, entry) }, t("office.import.undo"));
}

function historyCard(ctx) {
  if (s.history === null && !s.historyError) return null;
  const cols = ["time", "by", "file", "rows", "create", "update", "problems", "import", "status"].map((k) => t(`office.import.history.${k}`));
  const rows = (s.history || []).map((e) => h("tr", { "data-import": e.id },
    cell(cols[0], shownTime(e.created_at)), cell(cols[1], e.display || e.user), cell(cols[2], e.filename),
    cell(cols[3], String(e.rows)), cell(cols[4], String(e.create)), cell(cols[5], String(e.update)),
    cell(cols[6], e.errors + e.warnings
      ? h("button", { type: "button", class: "secondary", id: `problems-${e.id}`,
        "aria-label": t("office.import.downloadFor", { file: e.filename, count: e.errors + e.warnings }),
        onclick: () => download(ctx, e.id) }, String(e.errors + e.warnings))
      : "0"),
    cell(cols[7], h("span", { class: "mono", title: e.id }, short(e.id))),
    cell(cols[8], undoButton(ctx, e, `undo-${e.id}`))));
  return h("section", { class: "card", "aria-labelledby": "history-title" },
    h("h2", { id: "history-title" }, t("office.import.history")),
    s.historyError ? h("p", { class: "error", role: "alert" }, s.historyError) : null,
    table("import-history", t("office.import.history"), cols, rows, t("office.import.historyNone")));
}

function messages() {
  return [
    s.notice ? h("p", { class: "notice", role: "status", id: "notice" },
      t("office.import.undoneNotice", { undone: s.notice.undone }), " ",
      s.notice.conflicts ? t("office.import.undoneConflicts", { count: s.notice.conflicts }) : t("office.import.undoneNoConflicts")) : null,
    s.error ? h("p", { class: "error", role: "alert", id: "import-error" }, s.error) : null,
  ];
}

export const importScreen = {
  name: "import",
  reset() {
    Object.assign(s, { file: null, mapping: null, values: {}, owner: "", dry: null, result: null, running: null, error: null,
      notice: null, history: null, historyError: null });
    if (s.input) s.input.value = "";
  },
  enter: loadHistory,
  view(ctx) {
    return h("div", { class: "office-screen", id: "screen-import" }, options(ctx), messages(), dryRunCard(ctx), resultCard(ctx), historyCard(ctx));
  },
};
