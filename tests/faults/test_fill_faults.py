"""The distributed fill from S3 to S3 through injected faults writes what a clean fill writes.

Faults reach the worker processes of a real LocalCluster (they talk to the proxy over
loopback). s3fs and botocore retry each request; a tile that still fails is re-run by dask
(``FillConfig.retries``), which is safe because a tile rewrites whole shards it alone owns.
"""

from __future__ import annotations

import pytest

from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.executor import run_fill
from sgdsm_cloud.fill.manifest import Manifest, manifest_location
from sgdsm_cloud.storage import Location
from sgdsm_cloud.testing.faults import FAULT_KINDS, NO_FAULTS, FaultPlan

from .conftest import store_digest, upload_store

pytestmark = pytest.mark.s3

TILES = FillConfig(tile_days=4, tile_cells=10, batch_size=8)  # 2 x 2 x 4 = 16 tiles
N_TILES = 16
FAST = FaultPlan(
    slowdown=0.03,
    reset_before=0.03,
    reset_mid=0.03,
    slow=0.03,
    delay_s=0.05,
    seed=3,
    max_consecutive=2,
)
HEAVY = FaultPlan(
    slowdown=0.1,
    reset_before=0.1,
    reset_mid=0.1,
    slow=0.1,
    delay_s=0.2,
    seed=11,
    max_consecutive=3,
)


def fill_clean_and_faulty(s3, proxy, client, model_dir, raw_store, plan: FaultPlan) -> dict:
    """Digests of a clean fill and of the same fill through the proxy under ``plan``."""
    upload_store(s3, raw_store, "raw.zarr")
    model = Location(str(model_dir))
    direct = s3.storage_options
    run_fill(
        Location(s3.url("raw.zarr"), direct),
        Location(s3.url("clean.zarr"), direct),
        model,
        TILES,
        client,
    )
    via = {"endpoint_url": proxy.url}
    proxy.plan = plan
    summary = run_fill(
        Location(s3.url("raw.zarr"), via), Location(s3.url("faulty.zarr"), via), model, TILES, client
    )
    proxy.plan = NO_FAULTS
    assert summary.tiles == len(summary.statuses) == N_TILES and summary.skipped == 0
    done = Manifest(manifest_location(Location(s3.url("faulty.zarr"), direct))).done_ids()
    assert len(done) == N_TILES
    return {
        "clean": store_digest(s3.url("clean.zarr"), direct),
        "faulty": store_digest(s3.url("faulty.zarr"), direct),
    }


def test_fill_through_every_fault_kind_equals_a_clean_fill(
    s3, proxy, client, model_dir, raw_store
):
    digests = fill_clean_and_faulty(s3, proxy, client, model_dir, raw_store, FAST)
    assert digests["faulty"] == digests["clean"]
    assert all(proxy.stats.faults[kind] > 0 for kind in FAULT_KINDS), proxy.stats.summary()


@pytest.mark.slow
def test_fill_through_heavy_faults_equals_a_clean_fill(s3, proxy, client, model_dir, raw_store):
    digests = fill_clean_and_faulty(s3, proxy, client, model_dir, raw_store, HEAVY)
    assert digests["faulty"] == digests["clean"]
    assert all(proxy.stats.faults[kind] > 10 for kind in FAULT_KINDS), proxy.stats.summary()
