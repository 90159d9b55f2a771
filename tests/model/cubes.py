"""Small synthetic raw cubes for training tests: smooth moving fields with swath-like gaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud import cube


def smooth_cube(
    days: int = 16, ny: int = 40, nx: int = 48, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(truth (T, ny, nx), observed with NaN gaps, land (ny, nx))``.

    The field is a few large spatial waves whose phases drift slowly in time, so a day is
    predictable from its neighbours and its surroundings. Gaps are diagonal swath stripes that
    shift every day plus random blobs; about 40 % of land is missing per day.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(days)[:, None, None]
    rows, cols = np.mgrid[0:ny, 0:nx]
    y, x = rows / ny, cols / nx
    truth = np.full((days, ny, nx), 0.25)
    for _ in range(4):
        ky, kx = rng.uniform(0.5, 2.0, size=2)
        speed, phase, amp = (
            rng.uniform(0.05, 0.2),
            rng.uniform(0, 2 * np.pi),
            rng.uniform(0.03, 0.07),
        )
        truth = truth + amp * np.sin(2 * np.pi * (ky * y + kx * x) + phase + speed * t)
    stripes = ((cols + 0.6 * rows + 11 * t) % 24) < 8
    blobs = rng.random((days, ny // 4 + 1, nx // 4 + 1)) < 0.12
    blobs = np.repeat(np.repeat(blobs, 4, axis=1), 4, axis=2)[:, :ny, :nx]
    land = np.ones((ny, nx), dtype=bool)
    land[:, :3] = False
    land[-4:, -6:] = False
    observed = np.where(stripes | blobs | ~land, np.nan, truth).astype("float32")
    return truth.astype("float32"), observed, land


def write_cube(
    path: Path | str, observed: np.ndarray, land: np.ndarray, start: str = "2019-01-01"
) -> str:
    """Write a raw cube (the ``sgdsm_cloud.cube`` contract) holding ``observed``."""
    ntime, ny, nx = observed.shape
    time = pd.date_range(start, periods=ntime, freq="D")
    lat = 10.0 - 0.25 * np.arange(ny)
    lon = 0.125 + 0.25 * np.arange(nx)
    chunks = cube.CubeChunks(time=8, lat=16, lon=16)
    ds = cube.empty_cube(
        time, lat, lon, land.astype("float32"), chunks, {"title": "synthetic test cube"}
    )
    ds[cube.SM] = (("time", "lat", "lon"), observed, ds[cube.SM].attrs)
    ds[cube.DAY_STATUS] = ("time", np.ones(ntime, dtype="uint8"), ds[cube.DAY_STATUS].attrs)
    ds.to_zarr(str(path), mode="w", encoding=cube.encoding_for(ds, chunks))
    return str(path)


def in_memory_cube(observed: np.ndarray, land: np.ndarray) -> xr.Dataset:
    """The two variables training reads (``sm``, ``land``) as an in-memory dataset."""
    time = pd.date_range("2019-01-01", periods=observed.shape[0])
    return xr.Dataset(
        {"sm": (("time", "lat", "lon"), observed), "land": (("lat", "lon"), land.astype("uint8"))},
        coords={"time": time},
    )
