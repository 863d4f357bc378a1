// The sign-in screen: register a passkey from an invite link (#invite=CODE), sign in with a
// passkey, and, once signed in, see and manage this user's passkeys and sessions.
import { localMessage } from "../shared/messages.js";
import { ApiError } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { language, loadLanguage, pickLanguage, t } from "../shared/i18n.js";
import { languagePicker, whileBusy } from "../shared/ui.js";
import { myPasskeys, passkeysSupported, registerPasskey, removePasskey, signInWithPasskey, signOut, whoAmI } from "./passkey.js";

const root = document.getElementById("app");
const state = { me: null, passkeys: [], message: null, error: null, busy: false };
let invite = new URLSearchParams(location.hash.slice(1)).get("invite");

// Only our own pages: a "next" pointing elsewhere would make the sign-in page an open redirect.
function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return /^[a-z0-9_-]+\.html$/i.test(next) ? next : null;
}

function explain(error) {
  if (error instanceof ApiError) return localMessage(error.message);
  if (error && error.name === "NotAllowedError") return t("auth.cancelled");
  return t("error.generic", { message: error?.message || String(error) });
}

async function act(work) {
  await whileBusy(state, work, { draw: render, failed: (error) => { state.error = explain(error); } });
  await load();
}

async function load() {
  state.me = await whoAmI().catch(() => null);
  state.passkeys = state.me ? await myPasskeys().catch(() => []) : [];
  render();
}

function header() {
  const select = languagePicker(render);
  return h("header", { class: "bar" }, h("h1", {}, `${t("app.title")} · ${t("auth.title")}`), h("div", { class: "bar-tools" }, select));
}

function registerForm() {
  const label = h("input", { id: "label", type: "text", maxlength: "80", value: t("auth.label.default"), autocomplete: "off" });
  return h("form", { class: "card", onsubmit: (e) => { e.preventDefault(); act(async () => {
    await registerPasskey({ invite, label: label.value.trim() });
    invite = null;
    history.replaceState(null, "", location.pathname + location.search); // the code is spent; drop it from the address
    state.message = t("auth.registered");
  }); } },
  h("h2", {}, t("auth.welcome")),
  h("p", {}, t("auth.invite.explain")),
  h("label", { for: "label" }, t("auth.label")), label,
  h("button", { type: "submit", id: "create-passkey", disabled: state.busy }, t("auth.create")));
}

function signInCard() {
  return h("section", { class: "card" },
    h("h2", {}, t("auth.signin")),
    h("p", {}, t("auth.signin.explain")),
    h("button", { type: "button", id: "signin-passkey", disabled: state.busy, onclick: () => act(async () => {
      await signInWithPasskey();
      const next = nextPage();
      if (next) location.assign(next);
    }) }, t("auth.signin.button")));
}

function signedIn() {
  const me = state.me;
  const next = nextPage() || (me.role === "admin" ? "admin.html" : "index.html");
  return h("section", { class: "card" },
    h("h2", {}, t("auth.signedin", { name: me.display || me.user, role: t(`role.${me.role}`) })),
    next ? h("p", {}, h("a", { href: next, id: "continue" }, t("auth.continue"))) : null,
    h("h3", {}, t("auth.passkeys")),
    h("ul", { class: "passkeys", id: "passkeys" }, state.passkeys.map((p) => h("li", {},
      h("span", {}, `${p.label} · ${t("auth.added")} ${p.created_at.slice(0, 10)}` + (p.last_used_at ? ` · ${t("auth.used")} ${p.last_used_at.slice(0, 10)}` : "")),
      h("button", { type: "button", class: "secondary", "aria-label": `${t("auth.remove")} ${p.label}`, disabled: state.busy || state.passkeys.length < 2,
        title: state.passkeys.length < 2 ? t("auth.remove.last") : "", onclick: () => {
          if (confirm(t("auth.remove.confirm", { label: p.label }))) act(() => removePasskey(p.id));
        } }, t("auth.remove"))))),
    h("div", { class: "actions" },
      h("button", { type: "button", id: "add-passkey", disabled: state.busy, onclick: () => act(async () => {
        await registerPasskey({ label: t("auth.label.default") });
        state.message = t("auth.registered");
      }) }, t("auth.add")),
      h("button", { type: "button", id: "signout", class: "secondary", disabled: state.busy, onclick: () => act(async () => { await signOut(false); state.message = null; }) }, t("auth.signout")),
      h("button", { type: "button", id: "signout-all", class: "secondary", disabled: state.busy, onclick: () => act(async () => { await signOut(true); state.message = null; }) }, t("auth.signout.all"))));
}

function render() {
  const main = h("main", { class: "narrow" });
  if (!passkeysSupported()) main.append(h("p", { class: "warning", role: "alert" }, t("auth.unsupported")));
  if (state.message) main.append(h("p", { class: "notice", role: "status", id: "message" }, state.message));
  if (state.error) main.append(h("p", { class: "error", role: "alert", id: "error" }, state.error));
  if (state.me) main.append(signedIn());
  else if (invite) main.append(registerForm());
  else main.append(signInCard());
  main.append(h("p", { class: "hint privacy-footer" },
    h("a", { href: `/privacy?lang=${encodeURIComponent(language())}`, id: "privacy-link" }, t("privacy.link"))));
  root.replaceChildren(header(), main);
}

await loadLanguage(pickLanguage());
await load();
