"""The text a card is found by: name, company, phone digits, emails, tags, notes, and the pinyin
of Chinese names in full (`wangwei`) and as initials (`ww`), so reps can type Latin letters."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from sync.cards.pinyin import PHRASES_DICT, PINYIN_DICT, RE_HANS, Style, lazy_pinyin, with_phrases

HAN = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=65536)
def pinyin_keys(name: str) -> str:
    """`王伟` -> `wangwei ww`; empty for names without Chinese characters."""
    if not HAN.search(name):
        return ""
    syllables = _by_character(name)  # reads pypinyin's phrases first (`with_phrases`), as lazy_pinyin needs them
    if syllables is None:
        syllables = [s for s in lazy_pinyin(name, style=Style.NORMAL, errors="ignore") if s]
    return " ".join(("".join(syllables), "".join(s[0] for s in syllables))) if syllables else ""


def _by_character(name: str) -> list[str] | None:
    """pypinyin's answer for a short all-Chinese name in which no two or more characters form a
    word of its phrase dictionary: then each character reads as it reads alone, and a cache per
    character replaces ~30 µs of segmenting per name (tests/test_search.py compares both).
    None when a phrase could change a reading: pypinyin itself decides."""
    with_phrases()
    if len(name) > 8 or not RE_HANS.match(name):
        return None
    syllables: list[str] = []
    for char in name:
        alone = _alone(char)
        if alone is None:
            return None
        syllables += alone
    for start in range(len(name) - 1):
        for end in range(start + 2, len(name) + 1):
            if name[start:end] in PHRASES_DICT:
                return None
    return [s for s in syllables if s]


@lru_cache(maxsize=32768)
def _alone(char: str) -> list[str] | None:
    if ord(char) not in PINYIN_DICT or char in PHRASES_DICT:
        return None
    return lazy_pinyin(char, style=Style.NORMAL, errors="ignore")


def search_text(card: dict[str, Any]) -> str:
    parts: list[str] = [card.get("name") or "", card.get("company") or ""]
    name = card.get("name") or ""
    parts.append(pinyin_keys(name))
    for phone in card.get("phones") or ():
        digits = phone.lstrip("+")
        parts.append(digits)
        # National form too, so `13812345678` finds `+8613812345678`.
        if digits.startswith("86"):
            parts.append(digits[2:])
    parts.extend(card.get("emails") or ())
    parts.extend(card.get("tags") or ())
    parts.append(card.get("notes") or "")
    return "\n".join(p for p in parts if p).lower()


def query_text(q: str) -> str:
    """A search box entry as matched against `search_text`: phone punctuation dropped."""
    q = q.strip().lower()
    if re.fullmatch(r"[\d\s+()\-.]+", q) and any(c.isdigit() for c in q):
        return re.sub(r"\D", "", q)
    return q
