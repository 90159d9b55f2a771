"""synthesize / write_archive: determinism, crops, quantisation, files and truth.zarr round trips."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import xarray as xr

from sgdsm_cloud import cube, schema
from sgdsm_cloud.formats import read_day
from sgdsm_cloud.grid import BBox
from sgdsm_cloud.synth import SynthConfig, synthesize, write_archive
from sgdsm_cloud.synth.archive import quantise
from sgdsm_cloud.synth.error import RetrievalError, retrieved

SPAIN = BBox(-8, 37, 0, 43)


@pytest.fixture(scope="module")
def spain() -> xr.Dataset:
    return synthesize(SynthConfig("2015-04-01", "2015-04-06", bbox=SPAIN, seed=7))


def test_layout_is_the_raw_cube_plus_truth(spain):
    cube.check_contract(spain, "synthesize")
    assert spain.sm.dtype == spain.truth.dtype == np.float32
    assert spain.sizes == {"time": 6, "lat": 24, "lon": 32}
    assert (spain.day_status == schema.STATUS_INGESTED).all()
    assert str(spain.source_file.values[0]) == "LPRM-AMSR2_L3_D_SOILM3_V001_20150401013500.nc4"
    assert spain.attrs["source_product"] == "lprm" and spain.attrs["source_pass"] == "D"


def test_sm_is_the_quantised_retrieval_of_the_truth_where_observed_and_nan_off_land(spain):
    sm, truth, land = spain.sm.values, spain.truth.values, spain.land.values.astype(bool)
    seen = np.isfinite(sm)
    error = RetrievalError(7, SynthConfig("2015-04-01", "2015-04-01", bbox=SPAIN).crop)
    days = [dt.date(2015, 4, d) for d in range(1, 7)]
    archived = np.stack(
        [quantise(retrieved(t, error(d), "lprm"), "lprm") for t, d in zip(truth, days)]
    )
    np.testing.assert_array_equal(sm[seen], archived[seen])
    difference = sm[seen] - truth[seen]
    assert 0.015 < difference.std() < 0.03  # retrieval error of about ERROR_STD, fresh daily
    assert sm[seen].min() >= 0.0 and sm[seen].max() <= 0.99
    assert not seen[:, ~land].any() and np.isfinite(truth[:, land]).all()
    assert 0.2 < seen[:, land].mean() < 0.95  # swath stripes and retrieval failures


def test_the_two_passes_share_the_truth_but_each_retrieval_has_its_own_error(spain):
    ascending = synthesize(SynthConfig("2015-04-01", "2015-04-06", bbox=SPAIN, seed=7, pass_="A"))
    np.testing.assert_array_equal(ascending.truth.values, spain.truth.values)
    both = np.isfinite(ascending.sm.values) & np.isfinite(spain.sm.values)
    assert both.sum() > 300  # the passes' swaths overlap on some cells
    errors = [(ds.sm.values - ds.truth.values)[both] for ds in (spain, ascending)]
    assert abs(np.corrcoef(*errors)[0, 1]) < 0.2  # independent retrievals
    assert 0.5 < np.std(errors[1]) / np.std(errors[0]) < 2.0  # of the same size


def test_same_seed_same_archive_other_seed_other_archive(spain):
    again = synthesize(SynthConfig("2015-04-01", "2015-04-06", bbox=SPAIN, seed=7))
    xr.testing.assert_equal(again[["sm", "truth"]], spain[["sm", "truth"]])
    other = synthesize(SynthConfig("2015-04-01", "2015-04-06", bbox=SPAIN, seed=8))
    assert not np.allclose(other.truth.values, spain.truth.values, equal_nan=True)


def test_a_shorter_later_period_gives_the_same_days(spain):
    part = synthesize(SynthConfig("2015-04-04", "2015-04-05", bbox=SPAIN, seed=7))
    xr.testing.assert_equal(part[["sm", "truth"]], spain[["sm", "truth"]].sel(time=part.time))


def test_a_region_is_a_crop_of_the_global_archive():
    day = "2015-04-02"
    world = synthesize(SynthConfig(day, day, seed=3))
    for bbox in (
        BBox(-10, 35, 30, 60),
        BBox(170, -50, 180, -30),
        BBox(-180, 60, -160, 72),
        BBox(0.1, 45.1, 0.2, 45.2),
    ):
        region = synthesize(SynthConfig(day, day, bbox=bbox, seed=3))
        crop = world.sel(lat=region.lat, lon=region.lon)
        np.testing.assert_array_equal(region.truth.values, crop.truth.values)
        np.testing.assert_array_equal(region.sm.values, crop.sm.values)


def test_lprm_files_read_back_as_sm_and_truth_zarr_holds_the_truth(tmp_path, spain):
    config = SynthConfig("2015-04-01", "2015-04-06", bbox=SPAIN, seed=7)
    written = write_archive(config, tmp_path, progress=False)
    assert [p.rsplit("/", 1)[-1] for p in written.files] == [
        str(n) for n in spain.source_file.values
    ]
    for i, path in enumerate(written.files):
        day = read_day(path)
        assert day.date == dt.date(2015, 4, 1 + i)
        np.testing.assert_array_equal(day.lat, spain.lat.values)
        np.testing.assert_array_equal(day.values, spain.sm.values[i])
    truth = xr.open_zarr(written.truth)
    np.testing.assert_array_equal(truth.sm.values, spain.truth.values)
    np.testing.assert_array_equal(truth.land.values, spain.land.values)
    assert truth.sm.attrs["standard_name"] == "volume_fraction_of_condensed_water_in_soil"
    assert truth.sm.attrs["units"] == "m3 m-3" and truth.attrs["Conventions"].startswith("CF-")


def test_jaxa_files_are_global_with_data_inside_the_bbox_only(tmp_path):
    config = SynthConfig(
        "2015-07-01", "2015-07-02", bbox=BBox(10, 0, 14, 4), res=0.1, fmt="jaxa", pass_="A"
    )
    expected = synthesize(config)
    written = write_archive(config, tmp_path / "jaxa", progress=False)
    assert written.files[0].endswith("GW1AM2_20150701_01D_EQMA_L3SGSMCHA3300300.h5")
    for i, path in enumerate(written.files):
        day = read_day(path, allow_empty=True)
        assert day.values.shape == (1800, 3600)
        inside = day.values[config.crop.rows, config.crop.cols]
        np.testing.assert_array_equal(inside, expected.sm.values[i])
        assert np.isfinite(day.values).sum() == np.isfinite(inside).sum() > 0
    np.testing.assert_array_equal(xr.open_zarr(written.truth).sm.values, expected.truth.values)


def test_truth_is_written_in_whole_time_chunks(tmp_path):
    from sgdsm_cloud.synth import archive, truth

    config = SynthConfig("2015-04-01", "2015-04-05", bbox=BBox(0, 44, 2, 46))
    written = archive.write_archive(config, tmp_path, progress=False)
    stored = xr.open_zarr(written.truth)
    assert stored.sm.encoding["chunks"][0] == truth.days_per_chunk(config) == 5
    assert truth.days_per_chunk(SynthConfig("2015-01-01", "2015-12-31", res=0.1)) == 8


def test_day_spans_are_runs_of_whole_slabs_covering_the_period_once():
    from sgdsm_cloud.synth.archive import day_spans

    for days, slab, spans in ((2556, 32, 16), (10, 4, 3), (5, 5, 4), (33, 32, 2), (7, 2, 100)):
        ranges = day_spans(days, slab, spans)
        assert ranges[0][0] == 0 and ranges[-1][1] == days
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
        assert all(start % slab == 0 for start, _ in ranges)
        assert len(ranges) <= spans


def test_archive_written_on_a_cluster_equals_the_one_process_archive(tmp_path, monkeypatch, client):
    from sgdsm_cloud.synth import truth

    # 2-day truth chunks on 2 worker processes: 5 spans, so spans start after a warm-up of the
    # weather memory in another process, and chunks meet at span edges.
    monkeypatch.setattr(truth, "MAX_DAYS_PER_CHUNK", 2)
    config = SynthConfig("2015-04-01", "2015-04-09", bbox=BBox(0, 44, 2, 46), seed=5)
    one = write_archive(config, tmp_path / "one", progress=False)
    many = write_archive(config, tmp_path / "many", progress=False, client=client)
    assert [f.rsplit("/", 1)[-1] for f in many.files] == [f.rsplit("/", 1)[-1] for f in one.files]
    for a, b in zip(one.files, many.files, strict=True):
        np.testing.assert_array_equal(
            read_day(a, allow_empty=True).values, read_day(b, allow_empty=True).values
        )
    truth_one, truth_many = xr.open_zarr(one.truth), xr.open_zarr(many.truth)
    assert truth_many.sm.encoding["chunks"][0] == 2
    np.testing.assert_array_equal(truth_many.sm.values, truth_one.sm.values)


@pytest.mark.s3
def test_archive_can_be_written_to_s3(s3):
    config = SynthConfig("2015-04-01", "2015-04-02", bbox=BBox(0, 44, 2, 46))
    written = write_archive(
        config, s3.url("synth"), progress=False, storage_options=s3.storage_options
    )
    fs = s3.filesystem()
    assert sorted(fs.ls(f"{s3.bucket}/synth")) == sorted(
        [f"{s3.bucket}/synth/truth.zarr", *(f.removeprefix("s3://") for f in written.files)]
    )
    day = read_day(fs.cat_file(written.files[0].removeprefix("s3://")), name=written.files[0])
    np.testing.assert_array_equal(day.values, synthesize(config).sm.values[0])
    truth = xr.open_zarr(written.truth, storage_options=s3.storage_options)
    assert truth.sizes == {"time": 2, "lat": 8, "lon": 8}


def test_lprm_files_carry_the_error_estimate_and_ts_that_ingest_keeps(tmp_path):
    import h5py

    from sgdsm_cloud.cube import CubeChunks
    from sgdsm_cloud.ingest import IngestConfig, ingest
    from sgdsm_cloud.storage import Location
    from sgdsm_cloud.synth.archive import iter_days

    config = SynthConfig("2015-04-01", "2015-04-02", bbox=BBox(40, 45, 70, 58), seed=3)
    written = write_archive(config, tmp_path / "a", progress=False)
    days = list(iter_days(config))
    with h5py.File(written.files[0]) as h5:
        assert {"soil_moisture_c1_error", "ts"} <= set(h5)
        assert h5["ts"].attrs["units"] == "Kelvin"
    store = str(tmp_path / "raw.zarr")
    ingest(
        IngestConfig(
            (Location(str(tmp_path / "a")),),
            Location(store),
            chunks=CubeChunks(2, 40, 80),
        )
    )
    ds = cube.open_cube(store)
    for i, day in enumerate(days):
        seen = np.isfinite(day.sm)
        error = ds.sm_error.isel(time=i).values
        # the error model's standard deviation, in 0.01 m3 m-3 steps, where a value is archived
        np.testing.assert_allclose(error[seen], np.round(day.error[seen] * 100) / 100, atol=1e-6)
        assert np.isnan(error[~seen]).all()
        assert np.isin(np.round(error[seen] * 100), [2, 5]).all()  # 0.022 or 0.066 / 1.25
    frozen, sm = ds.frozen.values, ds.sm.values
    # Kazakhstan in early April: ts is written wherever the swath saw land, frozen included
    assert (frozen == 1).sum() > 100 and np.isnan(sm[frozen == 1]).all()
    assert (frozen == 0)[np.isfinite(sm)].all()
