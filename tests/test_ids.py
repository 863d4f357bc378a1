"""Time-ordered ids (sync/ids.py): canonical UUIDv7 that the server's own checks accept, each
greater than the last, also within a millisecond."""

from __future__ import annotations

import threading
import time
import uuid

from sync.cards.validate import canonical_uuid
from sync.ids import name_based_uuid, time_ordered_uuid


def test_ids_are_canonical_version_7_and_grow_within_a_millisecond_and_across_threads():
    made: list[list[str]] = [[] for _ in range(4)]

    def make(into: list[str]) -> None:
        for _ in range(5000):
            into.append(time_ordered_uuid())

    threads = [threading.Thread(target=make, args=(into,)) for into in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for ids in made:
        assert ids == sorted(ids) and len(set(ids)) == len(ids)  # each thread sees them grow
        for value in ids[:50]:
            assert canonical_uuid(value) == value
            parsed = uuid.UUID(value)
            assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    everything = [i for ids in made for i in ids]
    assert len(set(everything)) == len(everything)  # 20,000 ids, most of them in a shared millisecond


def test_an_ids_first_48_bits_are_when_it_was_made():
    before = time.time_ns() // 1_000_000
    value = time_ordered_uuid()
    after = time.time_ns() // 1_000_000
    assert before <= int(value.replace("-", "")[:12], 16) <= after + 1


def test_a_name_based_id_is_the_standard_libraries_uuid5():
    """An import names each row's mutation with `name_based_uuid`; a replay after a restore, and
    imports journaled before it, name them with `uuid.uuid5`: the ids must be the same."""
    for namespace in (uuid.UUID("5b1d4a6e-0000-4000-8000-000000000000"), uuid.NAMESPACE_URL, uuid.UUID(int=0)):
        for name in ("row-2", "row-50001", "undo-7", "", "汉字 😀", "x" * 500):
            assert name_based_uuid(namespace, name) == str(uuid.uuid5(namespace, name))
