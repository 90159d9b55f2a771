"""Which days an update adds and refills: exactly the days whose window changed."""

from __future__ import annotations

import pytest

from sgdsm_cloud.update.plan import chunk_spans, plan_update


def sha(days: int, changed: dict[int, str] | None = None) -> list[str]:
    out = [f"h{d}" for d in range(days)]
    for day, value in (changed or {}).items():
        out[day] = value
    return out


def test_a_new_day_refills_itself_and_the_four_before():
    plan = plan_update(sha(30), sha(31), 0, 4, 8)
    assert plan.new == (30,) and plan.changed == () and plan.refill == (26, 27, 28, 29, 30)
    assert plan.final_refilled == () and plan.spans == ((24, 31),)
    assert plan.days == 31 and plan.previous_days == 30


def test_a_changed_granule_refills_its_whole_window_and_names_the_final_days():
    plan = plan_update(sha(40), sha(40, {20: "new"}), 0, 4, 8)
    assert plan.new == () and plan.changed == (20,)
    assert plan.refill == tuple(range(16, 25))
    assert plan.final_refilled == tuple(range(16, 25))  # all of them had their window complete
    assert plan.spans == ((16, 32),)


def test_a_late_granule_counts_as_changed_and_windows_clip_at_the_ends():
    plan = plan_update(sha(10, {1: ""}), sha(10), 0, 4, 8)  # day 1 had no granule yet
    assert plan.changed == (1,) and plan.refill == (0, 1, 2, 3, 4, 5)


def test_a_product_that_starts_later_in_the_record_compares_its_own_days():
    raw = sha(40)
    plan = plan_update(raw[10:35], raw, 10, 4, 8)
    assert plan.new == tuple(range(25, 30)) and plan.refill == tuple(range(21, 30))


def test_nothing_new_and_a_shrinking_record():
    assert plan_update(sha(30), sha(30), 0, 4, 8).nothing_new
    with pytest.raises(ValueError, match="must not shrink"):
        plan_update(sha(30), sha(29), 0, 4, 8)


def test_chunk_spans_merge_neighbouring_chunks_and_stop_at_the_end():
    assert chunk_spans([3, 9, 10, 30], 8, 33) == ((0, 16), (24, 32))
    assert chunk_spans([32], 8, 33) == ((32, 33),)
    assert chunk_spans([], 8, 33) == ()
