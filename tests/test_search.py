"""Search text: the pinyin of Chinese names, read per character where pypinyin would read them so."""

from __future__ import annotations

import random
from pathlib import Path

from pypinyin import Style, lazy_pinyin

from sync.cards.search import _by_character, pinyin_keys, search_text

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单长乐解区查"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文玲红梅俊峰辉鹏飞宇浩然子涵一诺欣怡雨萱思远博文嘉豪行重朝"


def by_pypinyin(name: str) -> list[str]:
    return [s for s in lazy_pinyin(name, style=Style.NORMAL, errors="ignore") if s]


def test_names_read_per_character_read_as_pypinyin_reads_them():
    rng = random.Random(14)
    names = [a + b for a in SURNAMES for b in GIVEN]
    names += [rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN) for _ in range(5000)]
    names += ["".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(1, 5))) for _ in range(5000)]
    read = 0
    for name in names:
        fast = _by_character(name)
        if fast is not None:
            read += 1
            assert fast == by_pypinyin(name), name
    assert read > len(names) // 2  # the per-character path does answer most names


def test_pinyin_keys_give_full_syllables_and_initials():
    assert pinyin_keys("王伟") == "wangwei ww"
    assert pinyin_keys("Anna Müller") == ""
    assert pinyin_keys("重庆张三") == " ".join(("".join(by_pypinyin("重庆张三")), "".join(s[0] for s in by_pypinyin("重庆张三"))))
    assert "wangwei ww" in search_text({"name": "王伟", "phones": ["+8613812345678"]})


def test_the_lean_phrase_dictionary_is_pypinyins_own():
    """sync/cards/pinyin.py loads pypinyin's phrases itself (shared reading lists, less memory):
    in a fresh process, where it goes first, the dictionary equals pypinyin's `json.loads` of the
    same file and the readings that depend on it are pypinyin's (重庆 chóng, 银行 háng)."""
    import json
    import subprocess
    import sys

    from sync.cards.pinyin import PHRASES_FILE

    program = (
        "import json, sys\n"
        "from sync.cards.search import pinyin_keys\n"
        "from pypinyin.constants import PHRASES_DICT\n"
        "json.dump({'phrases': PHRASES_DICT, 'keys': [pinyin_keys(n) for n in sys.argv[1:]]}, sys.stdout)\n"
    )
    names = ["重庆银行", "长春", "曾志伟", "单田芳", "王伟"]
    out = subprocess.run(
        [sys.executable, "-c", program, *names],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    found = json.loads(out.stdout)
    assert found["phrases"] == json.loads(PHRASES_FILE.read_text(encoding="utf-8"))
    assert found["keys"] == [pinyin_keys(n) for n in names]  # this process loaded pypinyin the usual way
    assert found["keys"][0] == "chongqingyinhang cqyh" and found["keys"][1] == "changchun cc"


def test_the_phrase_cache_is_used_only_when_it_was_made_from_the_same_file(tmp_path):
    """The marshal cache of the parsed phrases: written on the first read, read back equal (shared
    reading lists too), and ignored (parsed again, then rewritten) when it is not ours or was
    made from another file."""
    import marshal
    import shutil

    from sync.cards.pinyin import PHRASES_FILE, phrases_cached, phrases_from_file

    source = tmp_path / "phrases_dict.json"
    shutil.copy(PHRASES_FILE, source)
    cache = tmp_path / "cache" / "phrases.marshal"
    parsed = phrases_from_file(source)

    assert phrases_cached(cache, source) == parsed and cache.exists()
    again = phrases_cached(cache, source)
    assert again == parsed
    assert again["重庆"][0] is again["重叠"][0]  # 重 reads chóng in both: one list, as parsed

    cache.write_bytes(b"not marshal at all")
    assert phrases_cached(cache, source) == parsed
    assert marshal.loads(cache.read_bytes())[1] == parsed  # made again

    source.write_text('{"重庆": [["zhòng"], ["qìng"]]}', encoding="utf-8")  # another file now
    assert phrases_cached(cache, source) == {"重庆": [["zhòng"], ["qìng"]]}
