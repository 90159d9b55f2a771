"""A small seamless cube in the layout ``sgdsm fill`` writes (docs/architecture.md), for publish tests."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

MODEL_SHA256 = "3f" * 32


def seamless_cube(days: int = 6, res: float = 0.25, *, uncertainty: bool = True) -> xr.Dataset:
    """``sm`` + ``flag`` (+ ``sm_uncertainty`` with ``uncertainty``, which the seamless contract
    requires; without it the cube is what an earlier version wrote) + ``land`` over a 2 x 3 degree box in Europe, with CF/ACDD attributes."""
    rng = np.random.default_rng(0)
    time = pd.date_range("2015-04-01", periods=days, freq="D")
    lat = np.arange(50 - res / 2, 48, -res)  # north-up cell centres, 50N..48N
    lon = np.arange(5 + res / 2, 8, res)  # 5E..8E
    shape = (days, lat.size, lon.size)
    flag = rng.integers(0, 4, size=shape, dtype="uint8")
    sm = np.where(np.isin(flag, (1, 2)), rng.uniform(0.05, 0.45, size=shape), np.nan).astype(
        "float32"
    )
    ds = xr.Dataset(
        {
            "sm": (
                ("time", "lat", "lon"),
                sm,
                {
                    "standard_name": "volume_fraction_of_condensed_water_in_soil",
                    "long_name": "surface soil moisture, gaps filled by SGD-SM",
                    "units": "m3 m-3",
                    "valid_min": 0.0,
                    "valid_max": 1.0,
                    "ancillary_variables": "flag sm_uncertainty",
                },
            ),
            "sm_uncertainty": (
                ("time", "lat", "lon"),
                np.where(np.isfinite(sm), rng.uniform(0.01, 0.08, size=shape), np.nan).astype(
                    "float32"
                ),
                {
                    "standard_name": "volume_fraction_of_condensed_water_in_soil standard_error",
                    "long_name": "standard error of the surface soil moisture",
                    "units": "m3 m-3",
                },
            ),
            "flag": (
                ("time", "lat", "lon"),
                flag,
                {
                    "standard_name": "status_flag",
                    "long_name": "origin of the soil moisture value",
                    "flag_values": np.array([0, 1, 2, 3, 4], dtype="uint8"),
                    "flag_meanings": "not_land_or_excluded observed filled not_filled frozen",
                },
            ),
            "land": (
                ("lat", "lon"),
                np.ones(shape[1:], dtype="uint8"),
                {"long_name": "land mask", "flag_values": [0, 1], "flag_meanings": "not_land land"},
            ),
        },
        coords={
            "time": ("time", time, {"standard_name": "time", "axis": "T"}),
            "lat": (
                "lat",
                lat,
                {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"},
            ),
            "lon": (
                "lon",
                lon,
                {"standard_name": "longitude", "units": "degrees_east", "axis": "X"},
            ),
        },
        attrs={
            "Conventions": "CF-1.10, ACDD-1.3",
            "title": "Seamless daily AMSR2 surface soil moisture (SGD-SM gap-filled)",
            "summary": "Daily surface soil moisture with the gaps filled by SGD-SM.",
            "license": "CC-BY-4.0",
            "creator_name": "Example Soil Moisture Group",
            "creator_url": "https://soil.example.org",
            "publisher_name": "Example Open Data",
            "publisher_url": "https://data.example.org",
            "keywords": "soil moisture, AMSR2, gap filling",
            "references": "Zhang et al. (2021), ESSD 13, 1385-1401",
            "method_doi": "10.5194/essd-13-1385-2021",
            "history": "2026-01-01T00:00:00Z sgdsm ingest\n2026-01-02T00:00:00Z sgdsm fill",
            "date_created": "2026-01-02T00:00:00Z",
            "product_version": "0.1.0",
            "sgdsm_cloud_version": "0.1.0",
            "model_sha256": MODEL_SHA256,
            "model_config": json.dumps({"layers": 11, "features": 90, "kernel": 3, "window": 9}),
        },
    )
    if not uncertainty:
        ds["sm"].attrs["ancillary_variables"] = "flag"
        return ds.drop_vars("sm_uncertainty")
    return ds


def write_cube(ds: xr.Dataset, url: str, storage_options: dict | None = None) -> None:
    ds.to_zarr(
        url, mode="w", zarr_format=3, consolidated=True, storage_options=storage_options or None
    )
