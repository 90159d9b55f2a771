"""Fixtures of the publish tests: a seamless cube in memory and in a local zarr store."""

from __future__ import annotations

import pytest
import xarray as xr

from .cubes import seamless_cube, write_cube


@pytest.fixture
def cube() -> xr.Dataset:
    return seamless_cube(uncertainty=True)


@pytest.fixture
def cube_store(tmp_path, cube) -> str:
    url = str(tmp_path / "seamless.zarr")
    write_cube(cube, url)
    return url
