// Card template (#/template, admins only): the custom fields every card has and the suggestion
// lists for industry, region and tags, saved with PUT /template; the server's errors show next to
// the inputs they are about. Removing a field hides it: stored values are kept.
import { api, ApiError } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { checkbox, errorText, group, loading } from "./common.js";
import { field } from "../shared/ui.js";

const TYPES = ["text", "number", "date", "choice", "choices"];
const LISTS = ["industries", "regions", "tags"];
const CHOICE_SPLIT = /[,，、\n]/;

const s = { draft: null, dirty: false, busy: false, errors: {}, error: null, notice: null, loading: false };

function draftFrom(options) {
  return {
    fields: (options.custom_fields || []).map((f) => ({
      key: f.key, en: f.label?.en || "", zh: f.label?.["zh-CN"] || "", type: f.type, required: Boolean(f.required),
      choices: (f.choices || []).join(", "), pattern: f.pattern || "", isNew: false,
    })),
    ...Object.fromEntries(LISTS.map((name) => [name, (options[name] || []).join("\n")])),
  };
}

async function load(ctx) {
  if (s.dirty && s.draft) return; // unsaved edits survive a visit to another screen
  await loading(ctx, s, async () => {
    await ctx.reloadSchema();
    s.draft = draftFrom(ctx.options);
    s.errors = {};
  });
}

function body() {
  const lines = (text) => text.split("\n").map((v) => v.trim()).filter(Boolean);
  return {
    custom_fields: s.draft.fields.map((f) => {
      const spec = { key: f.key.trim(), label: { en: f.en.trim(), "zh-CN": f.zh.trim() }, type: f.type, required: f.required };
      if (f.type === "choice" || f.type === "choices") spec.choices = f.choices.split(CHOICE_SPLIT).map((c) => c.trim()).filter(Boolean);
      if (f.type === "text" && f.pattern.trim()) spec.pattern = f.pattern.trim();
      return spec;
    }),
    ...Object.fromEntries(LISTS.map((name) => [name, lines(s.draft[name])])),
  };
}

// custom_fields[2].label → the input "cf-2-label"; a list's name → its text box.
function controlOf(path) {
  const m = path.match(/^custom_fields\[(\d+)\](?:\.(\w+))?/);
  if (m) return m[2] ? `cf-${m[1]}-${m[2]}` : `cf-${m[1]}-key`;
  if (LISTS.includes(path)) return `list-${path}`;
  return null;
}

async function save(ctx) {
  s.busy = true;
  s.errors = {};
  s.error = null;
  s.notice = null;
  ctx.render();
  try {
    await api("/template", { method: "PUT", body: body() });
    await ctx.reloadSchema();
    s.draft = draftFrom(ctx.options);
    s.dirty = false;
    s.notice = () => t("office.template.saved");
  } catch (error) {
    if (ctx.lost(error)) return;
    const fields = error instanceof ApiError ? error.fields : [];
    const loose = [];
    for (const f of fields) {
      const id = controlOf(f.path);
      if (id) s.errors[id] = [s.errors[id], f.message].filter(Boolean).join("; ");
      else loose.push(f.path ? `${f.path}: ${f.message}` : f.message);
    }
    s.error = loose.length ? loose.join("; ") : fields.length ? t("office.template.check") : errorText(error);
  } finally {
    s.busy = false;
  }
  ctx.render();
  const wrong = Object.keys(s.errors)[0];
  if (wrong) document.getElementById(wrong)?.focus();
}

// --- drawing -----------------------------------------------------------------------------------

// Typing does not redraw (the caret stays put): only the "not saved yet" hint is shown.
function changed(ctx, redraw = false) {
  s.dirty = true;
  s.notice = null;
  if (redraw) ctx.render();
  const hint = document.getElementById("template-dirty");
  if (hint) hint.hidden = false;
  document.getElementById("notice")?.remove();
}

function fieldRow(ctx, f, n) {
  const id = (name) => `cf-${n}-${name}`;
  const err = (name) => s.errors[id(name)];
  const text = (name, prop, attrs = {}) => h("input", { id: id(name), type: "text", value: f[prop], autocomplete: "off", spellcheck: "false", ...attrs,
    oninput: (e) => { f[prop] = e.target.value; changed(ctx); } });
  const type = h("select", { id: id("type"), onchange: (e) => { f.type = e.target.value; changed(ctx, true); } },
    TYPES.map((v) => h("option", { value: v, selected: v === f.type }, t(`office.template.type.${v}`))));
  const title = f.key ? t("office.template.fieldTitle", { n: n + 1, key: f.key }) : t("office.template.fieldNew", { n: n + 1 });
  return h("fieldset", { class: "template-field", "data-key": f.key || null },
    h("legend", {}, title),
    h("div", { class: "fields" },
      field(id("key"), t("office.template.key"), text("key", "key", { readonly: !f.isNew, maxlength: "40", autocapitalize: "none" }),
        { hint: f.isNew ? t("office.template.keyHint") : t("office.template.keyFixed"), error: err("key") }),
      field(id("label"), t("office.template.labelEn"), text("label", "en", { maxlength: "80" }), { error: err("label") }),
      field(id("label-zh"), t("office.template.labelZh"), text("label-zh", "zh", { maxlength: "80" })),
      field(id("type"), t("office.template.type"), type, { error: err("type") }),
      f.type === "choice" || f.type === "choices"
        ? field(id("choices"), t("office.template.choices"), text("choices", "choices"), { hint: t("office.template.choicesHint"), error: err("choices") })
        : null,
      f.type === "text"
        ? field(id("pattern"), t("office.template.pattern"), text("pattern", "pattern", { maxlength: "200", class: "mono" }),
          { hint: t("office.template.patternHint"), error: err("pattern") })
        : null),
    h("div", { class: "inline" },
      checkbox(id("required"), t("office.template.required"), f.required, (on) => { f.required = on; changed(ctx); }),
      err("required") ? h("p", { class: "field-error" }, err("required")) : null,
      h("button", { type: "button", class: "secondary", id: id("remove"),
        "aria-label": t("office.template.removeFor", { name: f.en || f.key || String(n + 1) }),
        onclick: () => { s.draft.fields.splice(n, 1); s.errors = {}; changed(ctx, true); document.getElementById("add-field")?.focus(); } },
      t("office.template.remove"))));
}

function listBox(ctx, name) {
  const id = `list-${name}`;
  const box = h("textarea", { id, rows: "6", spellcheck: "false",
    oninput: (e) => { s.draft[name] = e.target.value; changed(ctx); } });
  box.value = s.draft[name];
  return field(id, t(`office.template.list.${name}`), box, { hint: t("office.template.listHint"), error: s.errors[id] });
}

export const templateScreen = {
  name: "template",
  adminOnly: true,
  reset() {
    Object.assign(s, { draft: null, dirty: false, errors: {}, error: null, notice: null });
  },
  enter: load,
  view(ctx) {
    const d = s.draft;
    return h("div", { class: "office-screen", id: "screen-template" },
      h("form", { class: "card template", "aria-labelledby": "template-title", novalidate: true,
        onsubmit: (e) => { e.preventDefault(); save(ctx); } },
      h("h2", { id: "template-title" }, t("office.template.title")),
      h("p", { class: "hint" }, t("office.template.intro")),
      h("p", { class: "hint", id: "template-hidden-note" }, t("office.template.removeHint")),
      s.loading ? h("p", { class: "busy", role: "status" }, t("office.loading")) : null,
      d ? group(
        h("h3", {}, t("office.template.fields")),
        d.fields.length ? d.fields.map((f, n) => fieldRow(ctx, f, n)) : h("p", { class: "hint", id: "no-fields" }, t("office.template.noFields")),
        h("button", { type: "button", class: "secondary", id: "add-field", onclick: () => {
          d.fields.push({ key: "", en: "", zh: "", type: "text", required: false, choices: "", pattern: "", isNew: true });
          changed(ctx, true);
          document.getElementById(`cf-${d.fields.length - 1}-key`)?.focus();
        } }, t("office.template.add")),
        h("h3", {}, t("office.template.lists")),
        h("div", { class: "fields lists" }, LISTS.map((name) => listBox(ctx, name))),
        s.error ? h("p", { class: "error", role: "alert", id: "template-error" }, s.error) : null,
        s.notice ? h("p", { class: "notice", role: "status", id: "notice" }, s.notice()) : null,
        h("div", { class: "actions" },
          h("button", { type: "submit", id: "template-save", disabled: s.busy }, t("office.template.save")),
          h("span", { class: "hint", id: "template-dirty", hidden: !s.dirty }, t("office.template.unsaved"))),
      ) : null));
  },
};
