// Pending changes: every entry of the outbox, waiting or rejected with the server's messages; a
// rejected edit is fixed here (same mutation id, corrected fields) or discarded. Below: the last
// successful sync and this device's storage (used, quota, whether the browser may evict it).
import { localMessage } from "../../shared/messages.js";
import { api } from "../../shared/api.js";
import { h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { dateTime, formatBytes, readDraft, TEXT_FIELDS } from "../format.js";
import { cardName, errorText, field, fieldName, swap } from "./parts.js";

const NAME_KEY = "fieldcards.deviceName";

const FIXABLE = [...TEXT_FIELDS, "phones", "emails", "tags", "segment", "birthday", "follow_up", "owner"];
const LIST_FIELDS = ["phones", "emails"];

function describe(app, entry) {
  const body = entry.body;
  const name = cardName(app, entry.card, body.fields?.name);
  if (body.op === "card.put" && !body.was) return t("field.op.create", { name });
  if (body.op === "card.put") return t("field.op.edit", { name, fields: Object.keys(body.fields).map(fieldName).join(", ") });
  if (body.op === "card.delete") return t("field.op.delete", { name });
  if (body.op === "activity.add") return t("field.op.activity", { name, kind: t(`field.kind.${body.activity.kind}`) });
  if (body.op === "attachment.add") return t("field.op.attachment", { name, file: body.attachment.name });
  if (body.op === "card.claim") {
    const pooled = (app.pool?.cards || []).find((c) => c.id === entry.card);
    return t("field.op.claim", { name: cardName(app, entry.card, pooled?.name) });
  }
  return `${body.op} · ${name}`;
}

// The fields the server named in its errors ("fields.phones[0]" -> phones); all sent ones if none.
function offending(entry) {
  const named = (entry.result?.errors || []).map((e) => /^fields\.([a-z_]+)/.exec(e.path || "")?.[1]).filter((n) => n && FIXABLE.includes(n));
  const fields = named.length ? named : Object.keys(entry.body.fields || {}).filter((n) => FIXABLE.includes(n));
  return [...new Set(fields)];
}

function textOf(name, value) {
  if (Array.isArray(value)) return value.join(name === "tags" ? ", " : "\n");
  return value ?? "";
}

export function pendingScreen(app) {
  const state = { entries: [], fixes: {}, loaded: false, files: [] };
  const el = h("section", { class: "pending-screen", "aria-labelledby": "pending-title" });

  async function update() {
    state.entries = await app.device.outbox();
    state.files = await app.device.filesWaiting();
    state.loaded = true;
    render();
    await app.loadStorage().catch(() => null);
    render();
  }

  function fixForm(entry) {
    const names = offending(entry);
    if (!names.length) return null;
    const fix = state.fixes[entry.id] || (state.fixes[entry.id] = {
      draft: Object.fromEntries(names.map((n) => [n, textOf(n, entry.body.fields[n])])), errors: {} });
    const inputs = names.map((name) => {
      const id = `fix-${entry.seq}-${name}`;
      const onInput = (e) => {
        fix.draft[name] = e.target.value;
      };
      let control;
      if (LIST_FIELDS.includes(name) || name === "notes" || name === "address") control = h("textarea", { rows: "3", oninput: onInput }, fix.draft[name]);
      else if (name === "segment") {
        control = h("select", { onchange: onInput }, h("option", { value: "" }, t("field.none")),
          ["A", "B", "C"].map((s) => h("option", { value: s, selected: fix.draft[name] === s }, t("field.segment.value", { segment: s }))));
      } else control = h("input", { type: ["birthday", "follow_up"].includes(name) ? "date" : "text", value: fix.draft[name], oninput: onInput });
      return field(id, fieldName(name), control, { error: errorText(fix.errors[name]),
        hint: LIST_FIELDS.includes(name) ? t("field.hint.onePerLine") : name === "tags" ? t("field.hint.tags") : null });
    });
    return h("form", { class: "fix-form", id: `fix-${entry.seq}`, novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const { fields, errors } = readDraft(fix.draft, app.schema);
      fix.errors = errors;
      if (Object.keys(errors).length) {
        render();
        el.querySelector(`#fix-${entry.seq} [aria-invalid='true']`)?.focus();
        return;
      }
      await app.device.fix(entry.id, fields);
      delete state.fixes[entry.id];
      app.say(() => t("field.pending.fixed"));
      await app.saved();
    } },
    h("p", { class: "hint" }, t("field.pending.fixHint")),
    inputs,
    h("button", { type: "submit", id: `fix-save-${entry.seq}` }, t("field.pending.fix")));
  }

  function item(entry) {
    const rejected = entry.state === "rejected";
    const errors = entry.result?.errors || [];
    const body = entry.body;
    return h("li", { class: `entry ${entry.state}`, "data-mutation-id": entry.id, "data-state": entry.state, id: `entry-${entry.seq}` },
      h("h3", {}, describe(app, entry)),
      h("p", { class: "sub" }, dateTime(new Date(entry.created_ms).toISOString()), " · ",
        h("span", { class: rejected ? "bad" : "wait" }, rejected ? t("field.pending.rejected") : t("field.pending.waiting"))),
      body.op === "activity.add" && body.activity.text ? h("p", { class: "what" }, body.activity.text) : null,
      body.op === "card.put" && !rejected ? h("p", { class: "sub" }, Object.entries(body.fields).map(([k, v]) => `${fieldName(k)}: ${Array.isArray(v) ? v.join(", ") : k === "location" && v ? `${v.lat}, ${v.lng}` : v ?? t("field.none")}`).join(" · ")) : null,
      rejected ? h("ul", { class: "server-errors" }, errors.length
        ? errors.map((e) => h("li", {}, e.path ? h("code", {}, e.path) : null, e.path ? ": " : "", localMessage(e.message)))
        : h("li", {}, entry.result?.code || t("field.pending.noReason"))) : null,
      rejected && body.op === "card.put" ? fixForm(entry) : null,
      rejected ? h("button", { type: "button", class: "danger", id: `discard-${entry.seq}`, onclick: async () => {
        if (!window.confirm(t("field.pending.discardQuestion"))) return;
        await app.device.discard(entry.id);
        app.say(() => t("field.pending.discarded"));
        await app.saved();
      } }, t("field.pending.discard")) : null);
  }

  function storage() {
    const s = app.storage;
    const lastSync = app.status.lastSync;
    return h("section", { class: "panel about", id: "about", "aria-labelledby": "about-title" },
      h("h3", { id: "about-title" }, t("field.about.title")),
      h("dl", { class: "details" },
        h("dt", {}, t("field.about.lastSync")), h("dd", { id: "last-sync" }, lastSync ? dateTime(lastSync) : t("field.about.never")),
        h("dt", {}, t("field.about.storage")), h("dd", { id: "storage-used" }, s.usage === null || s.usage === undefined
          ? t("field.about.unknown") : t("field.about.used", { used: formatBytes(s.usage), quota: formatBytes(s.quota) })),
        h("dt", {}, t("field.about.persisted")), h("dd", { id: "storage-persisted" }, s.persisted ? t("field.about.persistedYes") : t("field.about.persistedNo")),
        h("dt", {}, t("field.about.device")), h("dd", { class: "mono" }, String(app.device.deviceId).slice(0, 8)),
        h("dt", {}, t("field.about.version")), h("dd", {}, app.version),
        app.me ? [h("dt", {}, t("field.about.user")), h("dd", {}, `${app.me.display || app.me.user} (${t(`role.${app.me.role}`)})`)] : null),
      s.persisted === false ? h("div", { class: "storage-warning", role: "note", id: "storage-warning" },
        h("p", { class: "warning" }, t("field.about.notPersisted")),
        h("button", { type: "button", class: "secondary", id: "persist", onclick: async () => {
          try {
            app.storage.persisted = Boolean(await navigator.storage.persist());
          } catch {
            app.storage.persisted = false;
          }
          render();
        } }, t("field.about.persist"))) : null,
      deviceName());
  }

  // A name for this phone ("王伟的华为"), shown to the admin next to its model, so a lost phone is
  // recognised in the device list. Saved on the server (PUT /devices/{id}/name) and kept here.
  function deviceName() {
    const saved = localStorage.getItem(NAME_KEY) || "";
    if (state.deviceName === undefined) state.deviceName = saved;
    return h("form", { class: "inline device-name", id: "device-name-form", onsubmit: async (e) => {
      e.preventDefault();
      const name = state.deviceName.trim();
      try {
        const done = await api(`/devices/${encodeURIComponent(app.device.deviceId)}/name`, { method: "PUT", body: { name } });
        localStorage.setItem(NAME_KEY, done.name || "");
        state.nameNote = t("field.about.nameSaved");
      } catch (error) {
        app.noteApiError(error);
        state.nameNote = error?.status === 404 ? t("field.about.nameAfterSync")
          : error?.status ? localMessage(error.fields?.[0]?.message || error.message) : t("field.about.nameOffline");
      }
      render();
    } },
    field("device-name", t("field.about.name"), h("input", { type: "text", maxlength: "60", value: state.deviceName, autocomplete: "off",
      placeholder: t("field.about.namePlaceholder"), oninput: (e) => { state.deviceName = e.target.value; } }), { hint: t("field.about.nameHint") }),
    h("button", { type: "submit", class: "secondary", id: "device-name-save" }, t("field.about.nameSave")),
    state.nameNote ? h("p", { class: "hint", role: "status", id: "device-name-note" }, state.nameNote) : null);
  }

  function render() {
    const waiting = state.entries.filter((e) => e.state === "pending").length;
    const rejected = state.entries.filter((e) => e.state === "rejected").length;
    swap(el,
      h("h2", { id: "pending-title", tabindex: "-1" }, t("field.nav.pending")),
      !state.loaded ? null : h("p", { id: "pending-summary", class: rejected ? "warning" : "hint" }, state.entries.length
        ? t("field.pending.summary", { waiting, rejected })
        : t("field.pending.none")),
      state.entries.length ? h("ol", { class: "outbox", id: "outbox" }, state.entries.map(item)) : null,
      state.files.length ? h("section", { class: "panel", id: "files-waiting", "aria-labelledby": "files-waiting-title" },
        h("h3", { id: "files-waiting-title" }, t("field.pending.files", { n: state.files.length })),
        h("p", { class: "hint" }, t("field.pending.filesHint")),
        h("ul", { class: "outbox" }, state.files.map((f) => h("li", { class: "entry pending", "data-attachment-id": f.id },
          h("p", {}, h("strong", {}, f.name), ` · ${formatBytes(f.size)} · ${cardName(app, f.card)}`),
          h("p", { class: "sub" }, dateTime(new Date(f.created_ms).toISOString()), " · ", h("span", { class: "wait" }, t("field.files.waiting"))))))) : null,
      storage());
  }

  render();
  update();
  return { el, update, title: t("field.nav.pending") };
}
