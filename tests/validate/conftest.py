"""Tiny cubes and a tiny untrained model for the validation tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sgdsm_cloud import cube, schema

# Around the COSMOS ARM-1 station (36.6054 N, 97.4878 W) during its record in tests/data/ismn.
START = "2017-08-10"
NDAYS, NLAT, NLON, RES = 15, 48, 64, 0.25
NORTH, WEST = 42.0, -104.0


def smooth_field(ndays: int = NDAYS, nlat: int = NLAT, nlon: int = NLON) -> np.ndarray:
    t, y, x = np.meshgrid(np.arange(ndays), np.arange(nlat), np.arange(nlon), indexing="ij")
    return (0.22 + 0.08 * np.sin(x / 7.0) * np.cos(y / 9.0) + 0.02 * np.sin(t / 3.0)).astype(
        "float32"
    )


def swath_gaps(ndays: int = NDAYS, nlat: int = NLAT, nlon: int = NLON) -> np.ndarray:
    """True where a day is unobserved: a 12-column band moving 9 columns a day, plus a ragged edge."""
    t, y, x = np.meshgrid(np.arange(ndays), np.arange(nlat), np.arange(nlon), indexing="ij")
    band = ((x + 2 * y // 5 - 9 * t) % 40) < 12
    return band


def make_raw(truth: np.ndarray, gaps: np.ndarray, land: np.ndarray) -> xr.Dataset:
    ndays, nlat, nlon = truth.shape
    lat = NORTH - RES / 2 - RES * np.arange(nlat)
    lon = WEST + RES / 2 + RES * np.arange(nlon)
    sm = np.where(gaps | ~land, np.nan, truth).astype("float32")
    return xr.Dataset(
        {
            cube.SM: (("time", "lat", "lon"), sm, schema.RAW_SM_ATTRS),
            cube.LAND: (("lat", "lon"), land.astype("uint8")),
            cube.LAND_FRACTION: (("lat", "lon"), land.astype("float32")),
        },
        coords={"time": pd.date_range(START, periods=ndays, freq="D"), "lat": lat, "lon": lon},
        attrs={"source_pass": "D"},
    )


@pytest.fixture(scope="session")
def tiny_land() -> np.ndarray:
    land = np.ones((NLAT, NLON), dtype=bool)
    land[:6, :10] = False  # a bit of sea in the north-west corner
    return land


@pytest.fixture(scope="session")
def tiny_raw(tiny_land) -> xr.Dataset:
    return make_raw(smooth_field(), swath_gaps(), tiny_land)


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory, tiny_raw) -> Path:
    path = tmp_path_factory.mktemp("cube") / "raw.zarr"
    tiny_raw.to_zarr(path, mode="w")
    return path


@pytest.fixture(scope="session")
def truth_store(tmp_path_factory, tiny_raw) -> Path:
    path = tmp_path_factory.mktemp("truth") / "truth.zarr"
    xr.Dataset({"sm": (("time", "lat", "lon"), smooth_field())}, coords=tiny_raw.coords).to_zarr(
        path, mode="w"
    )
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer network saved as a checkpoint (report tests need no skill)."""
    import torch

    from sgdsm_cloud.model.checkpoint import save_checkpoint
    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet

    torch.manual_seed(0)
    config = ModelConfig(layers=2, features=4)
    path = tmp_path_factory.mktemp("model") / "tiny"
    save_checkpoint(path, SGDSMNet(config), config, {"note": "untrained test model"})
    return path
