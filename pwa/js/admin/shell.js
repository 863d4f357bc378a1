// The admin screens' frame, as office/main.js is the office tools': one header (the screen's title,
// Help, the links to the other screens, the language picker, sign-out), the lines above a screen
// (loading, busy, notice, error), one runner for actions and the start. backup.js (admin.html) and
// people.js (people.html) plug into it what they show; each keeps its own state.
import { signOut as endSession } from "../auth/passkey.js";
import { setToken, token } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { language, loadLanguage, pickLanguage, t } from "../shared/i18n.js";
import { languagePicker, whileBusy } from "../shared/ui.js";

// `links`: [href, i18n key] of the other screens; sign-out shows while `signedIn`.
export function adminHeader({ title, links, signedIn, onSignOut, redraw }) {
  return h("header", { class: "bar" },
    h("h1", {}, `${t("app.title")} · ${title}`),
    h("div", { class: "bar-tools" },
      h("a", { href: `/guide/admin.${language()}`, id: "help", target: "_blank", rel: "noopener" }, t("field.help")),
      links.map(([href, key]) => h("a", { href }, t(key))),
      languagePicker(redraw),
      signedIn ? h("button", { type: "button", id: "sign-out", onclick: onSignOut }, t("signin.out")) : null));
}

// A token lives only in this tab; a passkey sign-in is a session cookie, which the server ends.
export async function endSignIn() {
  if (token()) setToken(null);
  else await endSession().catch(() => null);
}

// The lines above a screen, each text or nothing.
export function statusLines({ loading = null, busy, notice, error }) {
  return [
    loading ? h("p", { class: "busy", role: "status" }, loading) : null,
    busy ? h("p", { class: "busy", role: "status" }, busy) : null,
    notice ? h("p", { class: "notice", role: "status", id: "notice", tabindex: "-1" }, notice) : null,
    error ? h("p", { class: "error", role: "alert", id: "error", tabindex: "-1" }, error) : null];
}

// One action with the buttons disabled (`state.busy` holds its label); the screen's notice and
// error are cleared first, `failed` words an error, `after` reloads what the screen shows.
export async function adminAction(state, label, work, { draw, failed, after }) {
  await whileBusy(state, work, { busy: label, clear: ["notice", "error"], draw, failed });
  await after();
}

// The language first, then the screen, then its data: with a token from this tab, or with the
// passkey session's cookie.
export async function startAdmin(render, refresh) {
  await loadLanguage(pickLanguage());
  render();
  await refresh();
}
