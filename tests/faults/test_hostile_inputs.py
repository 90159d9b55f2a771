"""Hostile inputs never poison the cube: each is quarantined with one clear line, every good
file of the same run lands with its values, and a looping directory lists in one pass."""

from __future__ import annotations

import os

import numpy as np
import pytest
import xarray as xr
from data.badfiles import HostileCorpus, write_hostile_corpus, write_jaxa_corpus

from sgdsm_cloud.cli import main
from sgdsm_cloud.ingest.sources import list_sources
from sgdsm_cloud.storage import Location

from .conftest import report


def run_cli(corpus: HostileCorpus, store: str, capsys, *extra: str) -> tuple[int, list[str]]:
    code = main(["-q", "ingest", str(corpus.directory), "--store", store, *extra])
    return code, capsys.readouterr().err.splitlines()


def assert_quarantined_one_line_each(corpus: HostileCorpus, store: str, lines: list[str]) -> None:
    ds = xr.open_zarr(store)
    records = {q["file"].rsplit("/", 1)[1]: q["reason"] for q in ds.attrs["quarantine"]}
    assert records.keys() == corpus.bad.keys()
    for bad_name, fragment in corpus.bad.items():
        reason = records[bad_name]
        assert fragment in reason and "\n" not in reason, (corpus.kinds[bad_name], reason)
        [line] = [line for line in lines if f"/{bad_name}: " in line]  # one stderr line per file
        assert "ERROR sgdsm_cloud.ingest: quarantined " in line and reason in line
    assert len(set(corpus.kinds.values())) == len(corpus.kinds)  # every file a distinct kind


def assert_good_days_landed(corpus: HostileCorpus, store: str, test: str) -> None:
    ds = xr.open_zarr(store)
    for day, values in corpus.good.items():
        np.testing.assert_array_equal(ds["sm"].sel(time=str(day)).values, values)
    landed = set(ds["time"].values[ds["day_status"].values == 1].astype("datetime64[D]").tolist())
    assert landed == set(corpus.good)  # no good day lost, no bad day landed
    sm = ds["sm"].values
    assert np.nanmin(sm) >= 0 and np.nanmax(sm) <= 1 and not np.isinf(sm).any()
    kinds = {
        corpus.kinds[n]: q["reason"]
        for q in ds.attrs["quarantine"]
        for n in [q["file"].rsplit("/", 1)[1]]
    }
    report(
        test,
        kinds=len(kinds),
        quarantined=len(ds.attrs["quarantine"]),
        days_expected=len(corpus.good),
        days_landed=len(landed),
        reasons=kinds,
    )


def test_every_hostile_lprm_kind_is_quarantined_and_every_good_day_lands(tmp_path, capsys):
    corpus = write_hostile_corpus(tmp_path / "corpus")
    assert len(corpus.kinds) >= 30
    store = str(tmp_path / "cube.zarr")
    code, lines = run_cli(corpus, store, capsys, "--variable", "x", "--chunks", "4,10,20")
    assert code == 3
    assert_quarantined_one_line_each(corpus, store, lines)
    assert_good_days_landed(corpus, store, store.rsplit("/", 1)[1])


def test_jaxa_specific_hostile_kinds_are_quarantined_in_a_jaxa_cube(tmp_path, capsys):
    corpus = write_jaxa_corpus(tmp_path / "jaxa")
    store = str(tmp_path / "jaxa.zarr")
    code, lines = run_cli(corpus, store, capsys)
    assert code == 3
    assert_quarantined_one_line_each(corpus, store, lines)
    assert_good_days_landed(corpus, store, store.rsplit("/", 1)[1])


def test_a_directory_that_loops_back_on_itself_lists_in_one_pass(tmp_path):
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / "LPRM-AMSR2_L3_D_SOILM3_V001_20150401013500.nc4").write_bytes(b"x")
    (deep / "up").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "a" / "side").symlink_to(deep, target_is_directory=True)  # a second path
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "LPRM-AMSR2_L3_D_SOILM3_V001_20150402013500.nc4").write_bytes(b"y")
    (tmp_path / "a" / "linked").symlink_to(tmp_path / "outside", target_is_directory=True)

    found = list_sources((Location(str(tmp_path / "a")),))
    files = {s.url: s.problem for s in found}
    assert files == {
        str(deep / "LPRM-AMSR2_L3_D_SOILM3_V001_20150401013500.nc4"): None,
        str(tmp_path / "a" / "linked" / "LPRM-AMSR2_L3_D_SOILM3_V001_20150402013500.nc4"): None,
        str(deep / "up"): f"symbolic-link loop: leads back to {tmp_path / 'a'}, which contains it; "
        "not followed",
    }


@pytest.mark.parametrize("target", ["itself", "nowhere"])
def test_a_broken_link_named_as_a_source_is_quarantined_not_fatal(tmp_path, capsys, target):
    link = tmp_path / "LPRM-AMSR2_L3_D_SOILM3_V001_20150401013500.nc4"
    link.symlink_to(link.name if target == "itself" else tmp_path / "gone.nc4")
    assert list_sources((Location(str(link)),))[0].problem.startswith("symbolic link to")
    assert not os.path.exists(link)
