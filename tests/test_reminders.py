"""Reminders and the calendar feed for a given clock (the `date` the app sends).

Cards are stamped with the server's real clock, so every date here is relative to the day the test
runs: the suite must pass on any later date (issue 11)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import httpx

from tests.conftest import App

TODAY_DATE = datetime.now(timezone.utc).date()
TODAY = TODAY_DATE.isoformat()


def day(offset: int) -> str:
    return (TODAY_DATE + timedelta(days=offset)).isoformat()


def birthday_in(days: int) -> tuple[str, str]:
    """A birthday `days` ahead (born 1980; 29 February avoided) and the date it falls on."""
    on = TODAY_DATE + timedelta(days=days)
    if (on.month, on.day) == (2, 29):
        on += timedelta(days=1)
    return date(1980, on.month, on.day).isoformat(), on.isoformat()


def test_due_overdue_birthdays_and_stale_per_rep_and_across_reps(app: App, tmp_path):
    app.user("office", "office")
    app.user("rep1")
    app.user("rep2")
    one, two = app.device("rep1", tmp_path), app.device("rep2", tmp_path)
    due = one.create_card(name="今天跟进", follow_up=TODAY)
    late = one.create_card(name="逾期", follow_up=day(-11))
    one.create_card(name="以后", follow_up=day(19))
    soon, soon_on = birthday_in(4)
    bday = one.create_card(name="生日快到", birthday=soon, phones=["13812345678"])
    one.create_card(name="生日已过", birthday=birthday_in(-1)[0])
    leap = two.create_card(name="闰年生日", birthday="1984-02-29")
    two.create_card(name="Other rep", follow_up=day(-1))
    one.sync()
    two.sync()
    with app.client("rep1") as rep:
        found = rep.get("/api/v1/reminders", params={"date": TODAY}).json()
        assert [c["id"] for c in found["due"]] == [due]
        assert [(c["id"], c["days_late"]) for c in found["overdue"]] == [(late, 11)]
        assert [(c["id"], c["on"], c["in_days"]) for c in found["birthdays"]] == [(bday, soon_on, 4)]
        assert found["birthdays"][0]["phones"] == ["+8613812345678"]  # the greeting shortcut: call or message
        assert found["stale"] == []
        later = rep.get("/api/v1/reminders", params={"date": day(200), "stale_days": "30"}).json()
        assert len(later["stale"]) == 5 and later["by_owner"]["rep1"]["stale"] == 5
        assert rep.get("/api/v1/reminders", params={"date": "2026-13-01"}).status_code == 400
    with app.client("office") as office:
        everyone = office.get("/api/v1/reminders", params={"date": TODAY}).json()
        assert set(everyone["by_owner"]) == {"rep1", "rep2"} and everyone["by_owner"]["rep2"]["overdue"] == 1
        feb = office.get("/api/v1/reminders", params={"date": "2027-02-24"}).json()
        assert (leap, "2027-02-28") in [(c["id"], c["on"]) for c in feb["birthdays"]]


def test_private_calendar_feed(app: App, tmp_path):
    app.user("rep1")
    app.user("rep2")
    phone = app.device("rep1", tmp_path)
    card = phone.create_card(name="王伟, 经理; 上海", company="上海贸易", follow_up="2026-12-01", birthday="1984-02-29")
    app.device("rep2", tmp_path).create_card(name="Not mine", follow_up="2026-12-02")
    phone.sync()
    with app.client("rep1") as rep:
        made = rep.post("/api/v1/calendar/key")
        assert made.status_code == 201
        url = made.json()["url"]
    feed = app.http.get(httpx.URL(url).raw_path.decode())  # no credentials: the key is the secret
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    text = feed.text
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert f"UID:follow-{card}@fieldcards" in text and "DTSTART;VALUE=DATE:20261201" in text
    assert "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1" in text
    assert "王伟\\, 经理\\; 上海" in text.replace("\r\n ", "")
    assert "Not mine" not in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    with app.client("rep1") as rep:
        rep.post("/api/v1/calendar/key")  # a new link replaces the old one
    assert app.http.get(httpx.URL(url).raw_path.decode()).status_code == 404
