"""The update benchmark's measures: bytes written, bytes of the refilled days, read costs."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks import bench_update  # noqa: E402


def test_written_bytes_count_new_and_changed_files_only():
    before = {"a": 10, "b": 5}
    assert bench_update.written_bytes(before, {"a": 10, "b": 7, "c": 3}) == 10


def test_refilled_bytes_take_each_chunks_share_of_refilled_days():
    refs = {"sm/c/0/0/0": ["p", 0, 800], "sm/c/1/0/0": ["p", 800, 100], "zarr.json": "{}"}
    # chunk 0 holds days 0..7 (3 refilled), chunk 1 days 8..9 within a 10-day record (2 refilled)
    assert bench_update.refilled_bytes(refs, [5, 6, 7, 8, 9], 8, 10) == 800 * 3 / 8 + 100


def test_read_cost_counts_objects_chunks_and_bytes():
    refs = {
        "sm/c/0/0/0": ["fill", 0, 10], "sm/c/0/0/1": ["fill", 10, 10],
        "sm/c/1/0/0": ["update", 0, 5], "sm/c/1/0/1": ["update", 5, 5],
    }  # fmt: skip
    cost = bench_update.read_cost(refs, day=9, pixel=(0, 0), chunks=(8, 4, 4), ntime=10)
    assert cost["map"][:2] == (1, 2) and cost["series"][:2] == (2, 2)
    assert cost["series"][3] == 15 / 1e6
