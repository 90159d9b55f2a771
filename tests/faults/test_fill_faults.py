"""The distributed fill from S3 to S3 through injected faults writes what a clean fill writes.

Faults reach the worker processes of a real LocalCluster (they talk to the proxy over
loopback). s3fs and botocore retry each request; a tile that still fails is re-run by dask
(``FillConfig.retries``), which is safe because a tile rewrites only its own pack and record.
"""

from __future__ import annotations

import pytest

from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.executor import run_fill
from sgdsm_cloud.storage import Location
from sgdsm_cloud.testing.faults import FAULT_KINDS, NO_FAULTS, FaultPlan

from .conftest import (
    FILL_TILE_COUNT,
    FILL_TILES,
    WHERE_ATTRS,
    every_kind_at,
    report,
    store_digest,
    upload_store,
)

pytestmark = pytest.mark.s3

TILES = FillConfig(**FILL_TILES)
FAST = every_kind_at(0.03, delay_s=0.05, seed=3, max_consecutive=2)
HEAVY = every_kind_at(0.1, delay_s=0.2, seed=11, max_consecutive=3)


def fill_through(s3, proxy, client, model_dir, raw_store, plan: FaultPlan) -> dict[str, str]:
    """Digest of the fill of ``raw_store`` from S3 to S3 through the proxy under ``plan``."""
    upload_store(s3, raw_store, "raw.zarr")
    via = {"endpoint_url": proxy.url}
    proxy.plan = plan
    summary = run_fill(
        Location(s3.url("raw.zarr"), via),
        Location(s3.url("filled.zarr"), via),
        Location(str(model_dir)),
        TILES,
        client,
    )
    proxy.plan = NO_FAULTS
    assert summary.tiles == len(summary.statuses) == FILL_TILE_COUNT and summary.skipped == 0
    out = Location(s3.url("filled.zarr"), s3.storage_options)
    assert summary.version == 1
    done = len(summary.statuses)
    report(
        f"fill, {plan.slowdown:.0%} each",
        **proxy.stats.summary(),
        tiles_expected=FILL_TILE_COUNT,
        tiles_done=done,
    )
    return store_digest(out.url, out.storage_options, ignore_attrs=WHERE_ATTRS)


def test_fill_through_every_fault_kind_equals_a_clean_fill(
    s3, proxy, client, model_dir, raw_store, clean_fill
):
    assert fill_through(s3, proxy, client, model_dir, raw_store, FAST) == clean_fill
    assert all(proxy.stats.faults[kind] > 0 for kind in FAULT_KINDS), proxy.stats.summary()


@pytest.mark.slow
def test_fill_through_heavy_faults_equals_a_clean_fill(
    s3, proxy, client, model_dir, raw_store, clean_fill
):
    assert fill_through(s3, proxy, client, model_dir, raw_store, HEAVY) == clean_fill
    assert all(proxy.stats.faults[kind] > 10 for kind in FAULT_KINDS), proxy.stats.summary()
