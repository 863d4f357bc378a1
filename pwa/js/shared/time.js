// Dates and times as everyone reads them here, in the device's own time zone: days as YYYY-MM-DD,
// times as YYYY-MM-DD HH:MM:SS. No DOM: the node tests import it too.
export const pad = (n) => String(n).padStart(2, "0");

// The person's own date, not UTC: "today" is where they are.
export function ymd(date = new Date()) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// A server time (RFC 3339, UTC) as the person's own clock reads it: 2026-12-04 16:05:09, the same
// local time the field app shows. Text that is not a time is shown as it is.
export function localTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return `${ymd(date)} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
