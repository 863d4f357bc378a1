// The admin's people screen: users and their roles, invite links, API tokens, devices, webhooks, the audit log.
// Its header, sign-out, busy and message lines and start come from shell.js.
import { tokenSignIn } from "../auth/tokenform.js";
import { localMessage } from "../shared/messages.js";
import { api, ApiError, setToken, token } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { settingsCard } from "./settings.js";
import { voiceCard } from "./voice.js";
import { teamsCard } from "./teams.js";
import { t } from "../shared/i18n.js";
import { field, shownTime } from "../shared/ui.js";
import { adminAction, adminHeader, endSignIn, startAdmin, statusLines } from "./shell.js";

const ROLES = ["rep", "manager", "office", "admin"];
const AUDIT_PAGE = 1000; // what GET /audit answers at most per call
const AUDIT_SHOWN = 200;
const AUDIT_KEPT = 5000; // the newest entries kept in memory for the filter

// Notices, errors and busy labels are kept as functions returning text, so they follow a change of language.
const state = {
  phase: "loading", // loading | signin | ready
  me: null, users: [], tokens: [], devices: [], audit: [], auditAfter: 0,
  invite: null, newToken: null,
  draft: { name: "", display: "", role: "rep" }, addError: null,
  tokenDraft: { user: "", label: "" }, tokenError: null,
  webhooks: [], hookDraft: { url: "", events: ["card.created", "card.updated"] }, hookError: null, newHook: null, hookLog: null,
  filter: "", notice: null, error: null, busy: null, tried: false,
  focus: null, restoreFocus: null,
};
const root = document.getElementById("app");

const short = (id) => (id || "").slice(0, 8);
const roleName = (role) => (ROLES.includes(role) ? t(`people.role.${role}`) : role);
const userPath = (name) => `/users/${encodeURIComponent(name)}`;

// A long user agent shortened to what tells devices apart: the browser and the platform.
const BROWSERS = [/MicroMessenger\/[\d.]+/, /Edg\/[\d.]+/, /OPR\/[\d.]+/, /Firefox\/[\d.]+/, /CriOS\/[\d.]+/, /Chrome\/[\d.]+/, /Version\/[\d.]+/];
const PLATFORMS = [/Android [\d.]+/, /iPhone OS [\d_]+/, /iPad/, /Windows NT [\d.]+/, /Mac OS X [\d_.]+/, /CrOS/, /Linux/];
export function shortAgent(agent) {
  if (!agent) return t("status.none");
  if (agent.length <= 48) return agent;
  const find = (patterns) => patterns.map((p) => agent.match(p)).find(Boolean)?.[0];
  const browser = find(BROWSERS)?.replace("Version/", "Safari/");
  const platform = find(PLATFORMS)?.replace(/_/g, ".");
  return [modelOf(agent), browser, platform].filter(Boolean).join(" · ") || `${agent.slice(0, 45)}…`;
}

// The phone's model, where the user agent names it: "Pixel 7", "HUAWEI P40", "iPhone". Chrome's
// reduced agent says only "K": no model then.
export function modelOf(agent) {
  const android = /Android [\d.]+; ([^;)]+?)(?: Build\/[^;)]*)?\)/.exec(agent || "");
  if (android && !["K", "wv"].includes(android[1].trim())) return android[1].trim();
  if (/iPhone/.test(agent || "")) return "iPhone";
  if (/iPad/.test(agent || "")) return "iPad";
  return null;
}

// An audit detail is a JSON object as text: shown as "key: value" pairs; a change (user.update) as "before → after".
function detailText(action, detail) {
  const shown = (v) => (v !== null && typeof v === "object" ? JSON.stringify(v) : String(v));
  try {
    const value = JSON.parse(detail || "{}");
    if (value && typeof value === "object" && !Array.isArray(value)) {
      return Object.entries(value).map(([k, v]) => (action === "user.update" && Array.isArray(v) && v.length === 2
        ? `${k}: ${shown(v[0])} → ${shown(v[1])}`
        : k === "expires" && Number.isInteger(v) ? `${k}: ${shownTime(new Date(v * 1000).toISOString())}` : `${k}: ${shown(v)}`)).join(", ");
    }
  } catch {
    // not JSON: show it as it is
  }
  return String(detail ?? "");
}

// --- loading and acting -----------------------------------------------------------------------

// 401: sign in (again). 403 while loading: not an admin. Anything else is said as it is.
function failed(error, loading = false) {
  if (error instanceof ApiError && error.status === 401) {
    const was = state.phase;
    setToken(null);
    state.phase = "signin";
    state.error = state.tried ? () => t("signin.failed") : was === "ready" ? () => t("people.signin.ended") : null;
  } else if (error instanceof ApiError && error.status === 403 && loading) {
    state.phase = "signin";
    state.error = () => t("people.notadmin");
  } else {
    const message = error.message;
    state.error = () => t("error.generic", { message: localMessage(message) });
  }
}

// The audit log comes oldest first in pages; only what is new since the last call is fetched.
async function loadAudit() {
  for (;;) {
    const page = (await api(`/audit?after=${state.auditAfter}`)).audit;
    const fresh = page.filter((e) => e.id > state.auditAfter); // two refreshes at once must not add entries twice
    if (fresh.length) {
      state.audit.push(...fresh);
      state.auditAfter = fresh[fresh.length - 1].id;
      if (state.audit.length > AUDIT_KEPT) state.audit.splice(0, state.audit.length - AUDIT_KEPT);
    }
    if (page.length < AUDIT_PAGE) return;
  }
}

async function refresh() {
  const used = token(); // an answer for an older sign-in must not undo a newer one
  try {
    const [me, users, tokens, devices, hooks] = await Promise.all(
      [api("/me"), api("/users"), api("/tokens?user=*"), api("/devices"), api("/webhooks"), loadAudit()]);
    Object.assign(state, { me, users: users.users, tokens: tokens.tokens, devices: devices.devices, webhooks: hooks.webhooks,
      phase: "ready", tried: false });
  } catch (error) {
    if (token() !== used) return;
    failed(error, true);
  }
  render();
}

// Runs one action with the buttons disabled, then reloads everything; the action sets the notice.
const busy = (label, work) => adminAction(state, label, work, { draw: render, failed,
  after: () => (state.phase === "ready" ? refresh() : render()) });

async function signOut() {
  await endSignIn();
  Object.assign(state, { phase: "signin", me: null, users: [], tokens: [], devices: [], audit: [], auditAfter: 0,
    invite: null, newToken: null, notice: null, error: null, addError: null, tokenError: null });
  render();
}

function saveRole(user, role) {
  if (role === user.role) return;
  state.focus = `role-${user.name}`;
  busy(() => t("people.users.saving"), async () => {
    await api(userPath(user.name), { method: "PATCH", body: { role } });
    state.notice = () => t("people.users.roleChanged", { name: user.name, role: roleName(role) });
  });
}

function setDisabled(user, disabled) {
  if (disabled && !window.confirm(t("people.users.disableQuestion", { name: user.name }))) return;
  state.focus = `${disabled ? "enable" : "disable"}-${user.name}`;
  busy(() => t("people.users.saving"), async () => {
    await api(userPath(user.name), { method: "PATCH", body: { disabled } });
    state.notice = () => t(disabled ? "people.users.disabledDone" : "people.users.enabledDone", { name: user.name });
  });
}

function invite(user) {
  state.focus = "invite-url";
  busy(() => t("people.invite.making"), async () => {
    const made = (await api(`${userPath(user.name)}/invite`, { method: "POST" })).invite;
    state.invite = { ...made, display: user.display };
    state.newToken = null;
  });
}

async function addUser(event) {
  event.preventDefault();
  const draft = { ...state.draft, name: state.draft.name.trim(), display: state.draft.display.trim() };
  if (!draft.name) {
    state.addError = { message: null, fields: { name: () => t("people.add.required") } };
    state.focus = "new-name";
    render();
    return;
  }
  state.addError = null;
  state.focus = "invite-url";
  await busy(() => t("people.add.adding"), async () => {
    try {
      const made = await api("/users", { method: "POST", body: draft });
      state.invite = { ...made.invite, user: made.user.name, display: made.user.display };
      state.newToken = null;
      state.draft = { name: "", display: "", role: "rep" };
      state.notice = () => t("people.add.done", { name: made.user.name });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status === 401) throw error;
      const fields = Object.fromEntries(error.fields.filter((f) => ["name", "display", "role"].includes(f.path))
        .map((f) => [f.path, () => localMessage(f.message)]));
      const message = error.message;
      state.addError = { message: Object.keys(fields).length ? () => t("people.add.check") : () => t("people.add.failed", { message: localMessage(message) }), fields };
      state.focus = Object.keys(fields).length ? `new-${Object.keys(fields)[0]}` : "add-error";
    }
  });
}

async function createToken(event) {
  event.preventDefault();
  const body = { user: state.tokenDraft.user || state.me?.user, label: state.tokenDraft.label.trim() };
  state.tokenError = null;
  state.focus = "new-token";
  await busy(() => t("people.tokens.creating"), async () => {
    try {
      state.newToken = await api("/tokens", { method: "POST", body });
      state.invite = null;
      state.tokenDraft = { user: body.user, label: "" };
    } catch (error) {
      if (!(error instanceof ApiError) || error.status === 401) throw error;
      const message = error.fields[0] ? `${error.fields[0].path}: ${error.fields[0].message}` : error.message;
      state.tokenError = () => t("people.tokens.failed", { message: localMessage(message) });
      state.focus = "token-error";
    }
  });
}

function revokeToken(tk) {
  const label = tk.label || t("people.tokens.noLabel");
  if (!window.confirm(t("people.tokens.revokeQuestion", { label, user: tk.user }))) return;
  busy(() => t("people.tokens.revoking"), async () => {
    await api(`/tokens/${encodeURIComponent(tk.id)}/revoke`, { method: "POST" });
    if (state.newToken?.id === tk.id) state.newToken = null;
    state.notice = () => t("people.tokens.revoked", { label, user: tk.user });
  });
}

function revokeDevice(device) {
  if (!window.confirm(t("people.devices.revokeQuestion", { id: short(device.id), user: device.user ?? "?" }))) return;
  busy(() => t("people.devices.revoking"), async () => {
    const also = Boolean(state.revokeCredential);
    const done = await api(`/devices/${encodeURIComponent(device.id)}/revoke`, { method: "POST", body: also ? { credential: true } : {} });
    const key = done.credential ? `people.devices.revokedWith.${done.credential}` : "people.devices.revoked";
    state.notice = () => t(key, { id: short(device.id), user: device.user ?? "?" });
  });
}

// --- pieces -----------------------------------------------------------------------------------

function header() {
  return adminHeader({ title: t("people.title"), links: [["admin.html", "backup.title"], ["office.html", "office.title"]],
    signedIn: state.phase === "ready", onSignOut: signOut, redraw: render });
}

function signIn() {
  return tokenSignIn({ next: "people.html", passkey: t("people.signin.passkey"), signedIn: async () => {
    state.tried = true;
    state.phase = "loading";
    state.error = null;
    render();
    await refresh();
  } });
}

// A read-only value with a Copy button and a live region that says whether it worked.
function copyable(id, label, value) {
  const input = h("input", { id, type: "text", readonly: true, value, class: "mono", spellcheck: "false", autocomplete: "off" });
  const said = h("span", { class: "hint", role: "status", id: `${id}-copied` });
  const copy = async () => {
    input.focus();
    input.select();
    let ok = false;
    try {
      await navigator.clipboard.writeText(value);
      ok = true;
    } catch {
      ok = document.execCommand("copy");
    }
    said.textContent = ok ? t("people.copied") : t("people.copyFailed");
  };
  return [h("label", { for: id }, label),
    h("div", { class: "copy-row" }, input,
      h("button", { type: "button", id: `${id}-copy`, "aria-describedby": `${id}-copied`, onclick: copy }, t("people.copy"))),
    said];
}

function cell(label, ...children) {
  return h("td", { "data-label": label }, ...children);
}

function table(id, captionKey, columns, rows, emptyKey) {
  if (!rows.length) return h("p", { id, class: "hint" }, t(emptyKey));
  return h("div", { class: "table-scroll" },
    h("table", { id, class: "stack" },
      h("caption", { class: "sr-only" }, t(captionKey)),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows)));
}

function inviteBox() {
  const inv = state.invite;
  if (!inv) return null;
  const who = inv.display && inv.display !== inv.user ? `${inv.display} (${inv.user})` : inv.user;
  return h("div", { class: "secret", id: "invite", role: "region", "aria-labelledby": "invite-title" },
    h("h3", { id: "invite-title" }, t("people.users.inviteFor", { name: who })),
    copyable("invite-url", t("people.invite.link"), inv.url),
    h("p", { id: "invite-expires" }, t("people.invite.expires", { time: shownTime(inv.expires_at) })),
    h("p", { class: "hint" }, t("people.invite.hint")),
    h("button", { type: "button", class: "secondary", id: "invite-done", onclick: () => { state.invite = null; state.focus = "new-name"; render(); } },
      t("people.invite.close")));
}

function userRow(u) {
  const off = Boolean(state.busy);
  const me = u.name === state.me?.user;
  // The Save button shows once another role is picked: choosing with the arrow keys changes nothing yet.
  const save = h("button", { type: "button", class: "secondary", id: `save-role-${u.name}`, hidden: true, disabled: off,
    "aria-label": t("people.users.saveRoleFor", { name: u.name }), onclick: () => saveRole(u, select.value) }, t("people.users.saveRole"));
  const select = h("select", { id: `role-${u.name}`, "aria-label": t("people.users.roleFor", { name: u.name }), disabled: off,
    onchange: () => { save.hidden = select.value === u.role; } },
  ROLES.map((r) => h("option", { value: r, selected: r === u.role }, roleName(r))));
  const toggle = u.disabled
    ? h("button", { type: "button", class: "secondary", id: `enable-${u.name}`, disabled: off,
      "aria-label": t("people.users.enableFor", { name: u.name }), onclick: () => setDisabled(u, false) }, t("people.users.enable"))
    : h("button", { type: "button", class: "secondary", id: `disable-${u.name}`, disabled: off,
      "aria-label": t("people.users.disableFor", { name: u.name }), onclick: () => setDisabled(u, true) }, t("people.users.disable"));
  const inviteButton = u.disabled ? null : h("button", { type: "button", class: "secondary", id: `invite-${u.name}`, disabled: off,
    "aria-label": t("people.users.inviteFor", { name: u.name }), onclick: () => invite(u) }, t("people.users.invite"));
  return h("tr", { class: u.disabled ? "off" : null, "data-user": u.name },
    cell(t("people.users.name"), h("span", {}, u.display || u.name),
      h("span", { class: "sub" }, me ? `${u.name} · ${t("people.you")}` : u.name)),
    cell(t("people.users.role"), h("div", { class: "inline" }, select, save)),
    cell(t("people.users.passkeys"), String(u.passkeys ?? 0)),
    cell(t("people.users.lastSignIn"), shownTime(u.last_sign_in)),
    cell(t("people.users.created"), shownTime(u.created_at)),
    cell(t("people.users.status"), u.disabled ? t("people.users.disabled") : t("people.users.active")),
    cell(t("people.users.actions"), h("div", { class: "inline" }, toggle, inviteButton)));
}

function addUserForm() {
  const d = state.draft;
  const errors = state.addError?.fields || {};
  const name = h("input", { id: "new-name", type: "text", value: d.name, autocomplete: "off", autocapitalize: "none", spellcheck: "false",
    maxlength: "64", required: true, oninput: (e) => { d.name = e.target.value; } });
  const display = h("input", { id: "new-display", type: "text", value: d.display, autocomplete: "off", maxlength: "200",
    oninput: (e) => { d.display = e.target.value; } });
  const role = h("select", { id: "new-role", onchange: (e) => { d.role = e.target.value; } },
    ROLES.map((r) => h("option", { value: r, selected: r === d.role }, roleName(r))));
  return h("form", { id: "add-user", class: "subform", novalidate: true, "aria-labelledby": "add-title", onsubmit: addUser },
    h("h3", { id: "add-title" }, t("people.add.title")),
    h("div", { class: "fields" },
      field("new-name", t("people.add.name"), name, { hint: t("people.add.nameHint"), error: errors.name?.() }),
      field("new-display", t("people.add.display"), display, { hint: t("people.add.displayHint"), error: errors.display?.() }),
      field("new-role", t("people.add.role"), role, { error: errors.role?.() })),
    state.addError?.message ? h("p", { class: "error", role: "alert", id: "add-error", tabindex: "-1" }, state.addError.message()) : null,
    h("button", { type: "submit", id: "add-submit", disabled: Boolean(state.busy) }, t("people.add.submit")));
}

function usersCard() {
  const cols = ["name", "role", "passkeys", "lastSignIn", "created", "status", "actions"].map((k) => t(`people.users.${k}`));
  return h("section", { class: "card", "aria-labelledby": "users-title" },
    h("h2", { id: "users-title" }, t("people.users.title")),
    inviteBox(),
    table("users", "people.users.title", cols, state.users.map(userRow), "people.users.none"),
    addUserForm());
}

function newTokenBox() {
  const made = state.newToken;
  if (!made) return null;
  return h("div", { class: "secret warn", id: "new-token-box", role: "region", "aria-labelledby": "new-token-title" },
    h("h3", { id: "new-token-title" }, t("people.tokens.newTitle", { user: made.user, label: made.label || t("people.tokens.noLabel") })),
    h("p", { class: "bad", id: "new-token-once" }, h("strong", {}, t("people.tokens.once"))),
    copyable("new-token", t("people.tokens.value"), made.token),
    h("button", { type: "button", id: "new-token-done", onclick: () => { state.newToken = null; state.focus = "token-label"; render(); } },
      t("people.tokens.done")));
}

function tokenRow(tk) {
  const label = tk.label || t("people.tokens.noLabel");
  return h("tr", { class: tk.revoked_at ? "off" : null, "data-token": tk.id },
    cell(t("people.tokens.user"), tk.user),
    cell(t("people.tokens.label"), label),
    cell(t("people.tokens.id"), h("span", { class: "mono", title: tk.id }, short(tk.id))),
    cell(t("people.tokens.created"), shownTime(tk.created_at)),
    cell(t("people.tokens.lastUsed"), shownTime(tk.last_used_at)),
    cell(t("people.tokens.status"), tk.revoked_at ? t("people.tokens.revokedAt", { time: shownTime(tk.revoked_at) }) : t("people.tokens.active")),
    cell(t("people.users.actions"), tk.revoked_at ? "" : h("button", { type: "button", class: "danger", id: `revoke-token-${tk.id}`,
      disabled: Boolean(state.busy), "aria-label": t("people.tokens.revokeFor", { label, user: tk.user }), onclick: () => revokeToken(tk) },
    t("people.tokens.revoke"))));
}

function tokensCard() {
  const d = state.tokenDraft;
  const active = state.users.filter((u) => !u.disabled);
  if (!d.user || !active.some((u) => u.name === d.user)) d.user = state.me?.user || active[0]?.name || "";
  const owner = h("select", { id: "token-user", onchange: (e) => { d.user = e.target.value; } },
    active.map((u) => h("option", { value: u.name, selected: u.name === d.user }, u.display && u.display !== u.name ? `${u.display} (${u.name})` : u.name)));
  const label = h("input", { id: "token-label", type: "text", value: d.label, maxlength: "80", autocomplete: "off",
    "aria-describedby": "token-label-hint", oninput: (e) => { d.label = e.target.value; } });
  const cols = ["user", "label", "id", "created", "lastUsed", "status"].map((k) => t(`people.tokens.${k}`)).concat(t("people.users.actions"));
  return h("section", { class: "card", "aria-labelledby": "tokens-title" },
    h("h2", { id: "tokens-title" }, t("people.tokens.title")),
    h("p", { class: "hint" }, t("people.tokens.intro")),
    newTokenBox(),
    h("form", { id: "create-token", class: "subform", "aria-labelledby": "token-form-title", onsubmit: createToken },
      h("h3", { id: "token-form-title" }, t("people.tokens.createTitle")),
      h("div", { class: "fields" },
        h("div", { class: "field" }, h("label", { for: "token-user" }, t("people.tokens.user")), owner),
        h("div", { class: "field" }, h("label", { for: "token-label" }, t("people.tokens.label")), label,
          h("p", { class: "hint", id: "token-label-hint" }, t("people.tokens.labelHint")))),
      state.tokenError ? h("p", { class: "error", role: "alert", id: "token-error", tabindex: "-1" }, state.tokenError()) : null,
      h("button", { type: "submit", id: "token-submit", disabled: Boolean(state.busy) || !active.length }, t("people.tokens.create"))),
    table("tokens", "people.tokens.title", cols, state.tokens.map(tokenRow), "people.tokens.none"));
}

// --- webhooks: endpoints, a test delivery, the delivery log with one-click redelivery ------------------

const HOOK_EVENTS = ["card.created", "card.updated", "card.deleted", "card.merged", "card.erased", "activity.added",
  "survey.answered", "import.finished"];

async function addWebhook(event) {
  event.preventDefault();
  const body = { url: state.hookDraft.url.trim(), events: state.hookDraft.events };
  state.hookError = null;
  state.focus = "new-hook-secret";
  await busy(() => t("people.hooks.saving"), async () => {
    try {
      state.newHook = (await api("/webhooks", { method: "POST", body })).webhook;
      state.hookDraft = { url: "", events: body.events };
    } catch (error) {
      if (!(error instanceof ApiError) || error.status === 401) throw error;
      const message = error.fields[0] ? `${error.fields[0].path}: ${error.fields[0].message}` : error.message;
      state.hookError = () => t("people.hooks.failed", { message: localMessage(message) });
      state.focus = "hook-error";
    }
  });
}

function setHookEnabled(hook, enabled) {
  busy(() => t("people.hooks.saving"), async () => {
    await api(`/webhooks/${encodeURIComponent(hook.id)}`, { method: "PATCH", body: { enabled } });
  });
}

function testHook(hook) {
  busy(() => t("people.hooks.testing"), async () => {
    const out = await api(`/webhooks/${encodeURIComponent(hook.id)}/test`, { method: "POST" });
    state.notice = () => (out.ok ? t("people.hooks.testOk", { code: out.status_code })
      : t("people.hooks.testFailed", { message: out.error || String(out.status_code) }));
  });
}

async function showLog(hook) {
  await busy(() => t("people.hooks.loading"), async () => {
    const found = await api(`/webhooks/${encodeURIComponent(hook.id)}/deliveries`);
    state.hookLog = { id: hook.id, url: hook.url, deliveries: found.deliveries };
    state.focus = "hook-log-title";
  });
}

function redeliver(delivery) {
  busy(() => t("people.hooks.saving"), async () => {
    await api(`/webhooks/deliveries/${delivery.id}/redeliver`, { method: "POST" });
    state.notice = () => t("people.hooks.requeued", { event: short(delivery.event) });
  });
}

function hookRow(hook) {
  return h("tr", { class: hook.enabled ? null : "off", "data-hook": hook.id },
    cell(t("people.hooks.url"), h("span", { class: "mono" }, hook.url)),
    cell(t("people.hooks.events"), hook.events.join(", ")),
    cell(t("people.hooks.status"), hook.failing ? h("strong", { class: "bad" }, t("people.hooks.failing", { time: shownTime(hook.failing_since) }))
      : hook.enabled ? t("people.hooks.on") : t("people.hooks.off")),
    cell(t("people.users.actions"),
      h("button", { type: "button", class: "secondary", id: `hook-test-${hook.id}`, disabled: Boolean(state.busy), onclick: () => testHook(hook) }, t("people.hooks.test")),
      h("button", { type: "button", class: "secondary", id: `hook-log-${hook.id}`, disabled: Boolean(state.busy), onclick: () => showLog(hook) }, t("people.hooks.log")),
      h("button", { type: "button", class: hook.enabled ? "danger" : "secondary", id: `hook-toggle-${hook.id}`, disabled: Boolean(state.busy),
        onclick: () => setHookEnabled(hook, !hook.enabled) }, hook.enabled ? t("people.hooks.disable") : t("people.hooks.enable"))));
}

function hookLogBox() {
  const found = state.hookLog;
  if (!found) return null;
  const rows = found.deliveries.map((d) => {
    const last = d.attempts_log[d.attempts_log.length - 1];
    return h("tr", { "data-delivery": d.id },
      cell(t("people.hooks.event"), `${d.type} · ${short(d.event)}`),
      cell(t("people.hooks.status"), d.status),
      cell(t("people.hooks.attempts"), String(d.attempts_log.length)),
      cell(t("people.hooks.last"), last ? `${shownTime(last.at)} · ${last.status_code ?? "—"} · ${last.error || "OK"} · ${last.duration_ms} ms` : t("status.none")),
      cell(t("people.users.actions"), h("button", { type: "button", class: "secondary", id: `redeliver-${d.id}`, disabled: Boolean(state.busy),
        onclick: () => redeliver(d) }, t("people.hooks.redeliver"))));
  });
  const cols = ["event", "status", "attempts", "last"].map((k) => t(`people.hooks.${k}`)).concat(t("people.users.actions"));
  return h("div", { class: "secret", id: "hook-log", role: "region", "aria-labelledby": "hook-log-title" },
    h("h3", { id: "hook-log-title", tabindex: "-1" }, t("people.hooks.logFor", { url: found.url })),
    table("hook-deliveries", "people.hooks.logTitle", cols, rows, "people.hooks.noDeliveries"),
    h("button", { type: "button", class: "secondary", id: "hook-log-close", onclick: () => { state.hookLog = null; render(); } }, t("people.invite.close")));
}

function webhooksCard() {
  const d = state.hookDraft;
  const made = state.newHook;
  const cols = ["url", "events", "status"].map((k) => t(`people.hooks.${k}`)).concat(t("people.users.actions"));
  const boxes = HOOK_EVENTS.map((name) => h("label", { class: "check" },
    h("input", { type: "checkbox", value: name, id: `hook-event-${name}`, "aria-label": name, checked: d.events.includes(name),
      onchange: (e) => { d.events = e.target.checked ? [...d.events, name] : d.events.filter((x) => x !== name); } }), ` ${name}`));
  return h("section", { class: "card", "aria-labelledby": "hooks-title" },
    h("h2", { id: "hooks-title" }, t("people.hooks.title")),
    h("p", { class: "hint" }, t("people.hooks.intro")),
    made ? h("div", { class: "secret warn", id: "new-hook", role: "region", "aria-labelledby": "new-hook-title" },
      h("h3", { id: "new-hook-title" }, t("people.hooks.secretFor", { url: made.url })),
      h("p", { class: "bad" }, h("strong", {}, t("people.tokens.once"))),
      copyable("new-hook-secret", t("people.hooks.secret"), made.secret),
      h("button", { type: "button", id: "new-hook-done", onclick: () => { state.newHook = null; render(); } }, t("people.tokens.done"))) : null,
    hookLogBox(),
    table("webhooks", "people.hooks.title", cols, state.webhooks.map(hookRow), "people.hooks.none"),
    h("form", { id: "add-hook", class: "subform", "aria-labelledby": "hook-form-title", onsubmit: addWebhook },
      h("h3", { id: "hook-form-title" }, t("people.hooks.add")),
      h("div", { class: "field" }, h("label", { for: "hook-url" }, t("people.hooks.url")),
        h("input", { id: "hook-url", type: "url", required: true, value: d.url, autocomplete: "off", placeholder: "https://",
          oninput: (e) => { d.url = e.target.value; } })),
      h("fieldset", {}, h("legend", {}, t("people.hooks.events")), boxes),
      state.hookError ? h("p", { class: "error", role: "alert", id: "hook-error", tabindex: "-1" }, state.hookError()) : null,
      h("button", { type: "submit", id: "hook-submit", disabled: Boolean(state.busy) }, t("people.hooks.save"))));
}

function deviceRow(d) {
  return h("tr", { class: d.revoked_at ? "off" : null, "data-device": d.id },
    cell(t("people.devices.user"), d.user ?? "?"),
    cell(t("people.devices.name"), d.name || h("span", { class: "sub" }, t("people.devices.unnamed"))),
    cell(t("people.devices.id"), h("span", { class: "mono", title: d.id }, short(d.id))),
    cell(t("people.devices.app"), d.app || t("status.none")),
    cell(t("people.devices.agent"), h("span", { title: d.user_agent || "" }, shortAgent(d.user_agent))),
    cell(t("people.devices.lastSync"), shownTime(d.last_sync)),
    cell(t("people.devices.pending"), String(d.pending ?? 0)),
    cell(t("people.devices.status"), d.revoked_at ? t("people.devices.revokedAt", { time: shownTime(d.revoked_at) }) : t("people.devices.active")),
    cell(t("people.users.actions"), d.revoked_at ? "" : h("button", { type: "button", class: "danger", id: `revoke-device-${d.id}`,
      disabled: Boolean(state.busy), "aria-label": t("people.devices.revokeFor", { id: short(d.id), user: d.user ?? "?" }),
      onclick: () => revokeDevice(d) }, t("people.devices.revoke"))));
}

function devicesCard() {
  const cols = ["user", "name", "id", "app", "agent", "lastSync", "pending", "status"].map((k) => t(`people.devices.${k}`)).concat(t("people.users.actions"));
  return h("section", { class: "card", "aria-labelledby": "devices-title" },
    h("h2", { id: "devices-title" }, t("people.devices.title")),
    h("p", { class: "hint", id: "devices-intro" }, t("people.devices.intro")),
    h("label", { class: "check", for: "revoke-credential" },
      h("input", { type: "checkbox", id: "revoke-credential", checked: Boolean(state.revokeCredential),
        onchange: (e) => { state.revokeCredential = e.target.checked; } }),
      ` ${t("people.devices.alsoCredential")}`),
    table("devices", "people.devices.title", cols, state.devices.map(deviceRow), "people.devices.none"));
}

// An audit action in words ("合并客户卡片" for merge); an action without words keeps its code.
function actionName(action) {
  const key = `audit.action.${action}`;
  const text = t(key);
  return text === key ? action : text;
}

function auditRows() {
  const wanted = state.filter.trim().toLowerCase();
  const matching = [];
  for (let i = state.audit.length - 1; i >= 0 && matching.length < AUDIT_SHOWN; i -= 1) {
    const e = state.audit[i];
    if (!wanted || e.action.toLowerCase().includes(wanted) || actionName(e.action).toLowerCase().includes(wanted)
      || e.actor.toLowerCase().includes(wanted)) matching.push(e);
  }
  return matching.map((e) => h("tr", { "data-audit": e.id },
    cell(t("people.audit.time"), shownTime(e.at)),
    cell(t("people.audit.actor"), e.actor),
    cell(t("people.audit.action"), actionName(e.action), " ", h("span", { class: "mono sub", title: e.action }, e.action)),
    cell(t("people.audit.target"), e.target),
    cell(t("people.audit.detail"), detailText(e.action, e.detail))));
}

// The filter redraws only the table, so typing keeps the focus in the box.
function auditTable() {
  const rows = auditRows();
  const cols = ["time", "actor", "action", "target", "detail"].map((k) => t(`people.audit.${k}`));
  return h("div", { id: "audit-result" },
    h("p", { class: "hint", id: "audit-count", role: "status" },
      state.filter.trim() ? t("people.audit.countFiltered", { shown: rows.length }) : t("people.audit.count", { shown: rows.length, total: state.audit.length })),
    table("audit", "people.audit.title", cols, rows, "people.audit.none"));
}

function auditCard() {
  const filter = h("input", { id: "audit-filter", type: "search", value: state.filter, autocomplete: "off", spellcheck: "false",
    oninput: (e) => { state.filter = e.target.value; document.getElementById("audit-result").replaceWith(auditTable()); } });
  return h("section", { class: "card", "aria-labelledby": "audit-title" },
    h("h2", { id: "audit-title" }, t("people.audit.title")),
    h("label", { for: "audit-filter" }, t("people.audit.filter")), filter,
    auditTable());
}

function jumpLinks() {
  return h("nav", { class: "jump", "aria-label": t("people.jump") },
    [["users-title", "people.users.title"], ["tokens-title", "people.tokens.title"], ["devices-title", "people.devices.title"],
      ["hooks-title", "people.hooks.title"], ["teams-title", "teams.title"], ["settings-title", "settings.title"], ["voice-title", "voice.title"], ["audit-title", "people.audit.title"]].map(([id, key]) => h("a", { href: `#${id}` }, t(key))),
    h("button", { type: "button", id: "refresh", class: "secondary", disabled: Boolean(state.busy), onclick: () => { state.error = null; state.notice = null; refresh(); } }, t("status.refresh")));
}

function render() {
  const active = document.activeElement;
  const want = state.focus || (active && active !== document.body && active.id) || state.restoreFocus;
  state.focus = null;
  document.title = `${t("people.title")} · ${t("app.title")}`;
  const ready = state.phase === "ready";
  root.replaceChildren(
    header(),
    h("main", { class: "people" },
      statusLines({ loading: state.phase === "loading" && t("people.loading"), busy: state.busy?.(), notice: state.notice?.(), error: state.error?.() }),
      ready ? [jumpLinks(), usersCard(), tokensCard(), devicesCard(), webhooksCard(), teamsCard(), settingsCard(), voiceCard(), auditCard()] : null,
      state.phase === "signin" ? signIn() : null));
  // Keep the keyboard where it was: the same control after a redraw, else the message that replaced it.
  const el = want && document.getElementById(want);
  if (el && !el.disabled) {
    el.focus();
    state.restoreFocus = null;
  } else if (el || state.busy) {
    state.restoreFocus = want;
  } else {
    state.restoreFocus = null;
    if (want && want !== "lang") (document.getElementById("error") || document.getElementById("notice"))?.focus();
  }
}

await startAdmin(render, refresh);
