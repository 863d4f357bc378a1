// Nearby: the cards on this phone sorted by distance from where the rep stands, worked out here
// (offline too) with geo.js; cards without a location follow, with a prompt to set one at the next
// visit. The position is asked for when the screen opens or on "Update my position", never watched.
import { h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { whileBusy } from "../../shared/ui.js";
import { byDistance, distanceText, hasPlace } from "../geo.js";
import { here } from "../position.js";
import { mapLinkEls, problemText } from "./field.js";
import { byName } from "./cards.js";
import { swap } from "./parts.js";

const PAGE = 100;

// The last position this session knew, shared with My day (Today).
export async function locate(app) {
  app.position = { ...(await here()), time: new Date().toTimeString().slice(0, 5) };
  return app.position;
}

function item(entry, from) {
  const v = entry.row.view;
  return h("li", { class: "near-item", "data-card-id": entry.row.id },
    h("a", { href: `#/card/${encodeURIComponent(entry.row.id)}`, class: "card-item" },
      h("span", { class: "name" }, v.name || t("field.none")),
      v.company ? h("span", { class: "sub" }, v.company) : null,
      entry.distance === null ? null : h("span", { class: "badge distance" }, distanceText(entry.distance))),
    entry.distance === null ? null : h("span", { class: "map-links" }, mapLinkEls(v.location, { from, name: v.name || "" })));
}

// locate() with `holder.busy` shown while it runs and its failure said in `holder.error`.
export async function locateShown(app, holder, render) {
  await whileBusy(holder, () => locate(app), { draw: render, failed: (error) => { holder.error = problemText(error); } });
  render();
}

export function nearbyScreen(app) {
  const state = { busy: false, error: null, limit: PAGE };
  const el = h("section", { class: "nearby-screen", "aria-labelledby": "nearby-title" });

  const refresh = () => locateShown(app, state, render);

  function render() {
    const p = app.position;
    const names = byName();
    const rows = [...app.rows].sort(names);
    const sorted = p ? byDistance(rows, p, (row) => row.view.location) : rows.map((row) => ({ row, distance: null }));
    const placed = sorted.filter((x) => x.distance !== null);
    const unplaced = rows.filter((row) => !hasPlace(row.view.location)).map((row) => ({ row, distance: null }));
    swap(el,
      h("h2", { id: "nearby-title", tabindex: "-1" }, t("field.nearby.title")),
      h("p", { class: "hint", id: "nearby-where" }, p ? t("field.nearby.where", { time: p.time, m: Math.round(p.accuracy_m) }) : t("field.nearby.ask")),
      state.error ? h("p", { class: "error", role: "alert", id: "nearby-error" }, state.error) : null,
      h("button", { type: "button", class: "secondary", id: "nearby-locate", disabled: state.busy, onclick: refresh },
        state.busy ? t("field.place.locating") : t("field.nearby.locate")),
      !rows.length ? h("p", { class: "hint", id: "nearby-none" }, t("field.nearby.none")) : null,
      p && placed.length ? [
        h("h3", {}, t("field.nearby.count", { n: placed.length })),
        h("ol", { class: "card-list nearby-list", id: "nearby-list" }, placed.slice(0, state.limit).map((x) => item(x, p))),
        placed.length > state.limit ? h("button", { type: "button", class: "secondary", id: "nearby-more", onclick: () => {
          state.limit += PAGE;
          render();
        } }, t("field.nearby.more", { n: placed.length - state.limit })) : null,
      ] : null,
      unplaced.length ? [
        h("h3", { id: "unplaced-title" }, t("field.nearby.unplaced", { n: unplaced.length })),
        h("ul", { class: "card-list", id: "nearby-unplaced" }, unplaced.slice(0, state.limit).map((x) => item(x, null))),
      ] : null);
  }

  render();
  if (!app.position) refresh();
  return { el, update: render, title: t("field.nearby.title") };
}
