// The office tools for office staff and admins: spreadsheet import, duplicates and merges, the
// dashboard, data quality and (admins only) the card template. One module per screen; this one
// signs in, routes by the hash (#/import, #/duplicates, #/dashboard, #/quality, #/template) and
// draws the header. Screens keep their own state and call ctx.render() when it changes.
import { tokenSignIn } from "../auth/tokenform.js";
import { api, ApiError, setToken, token } from "../shared/api.js";
import { signOut as endSession } from "../auth/passkey.js";
import { h } from "../shared/dom.js";
import { loadPeople } from "../shared/people.js";
import { language, loadLanguage, pickLanguage, t } from "../shared/i18n.js";
import { languagePicker } from "../shared/ui.js";
import { dashboardScreen } from "./dashboard.js";
import { duplicatesScreen } from "./duplicates.js";
import { importScreen } from "./import.js";
import { qualityScreen, useDevice } from "./quality.js";
import { templateScreen } from "./template.js";

const SCREENS = [importScreen, duplicatesScreen, dashboardScreen, qualityScreen, templateScreen];
const root = document.getElementById("app");

// Errors are kept as functions returning text, so they follow a change of language.
const state = {
  phase: "loading", // loading | signin | ready
  me: null, schema: null, error: null, tried: false, route: null, restoreFocus: null,
};

const screenOf = (name) => SCREENS.find((s) => s.name === name);
const allowed = (screen) => !screen.adminOnly || state.me?.role === "admin";

// What every screen may read and do.
const ctx = {
  get me() { return state.me; },
  get options() { return state.schema?.options || { custom_fields: [], industries: [], regions: [], tags: [], segments: ["A", "B", "C"] }; },
  isAdmin: () => state.me?.role === "admin",
  render,
  // A 401 from any call: the sign-in form again. True when it took the error.
  lost(error) {
    if (!(error instanceof ApiError) || error.status !== 401) return false;
    setToken(null);
    state.phase = "signin";
    state.error = () => t("office.signin.ended");
    render();
    return true;
  },
  async reloadSchema() {
    state.schema = await api("/schema");
  },
};

function routeName() {
  const name = (location.hash || "").replace(/^#\/?/, "").split(/[/?]/)[0];
  return screenOf(name) ? name : "import";
}

// Entering a screen loads what it shows; it renders again when its data arrive.
function enter() {
  state.route = routeName();
  const screen = screenOf(state.route);
  render();
  if (state.phase === "ready" && allowed(screen) && screen.enter) screen.enter(ctx);
}

async function start() {
  try {
    const [me, schema] = await Promise.all([api("/me"), api("/schema"), loadPeople()]);
    state.me = me;
    useDevice(me.user);
    state.schema = schema;
    state.tried = false;
    if (!["office", "admin"].includes(me.role)) {
      state.phase = "signin";
      state.error = () => t("office.notoffice");
    } else {
      state.phase = "ready";
      state.error = null;
    }
  } catch (error) {
    state.phase = "signin";
    if (error instanceof ApiError && error.status === 401) {
      setToken(null);
      state.error = state.tried ? () => t("signin.failed") : null;
    } else if (error instanceof ApiError && error.status === 403) {
      state.error = () => t("office.notoffice");
    } else {
      const message = error.message;
      state.error = () => t("error.generic", { message });
    }
  }
  enter();
}

// A token lives only in this tab; a passkey sign-in is a session cookie, which the server ends.
async function signOut() {
  if (token()) setToken(null);
  else await endSession().catch(() => null);
  for (const screen of SCREENS) screen.reset?.();
  Object.assign(state, { phase: "signin", me: null, schema: null, error: null });
  render();
}

function header() {
  const select = languagePicker(render);
  const admin = state.me?.role === "admin";
  return h("header", { class: "bar office-bar" },
    h("h1", {}, `${t("app.title")} · ${t("office.title")}`),
    h("div", { class: "bar-tools" },
      h("a", { href: "index.html" }, t("office.fieldApp")),
      admin ? h("a", { href: "people.html" }, t("people.title")) : null,
      admin ? h("a", { href: "admin.html" }, t("backup.title")) : null,
      h("a", { href: `/guide/office.${language()}`, id: "help", target: "_blank", rel: "noopener" }, t("field.help")),
      select,
      state.phase === "ready" ? h("button", { type: "button", id: "sign-out", onclick: signOut }, t("signin.out")) : null));
}

function nav() {
  return h("nav", { class: "office-nav", "aria-label": t("office.nav") },
    SCREENS.filter(allowed).map((s) => h("a", { href: `#/${s.name}`, id: `tab-${s.name}`, "aria-current": s.name === state.route ? "page" : null },
      t(`office.${s.name}.tab`))));
}

function signIn() {
  return tokenSignIn({ next: "office.html", hint: t("office.signin.hint"), className: "card narrow-card", signedIn: async () => {
    state.tried = true;
    state.phase = "loading";
    state.error = null;
    render();
    await start();
  } });
}

function body() {
  if (state.phase === "loading") return h("p", { class: "busy", role: "status" }, t("office.loading"));
  if (state.phase === "signin") return signIn();
  const screen = screenOf(state.route);
  if (!allowed(screen)) return h("p", { class: "error", role: "alert", id: "error" }, t("office.adminsOnly"));
  return screen.view(ctx);
}

export function render() {
  const active = document.activeElement;
  const want = (active && active !== document.body && active.id) || state.restoreFocus;
  const caret = active && typeof active.selectionStart === "number" ? [active.selectionStart, active.selectionEnd] : null;
  const screen = screenOf(state.route || routeName());
  document.title = state.phase === "ready"
    ? `${t(`office.${screen.name}.title`)} · ${t("office.title")} · ${t("app.title")}`
    : `${t("office.title")} · ${t("app.title")}`;
  root.replaceChildren(
    header(),
    state.phase === "ready" ? nav() : null,
    h("main", { class: "office", id: "main" },
      state.error ? h("p", { class: "error", role: "alert", id: "error", tabindex: "-1" }, state.error()) : null,
      body()));
  // Keep the keyboard where it was: the same control after a redraw, or again once it is enabled.
  const el = want && document.getElementById(want);
  if (el && !el.disabled) {
    el.focus({ preventScroll: true });
    if (caret && el !== active && typeof el.setSelectionRange === "function") {
      try {
        el.setSelectionRange(...caret);
      } catch {
        // inputs of type number or date have no caret to put back
      }
    }
    state.restoreFocus = null;
  } else {
    state.restoreFocus = el ? want : null;
  }
}

window.addEventListener("hashchange", enter);
await loadLanguage(pickLanguage());
render();
await start(); // a token in this tab, or the session cookie of a passkey sign-in
