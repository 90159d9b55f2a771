"""The one rule for output paths: new, empty or the command's own; never an input's."""

from __future__ import annotations

import json
import os

import pytest

from sgdsm_cloud.errors import StorageError
from sgdsm_cloud.outputs import (
    KIND_ATTR,
    Found,
    OutputKind,
    OutputRefused,
    claim,
    read_marker,
    replace,
    zarr_store_kind,
)
from sgdsm_cloud.storage import Location

MARKED = OutputKind(
    "marked folder",
    "sgdsm test",
    lambda folder: isinstance(folder.read_json("marker.json"), dict),
    {"marker.json", "data"}.__contains__,
)
CUBE = zarr_store_kind("test cube", "sgdsm test", "test_cube", ("sm", "time"), legacy_member="sm")


def here(path) -> Location:
    return Location(str(path))


def zarr_group(path, attrs: dict) -> None:
    path.mkdir(parents=True)
    document = {"zarr_format": 3, "node_type": "group", "attributes": attrs}
    (path / "zarr.json").write_text(json.dumps(document))


def test_new_empty_and_own_paths_are_claimed(tmp_path):
    assert claim(here(tmp_path / "new"), MARKED) is Found.NEW
    (tmp_path / "empty").mkdir()
    assert claim(here(tmp_path / "empty"), MARKED) is Found.EMPTY
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "marker.json").write_text("{}")
    (tmp_path / "ours" / "data").write_text("x")
    assert claim(here(tmp_path / "ours"), MARKED) is Found.OURS


def test_a_folder_of_someone_elses_files_is_refused_and_left_alone(tmp_path):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter.tex").write_text("mine")
    with pytest.raises(OutputRefused, match=r"thesis already holds files \('chapter.tex'\)"):
        claim(here(folder), MARKED, option="--out")
    with pytest.raises(OutputRefused):
        replace(here(folder), MARKED)  # --overwrite never deletes what is not ours
    assert (folder / "chapter.tex").read_text() == "mine"


def test_our_output_with_a_foreign_file_inside_is_refused(tmp_path):
    folder = tmp_path / "ours"
    folder.mkdir()
    (folder / "marker.json").write_text("{}")
    (folder / "thesis.docx").write_text("mine")
    with pytest.raises(OutputRefused, match=r"also 'thesis.docx'"):
        claim(here(folder), MARKED)
    with pytest.raises(OutputRefused):
        replace(here(folder), MARKED)
    assert (folder / "thesis.docx").exists()


def test_replace_deletes_only_an_output_of_the_same_kind(tmp_path):
    folder = tmp_path / "ours"
    folder.mkdir()
    (folder / "marker.json").write_text("{}")
    replace(here(folder), MARKED)
    assert not folder.exists()


def test_a_file_is_not_a_folder_to_write_into(tmp_path):
    (tmp_path / "notes").write_text("mine")
    with pytest.raises(OutputRefused, match="is a file"):
        claim(here(tmp_path / "notes"), MARKED)
    with pytest.raises(OutputRefused, match="a parent of this path is a file|is a file"):
        claim(here(tmp_path / "notes" / "below"), MARKED)


@pytest.mark.parametrize(
    ("output", "source", "problem"),
    [
        ("cube", "cube", "is also an input"),
        ("work", "work/cube", "contains the input"),
        ("cube/inside", "cube", "lies inside the input"),
        ("archive/raw.zarr", "archive/*.nc4", "lies inside the input"),
    ],
)
def test_no_output_equals_contains_or_lies_inside_an_input(tmp_path, output, source, problem):
    (tmp_path / "work" / "cube").mkdir(parents=True)
    (tmp_path / "cube").mkdir(exist_ok=True)
    (tmp_path / "archive").mkdir()
    with pytest.raises(OutputRefused, match=problem):
        claim(here(tmp_path / output), MARKED, inputs=[here(tmp_path / source)])


def test_a_symbolic_link_to_an_input_is_the_input(tmp_path):
    (tmp_path / "cube").mkdir()
    os.symlink(tmp_path / "cube", tmp_path / "alias")
    with pytest.raises(OutputRefused, match="is also an input"):
        claim(here(tmp_path / "alias"), MARKED, inputs=[here(tmp_path / "cube")])


def test_inputs_elsewhere_or_on_other_protocols_do_not_overlap(tmp_path):
    inputs = [here(tmp_path / "cube"), Location("earthdata:LPRM"), Location("s3://b/out")]
    assert claim(here(tmp_path / "out"), MARKED, inputs=inputs) is Found.NEW


def test_a_path_that_cannot_be_created_is_refused_before_any_work(tmp_path):
    with pytest.raises(OutputRefused, match="cannot be created"):
        claim(Location("/proc/sgdsm-test/out"), MARKED)


def test_zarr_stores_say_what_they_are(tmp_path):
    zarr_group(tmp_path / "ours.zarr", {KIND_ATTR: "test_cube"})
    assert claim(here(tmp_path / "ours.zarr"), CUBE) is Found.OURS
    zarr_group(tmp_path / "raw.zarr", {KIND_ATTR: "raw_cube"})
    with pytest.raises(OutputRefused, match=r"a raw cube \(written by 'sgdsm ingest'\)"):
        claim(here(tmp_path / "raw.zarr"), CUBE)
    zarr_group(tmp_path / "old.zarr", {})  # written before the marker existed
    (tmp_path / "old.zarr" / "sm").mkdir()
    assert claim(here(tmp_path / "old.zarr"), CUBE) is Found.OURS
    zarr_group(tmp_path / "other.zarr", {})
    (tmp_path / "other.zarr" / "precip").mkdir()
    with pytest.raises(OutputRefused):
        claim(here(tmp_path / "other.zarr"), CUBE)


def test_markers_are_small_json_documents(tmp_path):
    (tmp_path / "marker.json").write_text('{"kind": 1}')
    (tmp_path / "broken.json").write_bytes(b"\xff\xfe not json")
    assert read_marker(here(tmp_path / "marker.json")) == {"kind": 1}
    assert read_marker(here(tmp_path / "broken.json")) is None
    assert read_marker(here(tmp_path / "absent.json")) is None
    assert read_marker(here(tmp_path)) is None  # a folder


@pytest.mark.s3
def test_on_s3_a_prefix_with_foreign_objects_is_refused(s3):
    fs = s3.filesystem()
    fs.pipe_file(f"{s3.bucket}/work/notes.txt", b"mine")
    out = Location(s3.url("work"), s3.storage_options)
    with pytest.raises(OutputRefused, match="notes.txt"):
        claim(out, MARKED)
    assert claim(Location(s3.url("fresh"), s3.storage_options), MARKED) is Found.NEW
    assert fs.cat_file(f"{s3.bucket}/work/notes.txt") == b"mine"


@pytest.mark.s3
def test_an_unreachable_endpoint_is_one_storage_error(moto_server):
    options = {"endpoint_url": "http://127.0.0.1:9", "retries": 1}  # port 9: nobody listens
    out = Location("s3://no-such-bucket/out", options)
    with pytest.raises(StorageError, match="no-such-bucket"):
        claim(out, MARKED)
