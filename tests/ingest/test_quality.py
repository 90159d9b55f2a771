"""The source's quality layers in the raw cube: ``sm_error`` and ``frozen``, from real files."""

from __future__ import annotations

import datetime as dt

import h5py
import numpy as np
import pytest
import zarr

from sgdsm_cloud import cube
from sgdsm_cloud.cube import CubeChunks
from sgdsm_cloud.formats import jaxa
from sgdsm_cloud.grid import BBox, bbox_slices
from sgdsm_cloud.ingest import ingest

from .helpers import config, open_store, write_days

# Europe to the Aral Sea: holds both cells where ts of 2015-04-01 is below 273.15 K
BBOX = BBox(25, 40, 65, 55)
FIRST = "LPRM-AMSR2_L3_D_SOILM3_V001_20150401013507.nc4"


@pytest.fixture(scope="module")
def real_crop(tmp_path_factory, real_lprm_dir):
    """The fifteen real days (X band) over BBOX."""
    url = str(tmp_path_factory.mktemp("quality") / "raw.zarr")
    ingest(config([real_lprm_dir], url, bbox=BBOX, chunks=CubeChunks(8, 30, 80)))
    return open_store(url)


def _file_layer(path, name):
    """A variable of the real file on the canonical grid, decoded by hand: (raw, scale)."""
    with h5py.File(path) as h5:
        raw = h5[name][()].T  # stored (Longitude, Latitude); Latitude is north-up already
        scale = float(h5[name].attrs["scale_factor"][0])
    rows, cols = bbox_slices(0.25, BBOX)
    return raw[rows, cols], scale


def test_sm_error_is_the_files_error_in_m3_m3_and_nan_where_missing(real_crop, real_lprm_dir):
    raw, scale = _file_layer(real_lprm_dir / FIRST, "soil_moisture_x_error")
    sm, _ = _file_layer(real_lprm_dir / FIRST, "soil_moisture_x")
    assert scale == pytest.approx(0.01)
    want = np.where((raw != -32767) & (sm != -32767), raw * np.float32(0.01), np.nan)
    got = real_crop["sm_error"].isel(time=0).values
    assert got.dtype == np.float32 and np.isfinite(want).sum() > 1000
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert 0.0 <= np.nanmin(got) and np.nanmax(got) <= 0.49 + 1e-6  # m3 m-3, not percent
    # the other fourteen files carry soil_moisture_x only: no error estimate, no temperature
    assert np.isnan(real_crop["sm_error"].isel(time=slice(1, None)).values).all()
    assert real_crop["sm_error"].attrs["units"] == "m3 m-3"
    assert real_crop["sm_error"].encoding["chunks"] == real_crop["sm"].encoding["chunks"]


def test_frozen_is_ts_below_freezing_and_unknown_without_ts(real_crop, real_lprm_dir):
    raw, scale = _file_layer(real_lprm_dir / FIRST, "ts")
    kelvin = np.where(raw != -32767, raw * scale, np.nan)
    got = real_crop["frozen"].isel(time=0).values
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got == 1, kelvin < 273.15)
    np.testing.assert_array_equal(got == 0, kelvin >= 273.15)
    np.testing.assert_array_equal(got == 255, np.isnan(kelvin))
    # the real ts says frozen in exactly two cells of the whole globe, both in this crop
    frozen = np.argwhere(got == 1)
    cells = {(float(real_crop.lat[y]), float(real_crop.lon[x])) for y, x in frozen}
    assert cells == {(50.125, 33.625), (44.125, 57.125)}
    assert (real_crop["frozen"].isel(time=slice(1, None)).values == 255).all()
    assert "LPRM ts" in real_crop["frozen"].attrs["comment"]


def test_a_cube_made_before_the_quality_layers_extends_without_them(tmp_path):
    write_days(tmp_path / "a", [0, 1])
    url = str(tmp_path / "old.zarr")
    ingest(config([tmp_path / "a"], url))
    group = zarr.open_group(url, mode="r+")
    for name in cube.QUALITY_VARS:  # what a cube written by an earlier version holds
        del group[name]
    zarr.consolidate_metadata(group.store)
    write_days(tmp_path / "b", [2, 5])
    report = ingest(config([tmp_path / "a", tmp_path / "b"], url))
    ds = open_store(url)
    assert report.ingested == 2 and ds.sizes["time"] == 6
    assert not set(cube.QUALITY_VARS) & set(ds.variables)
    assert np.isfinite(ds["sm"].isel(time=5).values).any()


def test_jaxa_cubes_say_the_source_has_no_error_estimate_nor_temperature(tmp_path):
    raw = tmp_path / "jaxa"
    raw.mkdir()
    day = dt.date(2015, 4, 1)
    values = np.full((720, 1440), 0.25, dtype="float32")
    jaxa.write(raw / jaxa.file_name(day, "D", resolution=0.25), values, pass_="D", date=day)
    url = str(tmp_path / "j.zarr")
    ingest(config([raw], url, variable=None, bbox=BBox(0, 0, 10, 10)))
    ds = open_store(url)
    assert np.isfinite(ds["sm"].values).all()
    assert np.isnan(ds["sm_error"].values).all()
    assert "carries no error estimate" in ds["sm_error"].attrs["comment"]
    assert (ds["frozen"].values == 255).all()
    assert "no surface temperature" in ds["frozen"].attrs["comment"]
