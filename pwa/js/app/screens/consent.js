// Consent and legal basis on the card form (issue 18): whether the customer may be contacted, on
// which channels, and on what basis the card is held. The rep's choice is stamped with the time
// and source "rep"; a value recorded by an import or by the customer's link page is shown as is.
import { h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";

export const CONTACT = ["granted", "refused", "unknown"];
export const CHANNELS = ["phone", "email", "message", "visit"];
export const BASES = ["consent", "contract", "legal_obligation", "emergency", "public_interest", "public_info", "other"];

// The form's own copy: what the card holds, as plain choices.
export function consentDraft(card) {
  const held = card?.consent || null;
  return { contact: held?.contact || "", channels: [...(held?.channels || [])], basis: held?.basis || "" };
}

// The `consent` field to send, or nothing when the person changed none of the choices.
export function consentChange(base, draft) {
  const before = consentDraft(base);
  const same = before.contact === draft.contact && before.basis === draft.basis
    && JSON.stringify(before.channels) === JSON.stringify(draft.contact === "granted" ? draft.channels : []);
  if (same) return {};
  if (!draft.contact && !draft.basis) return { consent: null };
  return { consent: {
    contact: draft.contact || "unknown",
    channels: draft.contact === "granted" ? CHANNELS.filter((c) => draft.channels.includes(c)) : [],
    basis: draft.basis || null,
    at: new Date().toISOString(),
    source: "rep",
  } };
}

// One line that says what is recorded, for the card screen and under the form's choices.
export function consentSummary(consent) {
  if (!consent) return t("consent.none");
  const channels = consent.contact === "granted" && consent.channels?.length
    ? ` (${consent.channels.map((c) => t(`consent.channel.${c}`)).join(t("consent.joiner"))})` : "";
  return t("consent.summary", {
    contact: `${t(`consent.contact.${consent.contact}`)}${channels}`,
    basis: consent.basis ? t(`consent.basis.${consent.basis}`) : t("field.none"),
    at: String(consent.at || "").slice(0, 10),
    source: t(`consent.source.${consent.source}`),
  });
}

export function consentFields(card, draft, rerender) {
  const radios = h("div", { class: "choices", role: "radiogroup", "aria-labelledby": "f-consent-legend" },
    ["", ...CONTACT].map((value) => h("label", { class: "check" },
      h("input", { type: "radio", name: "f-consent-contact", id: `f-consent-${value || "none"}`, value, checked: draft.contact === value,
        onchange: () => { draft.contact = value; rerender(); } }),
      h("span", {}, value ? t(`consent.contact.${value}`) : t("consent.notRecorded")))));
  const channels = draft.contact === "granted"
    ? h("div", { class: "choices", id: "f-consent-channels", role: "group", "aria-label": t("consent.channels") },
      h("span", { class: "hint" }, t("consent.channels")),
      CHANNELS.map((c) => h("label", { class: "check" },
        h("input", { type: "checkbox", id: `f-consent-channel-${c}`, checked: draft.channels.includes(c), onchange: (e) => {
          draft.channels = e.target.checked ? [...draft.channels, c] : draft.channels.filter((x) => x !== c);
        } }), h("span", {}, t(`consent.channel.${c}`)))))
    : null;
  const basis = h("div", { class: "field" },
    h("label", { for: "f-consent-basis" }, t("consent.basis")),
    h("select", { id: "f-consent-basis", onchange: (e) => { draft.basis = e.target.value; } },
      h("option", { value: "", selected: !draft.basis }, t("field.none")),
      BASES.map((b) => h("option", { value: b, selected: draft.basis === b }, t(`consent.basis.${b}`)))));
  return h("fieldset", { class: "field consent", id: "f-consent" },
    h("legend", { id: "f-consent-legend" }, t("consent.title")),
    radios, channels, basis,
    h("p", { class: "hint", id: "f-consent-held" }, consentSummary(card?.consent || null)));
}
