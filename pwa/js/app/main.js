// The field app: opens the device (IndexedDB, outbox), runs the sync loop, routes between the
// screens (#/cards, #/card/ID, #/edit/ID, #/new, #/today, #/nearby, #/pending, #/conflicts) and draws the
// header with the sync status. Screens live in screens/*.js and render from the `app` object here;
// every change goes through the device, then the screens re-render from the store.
import { api, token } from "../shared/api.js";
import { whoAmI } from "../auth/passkey.js";
import { h } from "../shared/dom.js";
import { language, languages, loadLanguage, pickLanguage, t } from "../shared/i18n.js";
import { languageName } from "../shared/ui.js";
import { openDb } from "./db.js";
import { Device } from "./device.js";
import { DEFAULT_SCHEMA } from "./format.js";
import { loadPeople } from "../shared/people.js";
import { chooseMapApp, chosenMapApp, MAP_APPS } from "./maplink.js";
import { lockedOut, privacyLink, watchLock } from "./lock.js";
import { refreshPoolData } from "./pool.js";
import { refreshVoiceData, unseenUpdates } from "./voice.js";
import { usePinyin } from "./search.js";
import { SyncLoop, httpSend, httpUpload } from "./syncloop.js";
import { cardScreen } from "./screens/card.js";
import { cardsScreen } from "./screens/cards.js";
import { conflictsScreen } from "./screens/conflicts.js";
import { desktopScreen } from "./screens/desktop.js";
import { editScreen } from "./screens/edit.js";
import { nearbyScreen } from "./screens/nearby.js";
import { pendingScreen } from "./screens/pending.js";
import { poolScreen } from "./screens/pool.js";
import { swap } from "./screens/parts.js";
import { todayScreen } from "./screens/today.js";

export const APP_VERSION = "1.0.0";

const ME_KEY = "fieldcards.me";
const SCHEMA_KEY = "fieldcards.schema";
const CONFLICTS_KEY = "fieldcards.conflicts";
const CONFLICTS_EVERY_MS = 60_000;
const FLASH_MS = 8000;
const DESKTOP = window.matchMedia("(min-width: 1024px)");

const readJson = (key) => {
  try {
    return JSON.parse(localStorage.getItem(key) || "null");
  } catch {
    return null; // a damaged cache is the same as none
  }
};
const online = () => navigator.onLine;

// Everything the screens read, and the few things they may do. They never touch IndexedDB directly.
export const app = {
  version: APP_VERSION,
  device: null,
  loop: null,
  rows: [], // {id, server, view, search} of every card on the device
  byId: new Map(),
  pendingIds: new Set(), // cards with edits still in the outbox
  rejected: 0, // outbox entries the server refused, waiting for a fix or a discard
  me: readJson(ME_KEY), // {user, role, display}: the last known, for offline use
  schema: readJson(SCHEMA_KEY) || DEFAULT_SCHEMA,
  status: { status: "idle", pending: 0, rejected: 0, lastSync: null, error: null },
  conflicts: readJson(CONFLICTS_KEY) || { list: [], at: null },
  storage: { persisted: null, usage: null, quota: null },
  session: "unknown", // ok | ended | unknown
  revoked: false,
  flash: null, // a short message after an action: {text: () => string, at}
  drafts: {}, // edit forms in progress, by card id or "new": survive a change of language or layout
  ui: { query: "", segment: "", tag: "", due: false, owner: "", sort: { key: "name", dir: 1 }, selected: new Set(), limit: 200 },
  desktop: DESKTOP.matches,

  online,
  canReassign: () => ["office", "admin"].includes(app.me?.role),
  row: (id) => app.byId.get(id) || null,
  go: (hash) => {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  say(text) {
    app.flash = { text: typeof text === "function" ? text : () => text, at: Date.now() };
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => {
      app.flash = null;
      renderBanners();
    }, FLASH_MS);
    renderBanners();
  },
  // After a local edit: show it at once, then let the loop send it soon.
  async saved() {
    await app.reload();
    app.loop.kick();
  },
  async reload() {
    await loadRows();
    screen?.update?.();
    renderHeader();
  },
  async loadConflicts() {
    if (!online() || app.session === "ended") return app.conflicts;
    try {
      const { conflicts } = await api("/conflicts?status=open");
      app.conflicts = { list: conflicts, at: new Date().toISOString() };
      localStorage.setItem(CONFLICTS_KEY, JSON.stringify(app.conflicts));
      conflictsLoaded = Date.now();
    } catch (error) {
      noteApiError(error);
    }
    renderHeader();
    return app.conflicts;
  },
  async loadStorage() {
    if (!navigator.storage?.estimate) return app.storage;
    const [estimate, persisted] = await Promise.all([navigator.storage.estimate(), navigator.storage.persisted?.()]);
    Object.assign(app.storage, { usage: estimate.usage, quota: estimate.quota, persisted: persisted ?? app.storage.persisted });
    return app.storage;
  },
  noteApiError: (error) => noteApiError(error),
};

let started = false;
let screen = null; // {el, update?, route?}
let screenKey = null;
let conflictsLoaded = 0;
let flashTimer = null;
const root = document.getElementById("app");
const headerEl = h("header", { class: "bar field-bar", id: "field-header" });
const bannersEl = h("div", { class: "field-banners", id: "banners" });
const mainEl = h("main", { class: "field", id: "main", tabindex: "-1" });
const navEl = h("nav", { class: "field-nav", id: "nav", "aria-label": "" });
const footerEl = h("footer", { class: "field-footer", id: "field-footer" });
// The skip link must not touch the hash: that is the router's.
const skipEl = h("a", { href: "#main", class: "skip", onclick: (e) => { e.preventDefault(); mainEl.focus(); } });

async function loadRows() {
  const store = app.device.store;
  const [rows, pending, rejected] = await Promise.all([store.cards(), store.journal("pending"), store.journal("rejected")]);
  app.rows = rows;
  app.byId = new Map(rows.map((r) => [r.id, r]));
  app.pendingIds = new Set(pending.map((e) => e.card));
  app.rejected = rejected.length;
  // Photos whose declaration was sent but whose bytes are not uploaded yet (the rest count as pending).
  const declaring = new Set(pending.map((e) => e.id));
  app.filesWaiting = (await app.device.filesWaiting()).filter((f) => !declaring.has(f.mutation)).length;
  const [pool, returning] = await Promise.all([store.meta("pool"), store.meta("returning")]);
  app.pool = pool || { cards: [], at: null }; // the shared pool's view (pool.js)
  app.returning = returning || []; // my cards going back to the pool soon
  app.customerUpdates = await unseenUpdates(store); // what customers changed through links (issue 17)
  app.myScorecard = await store.meta("my_scorecard"); // a rep's own figures for Today
}

function noteApiError(error) {
  if (error?.status === 401) {
    app.session = "ended";
    renderBanners();
  }
}

// --- the header --------------------------------------------------------------------------------

function statusText(s) {
  if (app.revoked) return t("field.status.revoked");
  const parts = [];
  if (s.status === "offline") parts.push(t("field.status.offline"));
  else if (s.status === "syncing") parts.push(t("field.status.syncing"));
  else if (s.status === "signedout") parts.push(t("field.status.signedout"));
  else if (s.status === "held") parts.push(t("field.status.held"));
  else if (s.status === "error") parts.push(t("field.status.error"));
  if (s.pending) parts.push(t("field.status.pending", { n: s.pending }));
  else if (!["offline", "syncing", "signedout", "error", "held"].includes(s.status)) parts.push(s.status === "idle" ? t("field.status.idle") : t("field.status.ok"));
  if (app.rejected) parts.push(t("field.status.rejected", { n: app.rejected }));
  return parts.join(" · ");
}

const ROUTES = [["cards", "#/cards"], ["today", "#/today"], ["nearby", "#/nearby"], ["pending", "#/pending"], ["conflicts", "#/conflicts"]];

function navLinks() {
  const current = screenKey?.split(":")[0];
  const section = ["card", "edit", "new"].includes(current) ? "cards" : current;
  const counts = { pending: app.status.pending + app.rejected + (app.filesWaiting || 0), conflicts: app.conflicts.list.length };
  return ROUTES.map(([name, href]) => h("a", { href, id: `nav-${name}`, class: "field-nav-link", "aria-current": section === name ? "page" : null },
    h("span", { class: "label" }, t(`field.nav.${name}`),
      counts[name] ? h("span", { class: "count", "aria-label": t("field.nav.count", { n: counts[name] }) }, String(counts[name])) : null)));
}

// The status line, the button and the language menu stay the same elements, so that a screen
// reader hears each new status and an open menu is not closed by a sync finishing.
const brandEl = h("div", { class: "brand" });
const deskNavEl = h("nav", { class: "field-nav desktop" });
const statusEl = h("p", { id: "sync-status", class: "sync-status", role: "status" });
const syncLabel = h("span", { class: "label" });
const syncButton = h("button", { type: "button", id: "sync-now", class: "secondary", onclick: () => {
  app.loop?.syncNow();
  app.loadConflicts();
} }, h("span", { class: "icon", "aria-hidden": "true" }, "⟳"), syncLabel);
// On a phone the language and Help wait behind one menu button, so the header is one row; on a
// desktop the same elements stand in the bar (CSS shows the panel and hides the button).
const menuButton = h("button", { type: "button", id: "menu-button", class: "secondary menu-button", "aria-expanded": "false",
  "aria-controls": "menu-panel", onclick: () => openMenu(menuPanel.hidden) }, h("span", { "aria-hidden": "true" }, "☰"));
const menuWho = h("p", { class: "menu-who", id: "menu-who" });
const langLabel = h("label", { for: "lang", class: "menu-label" });
const menuPanel = h("div", { id: "menu-panel", class: "menu-panel", hidden: true });
function openMenu(open) {
  menuPanel.hidden = !open;
  menuButton.setAttribute("aria-expanded", String(open));
  if (open) (langSelect.offsetParent ? langSelect : helpLink).focus();
}
document.addEventListener("click", (e) => {
  if (!menuPanel.hidden && !menuPanel.contains(e.target) && !menuButton.contains(e.target)) openMenu(false);
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !menuPanel.hidden) {
    openMenu(false);
    menuButton.focus();
  }
});
// Help opens the guide for the user's role, in the app's language (docs/guide/, served at /guide/).
const helpLink = h("a", { id: "help", class: "help-link", target: "_blank", rel: "noopener" });
// Where addresses open (maplink.js): automatic (Amap in Chinese, geo: on Android…) or one app.
const mapLabel = h("label", { for: "map-app", class: "menu-label" });
const mapSelect = h("select", { id: "map-app", onchange: (e) => {
  chooseMapApp(e.target.value);
  screen?.update?.();
} });
const langSelect = h("select", { id: "lang", onchange: (e) => changeLanguage(e.target.value) },
  languages().map((l) => h("option", { value: l }, languageName(l))));

function renderHeader() {
  const s = app.status;
  const kind = app.revoked || ["error", "signedout"].includes(s.status) ? "bad" : s.status === "offline" || s.pending ? "wait" : "good";
  const text = statusText(s);
  // The chip shows the first part; the rest ("· 1 need attention") is read out, and on a phone
  // shown by the nav's counts instead (CSS hides .more there, not from screen readers).
  if (statusEl.textContent !== text) {
    const [first, ...rest] = text.split(" · ");
    statusEl.replaceChildren(first, ...(rest.length ? [h("span", { class: "more" }, ` · ${rest.join(" · ")}`)] : []));
  }
  statusEl.className = `sync-status ${kind}`;
  statusEl.title = s.error || text;
  syncLabel.textContent = t("field.sync.now");
  menuButton.setAttribute("aria-label", t("field.menu"));
  langLabel.textContent = t("lang.label");
  mapLabel.textContent = t("field.maps.label");
  if (mapSelect.dataset.lang !== language()) { // rebuilt only for a new language: a sync must not close it
    mapSelect.dataset.lang = language();
    swap(mapSelect, MAP_APPS.map((m) => h("option", { value: m, selected: chosenMapApp() === m }, t(`field.maps.${m}`))));
  }
  menuWho.textContent = app.me ? app.me.display || app.me.user : "";
  syncButton.disabled = app.revoked;
  langSelect.setAttribute("aria-label", t("lang.label"));
  langSelect.value = language();
  helpLink.textContent = t("field.help");
  const guide = { admin: "admin", office: "office", manager: "manager" }[app.me?.role] || "rep";
  helpLink.href = `/guide/${guide}.${language()}`;
  swap(footerEl, privacyLink());
  if (!headerEl.childElementCount) {
    menuPanel.append(menuWho, h("div", { class: "menu-lang" }, langLabel, langSelect), h("div", { class: "menu-lang menu-maps" }, mapLabel, mapSelect), helpLink);
    headerEl.append(brandEl, deskNavEl, statusEl, h("div", { class: "bar-tools" }, syncButton, menuButton, menuPanel));
  }
  swap(brandEl, h("h1", {}, t("app.title")), app.me ? h("span", { class: "sub", id: "who" }, app.me.display || app.me.user) : null);
  deskNavEl.hidden = !app.desktop;
  deskNavEl.setAttribute("aria-label", t("field.nav.label"));
  swap(deskNavEl, app.desktop ? navLinks() : []);
  navEl.setAttribute("aria-label", t("field.nav.label"));
  navEl.hidden = app.desktop;
  swap(navEl, app.desktop ? [] : navLinks());
}

function renderBanners() {
  const items = [];
  if (app.revoked) {
    items.push(h("p", { class: "banner bad", role: "alert", id: "revoked" }, t("field.revoked")));
  } else if (app.heldFor) {
    items.push(h("p", { class: "banner bad", role: "alert", id: "held" }, t("field.held", { user: app.heldFor }), " ",
      h("a", { href: "signin.html?next=index.html" }, t("field.signedout.link"))));
  } else if (app.session === "ended") {
    items.push(h("p", { class: "banner bad", role: "alert", id: "signed-out" }, t("field.signedout.text"), " ",
      h("a", { href: "signin.html?next=index.html", id: "signin-link" }, t("field.signedout.link"))));
  }
  if (app.flash) {
    items.push(h("div", { class: "banner good flash", role: "status", id: "flash" }, h("p", {}, app.flash.text()),
      h("button", { type: "button", class: "close", id: "flash-close", "aria-label": t("field.close"), onclick: () => {
        app.flash = null;
        renderBanners();
        mainEl.focus({ preventScroll: true });
      } }, "×")));
  }
  bannersEl.replaceChildren(...items);
}

async function changeLanguage(lang) {
  await loadLanguage(lang);
  openMenu(false);
  skipEl.textContent = t("field.skip");
  renderHeader();
  renderBanners();
  route(true);
}

// --- routing -----------------------------------------------------------------------------------

const DESKTOP_ROUTES = ["cards", "card", "edit", "new"];

function parseHash() {
  const [, name = "cards", id = null] = (location.hash || "#/cards").split("/");
  return { name: name || "cards", id: id ? decodeURIComponent(id) : null };
}

function mount(name, id) {
  if (app.desktop && DESKTOP_ROUTES.includes(name)) return desktopScreen(app, name, id);
  switch (name) {
    case "card": return cardScreen(app, id);
    case "edit": return editScreen(app, id);
    case "new": return editScreen(app, null);
    case "today": return todayScreen(app);
    case "nearby": return nearbyScreen(app);
    case "pending": return pendingScreen(app);
    case "pool": return poolScreen(app);
    case "conflicts": return conflictsScreen(app);
    default: return cardsScreen(app);
  }
}

// `force` re-mounts even the same screen (a change of language or layout).
function route(force = false) {
  const { name, id } = parseHash();
  const key = `${name}:${id || ""}`;
  const sameDesktop = !force && screen?.route && app.desktop && DESKTOP_ROUTES.includes(name);
  const moved = key !== screenKey;
  if (moved && app.flash && Date.now() - app.flash.at > 1500) app.flash = null; // said before this move, it belongs here
  if (moved && !force) {
    // A form left by navigating away starts afresh next time; only a change of language or layout keeps it.
    const open = name === "new" ? "new" : name === "edit" ? id : null;
    for (const draft of Object.keys(app.drafts)) if (draft !== open) delete app.drafts[draft];
  }
  screenKey = key;
  if (sameDesktop) {
    screen.route(name, id); // the table stays where it is; only the side panel changes
  } else {
    screen = mount(name, id);
    mainEl.replaceChildren(screen.el);
    mainEl.className = `field ${app.desktop && DESKTOP_ROUTES.includes(name) ? "wide" : ""}`;
    if (moved && started && !force) {
      window.scrollTo(0, 0);
      (mainEl.querySelector("h2") || mainEl).focus?.({ preventScroll: true });
    }
  }
  document.title = `${screen.title || t("app.title")} · ${t("app.title")}`;
  renderHeader();
  renderBanners();
  if (name === "conflicts") app.loadConflicts().then(() => screen?.update?.());
}

// --- start -------------------------------------------------------------------------------------

async function loadPinyin() {
  try {
    const { pinyin } = await import("/vendor/pinyin-pro/index.mjs");
    usePinyin(pinyin);
  } catch (error) {
    console.warn("pinyin search unavailable", error); // names are still found by their characters
  }
}

async function checkSession() {
  if (!online()) return;
  try {
    const me = await whoAmI();
    if (me) {
      app.me = me;
      app.session = "ok";
      localStorage.setItem(ME_KEY, JSON.stringify(me));
    } else {
      app.session = "ended";
    }
  } catch {
    return; // no connection after all: the cached identity stands
  }
  renderHeader();
  renderBanners();
  screen?.update?.();
}

// The local data belongs to the user who synced it. Before any sync: if someone else is signed in,
// an empty outbox means the device can be handed over (the old data is wiped); a full one waits
// for its owner, because sending it would make another person the author of that work.
let verifiedUser = null;
async function sameUser() {
  const me = await whoAmI().catch(() => undefined);
  if (me === undefined) return true; // no answer: the sync itself will find out
  if (me === null) return true; // signed out: the sync answers 401 and the outbox waits
  if (verifiedUser === me.user) return true;
  const owner = await app.device.store.meta("user");
  if (owner && owner !== me.user) {
    if ((await app.device.pendingCount()) > 0) {
      app.heldFor = owner;
      renderBanners();
      return false;
    }
    await app.device.wipe();
    location.reload(); // a fresh device for the new user
    return false;
  }
  if (!owner) await app.device.store.write((s) => s.meta.put({ key: "user", value: me.user }));
  verifiedUser = me.user;
  app.heldFor = null;
  return true;
}

async function loadSchema() {
  if (!online()) return;
  try {
    app.schema = await api("/schema");
    localStorage.setItem(SCHEMA_KEY, JSON.stringify(app.schema));
  } catch (error) {
    noteApiError(error);
  }
}

async function askForPersistence() {
  if (!navigator.storage) return;
  try {
    let persisted = await navigator.storage.persisted?.();
    if (!persisted && navigator.storage.persist) persisted = await navigator.storage.persist();
    app.storage.persisted = Boolean(persisted);
    await app.loadStorage();
  } catch (error) {
    console.warn("storage information unavailable", error);
  }
}

async function start() {
  await loadLanguage(pickLanguage());
  // The skip link must not touch the hash: that is the router's.
  skipEl.textContent = t("field.skip");
  root.replaceChildren(skipEl, headerEl, bannersEl, mainEl, footerEl, navEl);
  renderHeader();
  await loadPinyin(); // before any write: the search text of a card is built when it is stored
  const store = await openDb();
  app.device = await Device.open(store, { appVersion: APP_VERSION });
  if (await lockedOut(app.device.store, root)) return; // too long without a sync: nothing shown until a sign-in
  await loadRows();
  app.loop = new SyncLoop(app.device, httpSend(token), { beforeSync: sameUser, upload: httpUpload(token) });
  watchLock(app.device.store, app.loop);
  app.loop.addEventListener("status", (e) => {
    app.status = e.detail;
    if (e.detail.status === "signedout") app.session = "ended";
    else if (["ok", "pending"].includes(e.detail.status) && app.session === "ended") app.session = "ok";
    renderHeader();
    renderBanners();
  });
  app.loop.addEventListener("synced", async (e) => {
    const report = e.detail;
    if (report.sent || report.pulled || report.reset || app.rejected) await app.reload();
    else screen?.update?.();
    if (report.statuses.conflict || Date.now() - conflictsLoaded > CONFLICTS_EVERY_MS) await app.loadConflicts();
    if (screenKey?.startsWith("conflicts") || screenKey?.startsWith("pending")) screen?.update?.();
    // The pool view, the duplicate check's buckets and Today's returning cards: every few minutes,
    // and at once after a claim was answered.
    const force = Boolean(report.statuses.rejected) || Boolean(screenKey?.startsWith("pool"));
    if (await refreshPoolData(app.device.store, { force })) await app.reload();
    // Link tokens for offline QR codes, and what customers changed on my cards (issue 17).
    if (await refreshVoiceData(app.device, { force: Boolean(report.pulled), me: app.me })) await app.reload();
  });
  app.loop.addEventListener("uploaded", () => app.reload()); // photos: "waiting to upload" no more
  app.loop.addEventListener("revoked", async () => {
    app.revoked = true;
    app.drafts = {};
    await loadRows(); // empty: the device wiped itself
    app.conflicts = { list: [], at: null };
    localStorage.removeItem(CONFLICTS_KEY);
    route(true);
  });
  window.addEventListener("hashchange", () => route());
  window.addEventListener("online", () => {
    checkSession();
    loadSchema();
    refreshPeople();
    app.loadConflicts();
  });
  DESKTOP.addEventListener("change", () => {
    app.desktop = DESKTOP.matches;
    route(true);
  });
  route();
  started = true;
  await app.loop.start();
  try {
    import("./update.js").then((m) => m.watchForUpdates(app.device)).catch((error) => console.warn("no update watcher", error));
  } catch (error) {
    console.warn("no update watcher", error);
  }
  askForPersistence().then(() => screen?.update?.());
  await Promise.all([checkSession(), loadSchema(), refreshPeople()]);
  app.loadConflicts();
}

// Display names (王伟, not wang.wei): the screens re-draw when the directory brought news.
async function refreshPeople() {
  if (!online()) return;
  if (await loadPeople()) {
    screen?.update?.();
    renderHeader();
  }
}

start().catch((error) => {
  console.error(error);
  root.replaceChildren(h("main", { class: "field" }, h("p", { class: "banner bad", role: "alert", id: "fatal" }, t("field.fatal", { message: error?.message || String(error) }))));
});
