"""The variant speed benchmark: every preset and the window growth in one tiny measurement."""

from __future__ import annotations

from benchmarks.bench_variants import variant_rows


def test_variant_rows_time_every_preset_and_the_window_growth():
    rows = variant_rows(1, 8, threads=1, warmup=0, repeats=1, windows=(9, 11))
    names = [row["name"] for row in rows]
    assert "anomaly (window 9) 1x8x8, 1 thread: forward" in names
    assert "anomaly / paper 1x8x8, 1 thread: time per output day (window 9)" in names
    assert "paper 1x8x8, 1 thread: time with window 11 / window 9" in names
    assert "anomaly-2pass / anomaly 1x8x8, 1 thread: time per output day (window 9)" in names
    assert all(row["value"] > 0 for row in rows)
