"""The raw cube contract: template, encodings, and the checks that name what is wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sgdsm_cloud.cube import (
    PROVENANCE_VARS,
    SM,
    CubeChunks,
    check_contract,
    daily_axis,
    empty_cube,
    encoding_for,
    open_cube,
)
from sgdsm_cloud.errors import ConfigError, StoreContractError
from sgdsm_cloud.grid import global_lat, global_lon


def small_cube(days: int = 10) -> xr.Dataset:
    lat, lon = global_lat(0.25)[:8], global_lon(0.25)[:12]
    fraction = np.linspace(0, 1, lat.size * lon.size, dtype="float32").reshape(lat.size, lon.size)
    return empty_cube(
        daily_axis("2015-04-01", f"2015-04-{days:02d}"),
        lat,
        lon,
        fraction,
        CubeChunks(4, 4, 6),
        {"title": "t"},
    )


def test_daily_axis_is_complete_and_normalised():
    axis = daily_axis("2015-04-01T13:30", "2015-04-03")
    assert list(axis) == list(pd.to_datetime(["2015-04-01", "2015-04-02", "2015-04-03"]))


def test_chunks_are_checked_and_clipped():
    with pytest.raises(StoreContractError, match="'lat' must be >= 1"):
        CubeChunks(lat=0)
    assert CubeChunks(32, 180, 180).for_shape(10, 100, 400) == {"time": 10, "lat": 100, "lon": 180}


def test_empty_cube_is_all_missing_with_land_from_the_fraction():
    ds = small_cube()
    assert ds[SM].dtype == np.float32 and ds[SM].dims == ("time", "lat", "lon")
    assert bool(ds[SM].isnull().all()) and ds[SM].chunks == ((4, 4, 2), (4, 4), (6, 6))
    assert np.array_equal(ds["land"].values, (ds["land_fraction"].values >= 0.5).astype("uint8"))
    assert (ds["day_status"].values == 0).all() and (ds["source_file"].values == "").all()
    assert ds[SM].attrs["units"] == "m3 m-3" and ds.attrs["title"] == "t"
    check_contract(ds)


def test_encoding_sets_chunks_nan_fill_and_daily_units():
    ds = small_cube()
    encoding = encoding_for(ds, CubeChunks(4, 4, 6))
    assert encoding[SM]["chunks"] == (4, 4, 6) and np.isnan(encoding[SM]["fill_value"])
    assert all(encoding[v]["chunks"] == (4,) for v in PROVENANCE_VARS)
    assert encoding["time"]["units"] == "days since 1970-01-01"


def test_template_round_trips_through_zarr(tmp_path):
    ds = small_cube()
    ds.to_zarr(
        tmp_path / "c.zarr",
        compute=False,
        consolidated=False,
        zarr_format=3,
        encoding=encoding_for(ds, CubeChunks(4, 4, 6)),
    )
    back = open_cube(str(tmp_path / "c.zarr"), consolidated=False)
    assert back.sizes == ds.sizes and bool(back[SM].isnull().all())
    assert back["source_file"].values.tolist() == [""] * 10


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda ds: ds.drop_vars("land"), r"missing variable\(s\) \['land'\]"),
        (lambda ds: ds.assign(sm=ds[SM].transpose("lat", "time", "lon")), "must have dims"),
        (lambda ds: ds.isel(lat=slice(None, None, -1)), "north-up"),
        (lambda ds: ds.isel(time=[0, 1, 3]), "daily and complete"),
    ],
)
def test_contract_violations_are_named(mutate, match):
    with pytest.raises(StoreContractError, match=match):
        check_contract(mutate(small_cube()))


def test_open_cube_on_a_missing_store_says_what_to_run(tmp_path):
    with pytest.raises(StoreContractError, match="run 'sgdsm ingest' first"):
        open_cube(str(tmp_path / "absent.zarr"))


def test_select_days_is_the_one_rule_for_start_and_end():
    from sgdsm_cloud.cube import select_days

    time = pd.date_range("2015-04-01", periods=15).values
    assert select_days(time) == slice(0, 15)
    assert select_days(time, "2015-04-11", "2015-04-15") == slice(10, 15)
    assert select_days(time, end="2015-04-01T18:00") == slice(0, 1)  # a day, whatever its hour
    for start, end in (("2015-03-31", None), (None, "2015-04-16"), ("2015-04-05", "2015-04-04")):
        with pytest.raises(ConfigError, match=r"inside my cube's days 2015-04-01\.\.2015-04-15"):
            select_days(time, start, end, source="my cube")
