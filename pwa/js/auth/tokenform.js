// The admin and office screens also take an API token typed in (kept in this tab only), beside
// the link to passkey sign-in. One form for all of them; `signedIn` runs once the token is set.
import { setToken } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";

export function tokenSignIn({ next, hint = t("signin.hint"), passkey = t("signin.passkey"), className = "card", signedIn }) {
  const input = h("input", { id: "token", type: "password", autocomplete: "off", required: true });
  return h("form", { class: className, onsubmit: async (e) => {
    e.preventDefault();
    setToken(input.value.trim());
    await signedIn();
  } },
  h("h2", {}, t("signin.title")),
  h("label", { for: "token" }, t("signin.token")), input,
  h("p", { class: "hint" }, hint),
  h("button", { type: "submit" }, t("signin.submit")),
  h("p", {}, h("a", { href: `signin.html?next=${next}` }, passkey)));
}
