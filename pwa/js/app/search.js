// Search text of a card, built on the device so that cards created offline are found too:
// name, company, title, phone digits, emails, tags, region, industry, and the pinyin of Chinese
// text, full and initials (王伟 → "wangwei" and "ww"). The pinyin function comes from the
// pinyin-pro package (served from npm's copy at /vendor/pinyin-pro/) and is handed in by the app.
let toPinyin = null;

export function usePinyin(pinyinFn) {
  toPinyin = pinyinFn;
}

const HAN = /[\u3400-\u9fff]/;

function pinyinForms(text) {
  if (!toPinyin || !HAN.test(text)) return [];
  const full = toPinyin(text, { toneType: "none", type: "array", nonZh: "removed" }).join("");
  const initials = toPinyin(text, { pattern: "first", toneType: "none", type: "array", nonZh: "removed" }).join("");
  return [full, initials];
}

export function searchText(card) {
  const words = [card.name, card.company, card.title, card.region, card.industry, ...(card.emails || []), ...(card.tags || [])]
    .filter((w) => typeof w === "string" && w);
  const digits = (card.phones || []).map((p) => p.replace(/\D/g, ""));
  const pinyin = [card.name, card.company].filter(Boolean).flatMap(pinyinForms);
  return [...words, ...digits, ...pinyin].join("\n").toLowerCase();
}

// Every word of the query must appear; a query of digits also matches phones written with
// spaces or a country code, because phones are indexed as bare digits.
export function matches(text, query) {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  return terms.every((term) => {
    const digits = term.replace(/[\s()+-]/g, "");
    return text.includes(term) || (/^\d{3,}$/.test(digits) && text.includes(digits));
  });
}
