"""Driver-side store I/O: template, ledger, forward extension, repair after interruption, finish."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
import zarr
from data.badfiles import FIRST_DAY, REGION

from sgdsm_cloud.cube import CubeChunks, daily_axis
from sgdsm_cloud.errors import StoreContractError
from sgdsm_cloud.ingest import store
from sgdsm_cloud.ingest.geometry import StoreGrid
from sgdsm_cloud.ingest.plan import Identity
from sgdsm_cloud.ingest.quarantine import QuarantineRecord
from sgdsm_cloud.storage import Location

IDENTITY = Identity("lprm", 0.25, "D", "soil_moisture_x")
GRID = StoreGrid.from_bbox(0.25, REGION)


@pytest.fixture
def location(tmp_path) -> Location:
    location = Location(str(tmp_path / "cube.zarr"))
    store.create(
        location, daily_axis(FIRST_DAY, "2015-04-05"), GRID, IDENTITY, CubeChunks(4, 10, 20)
    )
    return location


def test_template_reads_back_as_an_empty_ledger(location):
    ledger, identity, grid, attrs = store.read(location)
    assert identity == IDENTITY and grid.same_as(GRID) and ledger.time_chunk == 4
    assert (
        len(ledger.time) == 5
        and not ledger.provenance.status.any()
        and (ledger.provenance.file == "").all()
    )
    assert (
        attrs["Conventions"] == "CF-1.10, ACDD-1.3"
        and attrs["source_variable"] == "soil_moisture_x"
    )
    assert (  # the extreme cell centres, as the coordinates hold them
        attrs["geospatial_lon_min"] == 0.125
        and attrs["geospatial_lat_max"] == 44.875
        and attrs["geospatial_lat_resolution"] == "0.25 degree"
        and attrs["quarantine"] == []
    )
    assert store.CREATING_ATTR not in attrs and not store.is_incomplete(location)


def test_template_has_no_data_chunks_and_land_from_the_global_mask(location):
    ds = xr.open_zarr(location.url, consolidated=False)
    assert bool(ds["sm"].isnull().all()) and ds["sm"].encoding["chunks"] == (4, 10, 20)
    from sgdsm_cloud.ingest.geometry import global_window
    from sgdsm_cloud.landmask import global_land_fraction

    rows, cols = global_window(GRID)
    np.testing.assert_array_equal(
        ds["land_fraction"].values, global_land_fraction(0.25)[rows, cols]
    )
    assert 0 < ds["land"].values.sum() < ds["land"].size  # the Mediterranean coast is in the box


def test_extend_grows_time_with_empty_days(location):
    store.extend(location, daily_axis(FIRST_DAY, "2015-04-11"))
    ledger, *_ = store.read(location)
    assert (
        len(ledger.time) == 11 and ledger.time[-1].day == 11 and ledger.time.is_monotonic_increasing
    )
    assert not ledger.provenance.status.any() and ledger.provenance.size.tolist() == [0] * 11
    assert bool(xr.open_zarr(location.url, consolidated=False)["sm"].isnull().all())


def test_an_interrupted_extension_is_repaired_to_the_committed_length(location):
    group = zarr.open_group(location.url, mode="r+")
    for name in ("sm", "day_status"):  # resized, but the time coordinate was never written
        group[name].resize((9, *group[name].shape[1:]))
    ledger, *_ = store.read(location)
    assert len(ledger.time) == 5 and zarr.open_group(location.url)["sm"].shape[0] == 5


def test_finish_records_quarantine_history_and_consolidates(location):
    records = [QuarantineRecord("/raw/x.nc4", "empty file (0 bytes)")]
    time = daily_axis(FIRST_DAY, "2015-04-05")
    store.finish(location, records, "first", time)
    store.finish(location, records, "second", time)
    ds = xr.open_zarr(location.url, consolidated=True)
    assert ds.attrs["quarantine"] == [{"file": "/raw/x.nc4", "reason": "empty file (0 bytes)"}]
    assert ds.attrs["time_coverage_end"] == "2015-04-05"
    lines = ds.attrs["history"].splitlines()
    assert len(lines) == 2 and lines[0].endswith("first") and "sgdsm ingest" in lines[1]


def test_a_store_without_ingest_records_is_refused(tmp_path):
    ds = xr.Dataset(
        {
            "sm": (("time", "lat", "lon"), np.zeros((1, 2, 2), "float32")),
            "land": (("lat", "lon"), np.ones((2, 2), "uint8")),
        },
        coords={"time": daily_axis(FIRST_DAY, FIRST_DAY), "lat": [1.0, 0.0], "lon": [0.0, 1.0]},
    )
    ds.to_zarr(tmp_path / "other.zarr", zarr_format=3, consolidated=False)
    with pytest.raises(StoreContractError, match="without ingest records"):
        store.read(Location(str(tmp_path / "other.zarr")))
