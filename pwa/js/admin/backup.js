// The admin's backup screen: replication status, drills, point-in-time restore with a preview.
import { tokenSignIn } from "../auth/tokenform.js";
import { localMessage } from "../messages.js";
import { api, ApiError, setToken, token } from "../api.js";
import { signOut } from "../auth/passkey.js";
import { h } from "../dom.js";
import { language, languages, loadLanguage, pickLanguage, t } from "../i18n.js";

// `notice` is kept as [key, params] so that it follows a change of language.
const state = { status: null, points: [], preview: null, previewFor: null, notice: null, error: null, busy: null };
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

async function busy(label, work) {
  state.busy = label;
  state.notice = null;
  render();
  try {
    await work();
    state.error = null;
  } catch (error) {
    state.error = t("error.generic", { message: localMessage(error.message) });
  } finally {
    state.busy = null;
  }
  await refresh();
}

function header() {
  const select = h("select", { id: "lang", "aria-label": t("lang.label"), onchange: async (e) => { await loadLanguage(e.target.value); render(); } },
    languages().map((l) => h("option", { value: l, selected: l === language() }, l === "en" ? "English" : "简体中文")));
  return h("header", { class: "bar" },
    h("h1", {}, `${t("app.title")} · ${t("backup.title")}`),
    h("div", { class: "bar-tools" }, h("a", { href: `/guide/admin.${language()}`, id: "help", target: "_blank", rel: "noopener" }, t("field.help")), h("a", { href: "people.html" }, t("people.title")), select,
      state.status ? h("button", { type: "button", onclick: async () => {
        if (token()) setToken(null);
        else await signOut().catch(() => null);
        state.status = null;
        render();
      } }, t("signin.out")) : null));
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
    d ? h("p", { id: "drill", class: d.ok ? "ok" : "bad" }, `${d.ok ? t("drill.ok") : t("drill.failed")} · ${fmt(d.at)} · ${d.message}`)
      : h("p", { id: "drill" }, t("drill.never")),
    h("button", { type: "button", disabled: Boolean(state.busy), onclick: () => busy(t("drill.running"), () => api("/admin/drill", { method: "POST" })) },
      t("drill.run")));
}

function restoreCard() {
  const select = h("select", { id: "point" }, state.points.map((p) => h("option", { value: asOf(p) }, fmt(p))));
  const custom = h("input", { id: "custom-time", type: "text", placeholder: "2026-11-24T09:30:00+08:00" });
  const chosen = () => custom.value.trim() || select.value;
  const preview = async () => busy(t("restore.previewing"), async () => {
    const to = chosen();
    state.preview = (await api("/admin/restore", { method: "POST", body: { to, dry_run: true } })).preview;
    state.previewFor = to;
  });
  const restore = async () => {
    if (!window.confirm(t("restore.confirmQuestion", { time: fmt(state.previewFor) }))) return;
    await busy(t("restore.running"), async () => {
      const done = (await api("/admin/restore", { method: "POST", body: { to: state.previewFor } })).restore;
      state.preview = null;
      state.notice = ["restore.done", { time: fmt(done.to), file: done.pre_restore.split("/").pop() }];
    });
  };
  const p = state.preview;
  return h("section", { class: "card" },
    h("h2", {}, t("restore.title")),
    h("label", { for: "point" }, t("restore.point")), select,
    h("label", { for: "custom-time" }, t("restore.custom")), custom,
    h("button", { type: "button", id: "preview", disabled: Boolean(state.busy) || (!state.points.length && !custom.value), onclick: preview }, t("restore.preview")),
    p ? h("div", { id: "preview-result" },
      h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, t("restore.then")), h("th", {}, t("restore.now")))),
        h("tbody", {}, ["cards", "activities", "changes"].map((k) =>
          h("tr", {}, h("th", { scope: "row" }, t(`restore.${k}`)), h("td", {}, p.then[k]), h("td", {}, p.now[k]))))),
      h("p", { id: "rolled-back" }, t("restore.rolledBack", { n: p.rolled_back.changes })),
      h("button", { type: "button", id: "confirm", class: "danger", disabled: Boolean(state.busy), onclick: restore }, t("restore.confirm"))) : null);
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
      state.busy ? h("p", { class: "busy", role: "status" }, state.busy) : null,
      state.notice ? h("p", { class: "notice", role: "status", id: "notice" }, t(...state.notice)) : null,
      state.error ? h("p", { class: "error", role: "alert", id: "error" }, state.error) : null,
      !s ? signIn() : [statusCard(s), warningsCard(s), drillCard(s), restoreCard(), lastRestoreCard(s)]));
}

await loadLanguage(pickLanguage());
render();
await refresh(); // with a token from this tab, or with the passkey session's cookie
