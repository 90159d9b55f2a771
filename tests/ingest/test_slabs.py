"""One slab task against a real store: decode, merge with what the store holds, region-write."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import xarray as xr
from data.badfiles import FIRST_DAY, REGION, name

from sgdsm_cloud.cube import CubeChunks, daily_axis
from sgdsm_cloud.errors import BadInputFile, ChunkAlignmentError
from sgdsm_cloud.grid import BBox
from sgdsm_cloud.ingest import store
from sgdsm_cloud.ingest.geometry import StoreGrid
from sgdsm_cloud.ingest.plan import Identity, SlabTask, make_plan, parse_candidates
from sgdsm_cloud.ingest.slabs import SlabContext, decode, ingest_slab
from sgdsm_cloud.ingest.sources import SourceFile, list_sources
from sgdsm_cloud.storage import Location

from .helpers import write_days

IDENTITY = Identity("lprm", 0.25, "D", "soil_moisture_x")
GRID = StoreGrid.from_bbox(0.25, REGION)


@pytest.fixture
def cube(tmp_path) -> Location:
    location = Location(str(tmp_path / "cube.zarr"))
    store.create(
        location, daily_axis(FIRST_DAY, "2015-04-08"), GRID, IDENTITY, CubeChunks(4, 10, 20)
    )
    return location


def run_all(location: Location, raw) -> list:
    """Plan against the store and run every slab in order; returns the results."""
    ledger, identity, grid, _ = store.read(location)
    candidates, _ = parse_candidates(list_sources((Location(str(raw)),)))
    plan = make_plan(candidates, identity, ledger)
    context = SlabContext(location, grid, identity, len(plan.time), ledger.time_chunk)
    return [ingest_slab(task, context) for task in plan.tasks]


def test_days_land_with_values_and_provenance(cube, tmp_path):
    corpus = write_days(tmp_path / "raw", [0, 1, 5])
    results = run_all(cube, tmp_path / "raw")
    assert [r.key for r in results] == ["slab-00000", "slab-00001"] and all(
        r.written for r in results
    )
    ds = xr.open_zarr(cube.url, consolidated=False)
    for date, values in corpus.good.items():
        np.testing.assert_array_equal(ds["sm"].sel(time=str(date)).values, values)
    assert ds["day_status"].values.tolist() == [1, 1, 0, 0, 0, 1, 0, 0]
    first = tmp_path / "raw" / name(FIRST_DAY)
    assert ds["source_sha256"].values[0] == hashlib.sha256(first.read_bytes()).hexdigest()
    assert (
        ds["source_size"].values[0] == first.stat().st_size
        and ds["source_file"].values[0] == first.name
    )
    assert bool(ds["sm"].isel(time=2).isnull().all())


def test_stored_days_are_kept_and_stale_rows_cleared(cube, tmp_path):
    corpus = write_days(tmp_path / "raw", [0])
    run_all(cube, tmp_path / "raw")
    slab = xr.open_zarr(cube.url, consolidated=False)["sm"].values[:4]
    slab[1:] = 0.5  # as if a crashed run wrote days 2-4 without recording them
    xr.Dataset({"sm": (("time", "lat", "lon"), slab)}).to_zarr(
        cube.url, region={"time": slice(0, 4)}, consolidated=False
    )
    more = write_days(tmp_path / "more", [2])
    run_all(cube, tmp_path / "more")
    ds = xr.open_zarr(cube.url, consolidated=False)
    np.testing.assert_array_equal(ds["sm"].values[0], corpus.good[FIRST_DAY])  # kept
    np.testing.assert_array_equal(ds["sm"].values[2], more.good[more.day(2)])
    assert bool(ds["sm"].isel(time=1).isnull().all()) and bool(ds["sm"].isel(time=3).isnull().all())
    assert ds["day_status"].values[:4].tolist() == [1, 0, 1, 0]


def test_failed_and_duplicate_files_are_quarantined_and_a_stored_day_survives(cube, tmp_path):
    corpus = write_days(tmp_path / "raw", [0])
    run_all(cube, tmp_path / "raw")
    (tmp_path / "raw" / name(FIRST_DAY)).write_bytes(b"")  # the stored file, now empty: a new size
    write_days(tmp_path / "raw", [0], hhmmss="020000", seed=5)  # a good second file for that day
    (tmp_path / "raw" / name(FIRST_DAY.replace(day=2))).write_bytes(b"")  # a day the store lacks
    results = run_all(cube, tmp_path / "raw")
    reasons = {r.name: r.reason for res in results for r in res.quarantine}
    assert reasons == {
        name(FIRST_DAY): "empty file (0 bytes)",
        name(
            FIRST_DAY, "020000"
        ): f"duplicate: another file for {FIRST_DAY} is kept: {name(FIRST_DAY)}",
        name(FIRST_DAY.replace(day=2)): "empty file (0 bytes)",
    }
    ds = xr.open_zarr(cube.url, consolidated=False)
    # never lose good data: the stored day survives its failed replacement
    np.testing.assert_array_equal(ds["sm"].values[0], corpus.good[FIRST_DAY])
    assert ds["day_status"].values[:2].tolist() == [1, 2] and ds["source_file"].values[1] == name(
        FIRST_DAY.replace(day=2)
    )


def test_nothing_changed_means_nothing_written(cube, tmp_path):
    write_days(tmp_path / "raw", [0])
    write_days(tmp_path / "raw", [0], hhmmss="020000")
    first = run_all(cube, tmp_path / "raw")
    again = run_all(cube, tmp_path / "raw")
    assert first[0].written and first[0].ingested == (name(FIRST_DAY),)
    assert not again[0].written and again[0].ingested == () and len(again[0].quarantine) == 1


def test_misaligned_slabs_are_refused(cube):
    ledger = store.read(cube)[0]
    bad = SlabTask(0, 2, 6, (), ledger.provenance.window(2, 6))
    with pytest.raises(ChunkAlignmentError, match=r"days \[2, 6\) are not whole time chunks of 4"):
        ingest_slab(bad, SlabContext(cube, GRID, IDENTITY, 8, 4))


def test_decode_crops_to_the_store_grid_and_refuses_other_grids(tmp_path):
    corpus = write_days(tmp_path / "raw", [0])
    path = tmp_path / "raw" / name(FIRST_DAY)
    src = SourceFile(Location(str(path)), path.stat().st_size)
    inner = StoreGrid(GRID.lat[2:5], GRID.lon[10:30], 0.25)
    decoded = decode(src, path.read_bytes(), inner, IDENTITY)
    np.testing.assert_array_equal(decoded.values, corpus.good[FIRST_DAY][2:5, 10:30])
    assert decoded.size == path.stat().st_size and len(decoded.sha256) == 64
    with pytest.raises(
        BadInputFile, match="wrong grid: the file covers 0.25 deg, lat 40..45, lon 0..10"
    ):
        decode(src, path.read_bytes(), StoreGrid.from_bbox(0.25, BBox(5, 40, 15, 45)), IDENTITY)
