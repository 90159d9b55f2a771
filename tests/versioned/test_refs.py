"""A version's references: pure functions over the kerchunk format."""

from __future__ import annotations

import base64

from sgdsm_cloud.versioned.refs import (
    apply,
    array_of,
    chunk_indices,
    chunk_key,
    data_refs,
    document,
    inline,
    pack_urls,
    without_arrays,
)


def test_metadata_is_inline_text_and_other_bytes_base64():
    assert inline("sm/zarr.json", b'{"a": 1}') == '{"a": 1}'
    encoded = inline("time/c/0", b"\x00\x01")
    assert encoded.startswith("base64:") and base64.b64decode(encoded[7:]) == b"\x00\x01"


def test_chunk_keys_and_the_chunks_a_region_covers():
    assert chunk_key("sm", (1, 0, 2)) == "sm/c/1/0/2"
    assert array_of("sm/c/1/0/2") == "sm" and array_of("sm/zarr.json") is None
    region = (slice(8, 20), slice(0, 16), slice(16, 32))
    assert list(chunk_indices(region, (8, 16, 16))) == [(1, 0, 1), (2, 0, 1)]


def test_changes_replace_and_remove_references():
    base = {
        "sm/c/0/0/0": ["s3://b/p1", 0, 10],
        "sm/c/1/0/0": ["s3://b/p1", 10, 5],
        "zarr.json": "{}",
    }
    changed = apply(base, {"sm/c/0/0/0": ["s3://b/p2", 0, 7], "sm/c/1/0/0": None})
    assert changed == {"sm/c/0/0/0": ["s3://b/p2", 0, 7], "zarr.json": "{}"}
    assert base["sm/c/1/0/0"] == ["s3://b/p1", 10, 5]  # the base is left as it was
    assert pack_urls(changed) == {"s3://b/p2"}
    assert data_refs(base, {"sm"}) == {k: v for k, v in base.items() if k != "zarr.json"}
    assert without_arrays(base, {"sm"}) == {"zarr.json": "{}"}


def test_a_version_document_is_kerchunk_with_our_record():
    doc = document({"zarr.json": "{}"}, {"version": 3})
    assert doc == {"version": 1, "refs": {"zarr.json": "{}"}, "sgdsm": {"version": 3}}
