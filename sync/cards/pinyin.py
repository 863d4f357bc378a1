"""pypinyin, loaded lean: the same readings in about 25 MB less memory (issue 14).

pypinyin reads its phrase dictionary (47,111 words, 重庆 chóng qìng, 银行 yín háng) with
`json.loads`, which makes a separate list and string for every syllable of every word: about
45 MB that every server process holds for its lifetime. Here pypinyin starts without it
(`PYPINYIN_NO_PHRASES`, and `PYPINYIN_NO_DICT_COPY`: we add no words of our own, so its private
copies are not needed) and the same file is read once into the same dictionary, with each distinct
reading a single shared list. tests/test_search.py holds the result equal to pypinyin's own load.

The phrases are read the first time a Chinese name needs them (`with_phrases`), not at import:
reading them is ~0.3 CPU-s, nearly half of a `fieldcards serve` start, and a process that never
meets a Chinese name (a CLI command, most test servers) need not pay it.

Import pypinyin through this module (sync/cards/search.py does), before anything else imports it;
if something did first, pypinyin has its full dictionary already and nothing is loaded twice.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "true")

import pypinyin  # noqa: E402  (after the two settings it reads when imported)
from pypinyin import Style, lazy_pinyin  # noqa: E402
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT, RE_HANS  # noqa: E402

__all__ = ["PHRASES_DICT", "PINYIN_DICT", "RE_HANS", "Style", "lazy_pinyin", "phrases_from_file", "with_phrases"]

PHRASES_FILE = Path(pypinyin.__file__).parent / "phrases_dict.json"
# The file is one JSON object of `"词语": [["cí"], ["yǔ"]]`, one reading list per character.
_ENTRY = re.compile(r'"([^"]+)":\s*\[((?:\s*\[[^\[\]]*\],?)*)\s*\]')
_READINGS = re.compile(r"\[([^\[\]]*)\]")


def phrases_from_file(path: Path = PHRASES_FILE) -> dict[str, list[list[str]]]:
    """pypinyin's phrase dictionary as `json.loads` gives it, with equal reading lists shared."""
    shared: dict[str, list[str]] = {}
    found: dict[str, list[list[str]]] = {}
    for entry in _ENTRY.finditer(path.read_text(encoding="utf-8")):
        readings = []
        for reading in _READINGS.finditer(entry.group(2)):
            text = reading.group(1)
            syllables = shared.get(text)
            if syllables is None:
                syllables = shared[text] = [s.strip().strip('"') for s in text.split(",")]
            readings.append(syllables)
        found[entry.group(1)] = readings
    return found


_loading = threading.Lock()
_loaded = False


def with_phrases() -> None:
    """Make sure pypinyin has its phrases, read once per process: before a reading that a phrase
    could change (重庆 is chóng qìng, 银行 is yín háng)."""
    global _loaded
    if _loaded:
        return
    with _loading:
        if not _loaded and not PHRASES_DICT:  # started without them: load, and retrain its segmenter
            pypinyin.load_phrases_dict(phrases_from_file())
        _loaded = True
