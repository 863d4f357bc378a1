// The cards screen on a desk (>= 1024 px): every card on the device in a dense, sortable, filterable
// table (one line a row), the chosen card in a side panel that opens only then (view or edit), and
// several cards at once: add a tag, or (office and admin) hand them to another rep. An owner change
// is an ordinary edit; the server decides. The keyboard works the table: arrows move between rows,
// Enter opens the card, Escape closes the panel. A selection a filter hides is unselected, and said.
import { h } from "../../shared/dom.js";
import { language, t } from "../../shared/i18n.js";
import { ymd } from "../format.js";
import { phoneText, swap } from "./parts.js";
import { knownPeople, personFromInput, personLabel, personName } from "../../shared/people.js";
import { cardDetail } from "./card.js";
import { allOwners, filterBar, filtered } from "./cards.js";
import { surveyLinksForm } from "./customerlink.js";
import { editForm } from "./edit.js";

const PAGE = 500;
const COLUMNS = [
  ["name", (v) => v.name || ""], ["company", (v) => v.company || ""], ["phone", (v) => (v.phones || [])[0] || ""],
  ["segment", (v) => v.segment || ""], ["tags", (v) => (v.tags || []).join(", ")], ["owner", (v) => personName(v.owner || "")],
  ["follow_up", (v) => v.follow_up || ""], ["updated", (v) => v.updated_at || ""],
];

export function desktopScreen(app, name, id) {
  const ui = app.ui;
  const panel = h("aside", { class: "side-panel", id: "side-panel", "aria-label": t("field.desk.panel") });
  const count = h("p", { id: "result-count", class: "hint", "aria-live": "polite" });
  const bulk = h("div", { class: "bulk", id: "bulk" });
  const tableBox = h("div", { class: "table-scroll" });
  const bulkState = { tag: "", owner: "", error: null, dropped: 0 };
  let current = { name, id };
  let inPanel = null;
  let lastOpened = id; // the row focus returns to when the panel closes
  let el = null;

  function sorted() {
    const [, get] = COLUMNS.find(([key]) => key === ui.sort.key) || COLUMNS[0];
    const collator = new Intl.Collator(language(), { sensitivity: "base", numeric: true });
    const compare = (x, y) => {
      if (!x !== !y) return x ? -1 : 1; // empty cells last, whichever the direction
      return ui.sort.dir * collator.compare(x, y);
    };
    return filtered(app).sort((a, b) => compare(get(a.view), get(b.view)) || collator.compare(a.view.name || "", b.view.name || ""));
  }

  function header() {
    return h("tr", {},
      h("th", { scope: "col", class: "select" },
        h("input", { type: "checkbox", id: "select-all", "aria-label": t("field.desk.selectAll"), onchange: (e) => {
          bulkState.dropped = 0;
          const shown = sorted().slice(0, ui.limit);
          for (const row of shown) {
            if (e.target.checked) ui.selected.add(row.id);
            else ui.selected.delete(row.id);
          }
          renderTable();
          renderBulk();
        } })),
      COLUMNS.map(([key]) => {
        const active = ui.sort.key === key;
        return h("th", { scope: "col", "aria-sort": active ? (ui.sort.dir > 0 ? "ascending" : "descending") : null },
          h("button", { type: "button", class: "sort", id: `sort-${key}`, onclick: () => {
            ui.sort = { key, dir: active ? -ui.sort.dir : 1 };
            renderTable();
          } }, t(`field.col.${key}`), h("span", { "aria-hidden": "true" }, active ? (ui.sort.dir > 0 ? " ▲" : " ▼") : "")));
      }));
  }

  function renderTable() {
    const rows = sorted();
    const shown = rows.slice(0, ui.limit);
    const selectedId = current.id;
    count.textContent = app.rows.length ? t("field.cards.count", { shown: rows.length, total: app.rows.length }) : t("field.cards.empty");
    // One row takes part in Tab (roving tabindex): the row someone is on with the keyboard, else the
    // open card's, else the last opened, else the first. A sync that lands between two key presses
    // re-draws the table, and the row keeps the focus (`swap` gives it back by its id).
    const onRow = tableBox.contains(document.activeElement) ? document.activeElement.closest("tr[data-card-id]")?.dataset.cardId : null;
    const focusId = [onRow, selectedId, lastOpened].find((id) => id && shown.some((r) => r.id === id)) || shown[0]?.id;
    const body = shown.map((row) => {
      const v = row.view;
      const cell = (text, cls = null) => h("td", { class: cls, title: text && text.length > 24 ? text : null }, text);
      return h("tr", { "data-card-id": row.id, id: `row-${row.id}`, class: row.id === selectedId ? "current" : null, tabindex: row.id === focusId ? "0" : "-1",
        "aria-selected": row.id === selectedId ? "true" : null },
        h("td", { class: "select" }, h("input", { type: "checkbox", id: `sel-${row.id}`, checked: ui.selected.has(row.id),
          "aria-label": t("field.desk.select", { name: v.name }), onchange: (e) => {
            if (e.target.checked) ui.selected.add(row.id);
            else ui.selected.delete(row.id);
            bulkState.dropped = 0;
            showSelectAll();
            renderBulk();
          } })),
        h("td", {}, h("a", { href: `#/card/${encodeURIComponent(row.id)}`, id: `open-${row.id}`, "aria-current": row.id === selectedId ? "true" : null }, v.name || t("field.none")),
          app.pendingIds?.has(row.id) ? h("span", { class: "dot", title: t("field.badge.unsynced"), "aria-label": t("field.badge.unsynced") }, " •") : null),
        cell(v.company || ""),
        h("td", { class: "nowrap" }, (v.phones || [])[0] ? phoneText(v.phones[0]) : ""),
        h("td", {}, v.segment || ""),
        cell((v.tags || []).join(", ")),
        cell(v.owner ? personName(v.owner) : t("field.pool.title")),
        h("td", { class: "nowrap" }, v.follow_up || ""),
        h("td", { class: "nowrap" }, v.updated_at ? v.updated_at.slice(0, 10) : t("field.badge.unsynced")));
    });
    swap(tableBox,
      h("table", { class: "cards-table", id: "cards-table" },
        h("caption", { class: "sr-only" }, t("field.desk.caption")),
        h("thead", {}, header()), h("tbody", { onkeydown: rowKeys }, body)),
      rows.length > shown.length ? h("button", { type: "button", class: "secondary", id: "show-more", onclick: () => { ui.limit += PAGE; renderTable(); } },
        t("field.cards.more", { n: rows.length - shown.length })) : null);
    showSelectAll();
  }

  // The header box says what is selected among the rows shown: all, some (indeterminate) or none.
  function showSelectAll() {
    const box = tableBox.querySelector("#select-all");
    if (!box) return;
    const shown = sorted().slice(0, ui.limit);
    const n = shown.filter((row) => ui.selected.has(row.id)).length;
    box.checked = n > 0 && n === shown.length;
    box.indeterminate = n > 0 && n < shown.length;
  }

  // A filter that hides selected cards unselects them: a bulk action never reaches a card not shown.
  function dropHidden() {
    const visible = new Set(filtered(app).map((row) => row.id));
    let dropped = 0;
    for (const cardId of [...ui.selected]) {
      if (!visible.has(cardId)) {
        ui.selected.delete(cardId);
        dropped += 1;
      }
    }
    if (dropped) bulkState.dropped = dropped;
  }

  function rowKeys(e) {
    const row = e.target.closest("tr[data-card-id]");
    if (!row || (e.target !== row && !["ArrowDown", "ArrowUp"].includes(e.key))) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      const next = e.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling;
      if (!next) return;
      e.preventDefault();
      row.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
    } else if (e.key === "Enter") {
      e.preventDefault();
      app.go(`#/card/${encodeURIComponent(row.dataset.cardId)}`);
    }
  }

  function focusRow(cardId) {
    const row = cardId && tableBox.querySelector(`tr[data-card-id="${CSS.escape(cardId)}"]`);
    if (!row) return;
    for (const other of tableBox.querySelectorAll("tbody tr[tabindex='0']")) other.tabIndex = -1;
    row.tabIndex = 0;
    row.focus();
  }

  async function bulkEdit(change, message) {
    const ids = [...ui.selected].filter((x) => app.row(x));
    let n = 0;
    for (const cardId of ids) {
      const fields = change(app.row(cardId).view);
      if (!fields) continue;
      await app.device.editCard(cardId, fields);
      n += 1;
    }
    app.say(() => message(n));
    await app.saved();
  }

  function renderBulk() {
    const n = [...ui.selected].filter((x) => app.row(x)).length;
    const dropped = bulkState.dropped
      ? h("p", { class: "hint", id: "selection-dropped", role: "status" }, t("field.desk.unselected", { n: bulkState.dropped })) : null;
    if (!n) {
      swap(bulk, dropped);
      return;
    }
    const tag = h("input", { type: "text", id: "bulk-tag", value: bulkState.tag, autocomplete: "off", oninput: (e) => { bulkState.tag = e.target.value; } });
    const owner = h("input", { type: "text", id: "bulk-owner", value: bulkState.owner, list: "bulk-owners", autocomplete: "off", oninput: (e) => { bulkState.owner = e.target.value; } });
    swap(bulk,
      h("p", { id: "selected-count" }, t("field.desk.selected", { n })),
      dropped,
      h("form", { class: "inline", id: "bulk-tag-form", onsubmit: (e) => {
        e.preventDefault();
        const value = bulkState.tag.trim();
        if (!value || value.length > 40) {
          bulkState.error = t("field.err.tagTooLong", { value, max: 40 });
          renderBulk();
          return;
        }
        bulkState.error = null;
        bulkState.tag = "";
        bulkEdit((v) => ((v.tags || []).includes(value) ? null : { tags: [...(v.tags || []), value] }), (count2) => t("field.desk.tagged", { n: count2, tag: value }));
      } },
      h("label", { for: "bulk-tag" }, t("field.desk.addTag")), tag,
      h("button", { type: "submit", id: "bulk-tag-add" }, t("field.desk.addTagButton"))),
      app.canReassign() ? h("form", { class: "inline", id: "bulk-owner-form", onsubmit: (e) => {
        e.preventDefault();
        const value = personFromInput(bulkState.owner); // 王伟, "王伟 (wang.wei)" or wang.wei
        if (!/^[a-z0-9._-]{1,64}$/.test(value)) {
          bulkState.error = t("field.err.owner");
          renderBulk();
          return;
        }
        bulkState.error = null;
        bulkState.owner = "";
        bulkEdit((v) => (v.owner === value ? null : { owner: value }), (count2) => t("field.desk.reassigned", { n: count2, owner: personName(value) }));
      } },
      h("label", { for: "bulk-owner" }, t("field.desk.reassign")), owner,
      h("datalist", { id: "bulk-owners" }, [...new Set([...allOwners(app), ...knownPeople().filter((p) => p.active).map((p) => p.name)])]
        .map((o) => h("option", { value: personLabel(o) }))),
      h("button", { type: "submit", id: "bulk-owner-set" }, t("field.desk.reassignButton")),
      // The shared pool (公海): no owner; reps may claim the cards there (docs/protocol.md).
      h("button", { type: "button", class: "secondary", id: "bulk-to-pool", onclick: () => {
        bulkState.error = null;
        bulkEdit((v) => (v.owner === null ? null : { owner: null }), (count2) => t("field.desk.pooled", { n: count2 }));
      } }, t("field.desk.toPool"))) : null,
      // A survey link for each selected card, as a spreadsheet (issue 17).
      surveyLinksForm(app, () => [...ui.selected].filter((x) => app.row(x))),
      h("button", { type: "button", class: "secondary", id: "bulk-clear", onclick: () => {
        ui.selected.clear();
        bulkState.dropped = 0;
        renderTable();
        renderBulk();
      } }, t("field.desk.clear")),
      bulkState.error ? h("p", { class: "field-error", role: "alert" }, bulkState.error) : null);
  }

  function renderPanel() {
    const { name: route, id: cardId } = current;
    if (route === "card" && cardId) inPanel = cardDetail(app, cardId, { inPanel: true });
    else if (route === "edit" && cardId) inPanel = editForm(app, cardId, { inPanel: true });
    else if (route === "new") inPanel = editForm(app, null, { inPanel: true });
    else inPanel = null;
    // No card chosen: no panel, the table has the whole width.
    panel.hidden = !inPanel;
    el?.classList.toggle("with-panel", Boolean(inPanel));
    if (inPanel) {
      panel.replaceChildren(h("button", { type: "button", class: "close panel-close", id: "panel-close", "aria-label": t("field.desk.closePanel"),
        onclick: closePanel }, "×"), inPanel.el);
    } else {
      panel.replaceChildren();
    }
  }

  function closePanel() {
    app.go("#/cards");
  }

  // Export what the filters show, as the server sees it (GET /api/v1/export): CSV opens in Excel
  // with Chinese intact, XLSX for everything else. Every export is in the audit log.
  function exportHref(format) {
    const params = new URLSearchParams({ format, lang: language() === "zh-CN" ? "zh-CN" : "en" });
    if (ui.query.trim()) params.set("q", ui.query.trim());
    if (ui.segment) params.set("segment", ui.segment); // "none": cards without a segment
    if (ui.tag) params.set("tag", ui.tag);
    if (ui.owner) params.set("owner", ui.owner);
    if (ui.due) params.set("due_before", ymd()); // follow-ups up to and including today, as the filter shows
    return `/api/v1/export?${params}`;
  }
  const exports = h("span", { class: "exports" });
  const renderExports = () => swap(exports,
    h("a", { href: exportHref("csv"), id: "export-csv", class: "button secondary", download: "" }, t("field.desk.exportCsv")),
    h("a", { href: exportHref("xlsx"), id: "export-xlsx", class: "button secondary", download: "" }, t("field.desk.exportXlsx")));
  const filters = filterBar(app, () => {
    dropHidden();
    renderTable();
    renderBulk();
    renderExports();
  }, { owners: true });
  renderExports();
  renderTable();
  renderBulk();

  el = h("div", { class: "desk", onkeydown: (e) => {
    // Escape closes the panel from anywhere on the screen but a field being typed in a form.
    if (e.key !== "Escape" || !inPanel || e.defaultPrevented) return;
    if (e.target.closest("form") && ["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName)) return;
    e.preventDefault();
    closePanel();
  } },
    h("section", { class: "desk-main", "aria-labelledby": "cards-title" },
      h("div", { class: "screen-head" },
        h("h2", { id: "cards-title", tabindex: "-1" }, t("field.nav.cards")),
        h("span", { class: "head-actions" }, exports, h("a", { href: "#/new", id: "new-card", class: "button" }, t("field.cards.new")))),
      filters.el, count, bulk, tableBox),
    panel);
  renderPanel();

  return {
    el,
    title: t("field.nav.cards"),
    route(nextName, nextId) {
      const closing = nextName === "cards" && current.name !== "cards";
      current = { name: nextName, id: nextId };
      if (nextId) lastOpened = nextId;
      renderPanel();
      renderTable();
      if (nextName !== "cards") panel.querySelector("h2")?.focus({ preventScroll: true });
      else if (closing) focusRow(lastOpened);
    },
    update() {
      filters.refresh();
      dropHidden();
      renderTable();
      renderBulk();
      inPanel?.update?.();
    },
  };
}
