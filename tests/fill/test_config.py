"""FillConfig: defaults, derived chunk sizes and the checks that name the fix."""

from __future__ import annotations

import pytest

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.fill.config import FillConfig


def test_chunks_default_to_the_largest_divisor_of_the_tile_within_about_a_megabyte():
    assert (FillConfig().chunk_days, FillConfig().chunk_cells) == (32, 90)
    config = FillConfig(tile_days=100, tile_cells=48)
    assert (config.chunk_days, config.chunk_cells) == (25, 48)


def test_a_tile_must_be_whole_chunks():
    with pytest.raises(ConfigError, match=r"'tile_cells' .* multiple of 'chunk_cells'"):
        FillConfig(tile_cells=100, chunk_cells=30)


@pytest.mark.parametrize("option", ["tile_days", "tile_cells", "batch_size", "chunk_days"])
def test_sizes_must_be_positive(option):
    with pytest.raises(ConfigError, match=option):
        FillConfig(**{option: 0})
