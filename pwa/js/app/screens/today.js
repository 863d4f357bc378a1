// Today: follow-ups due today or overdue (oldest first), and birthdays in the coming 7 days.
import { h } from "../../dom.js";
import { t } from "../../i18n.js";
import { daysToBirthday, ymd } from "../format.js";
import { byName } from "./cards.js";
import { badge, swap } from "./parts.js";

const BIRTHDAY_DAYS = 7;

const daysBetween = (from, to) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

function link(row, ...extra) {
  const v = row.view;
  return h("li", {},
    h("a", { href: `#/card/${encodeURIComponent(row.id)}`, class: "card-item", "data-card-id": row.id },
      h("span", { class: "name" }, v.name),
      v.company ? h("span", { class: "sub" }, v.company) : null,
      h("span", { class: "badges" }, extra)));
}

export function todayScreen(app) {
  const el = h("section", { class: "today-screen", "aria-labelledby": "today-title" });
  function render() {
    const today = ymd();
    const names = byName();
    const due = app.rows.filter((r) => r.view.follow_up && r.view.follow_up <= today)
      .sort((a, b) => (a.view.follow_up < b.view.follow_up ? -1 : a.view.follow_up > b.view.follow_up ? 1 : names(a, b)));
    const birthdays = app.rows.map((r) => [r, daysToBirthday(r.view.birthday, today)])
      .filter(([, days]) => days !== null && days <= BIRTHDAY_DAYS)
      .sort((a, b) => a[1] - b[1] || names(a[0], b[0]));
    swap(el,
      h("h2", { id: "today-title", tabindex: "-1" }, t("field.today.title", { date: today })),
      h("section", { class: "panel", "aria-labelledby": "due-title" },
        h("h3", { id: "due-title" }, t("field.today.due", { n: due.length })),
        due.length ? h("ul", { class: "card-list", id: "due-list" }, due.map((row) => {
          const late = daysBetween(row.view.follow_up, today);
          return link(row, late > 0
            ? badge(t("field.today.overdue", { date: row.view.follow_up, n: late }), "bad")
            : badge(t("field.badge.dueToday"), "wait"));
        })) : h("p", { class: "hint", id: "due-none" }, t("field.today.dueNone"))),
      h("section", { class: "panel", "aria-labelledby": "bd-title" },
        h("h3", { id: "bd-title" }, t("field.today.birthdays", { n: birthdays.length })),
        birthdays.length ? h("ul", { class: "card-list", id: "birthday-list" }, birthdays.map(([row, days]) => link(row,
          badge(days === 0 ? t("field.today.birthdayToday") : t("field.today.birthdayIn", { n: days, date: row.view.birthday.slice(5) }), days === 0 ? "good" : "")))) :
          h("p", { class: "hint", id: "birthday-none" }, t("field.today.birthdaysNone"))));
  }
  render();
  return { el, update: render, title: t("field.nav.today") };
}
