"""The field merge rules of contract section 4, one behaviour per test, plus Hypothesis properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync.protocol.merge import FieldOutcome, merge_lines, merge_notes, merge_scalar, merge_set, values_equal

EARLY = "1763971200000-0000-dev-a"
LATE = "1763971200123-0000-dev-b"


# --- sets -------------------------------------------------------------------------------------


def test_set_edits_from_two_devices_both_survive():
    out = merge_set(current=["+861"], was=["+861"], new=["+861", "+862"])
    assert out.value == ["+861", "+862"]


def test_set_addition_is_applied_when_device_saw_latest_value():
    out = merge_set(current=["+861"], was=["+861"], new=["+861", "+862"])
    assert out == FieldOutcome(["+861", "+862"], "applied")


def test_set_additions_on_two_devices_are_merged():
    # Another device already added +863; this one adds +862 without having seen it.
    out = merge_set(current=["+861", "+863"], was=["+861"], new=["+861", "+862"])
    assert out == FieldOutcome(["+861", "+863", "+862"], "merged")


def test_set_add_on_one_device_and_remove_on_another_both_apply():
    # Device A added "c"; device B, still seeing ["a", "b"], removed "b".
    out = merge_set(current=["a", "b", "c"], was=["a", "b"], new=["a"])
    assert out == FieldOutcome(["a", "c"], "merged")


def test_set_removing_an_element_someone_else_already_removed_is_unchanged():
    out = merge_set(current=["a"], was=["a", "b"], new=["a"])
    assert out == FieldOutcome(["a"], "unchanged")


def test_set_adding_an_element_someone_else_already_added_keeps_one_copy():
    out = merge_set(current=["a", "b"], was=["a"], new=["a", "b"])
    assert out == FieldOutcome(["a", "b"], "unchanged")


def test_set_keeps_stored_order_then_additions_in_device_order():
    out = merge_set(current=["z", "a"], was=["a"], new=["c", "a", "b"])
    assert out.value == ["z", "a", "c", "b"]
    assert out.status == "merged"


def test_set_removal_wins_over_an_element_still_in_the_stored_value():
    out = merge_set(current=["a", "b", "x"], was=["a", "b"], new=["b"])
    assert out.value == ["b", "x"]


def test_set_drops_duplicates_in_the_stored_value():
    out = merge_set(current=["a", "a", "b"], was=["a", "a", "b"], new=["a", "b", "c"])
    assert out.value == ["a", "b", "c"]


def test_set_reorder_alone_changes_nothing():
    out = merge_set(current=["a", "b"], was=["a", "b"], new=["b", "a"])
    assert out == FieldOutcome(["a", "b"], "unchanged")


def test_set_treats_true_and_one_as_different_elements():
    out = merge_set(current=[1], was=[1], new=[1, True])
    assert out.value == [1, True]


def test_set_result_is_a_new_list_not_the_stored_one():
    current = ["a"]
    out = merge_set(current=current, was=["a"], new=["a", "b"])
    assert current == ["a"]
    assert out.value is not current


# --- values_equal -----------------------------------------------------------------------------


def test_values_equal_tells_bool_from_int():
    assert not values_equal(True, 1)
    assert not values_equal(0, False)
    assert not values_equal([True], [1])
    assert not values_equal({"k": False}, {"k": 0})
    assert values_equal(True, True)


def test_values_equal_compares_numbers_as_json_does():
    assert values_equal(1, 1.0)
    assert not values_equal(1, "1")


def test_values_equal_compares_lists_in_order_and_dicts_by_key():
    assert values_equal(["a", "b"], ("a", "b"))
    assert not values_equal(["a", "b"], ["b", "a"])
    assert values_equal({"a": 1, "b": [2]}, {"b": [2], "a": 1})
    assert not values_equal({"a": 1}, {"a": 1, "b": None})
    assert not values_equal(None, "")
    assert not values_equal([], {})


# --- scalars ----------------------------------------------------------------------------------


def test_scalar_taken_when_current_equals_was():
    out = merge_scalar("Acme", "Acme", "Acme Ltd", current_at=LATE, new_at=EARLY)
    assert out == FieldOutcome("Acme Ltd", "applied")


def test_scalar_unchanged_when_current_equals_new():
    # The device agrees with the stored value even though it saw an older one.
    out = merge_scalar("Acme Ltd", "Acme", "Acme Ltd", current_at=EARLY, new_at=LATE)
    assert out == FieldOutcome("Acme Ltd", "unchanged")


def test_scalar_conflict_later_incoming_wins_and_keeps_stored_value_as_loser():
    out = merge_scalar("Stored", "Old", "Incoming", current_at=EARLY, new_at=LATE)
    assert out == FieldOutcome("Incoming", "conflict", loser="Stored", incoming_won=True)


def test_scalar_conflict_later_stored_value_stays_and_keeps_incoming_as_loser():
    out = merge_scalar("Stored", "Old", "Incoming", current_at=LATE, new_at=EARLY)
    assert out == FieldOutcome("Stored", "conflict", loser="Incoming", incoming_won=False)


def test_scalar_conflict_orders_clocks_by_counter_when_milliseconds_tie():
    out = merge_scalar("s", "o", "i", current_at="1763971200000-0009-z", new_at="1763971200000-0010-a")
    assert out.incoming_won and out.value == "i" and out.loser == "s"


def test_scalar_conflict_with_equal_clocks_keeps_stored_value():
    out = merge_scalar("s", "o", "i", current_at=LATE, new_at=LATE)
    assert out == FieldOutcome("s", "conflict", loser="i", incoming_won=False)


def test_scalar_conflict_against_unstamped_stored_value_lets_incoming_win():
    out = merge_scalar("s", "o", "i", current_at="", new_at=EARLY)
    assert out == FieldOutcome("i", "conflict", loser="s", incoming_won=True)


def test_scalar_treats_true_and_one_as_different_values():
    assert merge_scalar(1, 1, True, current_at=EARLY, new_at=LATE) == FieldOutcome(True, "applied")
    out = merge_scalar(1, True, 2, current_at=LATE, new_at=EARLY)
    assert out.status == "conflict" and out.loser == 2


def test_scalar_compares_dicts_by_content():
    out = merge_scalar({"a": 1, "b": 2}, {"a": 1}, {"b": 2, "a": 1}, current_at=EARLY, new_at=LATE)
    assert out.status == "unchanged"


def test_scalar_clearing_a_value_the_device_saw_is_applied():
    out = merge_scalar("2026-01-01", "2026-01-01", None, current_at=LATE, new_at=EARLY)
    assert out == FieldOutcome(None, "applied")


# --- notes ------------------------------------------------------------------------------------


def test_notes_with_non_overlapping_line_edits_merge_without_conflict():
    out = merge_notes("A\nb\nc\n", "a\nb\nc\n", "a\nb\nC\n", current_at=LATE, new_at=EARLY)
    assert out == FieldOutcome("A\nb\nC\n", "merged")


def test_notes_with_overlapping_edits_conflict_and_later_clock_wins():
    out = merge_notes("x\nb\n", "a\nb\n", "y\nb\n", current_at=EARLY, new_at=LATE)
    assert out == FieldOutcome("y\nb\n", "conflict", loser="x\nb\n", incoming_won=True)


def test_notes_with_overlapping_edits_keep_stored_notes_when_they_are_later():
    out = merge_notes("x\nb\n", "a\nb\n", "y\nb\n", current_at=LATE, new_at=EARLY)
    assert out == FieldOutcome("x\nb\n", "conflict", loser="y\nb\n", incoming_won=False)


def test_notes_taken_when_current_equals_was():
    out = merge_notes("a\n", "a\n", "a\nb\n", current_at=LATE, new_at=EARLY)
    assert out == FieldOutcome("a\nb\n", "applied")


def test_notes_unchanged_when_current_equals_new():
    out = merge_notes("same", "old", "same", current_at=EARLY, new_at=LATE)
    assert out == FieldOutcome("same", "unchanged")


def test_notes_written_on_a_card_without_notes_are_applied():
    out = merge_notes(None, None, "first visit\n", current_at=LATE, new_at=EARLY)
    assert out == FieldOutcome("first visit\n", "applied")


def test_notes_cleared_on_the_device_are_applied_as_none():
    out = merge_notes("old\n", "old\n", None, current_at=LATE, new_at=EARLY)
    assert out == FieldOutcome(None, "applied")


def test_notes_written_on_two_devices_from_none_conflict():
    # Both are insertions at the start of empty notes; neither order is more right.
    out = merge_notes("from A\n", None, "from B\n", current_at=EARLY, new_at=LATE)
    assert out == FieldOutcome("from B\n", "conflict", loser="from A\n", incoming_won=True)


def test_notes_merge_that_empties_the_text_gives_none():
    # One device deleted line "a", the other line "b": together nothing is left.
    out = merge_notes("b", "a\nb", "a", current_at=EARLY, new_at=LATE)
    assert out == FieldOutcome(None, "merged")


def test_notes_edit_already_made_elsewhere_is_unchanged():
    # The stored notes already hold the device's fix of line 3, plus another device's fix of line 1.
    out = merge_notes("A\nb\nC\n", "a\nb\nc\n", "a\nb\nC\n", current_at=EARLY, new_at=LATE)
    assert out == FieldOutcome("A\nb\nC\n", "unchanged")


def test_notes_merge_treats_none_as_empty_text():
    # The stored notes were empty ("") while the device saw none (None): its text simply applies.
    out = merge_notes("", None, "hello", current_at=LATE, new_at=EARLY)
    assert out == FieldOutcome("hello", "merged")


# --- merge_lines ------------------------------------------------------------------------------


def test_lines_edits_on_different_lines_both_apply():
    assert merge_lines("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n") == "A\nb\nC\n"


def test_lines_different_edits_of_the_same_line_collide():
    assert merge_lines("a\nb\nc\n", "x\nb\nc\n", "y\nb\nc\n") is None


def test_lines_identical_edits_apply_once():
    assert merge_lines("a\nb\n", "x\nb\n", "x\nb\n") == "x\nb\n"


def test_lines_append_at_end_merges_with_edit_of_first_line():
    assert merge_lines("a\nb\nc\n", "A\nb\nc\n", "a\nb\nc\nd\n") == "A\nb\nc\nd\n"


def test_lines_append_after_a_last_line_without_newline_merges_with_edit_of_first_line():
    assert merge_lines("a\nb", "A\nb", "a\nb\nc") == "A\nb\nc"


def test_lines_append_merges_with_edit_of_the_last_line():
    assert merge_lines("a\nb", "a\nB", "a\nb\nc") == "a\nB\nc"


def test_lines_adding_a_trailing_newline_merges_with_edit_of_first_line():
    assert merge_lines("a\nb", "A\nb", "a\nb\n") == "A\nb\n"


def test_lines_two_different_insertions_at_the_same_place_collide():
    assert merge_lines("a\nc\n", "a\nx\nc\n", "a\ny\nc\n") is None


def test_lines_insertion_inside_a_replaced_block_collides():
    assert merge_lines("a\nb\nc\nd\n", "a\nX\nY\nd\n", "a\nb\nn\nc\nd\n") is None


def test_lines_deletion_and_edit_of_the_same_line_collide():
    assert merge_lines("a\nb\nc\n", "a\nc\n", "a\nB\nc\n") is None


def test_lines_insertion_before_an_edited_line_keeps_both():
    assert merge_lines("a\nb\n", "a\nx\nb\n", "a\nB\n") == "a\nx\nB\n"


def test_lines_keep_carriage_returns():
    assert merge_lines("a\r\nb\r\nc\r\n", "A\r\nb\r\nc\r\n", "a\r\nb\r\nC\r\n") == "A\r\nb\r\nC\r\n"


def test_lines_long_notes_with_many_blank_lines_merge_edits_of_different_lines():
    # 200+ lines where blank lines are common: difflib's autojunk would stop using them as anchors
    # and widen the hunks until these two separate edits collide.
    base = [line for k in range(67) for line in (f"entry {k}", "", "")]
    ours, theirs, both = list(base), list(base), list(base)
    ours[198] = both[198] = "entry 66, called back"
    theirs[200] = both[200] = "follow up in May"
    assert merge_lines("\n".join(base), "\n".join(ours), "\n".join(theirs)) == "\n".join(both)


# --- properties -------------------------------------------------------------------------------

# Few distinct lines so that sides share lines with the base and with each other, which is where
# line merges go wrong; "" is a blank line.
lines = st.lists(st.sampled_from(["a", "b", "c", "d", ""]), max_size=8)
texts = st.one_of(
    st.builds(lambda ls, nl: "\n".join(ls) + ("\n" if nl and ls else ""), lines, st.booleans()),
    st.text(alphabet="ab\n\r", max_size=12),
)


@given(texts, texts)
def test_property_lines_with_one_side_untouched_give_the_other_side(base, x):
    assert merge_lines(base, x, base) == x
    assert merge_lines(base, base, x) == x


@given(texts, texts)
def test_property_lines_same_change_on_both_sides_gives_that_change(base, x):
    assert merge_lines(base, x, x) == x


@given(texts, texts, texts)
def test_property_lines_merge_does_not_depend_on_which_side_is_ours(base, ours, theirs):
    merged = merge_lines(base, ours, theirs)
    assert merged == merge_lines(base, theirs, ours)


@st.composite
def two_edits_of_different_lines(draw):
    size = draw(st.integers(2, 8))
    i, j = draw(st.lists(st.integers(0, size - 1), min_size=2, max_size=2, unique=True))
    return [f"line {k}" for k in range(size)], i, j, draw(st.booleans())


@given(two_edits_of_different_lines())
def test_property_lines_edits_of_different_lines_both_survive(case):
    # With distinct lines the diff is unambiguous, so the expected merge is known exactly.
    base, i, j, newline = case
    end = "\n" if newline else ""
    ours, theirs, both = list(base), list(base), list(base)
    ours[i] = both[i] = "ours"
    theirs[j] = both[j] = "theirs"
    text = lambda ls: "\n".join(ls) + end  # noqa: E731
    assert merge_lines(text(base), text(ours), text(theirs)) == text(both)


elements = st.sampled_from(["+861", "+862", "+863", "+864", "+865"])
sets = st.lists(elements, max_size=6)


@given(sets, sets, sets)
def test_property_set_never_duplicates_keeps_added_and_drops_removed(current, was, new):
    out = merge_set(current, was, new)
    added = [x for x in new if x not in was]
    removed = [x for x in was if x not in new]
    assert len(out.value) == len(set(out.value))
    assert all(x in out.value for x in added)
    assert not any(x in out.value for x in removed)
    # Elements the device did not touch are left as stored.
    untouched = [x for x in current if x not in removed]
    assert [x for x in out.value if x in untouched] == list(dict.fromkeys(untouched))
    assert out.status != "conflict"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 2) | st.sampled_from(["", "a", "b"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["k", "l"]), inner, max_size=2),
    max_leaves=5,
)
clocks = st.builds(
    lambda ms, n, node: f"{ms:013d}-{n:04d}-{node}",
    st.integers(1763971200000, 1763971200005),
    st.integers(0, 3),
    st.sampled_from(["a", "b"]),
)


def _has(values: list, value) -> bool:
    return any(values_equal(v, value) for v in values)


@given(json_values, json_values, json_values, clocks, clocks)
def test_property_scalar_never_loses_a_value(current, was, new, current_at, new_at):
    out = merge_scalar(current, was, new, current_at=current_at, new_at=new_at)
    if out.status == "conflict":
        kept = [out.value, out.loser]
        assert _has(kept, current) and _has(kept, new)
        assert out.incoming_won == (new_at > current_at)
        assert values_equal(out.value, new if out.incoming_won else current)
    elif out.status == "unchanged":
        assert values_equal(current, new) and values_equal(out.value, current)
    else:
        assert out.status == "applied"
        assert values_equal(current, was) and values_equal(out.value, new)


@given(texts | st.none(), texts | st.none(), texts | st.none(), clocks, clocks)
def test_property_notes_never_lose_a_value(current, was, new, current_at, new_at):
    out = merge_notes(current, was, new, current_at=current_at, new_at=new_at)
    if out.status == "conflict":
        assert {out.value, out.loser} == {current, new}
    elif out.status == "merged":
        # A merge is only reported when it combined something and changed the stored notes.
        assert out.value != current and out.value != ""
        assert out.value == (merge_lines(was or "", current or "", new or "") or None)
    elif out.status == "applied":
        assert out.value == new
    else:
        assert out.status == "unchanged" and out.value == current
