// Every user-visible string comes from pwa/js/i18n/<lang>.json. The language is the one chosen before,
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
  const response = await fetch(new URL(`../i18n/${current}.json`, import.meta.url));
  strings = await response.json();
  localStorage.setItem("fieldcards.lang", current);
  document.documentElement.lang = current;
  return current;
}

export function t(key, params = {}) {
  const text = strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

// Money in the language's own way: ¥12,500.00 (CNY's narrow sign, as people in China write it),
// US$ or € for others; an amount without a currency keeps two decimals and the separators.
export function money(amount, currency = null, lang = current) {
  const value = Number(amount);
  if (amount === null || amount === undefined || amount === "" || !Number.isFinite(value)) return String(amount ?? "");
  try {
    if (currency) return new Intl.NumberFormat(lang, { style: "currency", currency, currencyDisplay: "narrowSymbol" }).format(value);
  } catch {
    // a code Intl does not know: the number, then the code
  }
  const number = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(value);
  return currency ? `${number} ${currency}` : number;
}

export const languages = () => LANGS;
export const language = () => current;
