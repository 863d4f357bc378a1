// Today: follow-ups due today or overdue (oldest first), and birthdays in the coming 7 days.
import { api } from "../../shared/api.js";
import { h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { daysToBirthday, ymd } from "../format.js";
import { byName } from "./cards.js";
import { badge, swap } from "./parts.js";
import { distanceText, routeOrder } from "../geo.js";
import { mapLinkEls } from "./field.js";
import { locateShown } from "./nearby.js";
import { voicePanels } from "./followups.js";

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

// A birthday greeting in one tap: the suggested words shown, then call, or text or mail them.
function greet(row) {
  const v = row.view;
  const phone = (v.phones || [])[0];
  const email = (v.emails || [])[0];
  const words = t("field.today.greetingFor", { name: v.name || "" });
  const subject = encodeURIComponent(t("field.today.greeting"));
  return h("span", { class: "greet" },
    h("q", { class: "greeting-text" }, words),
    phone ? h("a", { href: `tel:${phone}`, class: "contact call", "aria-label": t("field.today.callName", { name: v.name }) }, t("field.today.greetCall")) : null,
    phone ? h("a", { href: `sms:${phone}?body=${encodeURIComponent(words)}`, class: "contact sms", "aria-label": t("field.today.smsName", { name: v.name }) }, t("field.today.greetSms")) : null,
    email ? h("a", { href: `mailto:${email}?subject=${subject}&body=${encodeURIComponent(words)}`, class: "contact mail" }, t("field.today.greetMail")) : null);
}

// A follow-up due: call or message the customer from the list.
function reach(row) {
  const phone = (row.view.phones || [])[0];
  if (!phone) return null;
  return h("span", { class: "greet" },
    h("a", { href: `tel:${phone}`, class: "contact call", "aria-label": t("field.today.callName", { name: row.view.name }) }, t("field.today.greetCall")),
    h("a", { href: `sms:${phone}`, class: "contact sms", "aria-label": t("field.today.smsName", { name: row.view.name }) }, t("field.today.greetSms")));
}

export function todayScreen(app) {
  const el = h("section", { class: "today-screen", "aria-labelledby": "today-title" });
  const feed = { url: null, error: null };
  const plan = { busy: false, error: null };
  const voice = voicePanels(app, () => render()); // customers' own changes, follow-up items (issue 17)
  // My day: the follow-ups due, nearest next from where the rep stands, each with a route link.
  // The stops: cards with the follow-up date or an open follow-up item due today or before.
  function myDay(today) {
    const due = app.rows.filter((r) => (r.view.follow_up && r.view.follow_up <= today)
      || (r.view.follow_ups || []).some((f) => f.status !== "resolved" && f.due && f.due <= today));
    const p = app.position;
    const route = p ? routeOrder(due, p, (row) => row.view.location) : [];
    return h("section", { class: "panel", "aria-labelledby": "day-title", id: "my-day" },
      h("h3", { id: "day-title" }, t("field.day.title")),
      h("p", { class: "hint" }, t("field.day.hint")),
      plan.error ? h("p", { class: "error", role: "alert" }, plan.error) : null,
      h("button", { type: "button", class: "secondary", id: "plan-day", disabled: plan.busy || !due.length, onclick: () => locateShown(app, plan, render) }, plan.busy ? t("field.place.locating") : t("field.day.plan")),
      !due.length ? h("p", { class: "hint", id: "day-none" }, t("field.day.none")) : null,
      route.length ? h("ol", { class: "card-list day-route", id: "day-route" }, route.map((stop, n) => {
        const item = link(stop.row, stop.distance === null ? badge(t("field.day.noPlace"), "")
          : badge(t(n ? "field.day.leg" : "field.day.first", { distance: distanceText(stop.distance) }), "distance"));
        if (stop.distance !== null) item.append(h("span", { class: "map-links" }, mapLinkEls(stop.row.view.location, { from: stop.from, name: stop.row.view.name || "" })));
        return item;
      })) : null);
  }
  // The private calendar link: follow-ups and birthdays in the phone's own calendar.
  function calendar() {
    return h("section", { class: "panel", "aria-labelledby": "cal-title" },
      h("h3", { id: "cal-title" }, t("field.today.calendar")),
      h("p", { class: "hint" }, t("field.today.calendarHint")),
      feed.url ? h("p", {}, h("input", { id: "calendar-url", readonly: true, value: feed.url, "aria-label": t("field.today.calendar") })) : null,
      feed.error ? h("p", { class: "error", role: "alert" }, feed.error) : null,
      h("button", { type: "button", class: "secondary", id: "calendar-link", disabled: !navigator.onLine, onclick: async () => {
        try {
          feed.url = (await api("/calendar/key", { method: "POST", body: {} })).url;
          feed.error = null;
        } catch (error) {
          feed.error = t("error.generic", { message: error.message });
        }
        render();
      } }, feed.url ? t("field.today.calendarNew") : t("field.today.calendarMake")));
  }
  // My cards that go back to the shared pool soon (reclaim rules): a visit logged keeps them.
  function returningSoon() {
    const soon = (app.returning || []).filter((r) => app.byId.has(r.card));
    if (!soon.length) return null;
    return h("section", { class: "panel", "aria-labelledby": "returning-title", id: "returning" },
      h("h3", { id: "returning-title" }, t("field.pool.returning", { n: soon.length })),
      h("p", { class: "hint" }, t("field.pool.returningHint")),
      h("ul", { class: "card-list", id: "returning-list" },
        soon.map((r) => link(app.byId.get(r.card), badge(t("field.pool.returnsOn", { date: r.returns_on }), "wait")))));
  }
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
      // Birthdays first: a greeting on the day matters more than a follow-up an hour later.
      h("section", { class: "panel", "aria-labelledby": "bd-title" },
        h("h3", { id: "bd-title" }, t("field.today.birthdays", { n: birthdays.length })),
        birthdays.length ? h("ul", { class: "card-list", id: "birthday-list" }, birthdays.map(([row, days]) => {
          const item = link(row,
            badge(days === 0 ? t("field.today.birthdayToday") : t("field.today.birthdayIn", { n: days, date: row.view.birthday.slice(5) }), days === 0 ? "good" : ""));
          item.append(greet(row));
          return item;
        })) :
          h("p", { class: "hint", id: "birthday-none" }, t("field.today.birthdaysNone"))),
      voice.updates(),
      myDay(today),
      voice.items(today),
      voice.scorecard(),
      h("section", { class: "panel", "aria-labelledby": "due-title" },
        h("h3", { id: "due-title" }, t("field.today.due", { n: due.length })),
        due.length ? h("ul", { class: "card-list", id: "due-list" }, due.map((row) => {
          const late = daysBetween(row.view.follow_up, today);
          const item = link(row, late > 0
            ? badge(t("field.today.overdue", { date: row.view.follow_up, n: late }), "bad")
            : badge(t("field.badge.dueToday"), "wait"));
          const buttons = reach(row);
          if (buttons) item.append(buttons);
          return item;
        })) : h("p", { class: "hint", id: "due-none" }, t("field.today.dueNone"))),
      returningSoon(),
      calendar());
  }
  render();
  return { el, update: render, title: t("field.nav.today") };
}
