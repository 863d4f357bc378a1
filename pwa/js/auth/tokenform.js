// The admin and office screens also take an API token typed in (kept in this tab only), beside
// the link to passkey sign-in. One form for all of them; `signedIn` runs once the token is set.
import { setToken } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";

// What is typed into the token field outlives a redraw of the screen around it: the screen's first
// look at the server (no token yet) can answer while someone is typing, and the form drawn anew
// came up empty, so their Enter met an empty required field and nothing happened.
let typed = "";

export function tokenSignIn({ next, hint = t("signin.hint"), passkey = t("signin.passkey"), className = "card", signedIn }) {
  const input = h("input", { id: "token", type: "password", autocomplete: "off", required: true,
    oninput: () => { typed = input.value; } });
  input.value = typed;
  return h("form", { class: className, onsubmit: async (e) => {
    e.preventDefault();
    setToken(input.value.trim());
    typed = "";
    await signedIn();
  } },
  h("h2", {}, t("signin.title")),
  h("label", { for: "token" }, t("signin.token")), input,
  h("p", { class: "hint" }, hint),
  h("button", { type: "submit" }, t("signin.submit")),
  h("p", {}, h("a", { href: `signin.html?next=${next}` }, passkey)));
}
