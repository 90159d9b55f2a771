"""Packs: chunks back to back in one object, read back by byte range."""

from __future__ import annotations

import pytest

from sgdsm_cloud.storage import Location
from sgdsm_cloud.versioned.packs import read_chunks, write_pack


def test_a_pack_holds_its_chunks_and_reads_them_back(tmp_path):
    chunks = {"sm/c/0/0/0": b"abc", "sm/c/0/0/1": b"defgh", "flag/c/0/0/0": b"i"}
    refs = write_pack(Location(str(tmp_path / "data" / "run" / "t1.pack")), chunks)
    assert refs["sm/c/0/0/1"] == [str(tmp_path / "data" / "run" / "t1.pack"), 3, 5]
    assert (tmp_path / "data" / "run" / "t1.pack").read_bytes() == b"abcdefghi"
    assert read_chunks(refs, {}) == chunks
    assert write_pack(Location(str(tmp_path / "empty.pack")), {}) == {}
    assert not (tmp_path / "empty.pack").exists()


@pytest.mark.s3
def test_packs_on_s3(s3):
    refs = write_pack(Location(s3.url("p/t.pack"), s3.storage_options), {"a": b"xx", "b": b"yyy"})
    assert read_chunks(refs, s3.storage_options) == {"a": b"xx", "b": b"yyy"}
