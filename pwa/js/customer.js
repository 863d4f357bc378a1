// The page a customer opens from a link (/c/{token}): no account, only their own details, in their
// language. It shows what the card holds, sends back what they changed (with what it showed, so a
// concurrent change by the rep becomes a conflict for a person, never a silent overwrite), and a
// consent choice; for a survey, the admin's survey (a CSAT 1–5 or NPS 0–10 question and up to five
// more: choice, rating, text) in the page's language, or a plain 1–5 rating, and a comment.
import { h } from "./shared/dom.js";
import { language, loadLanguage, pickLanguage, t } from "./shared/i18n.js";
import { languagePicker } from "./shared/ui.js";

const root = document.getElementById("app");
const token = decodeURIComponent(location.pathname.split("/").pop() || "");
const FIELDS = ["name", "company", "title", "phones", "emails", "address", "birthday"];
const LISTS = new Set(["phones", "emails"]);
const state = { view: null, error: null, done: false, busy: false, fieldErrors: {} };

async function call(method, body) {
  const response = await fetch(`/api/v1/public/links/${encodeURIComponent(token)}`, {
    method, headers: { "Content-Type": "application/json", "X-Fieldcards": "1" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw Object.assign(new Error(data?.error?.message || `HTTP ${response.status}`), { status: response.status, body: data });
  return data;
}

function messageFor(error) {
  const reason = error.body?.error?.fields?.[0]?.message;
  if (["pending", "expired", "used", "revoked"].includes(reason)) return t(`customer.state.${reason}`);
  if (error.status === 429) return t("customer.tooMany");
  return error.message;
}

async function load() {
  try {
    state.view = await call("GET");
  } catch (error) {
    state.error = messageFor(error);
  }
  render();
}

function valueOf(name) {
  const field = document.getElementById(`c-${name}`);
  if (!field) return undefined;
  const text = field.value.trim();
  if (LISTS.has(name)) return text ? text.split(/[\n,，;；]+/).map((v) => v.trim()).filter(Boolean) : [];
  return text || null;
}

function snapshot() {
  return [...document.querySelectorAll("#customer-form input, #customer-form textarea")]
    .map((el) => ({ id: el.id, name: el.name, value: el.value, checked: el.checked, radio: el.type === "radio" }));
}

function restore(typed) {
  for (const item of typed) {
    const el = item.radio ? document.querySelector(`input[name="${item.name}"][value="${item.value}"]`) : item.id && document.getElementById(item.id);
    if (!el) continue;
    if (item.radio) el.checked = item.checked;
    else el.value = item.value;
  }
}

async function submit(event) {
  event.preventDefault();
  const shown = state.view.card;
  const fields = {};
  for (const name of FIELDS) {
    const now = valueOf(name);
    if (JSON.stringify(now) !== JSON.stringify(shown[name] ?? (LISTS.has(name) ? [] : null))) fields[name] = now;
  }
  const was = Object.fromEntries(Object.keys(fields).map((name) => [name, shown[name]]));
  const body = { fields, was, consent: document.querySelector("input[name=consent]:checked")?.value ?? null };
  if (state.view.purpose === "survey") {
    const picked = (name) => document.querySelector(`input[name="${name}"]:checked`)?.value;
    const form = state.view.survey_form;
    const answers = {};
    if (form?.scale === "nps") {
      if (picked("nps") !== undefined) answers.nps = Number(picked("nps"));
    } else {
      body.rating = picked("rating") ? Number(picked("rating")) : null;
    }
    for (const q of form?.questions || []) {
      const value = q.type === "text" ? document.getElementById(`c-q-${q.id}`).value.trim() : picked(`q-${q.id}`);
      if (value) answers[q.id] = q.type === "rating" ? Number(value) : value;
    }
    if (form) body.answers = answers;
    body.text = document.getElementById("c-comment").value.trim() || null;
  }
  const typed = snapshot(); // a refused answer keeps what the customer typed and chose
  state.busy = true;
  state.fieldErrors = {};
  render();
  restore(typed);
  try {
    await call("POST", body);
    state.done = true;
  } catch (error) {
    const fields = error.body?.error?.fields || [];
    const shown = new Set([...FIELDS, "rating", "answers.nps", ...(state.view.survey_form?.questions || []).map((q) => `answers.${q.id}`)]);
    const keyOf = (f) => f.path.replace(/^fields\./, "").replace(/\[\d+\]$/, "");
    fields.forEach((f) => { state.fieldErrors[keyOf(f)] = f.message; });
    const elsewhere = fields.filter((f) => !shown.has(keyOf(f)));
    state.error = !fields.length ? messageFor(error) : elsewhere.length ? elsewhere.map((f) => f.message).join("; ") : null;
  }
  state.busy = false;
  render();
  if (!state.done) restore(typed);
  document.querySelector("[aria-invalid=true], .error")?.scrollIntoView?.({ block: "center" });
  document.querySelector("[aria-invalid=true]")?.focus();
}

function field(name) {
  const current = state.view.card[name];
  const value = LISTS.has(name) ? (current || []).join("\n") : (current ?? "");
  const error = state.fieldErrors[name];
  const input = LISTS.has(name)
    ? h("textarea", { id: `c-${name}`, rows: String(Math.max(1, (current || []).length)), "aria-invalid": error ? "true" : null }, value)
    : h("input", { id: `c-${name}`, value, type: name === "birthday" ? "date" : "text", "aria-invalid": error ? "true" : null });
  return h("div", { class: "field" },
    h("label", { for: `c-${name}` }, t(`customer.field.${name}`)), input,
    error ? h("p", { class: "error", id: `c-${name}-error` }, error) : null);
}

// The survey: the admin's questions in the page's language, or the plain 1–5 rating without one.
function surveyPart(form) {
  const text = (o) => o?.[language()] || o?.en || "";
  const radios = (name, values, labelOf = String) => h("div", { class: "scale" }, values.map((v) => h("label", { class: "check" },
    h("input", { type: "radio", name, value: String(v) }), ` ${labelOf(v)}`)));
  const problem = (path) => (state.fieldErrors[path] ? h("p", { class: "error", "data-answer": path }, state.fieldErrors[path]) : null);
  const comment = [h("label", { for: "c-comment" }, t("customer.comment")), h("textarea", { id: "c-comment", rows: "3" })];
  if (!form) {
    return h("fieldset", { id: "survey" }, h("legend", {}, t("customer.rating")), radios("rating", [1, 2, 3, 4, 5]), problem("rating"), comment);
  }
  const scale = form.scale === "nps"
    ? [h("legend", {}, `${text(form.question)} ${t("customer.npsHint")}`), radios("nps", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), problem("answers.nps")]
    : [h("legend", {}, `${text(form.question)} ${t("customer.csatHint")}`), radios("rating", [1, 2, 3, 4, 5]), problem("rating")];
  const questions = form.questions.map((q) => {
    const label = `${text(q.label)}${q.required ? ` ${t("customer.required")}` : ""}`;
    if (q.type === "text") {
      return h("div", { class: "field" }, h("label", { for: `c-q-${q.id}` }, label),
        h("textarea", { id: `c-q-${q.id}`, rows: "2", maxlength: "2000" }), problem(`answers.${q.id}`));
    }
    const values = q.type === "choice" ? q.choices.map((c) => c.id) : [1, 2, 3, 4, 5];
    const labelOf = q.type === "choice" ? (id) => text(q.choices.find((c) => c.id === id)) : String;
    return h("fieldset", { class: "question", id: `c-q-${q.id}` }, h("legend", {}, label), radios(`q-${q.id}`, values, labelOf), problem(`answers.${q.id}`));
  });
  return h("div", { id: "survey" }, h("fieldset", { class: "question" }, scale), questions, comment);
}

function render() {
  document.title = t("customer.title");
  const picker = languagePicker(render);
  const head = h("header", { class: "bar" }, h("h1", {}, t("customer.title")), picker);
  if (state.error && !state.view) return root.replaceChildren(head, h("p", { class: "notice", id: "state", role: "status" }, state.error));
  if (!state.view) return root.replaceChildren(head, h("p", { role: "status" }, t("customer.loading")));
  if (state.done) return root.replaceChildren(head, h("p", { class: "notice", id: "thanks", role: "status" }, t("customer.thanks")));
  const survey = state.view.purpose === "survey" ? surveyPart(state.view.survey_form) : null;
  const consent = h("fieldset", { id: "consent" }, h("legend", {}, t("customer.consent")),
    ["any", "phone", "email", "message", "none"].map((v) => h("label", { class: "check" },
      h("input", { type: "radio", name: "consent", value: v }), ` ${t(`customer.consent.${v}`)}`)));
  root.replaceChildren(head,
    h("p", { class: "hint" }, t("customer.intro")),
    h("form", { id: "customer-form", onsubmit: submit },
      FIELDS.map(field), consent, survey,
      state.error ? h("p", { class: "error", role: "alert", id: "error" }, state.error) : null,
      h("button", { type: "submit", id: "send", disabled: state.busy }, t("customer.send"))),
    h("p", { class: "hint" }, t("customer.privacy"), " ",
      h("a", { href: `/privacy?lang=${encodeURIComponent(language())}`, id: "privacy-link", target: "_blank", rel: "noopener" }, t("privacy.link"))));
}

await loadLanguage(new URLSearchParams(location.search).get("lang") || pickLanguage());
render();
await load();
