"""The truth store on its own: chunk sizes, a NaN template, slabs that land in their own chunks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud import cube
from sgdsm_cloud.grid import BBox
from sgdsm_cloud.outputs import KIND_ATTR
from sgdsm_cloud.synth import truth
from sgdsm_cloud.synth.config import SynthConfig


def test_days_per_chunk_halves_until_a_slab_fits():
    assert (
        truth.days_per_chunk(SynthConfig("2015-04-01", "2015-04-05", bbox=BBox(0, 44, 2, 46))) == 5
    )
    assert truth.days_per_chunk(SynthConfig("2015-01-01", "2015-12-31", res=0.1)) == 8  # 1800x3600


def test_template_then_slabs_then_consolidate(tmp_path):
    days, nlat, nlon = 6, 4, 5
    coordinates = xr.Dataset(
        {
            cube.LAND: (("lat", "lon"), np.ones((nlat, nlon), "uint8")),
            cube.LAND_FRACTION: (("lat", "lon"), np.ones((nlat, nlon), "float32")),
        },
        coords={
            "time": pd.date_range("2015-04-01", periods=days),
            "lat": np.arange(nlat) + 0.5,
            "lon": np.arange(nlon) + 0.5,
        },  # fmt: skip
        attrs={"title": "test", "quarantine": []},
    )
    url = str(tmp_path / truth.TRUTH_STORE)
    truth.write_template(coordinates, url, 2, None)
    empty = xr.open_zarr(url, consolidated=False)
    assert empty.attrs[KIND_ATTR] == truth.TRUTH_KIND and "quarantine" not in empty.attrs
    assert cube.LAND_FRACTION not in empty and np.isnan(empty[cube.SM].values).all()
    values = np.arange(2 * nlat * nlon, dtype="float32").reshape(2, nlat, nlon)
    truth.write_slab(url, values, 2, None)
    truth.consolidate(url, None)
    stored = xr.open_zarr(url, consolidated=True)[cube.SM]
    assert stored.encoding["chunks"][0] == 2
    np.testing.assert_array_equal(stored.values[2:4], values)
    assert np.isnan(stored.values[[0, 1, 4, 5]]).all()
    assert stored.attrs["long_name"].startswith("synthetic true")
