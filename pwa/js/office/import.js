// Import (#/import): a spreadsheet is checked first (a dry run: counts, errors at their row and
// column, a preview per row, the column mapping to adjust), then imported with a progress bar,
// and can be undone. This session's imports are kept in sessionStorage with their undo buttons.
import { localMessage } from "../messages.js";
import { api, ApiError } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { CARD_FIELDS, cell, checkbox, errorText, field, fieldName, fmtTime, group, postForm, short, shown, table } from "./common.js";

const HISTORY_KEY = "fieldcards.office.imports";
const MODES = ["upsert", "create", "update"];
const MATCHES = ["phone", "email", "name+company"];
const POLL_MS = 500;
const ERRORS_SHOWN = 200;

const readHistory = () => {
  try {
    return JSON.parse(sessionStorage.getItem(HISTORY_KEY) || "[]");
  } catch {
    return []; // a damaged list is the same as none
  }
};

const s = {
  input: null, // the file input is kept across redraws: a browser cannot put a chosen file back
  file: null, mode: "upsert", match: ["phone", "email"],
  mapping: null, // {header: field or ""} once the person changed one; null: the server's suggestion
  dry: null, checking: false, error: null, mappingErrors: {},
  running: null, // {done, total} while the import runs, and after it, full
  result: null, notice: null, history: readHistory(),
};

function saveHistory() {
  sessionStorage.setItem(HISTORY_KEY, JSON.stringify(s.history.slice(0, 50)));
}

function form(dryRun, progress) {
  const data = new FormData();
  data.append("file", s.file, s.file.name);
  data.append("mode", s.mode);
  data.append("match", s.match.join(","));
  data.append("dry_run", dryRun ? "true" : "false");
  if (s.mapping) data.append("mapping", JSON.stringify(s.mapping));
  if (progress) data.append("progress", progress);
  return data;
}

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
    s.history.unshift({ id: result.import, file: s.file.name, at: new Date().toISOString(), rows: result.rows,
      create: result.create, update: result.update, skip: result.skip, errors: result.errors.length, undone: null });
    saveHistory();
    s.dry = null;
    s.file = null;
    s.mapping = null;
    s.input.value = "";
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
  if (!window.confirm(t("office.import.undoQuestion", { file: entry.file }))) return;
  s.error = null;
  s.notice = null;
  entry.busy = true;
  ctx.render();
  try {
    const done = await api(`/imports/${encodeURIComponent(entry.id)}/undo`, { method: "POST" });
    entry.undone = { undone: done.undone, conflicts: done.conflicts, at: new Date().toISOString() };
    s.notice = { undone: done.undone, conflicts: done.conflicts };
  } catch (error) {
    if (ctx.lost(error)) return;
    if (error instanceof ApiError && /undone already/.test(error.message)) entry.undone = { undone: 0, conflicts: 0, at: null };
    s.error = errorText(error);
  } finally {
    delete entry.busy;
    saveHistory();
  }
  ctx.render();
}

// --- drawing -----------------------------------------------------------------------------------

function fileInput(ctx) {
  if (!s.input) {
    s.input = h("input", { id: "import-file", type: "file", accept: ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
  }
  s.input.onchange = () => {
    s.file = s.input.files[0] || null;
    Object.assign(s, { mapping: null, dry: null, result: null, running: null, mappingErrors: {} });
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
      match),
    h("div", { class: "actions" },
      h("button", { type: "button", id: "import-check", class: "secondary", disabled: !s.file || s.checking || Boolean(s.running && !s.result),
        onclick: () => dryRun(ctx) }, t("office.import.check"))));
}

function counts(d, id) {
  const stat = (key, value, cls = "") => h("div", { class: `stat ${cls}` }, h("span", { class: "value", id: `${id}-${key}` }, String(value)),
    h("span", { class: "label" }, t(`office.import.count.${key}`)));
  const errors = Array.isArray(d.errors) ? d.errors.length : d.errors;
  return h("div", { class: "stats", id }, stat("rows", d.rows), stat("create", d.create, "good"), stat("update", d.update, "wait"),
    stat("skip", d.skip), stat("errors", errors, errors ? "bad" : ""));
}

function errorsTable(errors, id) {
  if (!errors.length) return h("p", { class: "hint", id }, t("office.import.noErrors"));
  const cols = ["row", "column", "message"].map((k) => t(`office.import.error.${k}`));
  const rows = errors.slice(0, ERRORS_SHOWN).map((e) => h("tr", { "data-row": e.row },
    cell(cols[0], String(e.row)), cell(cols[1], e.column || t("status.none")), cell(cols[2], localMessage(e.message))));
  return group(h("h3", {}, t("office.import.errors")),
    table(id, t("office.import.errors"), cols, rows, ""),
    errors.length > ERRORS_SHOWN ? h("p", { class: "hint" }, t("office.import.moreErrors", { count: errors.length - ERRORS_SHOWN })) : null);
}

function mappingSection(ctx, d) {
  const custom = ctx.options.custom_fields || [];
  const names = [...CARD_FIELDS, ...custom.map((f) => `custom.${f.key}`)];
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
      errorsTable(d.errors, "import-errors"),
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
  const entry = r && s.history.find((e) => e.id === r.import);
  return h("section", { class: "card", id: "import-result", "aria-labelledby": "result-title" },
    h("h2", { id: "result-title" }, r ? t("office.import.done", { file: r.file }) : t("office.import.running")),
    progressBar(),
    r ? group(
      counts(r, "result-counts"),
      errorsTable(r.errors, "result-errors"),
      h("p", { class: "hint" }, t("office.import.undoHint")),
      entry ? undoButton(ctx, entry, "undo-import") : null,
    ) : null);
}

function undoButton(ctx, entry, id) {
  if (entry.undone) return h("span", { class: "badge", id }, t("office.import.undone"));
  return h("button", { type: "button", class: "danger", id, disabled: Boolean(entry.busy),
    "aria-label": t("office.import.undoFor", { file: entry.file }), onclick: () => undo(ctx, entry) }, t("office.import.undo"));
}

function historyCard(ctx) {
  if (!s.history.length) return null;
  const cols = ["time", "file", "rows", "create", "update", "import", "status"].map((k) => t(`office.import.history.${k}`));
  const rows = s.history.map((e) => h("tr", { "data-import": e.id },
    cell(cols[0], fmtTime(e.at)), cell(cols[1], e.file), cell(cols[2], String(e.rows)), cell(cols[3], String(e.create)),
    cell(cols[4], String(e.update)), cell(cols[5], h("span", { class: "mono", title: e.id }, short(e.id))),
    cell(cols[6], undoButton(ctx, e, `undo-${e.id}`))));
  return h("section", { class: "card", "aria-labelledby": "history-title" },
    h("h2", { id: "history-title" }, t("office.import.history")),
    table("import-history", t("office.import.history"), cols, rows, ""));
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
    Object.assign(s, { file: null, mapping: null, dry: null, result: null, running: null, error: null, notice: null });
    if (s.input) s.input.value = "";
  },
  view(ctx) {
    return h("div", { class: "office-screen", id: "screen-import" }, options(ctx), messages(), dryRunCard(ctx), resultCard(ctx), historyCard(ctx));
  },
};
