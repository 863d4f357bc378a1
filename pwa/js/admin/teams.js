// Teams and the shared pool's rules on the people screen (issue 19). Teams: reps under managers
// (a manager sees and changes their team's cards). Pool rules: what reps see of pool cards, how
// many cards a rep may hold and claim a day, and after how many idle days a card goes back to the
// pool, per segment. Like settings.js, the section keeps its own element and state, so the people
// screen's redraws never lose what the admin is typing.
import { api, problemText } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { whileBusy } from "../shared/ui.js";

const POOL_FIELDS = ["company", "title", "address", "region", "industry", "segment", "tags", "stage", "location"];
const SEGMENTS = ["A", "B", "C", "none"];
const state = { loaded: false, teams: [], users: [], pool: null, editing: null, draft: null, said: null, error: null, busy: false };
const el = h("section", { class: "card", id: "teams", "aria-labelledby": "teams-title" });

async function load() {
  try {
    const [teams, users, pool] = await Promise.all([api("/teams"), api("/users"), api("/pool/settings")]);
    Object.assign(state, { loaded: true, teams: teams.teams, users: users.users, pool: pool.settings });
  } catch (error) {
    state.error = error.message;
  }
  draw();
}

const names = (text) => text.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean);

async function save(what, work) {
  await whileBusy(state, async () => {
    await work();
    Object.assign(state, { said: what, editing: null, draft: null });
  }, { draw, clear: ["said", "error"], failed: (error) => { state.error = problemText(error); } });
  await load();
  document.getElementById(state.error ? "teams-error" : "teams-said")?.focus();
}

function saveTeam(event) {
  event.preventDefault();
  const body = { name: document.getElementById("team-name").value, members: names(document.getElementById("team-members").value),
    managers: names(document.getElementById("team-managers").value) };
  const id = state.editing?.id;
  save(t("teams.saved", { name: body.name }), () => (id
    ? api(`/teams/${encodeURIComponent(id)}`, { method: "PUT", body })
    : api("/teams", { method: "POST", body })));
}

function savePool(event) {
  event.preventDefault();
  const whole = (id) => {
    const text = document.getElementById(id).value.trim();
    return text ? Number(text) : null;
  };
  const body = {
    fields: POOL_FIELDS.filter((f) => document.getElementById(`pool-field-${f}`).checked),
    max_held: whole("pool-max-held"), claims_per_day: whole("pool-per-day"),
    reclaim_days: Object.fromEntries(SEGMENTS.map((s) => [s, whole(`pool-days-${s}`)])),
  };
  state.poolTyped = body; // shown again if the server refuses it, with its message
  save(t("pool.saved"), async () => {
    await api("/pool/settings", { method: "PUT", body });
    state.poolTyped = null;
  });
}

function teamForm() {
  const team = state.draft || state.editing || { name: "", members: [], managers: [] };
  const of = (role) => state.users.filter((u) => u.role === role && !u.disabled).map((u) => h("option", { value: u.name }, u.display || u.name));
  const input = (id, label, value, list, hint) => h("div", { class: "field" }, h("label", { for: id }, label),
    h("input", { id, value, list, autocomplete: "off", "aria-describedby": hint ? `${id}-hint` : null }),
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null);
  return h("form", { id: "team-form", class: "subform", novalidate: true, "aria-labelledby": "team-form-title", onsubmit: saveTeam },
    h("h3", { id: "team-form-title" }, state.editing ? t("teams.edit", { name: team.name }) : t("teams.new")),
    input("team-name", t("teams.name"), team.name, null, null),
    input("team-members", t("teams.members"), team.members.join(", "), "team-reps", t("teams.namesHint")),
    input("team-managers", t("teams.managers"), team.managers.join(", "), "team-bosses", t("teams.namesHint")),
    h("datalist", { id: "team-reps" }, of("rep")), h("datalist", { id: "team-bosses" }, of("manager")),
    h("button", { type: "submit", id: "team-save", disabled: state.busy }, t("teams.save")),
    state.editing ? h("button", { type: "button", class: "secondary", id: "team-cancel", onclick: () => {
      state.editing = null;
      el.querySelector("#team-form")?.remove();
      state.draft = null;
      draw();
    } }, t("teams.cancel")) : null);
}

function poolForm() {
  const rules = { ...state.pool, ...(state.poolTyped || {}) };
  const number = (id, label, value, max) => h("div", { class: "field" }, h("label", { for: id }, label),
    h("input", { id, type: "number", min: "0", max: String(max), step: "1", inputmode: "numeric", value: value ?? "" }));
  return h("form", { id: "pool-form", class: "subform", novalidate: true, "aria-labelledby": "pool-title", onsubmit: savePool },
    h("h3", { id: "pool-title" }, t("pool.title")),
    h("p", { class: "hint" }, t("pool.hint")),
    h("fieldset", {}, h("legend", {}, t("pool.fields")),
      POOL_FIELDS.map((f) => h("label", { class: "check", for: `pool-field-${f}` },
        h("input", { type: "checkbox", id: `pool-field-${f}`, checked: rules.fields.includes(f) }), h("span", {}, t(`pool.field.${f}`))))),
    number("pool-max-held", t("pool.maxHeld"), rules.max_held, 1_000_000),
    number("pool-per-day", t("pool.perDay"), rules.claims_per_day, 100_000),
    h("fieldset", {}, h("legend", {}, t("pool.reclaim")),
      SEGMENTS.map((s) => number(`pool-days-${s}`, s === "none" ? t("pool.noSegment") : t("pool.segment", { segment: s }), rules.reclaim_days[s], 3650))),
    h("button", { type: "submit", id: "pool-save", disabled: state.busy }, t("pool.save")));
}

// What the admin typed and has not saved yet survives a redraw (an error, a change of language).
function keepDraft() {
  const name = el.querySelector("#team-name");
  if (name) {
    state.draft = { ...(state.editing || {}), name: name.value, members: names(el.querySelector("#team-members").value),
      managers: names(el.querySelector("#team-managers").value) };
  }
}

function draw() {
  keepDraft();
  if (!state.loaded && !state.error) {
    el.replaceChildren(h("h2", { id: "teams-title" }, t("teams.title")), h("p", { class: "busy", role: "status" }, t("people.loading")));
    return;
  }
  el.replaceChildren(
    h("h2", { id: "teams-title" }, t("teams.title")),
    h("p", { class: "hint" }, t("teams.hint")),
    state.said ? h("p", { class: "notice", role: "status", id: "teams-said", tabindex: "-1" }, state.said) : null,
    state.error ? h("p", { class: "error", role: "alert", id: "teams-error", tabindex: "-1" }, state.error) : null,
    state.teams.length ? h("table", { id: "team-table" },
      h("thead", {}, h("tr", {}, [t("teams.name"), t("teams.members"), t("teams.managers"), t("teams.actions")].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, state.teams.map((team) => h("tr", { "data-team": team.id },
        h("td", {}, team.name), h("td", {}, team.members.join(", ")), h("td", {}, team.managers.join(", ")),
        h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": t("teams.edit", { name: team.name }),
          onclick: () => {
            state.editing = team;
            el.querySelector("#team-form")?.remove(); // the chosen team's values, not what was typed
            state.draft = null;
            draw();
            document.getElementById("team-name")?.focus();
          } }, t("teams.change")))))))
      : h("p", { class: "hint", id: "teams-none" }, t("teams.none")),
    teamForm(),
    state.pool ? poolForm() : null);
}

// The section for the people screen: loads once; drawn again with the screen (its language).
export function teamsCard() {
  const first = !el.childElementCount;
  draw();
  if (first) load();
  return el;
}
