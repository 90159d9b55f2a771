"""The completion manifest beside the output, on local disk and in memory."""

from __future__ import annotations

import uuid

import pytest

from sgdsm_cloud.fill.manifest import Manifest, manifest_location
from sgdsm_cloud.storage import Location


@pytest.fixture(params=["local", "memory"])
def out(request, tmp_path) -> Location:
    if request.param == "local":
        return Location(str(tmp_path / "filled.zarr"))
    return Location(f"memory://{uuid.uuid4().hex}/filled.zarr")


def test_manifest_sits_beside_the_output_not_inside_it(out):
    assert manifest_location(out).url == f"{out.url}.manifest"


def test_tiles_are_recorded_one_object_each_and_cleared_together(out):
    manifest = Manifest(manifest_location(out))
    assert manifest.done_ids() == set() and manifest.read_plan() is None
    manifest.write_plan({"model_sha256": "abc"})
    manifest.mark_done("t0000-y000-x000", {"filled": 3})
    manifest.mark_done("t0000-y000-x001", {"filled": 0})
    manifest.mark_done("t0000-y000-x001", {"filled": 0})  # a retried tile rewrites its own record
    assert manifest.done_ids() == {"t0000-y000-x000", "t0000-y000-x001"}
    assert Manifest(manifest_location(out)).read_plan() == {"model_sha256": "abc"}
    manifest.clear()
    assert manifest.done_ids() == set() and manifest.read_plan() is None
