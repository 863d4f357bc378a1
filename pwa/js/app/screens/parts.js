// Pieces the screens share: labelled form fields with their errors, how a value or a card is named,
// and re-rendering a region without losing the person's place (focus and caret).
import { h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { field as labelledField } from "../../shared/ui.js";

export function keepFocus(container, render) {
  const active = document.activeElement;
  const id = active && container.contains(active) && active.id ? active.id : null;
  const caret = id && typeof active.selectionStart === "number" ? [active.selectionStart, active.selectionEnd] : null;
  render();
  if (!id) return;
  const again = document.getElementById(id);
  if (!again || document.activeElement === again) return;
  again.focus({ preventScroll: true });
  if (caret) {
    try {
      again.setSelectionRange(...caret);
    } catch {
      // inputs of type date or number have no caret
    }
  }
}

// Replace a region's children, keeping focus.
export function swap(container, ...children) {
  keepFocus(container, () => container.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false)));
}

export const fieldName = (name) => {
  if (name.startsWith("custom.")) return name.slice(7);
  const key = `field.f.${name}`;
  const text = t(key);
  return text === key ? name : text;
};

export const errorText = (error) => (error ? t(error[0], error[1]) : "");

// A label, a control, an optional hint and the error, wired together for screen readers; the
// control takes the id.
export function field(id, label, control, { error = null, hint = null } = {}) {
  control.id = id;
  return labelledField(id, label, control, { error, hint });
}

// A card field's value as text: lists joined, nothing as a dash.
export function valueText(value, fieldKey = "") {
  if (fieldKey === "deleted" && typeof value === "boolean") return value ? t("field.value.deleted") : t("field.value.notDeleted");
  if (value === null || value === undefined || value === "") return t("field.none");
  if (Array.isArray(value)) return value.length ? value.join(", ") : t("field.none");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function cardName(app, id, fallback = null) {
  const view = app.row(id)?.view;
  return view?.name || fallback || t("field.unknownCard", { id: String(id).slice(0, 8) });
}

// "+8613812345678" is read more easily as "+86 138 1234 5678"; other countries stay E.164.
export function phoneText(e164) {
  const mobile = /^\+86(1\d{2})(\d{4})(\d{4})$/.exec(e164);
  if (mobile) return `+86 ${mobile[1]} ${mobile[2]} ${mobile[3]}`;
  const city = /^\+86(10|2\d|[3-9]\d{2})(\d{3,4})(\d{4})$/.exec(e164);
  if (city) return `+86 ${city[1]} ${city[2]} ${city[3]}`;
  return e164;
}

export function heading(text, level = "h2") {
  return h(level, { tabindex: "-1" }, text);
}

export const badge = (text, cls = "") => h("span", { class: `badge ${cls}`.trim() }, text);

// Scroll so that `target` (a field with its message) sits between the sticky header and whatever
// is fixed or sticky at the bottom (the Save bar, the nav) and above an on-screen keyboard
// (visualViewport). If it is taller than the room, its bottom, where the message is, wins.
export function reveal(target, { below = null } = {}) {
  if (!target) return;
  const place = () => {
    const view = window.visualViewport;
    const header = document.querySelector(".field-bar");
    let top = header ? Math.max(0, header.getBoundingClientRect().bottom) : 0;
    let bottom = view ? view.offsetTop + view.height : window.innerHeight;
    const bars = [below, document.querySelector(".field-nav:not(.desktop)")].filter(Boolean);
    for (const bar of bars) {
      const box = bar.getBoundingClientRect();
      if (box.height && box.top < bottom && box.bottom > top && getComputedStyle(bar).position !== "static") bottom = Math.min(bottom, box.top);
    }
    top += 8;
    bottom -= 8;
    const box = target.getBoundingClientRect();
    if (box.bottom > bottom) window.scrollBy(0, Math.min(box.bottom - bottom, box.top - top));
    else if (box.top < top) window.scrollBy(0, box.top - top);
    if (target.getBoundingClientRect().bottom > bottom) window.scrollBy(0, target.getBoundingClientRect().bottom - bottom);
  };
  place();
  // The keyboard opens after focus: place again once the visual viewport has shrunk.
  window.visualViewport?.addEventListener("resize", place, { once: true });
}
