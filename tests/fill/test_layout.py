"""Chunk/shard layout and the read costs quoted in docs/fill.md."""

from __future__ import annotations

from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.layout import Layout, map_cost, output_layout, series_cost

GLOBAL_2013_2019 = (2556, 720, 1440)  # days x 0.25 degree grid


def test_default_layout_of_the_global_product():
    layout = output_layout(GLOBAL_2013_2019, FillConfig())
    assert layout == Layout(chunks=(32, 90, 90), shards=(384, 360, 360))


def test_a_day_map_and_a_pixel_series_both_touch_few_objects():
    layout = output_layout(GLOBAL_2013_2019, FillConfig())
    day, series = map_cost(GLOBAL_2013_2019, layout), series_cost(GLOBAL_2013_2019, layout)
    assert (day.objects, day.chunk_reads) == (8, 128)
    assert (series.objects, series.chunk_reads) == (7, 80)
    unsharded = Layout(layout.chunks, layout.chunks)
    assert map_cost(GLOBAL_2013_2019, unsharded).objects == 128
    assert series_cost(GLOBAL_2013_2019, unsharded).objects == 80
    by_day = Layout((1, 720, 1440), (1, 720, 1440))
    assert series_cost(GLOBAL_2013_2019, by_day).objects == 2556


def test_small_axes_clip_chunks_in_space_and_keep_shards_whole_chunks():
    layout = output_layout(
        (24, 48, 100), FillConfig(tile_days=64, tile_cells=360, chunk_days=32, chunk_cells=90)
    )
    assert layout.chunks == (32, 48, 90)  # time grows with updates: its chunk keeps its length
    assert layout.shards == (32, 48, 180)  # past the array's end, as zarr allows
    assert all(s % c == 0 for s, c in zip(layout.shards, layout.chunks, strict=True))
