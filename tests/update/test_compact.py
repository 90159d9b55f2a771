"""A tile's final chunks live in one pack, however many updates wrote them."""

from __future__ import annotations

from sgdsm_cloud.storage import Location
from sgdsm_cloud.update.compact import compact, scattered_tiles
from sgdsm_cloud.versioned.packs import read_chunks, write_pack
from sgdsm_cloud.versioned.repository import Repository

from .conftest import Setup


def test_only_tiles_whose_final_chunks_are_scattered_are_named():
    refs = {
        "sm/c/0/0/0": ["fill.pack", 0, 4], "sm/c/1/0/0": ["update-1.pack", 0, 4],
        "sm/c/2/0/0": ["update-2.pack", 0, 4],  # not final yet
        "sm/c/0/1/0": ["fill.pack", 4, 4], "sm/c/1/1/0": ["fill.pack", 8, 4],
        "zarr.json": "{}",
    }  # fmt: skip
    assert scattered_tiles(refs, {"sm"}, (4, 1, 1), final_chunks=2) == {
        (0, 0, 0): ["sm/c/0/0/0", "sm/c/1/0/0"]
    }
    assert scattered_tiles(refs, {"sm"}, (4, 1, 1), final_chunks=1) == {}


def test_compaction_copies_the_bytes_unchanged_into_one_pack(tmp_path):
    run = Repository(Location(str(tmp_path / "p"))).run("update-x")
    refs = {
        **write_pack(Location(str(tmp_path / "a.pack")), {"sm/c/0/0/0": b"aaa"}),
        **write_pack(Location(str(tmp_path / "b.pack")), {"sm/c/1/0/0": b"bbbb"}),
    }
    moved = compact(refs, {(0, 0, 0): ["sm/c/0/0/0", "sm/c/1/0/0"]}, run, {})
    assert len({ref[0] for ref in moved.values()}) == 1
    assert read_chunks(moved, {}) == read_chunks(refs, {})


def test_after_many_updates_each_tile_reads_from_at_most_two_packs(setup: Setup):
    for _ in range(12):  # chunks of 8 days: the updates finalise at least one chunk
        setup.add_days(1)
        setup.update()
    repository = Repository(Location(str(setup.product)))
    refs = repository.load(repository.head()).refs
    packs_per_tile: dict[tuple[int, int], set[str]] = {}
    for key, ref in refs.items():
        if key.startswith("sm/c/"):
            t, y, x = (int(i) for i in key.split("/c/")[1].split("/"))
            packs_per_tile.setdefault((t // 2, y // 2, x // 2), set()).add(ref[0])
    assert max(len(packs) for packs in packs_per_tile.values()) <= 2
    assert any("final-" in url for packs in packs_per_tile.values() for url in packs)
