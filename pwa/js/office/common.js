// What the office screens share: requests api.js does not cover (multipart uploads, files and
// SVG with the same credentials), the card field names, tables and today's date. Labelled fields
// and times are in ../shared/ui.js.
import { localMessage } from "../shared/messages.js";
import { ApiError, token } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { language, t } from "../shared/i18n.js";
import { ymd } from "../shared/time.js";

// The card fields a person can pick in a mapping or a merge, in the order a card shows them.
export const CARD_FIELDS = ["id", "name", "company", "title", "phones", "emails", "address", "region", "industry",
  "segment", "tags", "owner", "birthday", "follow_up", "notes", "consent", "consent_basis", "consent_at"];

export const short = (id) => (id || "").slice(0, 8);

// The person's own date, not UTC: "today" is where they are.
export const today = () => ymd();

// A card field's name in the current language; custom fields by their label.
export function fieldName(name, customFields = []) {
  if (name?.startsWith("custom.")) {
    const key = name.slice(7);
    const spec = customFields.find((f) => f.key === key);
    return spec ? `${spec.label[language()] || spec.label.en || key}` : key;
  }
  const label = t(`office.field.${name}`);
  return label === `office.field.${name}` ? name : label;
}

// A value as a person reads it: lists joined, empty as a dash.
export function shown(value) {
  if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return t("status.none");
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${k}: ${shown(v)}`).join("; ");
  return String(value);
}

export const isEmpty = (value) => value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length);

function headers() {
  const found = { "X-Fieldcards": "1" };
  if (token()) found.Authorization = `Bearer ${token()}`;
  return found;
}

async function failIfBad(response) {
  if (response.ok) return response;
  const data = await response.json().catch(() => null);
  throw new ApiError(response.status, data);
}

// A multipart form (a spreadsheet upload); the answer as JSON, errors as ApiError like api().
export async function postForm(path, form) {
  const response = await fetch(`/api/v1${path}`, { method: "POST", headers: headers(), body: form });
  return (await failIfBad(response)).json();
}

// A multipart POST whose answer is a file (an import's problems), with the same credentials.
export async function postFormRaw(path, form) {
  return failIfBad(await fetch(`/api/v1${path}`, { method: "POST", headers: headers(), body: form }));
}

// A GET whose answer is not JSON (CSV, SVG), with the same credentials.
export async function fetchRaw(path) {
  return failIfBad(await fetch(`/api/v1${path}`, { headers: headers() }));
}

// Saves a downloaded file under its name; the object URL is only navigated to, never shown.
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, class: "sr-only" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// A screen's load: its `loading` flag on and its error cleared while `work` runs, the error in
// words if it fails (a session that ended is the shell's to handle), then drawn again.
export async function loading(ctx, state, work) {
  state.loading = true;
  state.error = null;
  ctx.render();
  if (await attempt(ctx, state, work).finally(() => { state.loading = false; })) ctx.render();
}

// Runs `work`; a failure is put in words in state.error (`refused` sees it first). False when the
// session ended: the shell has taken the error and shows the sign-in form.
async function attempt(ctx, state, work, refused = null) {
  try {
    await work();
  } catch (error) {
    if (ctx.lost(error)) return false;
    refused?.(error);
    state.error = errorText(error);
  }
  return true;
}

// An action on one entry of a list (undo an import, undo a merge): the entry busy and the screen's
// notice and error cleared while `work` runs, the error in words if it fails (`refused` sees it
// first), `settle` in any case; then `after` reloads what the screen shows.
export async function entryAction(ctx, state, entry, work, { after, refused = null, settle = null }) {
  state.error = null;
  state.notice = null;
  entry.busy = true;
  ctx.render();
  const settled = () => {
    delete entry.busy;
    settle?.();
  };
  if (await attempt(ctx, state, work, refused).finally(settled)) await after();
}

// Errors said in words: the first field's path and message when the server named one.
export function errorText(error) {
  if (error instanceof ApiError && error.fields.length) {
    return error.fields.slice(0, 3).map((f) => (f.path ? `${f.path}: ${localMessage(f.message)}` : localMessage(f.message))).join("; ");
  }
  return localMessage(error?.message) || String(error);
}

export function cell(label, ...children) {
  return h("td", { "data-label": label }, ...children);
}

// A table that turns into labelled blocks on a phone (the people screen's `stack` style).
export function table(id, caption, columns, rows, empty) {
  if (!rows.length) return h("p", { id, class: "hint" }, empty);
  return h("div", { class: "table-scroll" },
    h("table", { id, class: "stack" },
      h("caption", { class: "sr-only" }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows)));
}

export function checkbox(id, label, checked, onchange) {
  return h("label", { class: "check", for: id },
    h("input", { type: "checkbox", id, checked, onchange: (e) => onchange(e.target.checked) }), label);
}

// Several nodes as one child: h() flattens only one level of arrays, so parts that return
// several nodes return a fragment.
export function group(...children) {
  const fragment = document.createDocumentFragment();
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) fragment.append(child instanceof Node ? child : String(child));
  }
  return fragment;
}
