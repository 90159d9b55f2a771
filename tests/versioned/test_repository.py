"""Versions of a product: one writer per version, latest.json repaired, history, tags,
rollback and expiry that never removes what a version or a running writer needs."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading

import pytest

from sgdsm_cloud.errors import SgdsmError
from sgdsm_cloud.storage import Location
from sgdsm_cloud.versioned.packs import write_pack
from sgdsm_cloud.versioned.repository import LATEST, Repository, VersionConflict


def repository(tmp_path) -> Repository:
    repo = Repository(Location(str(tmp_path / "product")))
    repo.create()
    return repo


def version(repo: Repository, name: str, parent: int | None, **meta) -> int:
    refs = write_pack(repo.run(name).pack("t"), {"sm/c/0": name.encode()})
    return repo.commit({"zarr.json": "{}", **refs}, {"operation": name, **meta}, parent)


def latest(repo: Repository) -> dict:
    with open(repo.location.child(LATEST).path) as f:
        return json.load(f)


def test_versions_are_numbered_and_latest_is_the_newest(tmp_path):
    repo = repository(tmp_path)
    assert repo.exists() and repo.head() is None
    assert version(repo, "first", None) == 1 and version(repo, "second", 1) == 2
    assert repo.numbers() == [1, 2] and repo.head() == 2
    assert latest(repo)["sgdsm"]["version"] == 2
    assert [r["operation"] for r in repo.history()] == ["first", "second"]
    assert repo.load(1).meta["parent"] is None and repo.load(2).meta["parent"] == 1


def test_only_one_of_two_writers_on_the_same_parent_publishes(tmp_path):
    repo = repository(tmp_path)
    version(repo, "base", None)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def write(name: str) -> None:
        start.wait()
        try:
            version(repo, name, 1)
            outcomes.append("published")
        except VersionConflict as err:
            outcomes.append(str(err))

    threads = [threading.Thread(target=write, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("published") == 1
    assert any("published by another writer" in o for o in outcomes)
    assert repo.numbers() == [1, 2]


def test_a_writer_killed_before_latest_leaves_readers_on_the_previous_version(tmp_path):
    repo = repository(tmp_path)
    version(repo, "base", None)
    before = open(repo.location.child(LATEST).path).read()
    v2 = repo.location.child("versions").child("v000002.json")
    os.makedirs(os.path.dirname(v2.path), exist_ok=True)
    with open(v2.path, "w") as f:  # the version was created; the kill came before latest.json
        json.dump(
            {"version": 1, "refs": {}, "sgdsm": {"version": 2, "created": "2026-01-01T00:00:00Z"}},
            f,
        )
    assert open(repo.location.child(LATEST).path).read() == before
    repo.repair_latest()
    assert latest(repo)["sgdsm"]["version"] == 2


def test_tags_resolve_and_never_move(tmp_path):
    repo = repository(tmp_path)
    version(repo, "base", None)
    version(repo, "next", 1)
    repo.tag("release-2019", 1)
    assert repo.resolve("release-2019") == 1 and repo.resolve(None) == 2 and repo.resolve("2") == 2
    with pytest.raises(SgdsmError, match="never moved"):
        repo.tag("release-2019", 2)
    with pytest.raises(SgdsmError, match="no version or tag 'nope'"):
        repo.resolve("nope")
    with pytest.raises(SgdsmError, match="tag"):
        repo.tag("../escape", 1)


def test_rollback_publishes_the_earlier_references_again(tmp_path):
    repo = repository(tmp_path)
    version(repo, "base", None)
    version(repo, "next", 1)
    assert repo.rollback(1) == 3
    assert repo.load(3).refs == repo.load(1).refs
    assert repo.load(3).meta["operation"] == "rollback" and repo.load(3).meta["restores"] == 1
    assert repo.numbers() == [1, 2, 3]  # the history is kept


def test_expiry_keeps_the_newest_the_tagged_and_young_unreferenced_data(tmp_path):
    repo = repository(tmp_path)
    for number, name in enumerate(("a", "b", "c", "d"), start=1):
        version(repo, name, number - 1 or None)
    repo.tag("keep", 2)
    pending = repo.run("running").pack("t")  # a running writer's pack, not referenced yet
    write_pack(pending, {"sm/c/0": b"new"})
    future = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    removed = repo.expire(future, grace=dt.timedelta(days=1))
    assert removed["versions"] == 2 and repo.numbers() == [2, 4]
    assert os.path.exists(pending.path)  # younger than the grace
    assert removed["packs"] == 0  # the expired versions' packs are young too
    removed = repo.expire(future, grace=dt.timedelta(0))
    assert removed["packs"] == 3  # a, c and the unpublished one
    for number in repo.numbers():  # what remains still reads
        for ref in repo.load(number).refs.values():
            if isinstance(ref, list):
                assert os.path.exists(ref[0])
