"""Custom-field patterns, matched by RE2: linear time whatever the pattern, so an admin's
`(a+)+$` cannot freeze the server inside the write transaction (issue 11). RE2 has no
backreferences or lookaround; a pattern that needs them is refused when the admin saves it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a bad pattern is the admin's 400, not a line on the server's stderr
MAX_PATTERN = 200


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Any:
    """The compiled pattern; ValueError with a message an admin can act on."""
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"at most {MAX_PATTERN} characters")
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as error:
        detail = error.args[0].decode(errors="replace") if error.args and isinstance(error.args[0], bytes) else str(error)
        raise ValueError(f"not a regular expression this server can check in linear time: {detail}") from None


def matches(pattern: str, value: str) -> bool:
    return compile_pattern(pattern).fullmatch(value) is not None
