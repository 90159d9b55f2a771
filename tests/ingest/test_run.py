"""End-to-end ingest in this process: real LPRM days, the bad-file corpus, re-runs and extension."""

from __future__ import annotations

import datetime as dt

import h5py
import numpy as np
import pytest
import zarr
from data.badfiles import FIRST_DAY, REGION, name

from sgdsm_cloud.cube import CubeChunks, open_cube
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.formats import jaxa
from sgdsm_cloud.grid import BBox, bbox_slices
from sgdsm_cloud.ingest import ingest, store
from sgdsm_cloud.storage import Location

from .helpers import assert_same_store, config, open_store, snapshot, write_days


@pytest.fixture(scope="module")
def real_cube(tmp_path_factory, real_lprm_dir):
    """All fifteen real LPRM days (X band) ingested into a local store with the default chunks."""
    url = str(tmp_path_factory.mktemp("real") / "lprm.zarr")
    report = ingest(config([real_lprm_dir], url, chunks=CubeChunks()))
    return url, report


def h5py_day(path) -> np.ndarray:
    with h5py.File(path, "r") as h5:
        raw = h5["soil_moisture_x"][()]
    return np.where(raw == -32767, np.nan, raw / 100.0).T.astype("float32")


def test_all_real_lprm_files_ingest_with_values_and_provenance(real_cube, real_lprm_dir):
    url, report = real_cube
    assert (report.ingested, report.quarantined, report.days, report.files_listed) == (
        15,
        (),
        15,
        15,
    )
    ds = open_store(url)
    assert ds["sm"].shape == (15, 720, 1440) and ds["sm"].dtype == np.float32
    paths = sorted(real_lprm_dir.glob("*.nc4"))
    for i in (0, 7, 14):
        np.testing.assert_array_equal(ds["sm"].isel(time=i).values, h5py_day(paths[i]))
    assert ds["day_status"].values.tolist() == [1] * 15
    assert ds["source_file"].values.tolist() == [p.name for p in paths]
    assert ds["source_size"].values.tolist() == [p.stat().st_size for p in paths]
    assert (
        ds.attrs["source_variable"] == "soil_moisture_x"
        and ds.attrs["time_coverage_end"] == "2015-04-15"
    )
    assert 0.25 < ds["land"].values.mean() < 0.35  # a quarter to a third of the globe is land
    open_cube(url)  # the contract check of the downstream steps


def test_rerun_skips_everything_and_changes_nothing(real_cube, real_lprm_dir):
    url, _ = real_cube
    before = snapshot(url)
    report = ingest(config([real_lprm_dir], url, chunks=CubeChunks()))
    assert (report.ingested, report.unchanged, report.slabs, report.quarantined) == (0, 15, 0, ())
    assert set(report.seconds) == {"list", "plan", "template", "slabs", "consolidate"}
    assert_same_store(before, snapshot(url))
    assert len(open_store(url).attrs["history"].splitlines()) == 2


def test_bbox_crops_global_files_to_the_snapped_grid(tmp_path, real_lprm_dir):
    bbox = BBox(-10.1, 35.2, 30.0, 60.0)
    url = str(tmp_path / "europe.zarr")
    ingest(config(sorted(real_lprm_dir.glob("*.nc4"))[:2], url, bbox=bbox))
    ds = open_store(url)
    rows, cols = bbox_slices(0.25, bbox)
    assert ds.sizes == {"time": 2, "lat": rows.stop - rows.start, "lon": cols.stop - cols.start}
    assert ds["lon"].values[0] == -9.875 and ds["lat"].values[-1] == 35.375
    global_day = h5py_day(sorted(real_lprm_dir.glob("*.nc4"))[1])
    np.testing.assert_array_equal(ds["sm"].isel(time=1).values, global_day[rows, cols])
    assert ds.attrs["geospatial_lon_min"] == -9.875  # the westernmost cell centre


def test_bad_file_corpus_quarantines_each_file_and_keeps_every_good_day(tmp_path, corpus, caplog):
    url = str(tmp_path / "cube.zarr")
    report = ingest(config([corpus.directory], url))
    reasons = {r.name: r.reason for r in report.quarantined}
    assert reasons.keys() == corpus.bad.keys()
    for bad_name, fragment in corpus.bad.items():
        assert fragment in reasons[bad_name], bad_name
        assert any(bad_name in m and fragment in m for m in caplog.messages), bad_name
    assert report.ingested == len(corpus.good) == 7
    assert report.files_listed == 24  # README and the hidden file are not listed
    ds = open_store(url)
    assert [q["file"] for q in ds.attrs["quarantine"]] == sorted(
        str(corpus.directory / n) for n in corpus.bad
    )
    assert {q["file"].rsplit("/", 1)[1]: q["reason"] for q in ds.attrs["quarantine"]} == reasons
    for date, values in corpus.good.items():
        np.testing.assert_array_equal(ds["sm"].sel(time=str(date)).values, values)
    status = dict(
        zip(ds["time"].dt.day.values.tolist(), ds["day_status"].values.tolist(), strict=True)
    )
    assert [d for d, s in status.items() if s == 1] == [1, 2, 3, 4, 5, 6, 20]
    assert [d for d, s in status.items() if s == 2] == list(range(7, 18))  # decoded and refused
    assert status[18] == status[19] == 0  # other product / grid: never this cube's days


def test_corpus_rerun_is_stable_and_a_fixed_file_leaves_the_list(tmp_path, corpus):
    url = str(tmp_path / "cube.zarr")
    first = ingest(config([corpus.directory], url))
    before = snapshot(url)
    again = ingest(config([corpus.directory], url))
    assert again.quarantined == first.quarantined and again.ingested == 0 and again.unchanged == 7
    assert_same_store(before, snapshot(url))
    empty = corpus.directory / name(corpus.day(8))
    empty.unlink()
    fixed = write_days(corpus.directory, [8])  # the empty file replaced by a good one
    ingest(config([corpus.directory], url))
    ds = open_store(url)
    assert empty.name not in {q["file"].rsplit("/", 1)[1] for q in ds.attrs["quarantine"]}
    assert len(ds.attrs["quarantine"]) == len(corpus.bad) - 1
    np.testing.assert_array_equal(
        ds["sm"].sel(time=str(corpus.day(8))).values, fixed.good[corpus.day(8)]
    )
    assert int(ds["day_status"].sel(time=str(corpus.day(8)))) == 1


def test_a_later_period_extends_the_cube_like_one_run(tmp_path):
    write_days(tmp_path / "april", range(6))
    write_days(tmp_path / "may", range(6, 14))
    grown, once = str(tmp_path / "grown.zarr"), str(tmp_path / "once.zarr")
    ingest(config([tmp_path / "april"], grown))
    report = ingest(config([tmp_path / "april", tmp_path / "may"], grown))
    assert (report.ingested, report.unchanged, report.days) == (8, 6, 14)
    ingest(config([tmp_path / "april", tmp_path / "may"], once))
    assert_same_store(snapshot(grown), snapshot(once))
    assert open_store(grown).sizes["time"] == 14


def test_end_extends_the_axis_with_missing_days(tmp_path):
    write_days(tmp_path / "raw", [0, 1])
    url = str(tmp_path / "cube.zarr")
    ingest(config([tmp_path / "raw"], url, end=FIRST_DAY + dt.timedelta(days=9)))
    ds = open_store(url)
    assert ds.sizes["time"] == 10 and ds["day_status"].values.tolist() == [1, 1] + [0] * 8
    assert bool(ds["sm"].isel(time=slice(2, None)).isnull().all())


def test_files_before_the_store_are_a_clear_error_and_start_skips_them(tmp_path):
    write_days(tmp_path / "raw", [3, 4])
    url = str(tmp_path / "cube.zarr")
    ingest(config([tmp_path / "raw"], url))
    before = snapshot(url)
    write_days(tmp_path / "raw", [0, 6])
    with pytest.raises(
        ConfigError,
        match=r"predate the store's first day 2015-04-04.*--start 2015-04-04.*new --store",
    ):
        ingest(config([tmp_path / "raw"], url))
    assert_same_store(before, snapshot(url))
    report = ingest(config([tmp_path / "raw"], url, start=FIRST_DAY + dt.timedelta(days=3)))
    assert (report.ingested, report.filtered, report.days) == (1, 1, 4)


def test_both_passes_need_a_choice(tmp_path):
    corpus = write_days(tmp_path / "raw", [0, 1])
    ascending = tmp_path / "raw" / name(corpus.day(0)).replace("_L3_D_", "_L3_A_")
    ascending.write_bytes((tmp_path / "raw" / name(corpus.day(0))).read_bytes())
    with pytest.raises(ConfigError, match="choose with --pass"):
        ingest(config([tmp_path / "raw"], str(tmp_path / "c.zarr")))
    report = ingest(config([tmp_path / "raw"], str(tmp_path / "a.zarr"), pass_="A"))
    assert (report.ingested, report.filtered) == (1, 2)
    assert open_store(str(tmp_path / "a.zarr")).attrs["source_pass"] == "A"


def test_store_identity_is_fixed_by_the_first_run(tmp_path):
    write_days(tmp_path / "raw", [0])
    url = str(tmp_path / "cube.zarr")
    ingest(config([tmp_path / "raw"], url))
    with pytest.raises(ConfigError, match="--variable c1 differs from the store's soil_moisture_x"):
        ingest(config([tmp_path / "raw"], url, variable="c1"))
    with pytest.raises(ConfigError, match="--bbox .* differs from the store's grid"):
        ingest(config([tmp_path / "raw"], url, bbox=BBox(0, 40, 5, 45)))
    same_grid = ingest(config([tmp_path / "raw"], url, bbox=REGION))
    assert same_grid.unchanged == 1


def test_an_interrupted_template_is_recreated(tmp_path):
    write_days(tmp_path / "raw", [0])
    url = str(tmp_path / "cube.zarr")
    ingest(config([tmp_path / "raw"], url))
    zarr.open_group(url, mode="r+").attrs[store.CREATING_ATTR] = True
    report = ingest(config([tmp_path / "raw"], url))
    assert report.ingested == 1 and store.CREATING_ATTR not in open_store(url).attrs


def test_jaxa_files_ingest_rolled_to_minus_180_180(tmp_path):
    raw = tmp_path / "jaxa"
    raw.mkdir()
    lon = np.linspace(-179.875, 179.875, 1440)
    fields = {}
    for offset in range(3):
        values = np.tile(((lon + 180) / 400 + offset / 100)[None, :], (720, 1))
        values[:, ::97] = np.nan
        day = FIRST_DAY + dt.timedelta(days=offset)
        jaxa.write(raw / jaxa.file_name(day, "D", resolution=0.25), values, pass_="D", date=day)
        fields[day] = values
    bbox = BBox(170, -5, 180, 5)  # the east edge: the columns a wrong roll would misplace
    ingest(config([raw], str(tmp_path / "j.zarr"), variable=None, bbox=bbox))
    ds = open_store(str(tmp_path / "j.zarr"))
    rows, cols = bbox_slices(0.25, bbox)
    assert ds.attrs["source_product"] == "jaxa" and ds.attrs["source_variable"] == jaxa.DATASET
    for day, values in fields.items():
        want = np.where(np.isfinite(values), np.round(values * 1000) / 1000, np.nan)[rows, cols]
        np.testing.assert_allclose(ds["sm"].sel(time=str(day)).values, want, atol=1e-6)


def test_regional_files_fix_the_grid_of_a_new_store(tmp_path):
    corpus = write_days(tmp_path / "raw", [0, 2])
    url = str(tmp_path / "cube.zarr")
    ingest(config([tmp_path / "raw"], url))
    ds = open_store(url)
    np.testing.assert_array_equal(ds["lat"].values, corpus.lat)
    np.testing.assert_array_equal(ds["lon"].values, corpus.lon)
    np.testing.assert_array_equal(ds["sm"].isel(time=2).values, corpus.good[corpus.day(2)])
    assert ds["day_status"].values.tolist() == [1, 0, 1]


def test_any_fsspec_url_is_a_store(tmp_path):
    import fsspec

    corpus = write_days(tmp_path / "raw", [0, 1])
    url = f"memory://sgdsm-test-{tmp_path.name}/cube.zarr"
    try:
        ingest(config([tmp_path / "raw"], Location(url)))
        ds = open_store(url)
        np.testing.assert_array_equal(ds["sm"].isel(time=1).values, corpus.good[corpus.day(1)])
    finally:
        fsspec.filesystem("memory").rm(url, recursive=True)
