"""pypinyin, loaded lean: the same readings in about 25 MB less memory (issue 14).

pypinyin reads its phrase dictionary (47,111 words, 重庆 chóng qìng, 银行 yín háng) with
`json.loads`, which makes a separate list and string for every syllable of every word: about
45 MB that every server process holds for its lifetime. Here pypinyin starts without it
(`PYPINYIN_NO_PHRASES`, and `PYPINYIN_NO_DICT_COPY`: we add no words of our own, so its private
copies are not needed) and the same file is read once into the same dictionary, with each distinct
reading a single shared list. tests/test_search.py holds the result equal to pypinyin's own load.

The phrases are read the first time a Chinese name needs them (`with_phrases`), not at import,
so that a process that never meets one (a CLI command) does not pay for them; `fieldcards serve`
reads them at start, before it freezes what start-up made (server/cli.py). Parsing the file takes
~0.3 CPU-s, so the result is kept in a marshal file beside the Python environment
(`phrases_cached`: ~0.05 s to read back), made again whenever pypinyin's file or Python changes.

Import pypinyin through this module (sync/cards/search.py does), before anything else imports it;
if something did first, pypinyin has its full dictionary already and nothing is loaded twice.
"""

from __future__ import annotations

import marshal
import os
import re
import sys
import threading
from pathlib import Path

os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "true")

import pypinyin  # noqa: E402  (after the two settings it reads when imported)
from pypinyin import Style, lazy_pinyin  # noqa: E402
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT, RE_HANS  # noqa: E402

__all__ = [
    "PHRASES_DICT",
    "PINYIN_DICT",
    "RE_HANS",
    "Style",
    "lazy_pinyin",
    "phrases_cached",
    "phrases_from_file",
    "with_phrases",
]

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


# Beside the environment pypinyin is installed in, which whoever installed it owns (marshal is for
# trusted files only); one file per Python version, since marshal's format is Python's own.
CACHE = Path(sys.prefix) / "var" / "fieldcards" / f"pinyin-phrases-py{sys.version_info[0]}{sys.version_info[1]}.marshal"


def phrases_cached(cache: Path = CACHE, source: Path = PHRASES_FILE) -> dict[str, list[list[str]]]:
    """`phrases_from_file(source)`, read back from `cache` when that was made from the same file (its
    size and modification time); otherwise parsed, and the cache written for next time if it can be.
    marshal keeps the shared reading lists shared."""
    stat = source.stat()
    stamp = [pypinyin.__version__, stat.st_size, stat.st_mtime_ns]
    try:
        kept_stamp, phrases = marshal.loads(cache.read_bytes())
        if kept_stamp == stamp and isinstance(phrases, dict):
            return phrases
    except (OSError, ValueError, EOFError, TypeError):
        pass  # no cache yet, or not one of ours: parse
    phrases = phrases_from_file(source)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        scratch = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        scratch.write_bytes(marshal.dumps([stamp, phrases]))
        scratch.replace(cache)  # whole or not at all, should two processes write it at once
    except OSError:
        pass  # a read-only environment: parse again next time
    return phrases


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
            pypinyin.load_phrases_dict(phrases_cached())
        _loaded = True
