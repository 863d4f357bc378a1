"""A bounded table of "when did we last do X for this key": the throttles that write an audit
entry or a device record at most once a minute per key. Keys come from outside (addresses,
routes, device ids), so the table keeps at most `max_keys` of them, the least recently used
going first, and forgets entries older than `ttl_s` (issue 11: 100,000 addresses, flat memory).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class RecentTable:
    def __init__(self, max_keys: int, ttl_s: float) -> None:
        self.max_keys = max_keys
        self.ttl_s = ttl_s
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def due(self, key: Hashable, every_s: float, value: Any = None) -> bool:
        """True (and remember now) when `key` was not seen with this `value` within `every_s`."""
        now = time.monotonic()
        with self._lock:
            found = self._items.get(key)
            if found is not None and found[1] == value and now - found[0] < every_s:
                return False
            self._put(key, (now, value))
            return True

    def _put(self, key: Hashable, item: tuple[float, Any]) -> None:
        self._items[key] = item
        self._items.move_to_end(key)
        while len(self._items) > self.max_keys:
            self._items.popitem(last=False)
        # The oldest entries sit at the front: drop those past their time, a few per call.
        for _ in range(4):
            first = next(iter(self._items.items()), None)
            if first is None or item[0] - first[1][0] < self.ttl_s:
                break
            self._items.popitem(last=False)
