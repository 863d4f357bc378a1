// Every user-visible string comes from i18n/<lang>.json. The language is the one chosen before,
// else the browser's (Chinese when it asks for any zh), else English.
const LANGS = ["en", "zh-CN"];
let strings = {};
let current = "en";

export function pickLanguage() {
  const saved = localStorage.getItem("fieldcards.lang");
  if (LANGS.includes(saved)) return saved;
  return (navigator.languages || [navigator.language]).some((l) => l && l.toLowerCase().startsWith("zh")) ? "zh-CN" : "en";
}

export async function loadLanguage(lang) {
  current = LANGS.includes(lang) ? lang : "en";
  const response = await fetch(new URL(`./i18n/${current}.json`, import.meta.url));
  strings = await response.json();
  localStorage.setItem("fieldcards.lang", current);
  document.documentElement.lang = current;
  return current;
}

export function t(key, params = {}) {
  const text = strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

export const languages = () => LANGS;
export const language = () => current;
