"""Timing helpers and the result convention (no clock readings are asserted)."""

from __future__ import annotations

import pytest

from benchmarks.common import Samples, check_results, format_table, interleaved, per_round, result


def test_interleaved_runs_every_case_once_per_round_after_the_warmup():
    calls: list[str] = []
    samples = interleaved(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, warmup=1, repeats=3
    )
    assert calls == ["a", "b"] * 4
    assert set(samples) == {"a", "b"} and all(len(s.values) == 3 for s in samples.values())


def test_per_round_pairs_the_samples_of_each_round():
    ratio = per_round(lambda x, y: x / y, Samples((2.0, 9.0, 4.0)), Samples((1.0, 3.0, 4.0)))
    assert ratio.values == (2.0, 3.0, 1.0)
    assert (ratio.median, ratio.low, ratio.high) == (2.0, 1.0, 3.0)
    with pytest.raises(ValueError, match="equal length"):
        per_round(lambda x, y: x / y, Samples((1.0,)), Samples((1.0, 2.0)))


def test_result_rows_follow_the_convention_and_render_as_a_table():
    rows = [
        result("repeated", Samples((1.0, 3.0, 2.0)), "s", reference="base"),
        result("computed once", 30_229_200, "FLOP"),
        result("could not run", None, "px-day/s", note="skipped: needs CUDA"),
    ]
    assert check_results("bench_x", rows) is rows
    assert (rows[0]["value"], rows[0]["low"], rows[0]["high"], rows[0]["n"]) == (2.0, 1.0, 3.0, 3)
    table = format_table(rows).splitlines()
    assert len(table) == 5 and "| repeated | 2 | 1 – 3 (3) | s | base |" in table[2]
    assert "30,229,200" in table[3] and "skipped: needs CUDA" in table[4]


def test_check_results_names_what_is_missing():
    with pytest.raises(ValueError, match="list of dicts"):
        check_results("bench_x", {"name": "x"})
    with pytest.raises(ValueError, match="unit"):
        check_results("bench_x", [{"name": "x", "value": 1.0}])
