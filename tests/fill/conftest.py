"""Tiny raw cubes, a tiny random model, the one-piece reference fill and a real LocalCluster."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sgdsm_cloud import cube, grid
from sgdsm_cloud.product import compose, fill_land_mask, open_seamless

RES = 3.75  # a global grid of 48 x 96 cells
RAW_CHUNKS = cube.CubeChunks(time=8, lat=24, lon=48)


def make_raw(days: int = 24, *, seed: int = 0, lon_cells: slice | None = None) -> xr.Dataset:
    """A raw cube in memory: random soil moisture with 60 % random gaps over blob-shaped land.

    Longitudes 0..90 E are all ocean (whole ocean tiles) and a 12 x 12 block of land is never
    observed (cells the network cannot reach); ``lon_cells`` cuts a regional, non-periodic grid.
    """
    rng = np.random.default_rng(seed)
    lat, lon = grid.global_lat(RES), grid.global_lon(RES)
    lat2, lon2 = np.meshgrid(np.radians(lat), np.radians(lon), indexing="ij")
    land_fraction = (
        np.sin(3 * lon2) * np.cos(2 * lat2) + 0.3 * rng.standard_normal(lat2.shape) > -0.1
    ).astype("float32")
    land_fraction[:, (lon > 0) & (lon < 90)] = 0.0
    time = cube.daily_axis("2015-03-01", pd.Timestamp("2015-03-01") + pd.Timedelta(days=days - 1))
    sm = rng.uniform(0.02, 0.5, (days, lat.size, lon.size)).astype("float32")
    sm[rng.random(sm.shape) < 0.6] = np.nan
    sm[:, 10:22, 20:32] = np.nan
    land_fraction[10:22, 20:32] = 1.0
    ds = cube.empty_cube(
        time,
        lat,
        lon,
        land_fraction,
        RAW_CHUNKS,
        {"title": "test raw cube", "history": "made in a test"},
    )
    ds[cube.SM] = ds[cube.SM].copy(data=sm)
    ds = ds.compute()
    return ds.isel(lon=lon_cells) if lon_cells is not None else ds


def write_raw(ds: xr.Dataset, url: str, storage_options: dict | None = None) -> str:
    ds.to_zarr(
        url,
        mode="w",
        encoding=cube.encoding_for(ds, RAW_CHUNKS),
        zarr_format=3,
        consolidated=True,
        storage_options=storage_options,
    )
    return url


def one_piece_fill(raw: xr.Dataset, model, halo_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """The whole cube in one model call; a global grid is padded by the halo periodically."""
    from sgdsm_cloud.model.infer import predict_days

    sm = raw[cube.SM].values
    land = raw[cube.LAND].values.astype(bool)
    periodic = grid.is_global_lon(raw["lon"].values)
    pad = halo_cells if periodic else 0
    sm_in = np.pad(sm, ((0, 0), (0, 0), (pad, pad)), mode="wrap")
    land_in = np.pad(land, ((0, 0), (pad, pad)), mode="wrap")
    pred, reached = predict_days(model, sm_in, land_in, range(sm.shape[0]), batch_size=8)
    keep = slice(pad, pad + sm.shape[2])
    fill_land = fill_land_mask(land, raw["lat"].values, raw["lon"].values)
    return compose(sm, fill_land, pred[..., keep], reached[..., keep])


def decoded_checksum(url: str, storage_options: dict | None = None) -> str:
    """SHA-256 of the decoded values of ``sm`` and ``flag`` (independent of chunk encoding)."""
    ds = open_seamless(url, storage_options)
    digest = hashlib.sha256()
    for name in ("sm", "flag"):
        digest.update(np.ascontiguousarray(ds[name].values).tobytes())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """A randomly initialised tiny network (3 layers, 4 features: reach 3 cells, 4 days)."""
    import torch

    from sgdsm_cloud.model.checkpoint import save_checkpoint
    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet

    torch.manual_seed(0)
    config = ModelConfig(layers=3, features=4)
    path = tmp_path_factory.mktemp("model")
    save_checkpoint(
        path, SGDSMNet(config), config, {"trained_on": "nothing: random weights for tests"}
    )
    return path


@pytest.fixture(scope="session")
def checkpoint(model_dir):
    from sgdsm_cloud.model.checkpoint import load_checkpoint

    return load_checkpoint(model_dir)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """In-process inference on one thread: the two cores are shared with the cluster's workers."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
