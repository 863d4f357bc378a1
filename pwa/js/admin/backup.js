// The admin's backup screen: replication status, drills, point-in-time restore with a preview. Its
// header, sign-out, busy and message lines and start come from shell.js.
import { tokenSignIn } from "../auth/tokenform.js";
import { localMessage } from "../shared/messages.js";
import { api, ApiError, setToken, token } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { adminAction, adminHeader, endSignIn, startAdmin, statusLines } from "./shell.js";

// `notice` is kept as [key, params] so that it follows a change of language.
// `point` and `custom` are what the person chose; the preview is for exactly that choice, and any
// change drops it (Restore is only offered for the time the preview shows). `keep` holds the ids
// of journaled server work to re-apply (all of it unless unticked).
const state = { status: null, points: [], preview: null, previewFor: null, point: null, custom: "", keep: new Set(),
  notice: null, error: null, busy: null };
const root = document.getElementById("app");

// Times as YYYY-MM-DD HH:MM:SS UTC: one unambiguous form for everyone.
const fmt = (iso) => (iso ? iso.replace("T", " ").replace(/\.\d+/, "").replace("Z", " UTC") : t("status.none"));

// An LTX file stamped second S holds changes up to S: restoring "as of S" asks for S + 1 s.
const asOf = (iso) => new Date(Date.parse(iso) + 1000).toISOString().replace(".000Z", "Z");

async function refresh() {
  const used = token(); // an answer for an older sign-in must not undo a newer one
  try {
    const [status, points] = await Promise.all([api("/admin/backup?fresh=1"), api("/admin/restore-points?limit=500")]);
    state.status = status;
    state.points = [...new Set(points.restore_points.map((p) => p.timestamp))].reverse();
    state.error = null;
  } catch (error) {
    if (token() !== used) return;
    state.status = null;
    if (error instanceof ApiError && error.status === 401) {
      // No token and no session yet is not an error: it is the sign-in form.
      state.error = token() ? t("signin.failed") : null;
      setToken(null);
    } else {
      state.error = error instanceof ApiError && error.status === 403 ? t("signin.notadmin") : t("error.generic", { message: localMessage(error.message) });
    }
  }
  render();
}

const busy = (label, work) => adminAction(state, label, work, { draw: render, after: refresh,
  failed: (error) => { state.error = t("error.generic", { message: localMessage(error.message) }); } });

function header() {
  return adminHeader({ title: t("backup.title"), links: [["people.html", "people.title"]], signedIn: Boolean(state.status), redraw: render,
    onSignOut: async () => {
      await endSignIn();
      state.status = null;
      render();
    } });
}

function signIn() {
  return tokenSignIn({ next: "admin.html", signedIn: refresh });
}

function row(label, value, id) {
  return [h("dt", {}, label), h("dd", { id }, value)];
}

function statusCard(s) {
  const points = s.restore_points.count
    ? t("status.pointsRange", { count: s.restore_points.count, earliest: fmt(s.restore_points.earliest), latest: fmt(s.restore_points.latest) })
    : t("status.none");
  return h("section", { class: "card", "aria-labelledby": "status-title" },
    h("h2", { id: "status-title" }, t("status.title")),
    h("dl", {},
      row(t("status.replica"), s.replica, "replica"),
      row(t("status.running"), s.running ? t("status.running.yes") : t("status.running.no"), "running"),
      row(t("status.lastReplicated"), fmt(s.last_replicated_at)),
      row(t("status.lastChange"), fmt(s.last_change_at)),
      row(t("status.lag"), s.lag_seconds === null ? t("status.none") : t("status.seconds", { n: s.lag_seconds })),
      row(t("status.points"), points)),
    h("button", { type: "button", onclick: refresh }, t("status.refresh")));
}

function warningsCard(s) {
  return h("section", { class: s.warnings.length ? "card warn" : "card", role: s.warnings.length ? "alert" : null },
    h("h2", {}, t("warnings.title")),
    s.warnings.length ? h("ul", { id: "warnings" }, s.warnings.map((w) => h("li", {}, w))) : h("p", { id: "warnings" }, t("warnings.none")));
}

function drillCard(s) {
  const d = s.last_drill;
  return h("section", { class: "card" },
    h("h2", {}, t("drill.title")),
    d ? h("p", { id: "drill", class: d.ok ? "ok" : "bad" }, `${d.ok ? t("drill.ok") : t("drill.failed")} · ${fmt(d.at)} · ${localMessage(d.message)}`)
      : h("p", { id: "drill" }, t("drill.never")),
    h("button", { type: "button", disabled: Boolean(state.busy), onclick: () => busy(t("drill.running"), () => api("/admin/drill", { method: "POST" })) },
      t("drill.run")));
}

function restoreCard() {
  const select = h("select", { id: "point", onchange: (e) => choose(e.target.value, state.custom) },
    state.points.map((p) => h("option", { value: asOf(p), selected: asOf(p) === state.point }, fmt(p))));
  const custom = h("input", { id: "custom-time", type: "text", value: state.custom, placeholder: "2026-11-24T09:30:00+08:00",
    oninput: (e) => typed(e.target.value.trim()) });
  const chosen = () => state.custom || state.point || (state.points.length ? asOf(state.points[0]) : "");
  const preview = async () => busy(t("restore.previewing"), async () => {
    const to = chosen();
    state.preview = null;
    state.preview = (await api("/admin/restore", { method: "POST", body: { to, dry_run: true } })).preview;
    state.previewFor = to;
    state.keep = new Set(state.preview.server_work.entries.map((e) => e.id));
  });
  const restore = async () => {
    if (!window.confirm(t("restore.confirmQuestion", { time: fmt(state.previewFor) }))) return;
    await busy(t("restore.running"), async () => {
      const exclude = state.preview.server_work.entries.map((e) => e.id).filter((id) => !state.keep.has(id));
      const done = (await api("/admin/restore", { method: "POST", body: { to: state.previewFor, exclude } })).restore;
      state.preview = null;
      state.notice = ["restore.done", { time: fmt(done.to), file: done.pre_restore.split("/").pop() }];
    });
  };
  const p = state.preview;
  return h("section", { class: "card" },
    h("h2", {}, t("restore.title")),
    h("label", { for: "point" }, t("restore.point")), select,
    h("label", { for: "custom-time" }, t("restore.custom")), custom,
    h("button", { type: "button", id: "preview", disabled: Boolean(state.busy) || !chosen(), onclick: preview }, t("restore.preview")),
    p ? h("div", { id: "preview-result" },
      h("table", {},
        h("caption", { id: "preview-time" }, t("restore.previewOf", { time: fmt(state.previewFor) })),
        h("thead", {}, h("tr", {}, h("td", {}, ""), h("th", { scope: "col" }, t("restore.then")), h("th", { scope: "col" }, t("restore.now")))),
        h("tbody", {}, ["cards", "activities", "changes"].map((k) =>
          h("tr", {}, h("th", { scope: "row" }, t(`restore.${k}`)), h("td", {}, p.then[k]), h("td", {}, p.now[k]))))),
      h("p", { id: "rolled-back" }, t("restore.rolledBack", { n: p.rolled_back.changes })),
      comesBack(p),
      h("button", { type: "button", id: "confirm", class: "danger", disabled: Boolean(state.busy), onclick: restore }, t("restore.confirm"))) : null);
}

// Typing a time drops a preview of another time; the field keeps its focus while the screen redraws.
function typed(custom) {
  const dropping = state.preview !== null;
  state.custom = custom;
  if (!dropping) return;
  choose(state.point, custom);
  const input = document.getElementById("custom-time");
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

// A new choice of time drops the preview: Restore is offered again only after a preview of it.
function choose(point, custom) {
  state.point = point;
  state.custom = custom;
  state.preview = null;
  state.previewFor = null;
  render();
}

// What the restore rolls back, and how each part comes back (or does not).
function comesBack(p) {
  const server = p.server_work.entries;
  const toggle = (id) => (e) => { if (e.target.checked) state.keep.add(id); else state.keep.delete(id); };
  return h("div", { id: "comes-back" },
    h("p", { id: "access-kept" }, t("restore.accessKept")),
    h("p", { id: "device-work" }, t("restore.deviceWork", { n: p.device_work.changes, devices: p.device_work.devices.length })),
    server.length
      ? h("fieldset", { id: "server-work" },
        h("legend", {}, t("restore.serverWork", { n: server.length })),
        server.map((e) => h("label", { class: "check" },
          h("input", { type: "checkbox", checked: state.keep.has(e.id), "data-entry": String(e.id), onchange: toggle(e.id) }),
          ` ${t(`restore.kind.${e.kind}`)} · ${e.user} · ${fmt(e.at)}${e.file ? ` · ${e.file}` : ""}`)))
      : h("p", { id: "server-work" }, t("restore.noServerWork")),
    p.lost.changes ? h("p", { id: "lost", class: "bad" }, t("restore.lost", { n: p.lost.changes })) : null);
}

function lastRestoreCard(s) {
  const r = s.last_restore;
  if (!r) return null;
  return h("section", { class: "card" },
    h("h2", {}, `${t("restore.last")}: ${fmt(r.to)}`),
    h("h3", {}, t("restore.waiting")),
    r.devices_not_synced.length
      ? h("ul", { id: "waiting" }, r.devices_not_synced.map((d) => h("li", {}, `${d.user ?? "?"} · ${d.id} · ${fmt(d.last_sync)}`)))
      : h("p", { id: "waiting" }, t("restore.allSynced")));
}

function render() {
  document.title = `${t("backup.title")} · ${t("app.title")}`;
  const s = state.status;
  root.replaceChildren(
    header(),
    h("main", {},
      statusLines({ busy: state.busy, notice: state.notice && t(...state.notice), error: state.error }),
      !s ? signIn() : [statusCard(s), warningsCard(s), drillCard(s), restoreCard(), lastRestoreCard(s)]));
}

await startAdmin(render, refresh);
