// The field parts of a card (issue 16): where the customer is ("I am at this customer", map links),
// its photos and files (taken offline, shown at once, uploaded later), and what a logged visit
// says about place and time (its distance from the customer, whether it was logged offline).
// Used by card.js on the phone and in the desktop side panel.
import { h } from "../../shared/dom.js";
import { language, t } from "../../shared/i18n.js";
import { formatBytes } from "../format.js";
import { distanceText, hasPlace, mapLinks, parsePlace } from "../geo.js";
import { BadFile, keepPlaceOn, prepare, setKeepPlace } from "../photo.js";
import { NoPosition } from "../position.js";
import { arrival, delayParts, visitDistance } from "../visits.js";
import { badge, field } from "./parts.js";

const IMAGES = new Set(["image/jpeg", "image/png", "image/webp", "image/gif"]);
const urls = new Map(); // attachment id → object URL of the bytes this device holds

export const placeText = (p) => `${p.lat.toFixed(6)}, ${p.lng.toFixed(6)}`;

export function problemText(error) {
  if (error instanceof NoPosition) return t(`field.place.err.${error.reason}`);
  if (error instanceof BadFile && error.reason === "type") return t("field.files.badType", { type: error.detail.type });
  if (error instanceof BadFile) return t("field.files.tooBig", { size: formatBytes(error.detail.size) });
  return t("error.generic", { message: error?.message || String(error) });
}

// Links that open the route in a map app: Amap and Baidu in Chinese, Google and Apple elsewhere.
export function mapLinkEls(to, { from = null, name = "", id = "" } = {}) {
  return mapLinks(language(), to, { from, name }).map((link) =>
    h("a", { href: link.href, class: `contact map map-${link.app}`, target: "_blank", rel: "noopener noreferrer",
      id: id ? `${id}-${link.app}` : null, "data-map": link.app, "aria-label": t(`field.map.${link.app}`) }, t(`field.mapName.${link.app}`)));
}

// The customer's location, and "I am at this customer" (the phone's position, asked for now).
export function placeSection(v, { busy, onHere }) {
  const place = v.location;
  return h("section", { class: "place", id: "place", "aria-labelledby": "place-title" },
    h("h3", { id: "place-title" }, t("field.place.title")),
    hasPlace(place)
      ? h("p", { id: "place-value" }, h("span", { class: "mono" }, placeText(place)), " ",
        h("span", { class: "map-links" }, mapLinkEls(place, { name: v.name || "", id: "place-map" })))
      : h("p", { class: "hint", id: "place-none" }, t("field.place.none")),
    h("button", { type: "button", class: "secondary", id: "set-here", disabled: busy, onclick: onHere },
      busy ? t("field.place.locating") : hasPlace(place) ? t("field.place.moveHere") : t("field.place.here")));
}

// Where the bytes can be seen: this device's copy, else the server's (once uploaded).
export async function loadUrls(app, attachments) {
  for (const a of attachments) {
    if (urls.has(a.id) || !a.local) continue;
    const bytes = await app.device.fileBytes(a.id);
    if (bytes) urls.set(a.id, URL.createObjectURL(new Blob([bytes], { type: a.type })));
  }
}

const urlOf = (a) => urls.get(a.id) || (a.uploaded ? `/api/v1/attachments/${encodeURIComponent(a.id)}` : null);

function attachmentItem(a) {
  const url = urlOf(a);
  const image = IMAGES.has(a.type) && url;
  return h("li", { class: "attachment", "data-attachment-id": a.id, "data-uploaded": String(Boolean(a.uploaded)) },
    image ? h("a", { href: url, target: "_blank", rel: "noopener" }, h("img", { src: url, alt: a.name, class: "thumb", loading: "lazy" })) : null,
    h("span", { class: "file-name" }, url && !image ? h("a", { href: url, download: a.name }, a.name) : a.name),
    h("span", { class: "sub" }, ` ${formatBytes(a.size)}`),
    a.uploaded ? null : badge(t("field.files.waiting"), "wait"));
}

export function attachmentList(attachments, id = null) {
  if (!attachments.length) return null;
  return h("ul", { class: "attachments", id }, attachments.map(attachmentItem));
}

// A hidden file input behind a button-like label: the camera ("capture") or any file.
function picker(id, label, { camera, onFiles, busy }) {
  const input = h("input", { type: "file", id, class: "file-input", disabled: busy,
    accept: camera ? "image/*" : null, capture: camera ? "environment" : null,
    onchange: (e) => {
      const files = [...e.target.files];
      e.target.value = "";
      if (files.length) onFiles(files);
    } });
  return h("span", { class: "file-pick" }, input, h("label", { for: id, class: "button secondary" }, label));
}

// Photos and files of the card itself (not of one visit): take, pick, see.
export function filesSection(attachments, { busy, onFiles }) {
  const own = attachments.filter((a) => !a.activity);
  return h("section", { class: "files", id: "files", "aria-labelledby": "files-title" },
    h("h3", { id: "files-title" }, t("field.files.title")),
    own.length ? attachmentList(own, "attachment-list") : h("p", { class: "hint", id: "files-none" }, t("field.files.none")),
    h("div", { class: "actions" },
      picker("take-photo", t("field.files.photo"), { camera: true, onFiles, busy }),
      picker("attach-file", t("field.files.file"), { camera: false, onFiles, busy })),
    h("p", { class: "check" }, h("label", { for: "keep-place" },
      h("input", { type: "checkbox", id: "keep-place", checked: keepPlaceOn(), onchange: (e) => setKeepPlace(e.target.checked) }),
      " ", t("field.files.keepPlace"))),
    busy ? h("p", { class: "hint", role: "status" }, t("field.files.working")) : null);
}

// The optional photo input of the visit form (the photo belongs to that visit).
export const visitPhotoPicker = (onFiles) => picker("visit-photo", t("field.visit.photo"), { camera: true, onFiles, busy: false });

// Downscale and keep each file on the device, declared through the outbox. Stops at the first bad one.
export async function keepFiles(app, cardId, files, activity = null) {
  for (const file of files) {
    const ready = await prepare(file);
    await app.device.addAttachment(cardId, { ...ready, activity });
  }
}

function delayText(ms) {
  const p = delayParts(ms);
  if (p.days) return t("field.delay.days", p);
  if (p.hours) return t("field.delay.hours", p);
  return t("field.delay.mins", p);
}

// Under each activity in the timeline: where it was logged, whether it arrived late, its photos.
export function activityExtras(a, cardLocation, attachments) {
  const parts = [];
  if (a.location) {
    const d = visitDistance(a, cardLocation);
    const accuracy = Number.isFinite(a.location.accuracy_m) ? t("field.visit.accuracy", { m: Math.round(a.location.accuracy_m) }) : "";
    parts.push(h("p", { class: "sub visit-place", "data-distance-m": d === null ? null : String(Math.round(d)) },
      d === null ? t("field.visit.placeOnly") : t("field.visit.fromCustomer", { distance: distanceText(d) }), accuracy ? ` (${accuracy})` : ""));
  } else if (a.kind === "visit") {
    parts.push(h("p", { class: "sub visit-place none" }, t("field.visit.noPlace")));
  }
  const { offline, lateMs } = arrival(a);
  if (offline) parts.push(h("p", { class: "sub visit-late" }, t("field.visit.offline", { delay: delayText(lateMs) })));
  const mine = attachments.filter((x) => x.activity === a.id);
  if (mine.length) parts.push(attachmentList(mine));
  return parts;
}

// --- typing a location (office, or a rep who knows it) in the edit form ---------------------------

export const placeDraft = (view) => ({
  lat: hasPlace(view?.location) ? String(view.location.lat) : "",
  lng: hasPlace(view?.location) ? String(view.location.lng) : "",
});

export function placeFields(place, error) {
  const input = (key) => h("input", { type: "text", inputmode: "decimal", autocomplete: "off", value: place[key],
    oninput: (e) => { place[key] = e.target.value; } });
  return h("fieldset", { class: "place-fields", id: "place-fields" }, h("legend", {}, t("field.place.title")),
    field("f-lat", t("field.place.lat"), input("lat"), { error, hint: t("field.place.typeHint") }),
    field("f-lng", t("field.place.lng"), input("lng")));
}

// {change: {location} or {}, error: [key, params] or null} against the card as the form opened.
export function placeChange(base, place) {
  const empty = !place.lat.trim() && !place.lng.trim();
  const value = empty ? null : parsePlace(place.lat, place.lng);
  if (!empty && !value) return { change: {}, error: ["field.place.bad", {}] };
  const old = hasPlace(base?.location) ? base.location : null;
  const same = (!old && !value) || (old && value && old.lat === value.lat && old.lng === value.lng);
  return { change: same ? {} : { location: value }, error: null };
}
