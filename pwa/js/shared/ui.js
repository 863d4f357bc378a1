// What the screens of every page repeat: the header's language picker, a labelled field, and a
// time or "none". The app, the office tools, the admin screens, sign-in and the customer page use them.
import { h } from "./dom.js";
import { language, languages, loadLanguage, t } from "./i18n.js";
import { localTime } from "./time.js";

// Each language by its own name.
export const languageName = (lang) => (lang === "en" ? "English" : "简体中文");

// The header's language picker: the choice is kept (i18n.js) and the page drawn again in it.
export function languagePicker(redraw) {
  return h("select", { id: "lang", "aria-label": t("lang.label"), onchange: async (e) => { await loadLanguage(e.target.value); redraw(); } },
    languages().map((l) => h("option", { value: l, selected: l === language() }, languageName(l))));
}

// A labelled control with an optional hint and the server's error for it, wired together for
// screen readers. `cls` is the wrapper's class.
export function field(id, label, control, { hint = null, error = null, cls = "field" } = {}) {
  const described = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(" ");
  if (described) control.setAttribute("aria-describedby", described);
  if (error) control.setAttribute("aria-invalid", "true");
  return h("div", { class: cls },
    h("label", { for: id }, label), control,
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null,
    error ? h("p", { class: "field-error", id: `${id}-error` }, error) : null);
}

// A server time in local time, like the field app; "none" where there is none.
export const shownTime = (iso) => (iso ? localTime(iso) : t("status.none"));

// One action at a time: `busy` is set (true, or a label the screen shows) and the named messages
// cleared, then the screen drawn; the work runs and its error goes to `failed`; `busy` is unset
// (false, or null for a label). Answers whether the work went through. Reloading and focus after
// it are the screen's.
export async function whileBusy(holder, work, { failed, draw = null, busy = true, clear = ["error"] }) {
  holder.busy = busy;
  for (const key of clear) holder[key] = null;
  draw?.();
  try {
    await work();
    return true;
  } catch (error) {
    failed(error);
    return false;
  } finally {
    holder.busy = busy === true ? false : null;
  }
}
