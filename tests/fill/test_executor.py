"""The distributed fill on a real LocalCluster with S3 through the moto server."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter

import numpy as np
import pytest
import s3fs
import xarray as xr
from products import done_tiles

from sgdsm_cloud.errors import CheckpointError, ClusterLost, ConfigError
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.executor import run_fill
from sgdsm_cloud.fill.plugin import PLUGIN_NAME, FillPlugin
from sgdsm_cloud.fill.template import METHOD_DOI
from sgdsm_cloud.product import FLAG_MEANINGS, open_seamless
from sgdsm_cloud.storage import Location
from sgdsm_cloud.versioned.reader import reference_options
from sgdsm_cloud.versioned.repository import Repository

from .conftest import decoded_checksum, make_raw, one_piece_fill, write_raw
from .test_api import assert_same_fill

pytestmark = pytest.mark.s3

# Remainders on every axis, dateline halos, a band of excluded tiles, shards of 2 x 2 x 2 chunks.
EXACT = FillConfig(tile_days=10, tile_cells=40, chunk_days=5, chunk_cells=20, batch_size=32)
# Small tiles, so a run is still going when the test interrupts it; the cube they cut is
# shorter than ``raw`` (12 days), as twelve days already make 24 tiles, plenty to interrupt.
MANY = FillConfig(tile_days=4, tile_cells=24, chunk_days=4, chunk_cells=12, batch_size=32)
MANY_TILES = 3 * 2 * 4


def s3_location(s3, key: str, **extra) -> Location:
    return Location(s3.url(key), {**s3.storage_options, **extra})


@pytest.fixture(scope="module")
def raw():
    return make_raw(days=24)


@pytest.fixture(scope="module")
def short_raw():
    """The cube the interrupted runs fill with MANY."""
    return make_raw(days=12)


@pytest.fixture(scope="module")
def uninterrupted_checksum(short_raw, cluster, model_dir, tmp_path_factory):
    """Checksum of a local fill with MANY that nothing interrupted."""
    from distributed import Client

    root = tmp_path_factory.mktemp("uninterrupted")
    source = Location(write_raw(short_raw, str(root / "raw.zarr")))
    out = Location(str(root / "out.zarr"))
    with Client(cluster) as client:
        run_fill(source, out, Location(str(model_dir)), MANY, client)
    return decoded_checksum(out.url)


def test_distributed_fill_on_s3_equals_the_one_piece_fill(s3, client, raw, checkpoint, model_dir):
    source = s3_location(s3, "raw.zarr")
    write_raw(raw, source.url, source.storage_options)
    out = s3_location(s3, "filled.zarr")
    summary = run_fill(source, out, Location(str(model_dir)), EXACT, client)
    assert (
        summary.tiles == len({s["id"] for s in summary.statuses}) == 3 * 2 * 3
        and summary.skipped == 0
    )
    assert summary.totals()["tiles_ocean"] == 3 * 3  # the band south of 60 S is excluded
    assert summary.version == 1
    filled = open_seamless(out.url, out.storage_options)
    reference = one_piece_fill(raw, checkpoint.model, checkpoint.config.receptive_radius)
    assert_same_fill(filled.sm.values, filled.flag.values, reference)
    assert filled.sm.encoding["chunks"] == (5, 20, 20)
    assert np.isnan(filled.sm.encoding["fill_value"])
    # one pack per tile: a map or a series touches as many objects as a sharded layout did
    packs = {ref[0] for ref in Repository(out).load(1).refs.values() if isinstance(ref, list)}
    assert len(packs) == summary.totals()["tiles_filled"]


def test_public_bucket_reads_anonymously_with_cf_metadata(
    s3, client, raw, checkpoint, model_dir, monkeypatch
):
    source = s3_location(s3, "raw.zarr")
    write_raw(raw, source.url, source.storage_options)
    out = s3_location(s3, "public/filled.zarr")
    config = FillConfig(tile_days=24, tile_cells=48, batch_size=32)
    run_fill(
        Location(source.url, {**s3.storage_options, "key": "testing", "secret": "s3cr3t-value"}),
        out,
        Location(str(model_dir)),
        config,
        client,
    )
    expected = open_seamless(out.url, out.storage_options).load()
    # A bucket policy granting everyone read and list, as a public bucket has. Moto checks HEAD
    # requests against "s3:HeadObject" (AWS maps them to s3:GetObject), hence the extra action.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject", "s3:HeadObject"],
                "Resource": f"arn:aws:s3:::{s3.bucket}/*",
            },
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:ListBucket"],
                "Resource": f"arn:aws:s3:::{s3.bucket}",
            },
        ],
    }
    import boto3

    bucket_admin = boto3.client("s3", endpoint_url=s3.endpoint_url)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    anonymous = {"anon": True, "endpoint_url": s3.endpoint_url}
    latest = f"{out.url}/latest.json"  # what readers open, with xarray and fsspec alone
    s3fs.S3FileSystem.clear_instance_cache()
    with pytest.raises(PermissionError):  # not public yet
        xr.open_zarr("reference://", storage_options=reference_options(latest, anonymous))
    bucket_admin.put_bucket_policy(Bucket=s3.bucket, Policy=json.dumps(policy))
    s3fs.S3FileSystem.clear_instance_cache()
    public = xr.open_zarr(
        "reference://",
        storage_options={
            "fo": latest,
            "target_options": anonymous,
            "remote_protocol": "s3",
            "remote_options": {**anonymous, "asynchronous": True},
        },
    )

    xr.testing.assert_identical(public.load(), expected)
    flag, sm = public["flag"], public["sm"]
    assert flag.dtype == np.uint8
    assert list(flag.attrs["flag_values"]) == [0, 1, 2, 3, 4]
    assert (
        flag.attrs["flag_meanings"]
        == FLAG_MEANINGS
        == "not_land_or_excluded observed filled not_filled frozen"
    )
    assert flag.attrs["standard_name"] == "status_flag"
    assert sm.attrs["standard_name"] == "volume_fraction_of_condensed_water_in_soil"
    assert sm.attrs["units"] == "m3 m-3"
    assert sm.attrs["ancillary_variables"] == "flag sm_uncertainty"
    assert np.isnan(sm.encoding["_FillValue"]) and np.isnan(sm.encoding["fill_value"])
    assert public["land"].dims == ("lat", "lon")
    attrs = public.attrs
    assert "CF-1" in attrs["Conventions"] and "ACDD-1.3" in attrs["Conventions"]
    assert METHOD_DOI in attrs["references"] and attrs["model_sha256"] == checkpoint.sha256
    assert (
        attrs["time_coverage_start"] == "2015-03-01" and attrs["time_coverage_end"] == "2015-03-24"
    )
    assert attrs["source_store"] == source.url and "sgdsm fill" in attrs["history"].splitlines()[-1]
    assert attrs["sgdsm_cloud_version"]
    assert "s3cr3t" not in json.dumps(attrs, default=str) and "testing" not in json.dumps(
        attrs, default=str
    )


def _in_thread(target):
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = target()
        except BaseException as err:  # the interrupted run's own failure, inspected by the test
            outcome["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _wait_for_done(out: Location, at_least: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = len(done_tiles(out))
        if done >= at_least:
            return done
        time.sleep(0.02)
    raise AssertionError(f"fewer than {at_least} tiles finished in {timeout} s")


def test_rerun_after_a_crash_skips_finished_tiles_and_matches_an_uninterrupted_run(
    s3, cluster, client, short_raw, model_dir, uninterrupted_checksum
):
    from distributed import Client

    source, out = s3_location(s3, "raw.zarr"), s3_location(s3, "filled.zarr")
    write_raw(short_raw, source.url, source.storage_options)
    model = Location(str(model_dir))
    driver = Client(cluster, set_as_default=False)
    thread, outcome = _in_thread(lambda: run_fill(source, out, model, MANY, driver))
    _wait_for_done(out, 1)
    driver.close()  # the driver's connection dies mid-run: its tasks are cancelled
    thread.join(60)
    error = outcome.get("error")
    assert isinstance(error, ClusterLost), outcome
    assert "finished and are kept: re-run the same command to resume" in str(error)
    finished = done_tiles(out)
    assert 1 <= len(finished) < MANY_TILES, sorted(finished)
    assert Repository(out).head() is None  # nothing was published: readers see no half fill

    summary = run_fill(source, out, model, MANY, client)
    # Tiles the cancelled run had in flight may still have finished in the meantime.
    assert len(finished) <= summary.skipped < MANY_TILES, (sorted(finished), summary.skipped)
    assert {s["id"] for s in summary.statuses}.isdisjoint(finished)
    assert summary.skipped + len(summary.statuses) == summary.tiles
    assert decoded_checksum(out.url, out.storage_options) == uninterrupted_checksum


def test_a_worker_killed_mid_run_loses_and_duplicates_no_tile(
    s3, client, short_raw, model_dir, uninterrupted_checksum
):
    source, out = s3_location(s3, "raw.zarr"), s3_location(s3, "filled.zarr")
    write_raw(short_raw, source.url, source.storage_options)
    thread, outcome = _in_thread(
        lambda: run_fill(source, out, Location(str(model_dir)), MANY, client)
    )
    _wait_for_done(out, 1)
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    os.kill(victim, signal.SIGKILL)
    assert thread.is_alive(), "the run ended before a worker could be killed"
    thread.join(180)

    assert "error" not in outcome, outcome.get("error")
    summary = outcome["result"]
    counts = Counter(s["id"] for s in summary.statuses)
    assert len(counts) == summary.tiles == MANY_TILES and set(counts.values()) == {1}
    assert not done_tiles(out)  # the records go once the version is published
    assert victim not in client.run(os.getpid).values()
    assert decoded_checksum(out.url, out.storage_options) == uninterrupted_checksum


def test_workers_refuse_weights_other_than_the_planned_ones(client, model_dir):
    with pytest.raises(CheckpointError, match="weights changed"):
        client.register_plugin(
            FillPlugin(Location(str(model_dir)), "0" * 64, gpu=False, batch_size=1),
            name=PLUGIN_NAME,
        )


def test_another_fill_is_refused_unless_overwrite_publishes_it(s3, client, raw, model_dir):
    source, out = s3_location(s3, "raw.zarr"), s3_location(s3, "filled.zarr")
    write_raw(raw, source.url, source.storage_options)
    model = Location(str(model_dir))
    assert run_fill(source, out, model, EXACT, client).version == 1
    again = run_fill(source, out, model, EXACT, client)  # the same fill: nothing new
    assert again.version is None and again.skipped == again.tiles
    with pytest.raises(ConfigError, match="another first_day, shape.*--overwrite"):
        run_fill(source, out, model, EXACT, client, start="2015-03-02")
    assert (
        run_fill(source, out, model, EXACT, client, start="2015-03-02", overwrite=True).version == 2
    )
    assert open_seamless(out.url, out.storage_options).sizes["time"] == 23
    assert open_seamless(out.url, out.storage_options, version=1).sizes["time"] == 24


def test_a_failed_tile_keeps_its_traceback_redacted_in_the_worker_log(client, tmp_path):
    from sgdsm_cloud.fill.block import FillJob
    from sgdsm_cloud.fill.executor import TileFailed, run_tile
    from sgdsm_cloud.fill.geometry import Domain, Halo, TileShape, plan_blocks

    spec = plan_blocks(Domain(8, 0, 8, 4, 4, False), TileShape(8, 4, 4), Halo(0, 0))[0]
    missing = Location(str(tmp_path / "no-such-raw.zarr"))
    run = Repository(Location(str(tmp_path / "out"))).run("fill-test")
    job = FillJob(missing, run, (), chunk_days=8)
    future = client.submit(run_tile, spec.to_json(), job, pure=False)
    with pytest.raises(TileFailed, match=f"tile {spec.id}"):
        future.result()
    logs = "\n".join(line for lines in client.get_worker_logs().values() for _, line in lines)
    assert f"tile {spec.id} failed:" in logs and "Traceback (most recent call last)" in logs
