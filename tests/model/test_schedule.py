"""The plateau rule, learning-rate drops and the stop decision."""

from __future__ import annotations

import pytest

from sgdsm_cloud.model.schedule import Stage, plateaued, stage


@pytest.mark.parametrize(
    "values, expected",
    [
        ([1.0, 0.8, 0.7], False),  # too short for patience 2
        ([1.0, 0.5, 0.499, 0.4995], True),  # flat within 1 % for 2 epochs
        ([1.0, 0.5, 0.4, 0.3], False),  # still improving
        ([1.0, 1.2, 1.1, 1.05], False),  # never decreased
        ([1.0, 0.5, float("nan"), 0.6], True),  # NaN counts as no improvement
    ],
)
def test_plateau_rule(values, expected):
    assert plateaued(values, patience=2, tolerance=0.01) is expected


def test_after_a_drop_no_decrease_below_the_first_value_is_required():
    assert not plateaued([1.0, 1.2, 1.1, 1.05], 2, 0.01)
    assert plateaued([1.0, 1.2, 1.1, 1.05], 2, 0.01, require_decrease=False)


def test_each_plateau_drops_the_learning_rate_and_the_last_one_stops():
    flat = [1.0, 0.5, 0.5, 0.5]  # a plateau after 4 epochs (patience 2)
    assert stage(flat[:3], 2, 0.01, max_drops=2) == Stage(0, False)
    assert stage(flat, 2, 0.01, max_drops=2) == Stage(1, False)
    assert stage(flat + [0.4, 0.4, 0.4], 2, 0.01, max_drops=2) == Stage(2, False)
    assert stage(flat + [0.4, 0.4, 0.4] + [0.4, 0.4, 0.4], 2, 0.01, max_drops=2) == Stage(2, True)
    assert stage(flat, 2, 0.01, max_drops=0) == Stage(0, True)


def test_improvement_after_a_drop_delays_the_next_plateau():
    values = [1.0, 0.5, 0.5, 0.5] + [0.4, 0.3, 0.2, 0.1]
    assert stage(values, 2, 0.01, max_drops=1) == Stage(1, False)
