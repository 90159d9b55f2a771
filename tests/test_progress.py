"""Progress in a log: a few lines with count, rate and time left, never a flood."""

from __future__ import annotations

import logging

from sgdsm_cloud.progress import LogProgress, describe, due


def test_a_line_is_due_after_ten_percent_more_and_thirty_seconds():
    assert not due(5, 100, 5, 100.0)  # 5 % more: not yet
    assert not due(20, 100, 20, 10.0)  # 20 % more, but 10 s
    assert due(20, 100, 10, 30.0)
    assert due(3, None, 1, 31.0) and not due(3, None, 0, 31.0)  # unknown total: any progress


def test_a_line_says_count_rate_and_time_left():
    assert (
        describe("fill", 40, 160, "tile", 20.0)
        == "fill: 40/160 tiles (25%), 2 tiles/s, about 60 s left"
    )
    assert describe("fill", 160, 160, "tile", 7200.0).endswith("done in 2.0 h")
    assert describe("scan", 7, None, "slab", 7.0) == "scan: 7 slabs, 1 slabs/s"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_long_step_logs_at_most_ten_lines_and_a_short_one_none(caplog):
    caplog.set_level(logging.INFO, logger="sgdsm_cloud.progress")
    clock = Clock()
    with LogProgress(desc="fill", total=1000, unit="tile", clock=clock) as bar:
        for _ in range(1000):
            clock.now += 1.0  # 1,000 s in all
            bar.update()
    lines = [r.getMessage() for r in caplog.records]
    assert 9 <= len(lines) <= 11 and lines[-1].startswith("fill: 1000/1000 tiles (100%)")
    caplog.clear()
    short = LogProgress(range(50), desc="epoch 1", unit="batch", clock=clock)
    assert list(short) == list(range(50))
    assert caplog.records == []


def test_quiet_progress_says_nothing(caplog):
    caplog.set_level(logging.INFO, logger="sgdsm_cloud.progress")
    clock = Clock()
    bar = LogProgress(desc="fill", total=2, clock=clock, disable=True)
    clock.now = 100.0
    bar.update(2)
    bar.close()
    assert caplog.records == []
