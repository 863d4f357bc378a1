// The shared pool (公海) on the phone: customers nobody owns, with only the fields an admin allows,
// searched offline (pinyin too); a rep claims one, offline too. If a colleague's earlier claim wins,
// the claim comes back "already claimed by a colleague" on Pending and the card leaves the phone.
import { h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { matches, searchText } from "../search.js";
import { badge, swap } from "./parts.js";

const SHOWN = 200;

export function poolScreen(app) {
  const state = { query: "", busy: null };
  const el = h("section", { class: "pool-screen", "aria-labelledby": "pool-title" });
  const list = h("ul", { class: "card-list", id: "pool-list" });
  const count = h("p", { id: "pool-count", class: "hint", "aria-live": "polite" });

  async function claim(card) {
    state.busy = card.id;
    render();
    await app.device.claimCard(card);
    app.say(() => (app.online() ? t("field.pool.claimed") : t("field.pool.claimedOffline")));
    await app.saved();
    app.go(`#/card/${encodeURIComponent(card.id)}`);
  }

  function item(card) {
    const details = [card.company, card.region, card.industry].filter(Boolean).join(" · ");
    return h("li", { class: "pool-item", "data-card-id": card.id },
      h("span", { class: "name" }, card.name),
      details ? h("span", { class: "sub" }, details) : null,
      h("span", { class: "badges" }, card.segment ? badge(t("field.segment.value", { segment: card.segment }), `seg seg-${card.segment}`) : null,
        (card.tags || []).slice(0, 3).map((tag) => badge(tag, "tag"))),
      h("button", { type: "button", class: "secondary claim", disabled: state.busy === card.id,
        "aria-label": t("field.pool.claimName", { name: card.name }), onclick: () => claim(card) }, t("field.pool.claim")));
  }

  function render() {
    const q = state.query.trim();
    // Cards this phone holds (claimed, waiting for the server's answer) are not offered again.
    const open = (app.pool?.cards || []).filter((c) => !app.byId.has(c.id));
    const found = open.filter((c) => !q || matches(searchText(c), q));
    count.textContent = app.pool?.at ? t("field.pool.count", { shown: found.length, total: open.length }) : t("field.pool.never");
    swap(list, found.slice(0, SHOWN).map(item));
  }

  const search = h("input", { type: "search", id: "pool-q", autocomplete: "off", placeholder: t("field.search.placeholder"),
    "aria-describedby": "pool-count", oninput: (e) => { state.query = e.target.value; render(); } });
  swap(el,
    h("p", { class: "back" }, h("a", { href: "#/cards" }, `← ${t("field.back")}`)),
    h("h2", { id: "pool-title", tabindex: "-1" }, t("field.pool.title")),
    h("p", { class: "hint" }, t("field.pool.hint")),
    h("div", { class: "filters", role: "search" }, h("label", { for: "pool-q", class: "sr-only" }, t("field.search.label")), search),
    count, list);
  render();
  return { el, title: t("field.pool.title"), update: render };
}
