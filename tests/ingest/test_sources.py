"""Listing sources: directories walked, globs, explicit files, dedup; reading refuses unreadable files."""

from __future__ import annotations

import pytest

from sgdsm_cloud.errors import BadInputFile, ConfigError
from sgdsm_cloud.ingest.sources import SourceFile, list_sources, read_bytes
from sgdsm_cloud.storage import Location


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "2015" / "04").mkdir(parents=True)
    (tmp_path / "2015" / "04" / "b.nc4").write_bytes(b"bb")
    (tmp_path / "2015" / "a.h5").write_bytes(b"a")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "c.nc4").write_bytes(b"c")
    (tmp_path / "truth.zarr").mkdir()
    (tmp_path / "truth.zarr" / "d.nc4").write_bytes(b"d")
    return tmp_path


def test_directory_walk_keeps_archive_files_only(tree):
    found = list_sources((Location(str(tree)),))
    assert [(s.name, s.size) for s in found] == [("a.h5", 1), ("b.nc4", 2)]
    assert found[1].url == str(tree / "2015" / "04" / "b.nc4")


def test_globs_and_explicit_files(tree):
    found = list_sources(
        (Location(str(tree / "2015" / "**" / "*.nc4")), Location(str(tree / "notes.txt")))
    )
    assert [s.name for s in found] == [
        "b.nc4",
        "notes.txt",
    ]  # an explicit file is always a candidate


def test_each_url_is_listed_once_in_sorted_order(tree):
    twice = (Location(str(tree)), Location(str(tree / "2015" / "a.h5")))
    assert [s.name for s in list_sources(twice)] == ["a.h5", "b.nc4"]


def test_missing_source_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        list_sources((Location(str(tmp_path / "absent")),))


def test_read_bytes_reads_once_and_refuses_what_it_cannot_read(tree):
    assert read_bytes(SourceFile(Location(str(tree / "2015" / "a.h5")), 1)) == b"a"
    with pytest.raises(BadInputFile, match="cannot read the file") as info:
        read_bytes(SourceFile(Location(str(tree / "gone.nc4")), 1))
    assert info.value.path.endswith("gone.nc4")
