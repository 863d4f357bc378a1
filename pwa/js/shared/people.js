// Who is who: the display name of every user (GET /api/v1/people), so screens show 王伟 and not
// wang.wei. Kept in localStorage so that the phone shows names offline too; a name not (yet)
// known is shown as it is.
import { api } from "./api.js";

const KEY = "fieldcards.people";
let byName = new Map();

function remember(list) {
  byName = new Map((list || []).map((p) => [p.name, p]));
}

try {
  remember(JSON.parse(localStorage.getItem(KEY) || "[]"));
} catch {
  remember([]); // a damaged cache is the same as none
}

// Fetch the directory; without a network the cached one stands. Answers whether it changed.
export async function loadPeople() {
  try {
    const { people } = await api("/people");
    const before = localStorage.getItem(KEY);
    const now = JSON.stringify(people);
    localStorage.setItem(KEY, now);
    remember(people);
    return before !== now;
  } catch {
    return false;
  }
}

export const personName = (name) => (name ? byName.get(name)?.display || name : "");

// "王伟 (wang.wei)" where the two differ: for lists where the login name is what gets saved.
export function personLabel(name) {
  const display = personName(name);
  return display && display !== name ? `${display} (${name})` : name;
}

// What a person typed in an owner field: a user name, a display name or "王伟 (wang.wei)".
export function personFromInput(text) {
  const value = String(text || "").trim();
  if (!value || byName.has(value)) return value;
  const labelled = /\(([a-z0-9._-]{1,64})\)$/.exec(value);
  if (labelled && byName.has(labelled[1])) return labelled[1];
  const found = [...byName.values()].filter((p) => p.display === value);
  return found.length === 1 ? found[0].name : value;
}

export const knownPeople = () => [...byName.values()];
