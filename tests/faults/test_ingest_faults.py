"""Ingest from S3 into S3 through injected faults writes exactly what a clean run writes."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import xarray as xr
from data.badfiles import name
from ingest.helpers import config, write_days

from sgdsm_cloud.ingest import ingest
from sgdsm_cloud.storage import Location
from sgdsm_cloud.testing.faults import FAULT_KINDS, NO_FAULTS, FaultPlan

from .conftest import every_kind_at, report, store_digest, upload

pytestmark = pytest.mark.s3

# Every kind at 3 %; no request fails more than twice in a row (transient faults).
FAST = every_kind_at(0.03, delay_s=0.05, seed=1, max_consecutive=2)
HEAVY = every_kind_at(0.1, delay_s=0.2, seed=7, max_consecutive=3)


def ingest_clean_and_faulty(s3, proxy, tmp_path, days, plan: FaultPlan, client=None):
    """The sources ingested through the proxy under ``plan`` (S3 to S3), on ``client``'s
    workers or in this process."""
    corpus = write_days(tmp_path / "raw", days)
    upload(s3, corpus.directory, "raw")
    via = {"endpoint_url": proxy.url}
    proxy.plan = plan
    result = ingest(
        config([Location(s3.url("raw"), via)], Location(s3.url("faulty.zarr"), via)), client=client
    )
    proxy.plan = NO_FAULTS
    return corpus, result


def assert_identical_and_complete(s3, corpus, result, tmp_path, proxy, test: str) -> None:
    """The faulty store equals a clean run of the same files, and every good day landed."""
    assert result.quarantined == () and result.ingested == len(corpus.good)
    clean = str(tmp_path / "clean.zarr")  # local and S3 stores of the same files are equal
    ingest(config([corpus.directory], clean))
    assert store_digest(s3.url("faulty.zarr"), s3.storage_options) == store_digest(clean)
    landed = xr.open_zarr(s3.url("faulty.zarr"), storage_options=s3.storage_options)
    for day, values in corpus.good.items():  # no day lost, every value as in the file
        np.testing.assert_array_equal(landed["sm"].sel(time=str(day)).values, values)
    days = int((landed["day_status"].values == 1).sum())
    report(test, **proxy.stats.summary(), days_expected=len(corpus.good), days_landed=days)


def test_ingest_through_every_fault_kind_equals_a_clean_run(s3, proxy, tmp_path):
    corpus, result = ingest_clean_and_faulty(s3, proxy, tmp_path, range(8), FAST)
    assert_identical_and_complete(s3, corpus, result, tmp_path, proxy, "ingest, 3 % each")
    assert all(proxy.stats.faults[kind] > 0 for kind in FAULT_KINDS), proxy.stats.summary()


@pytest.mark.slow
def test_ingest_on_worker_processes_through_heavy_faults_equals_a_clean_run(
    s3, proxy, tmp_path, client
):
    corpus, result = ingest_clean_and_faulty(s3, proxy, tmp_path, range(20), HEAVY, client)
    assert_identical_and_complete(s3, corpus, result, tmp_path, proxy, "ingest, 10 % each")
    assert all(proxy.stats.faults[kind] > 5 for kind in FAULT_KINDS), proxy.stats.summary()


def test_a_slab_is_rerun_when_the_client_library_gives_up(s3, proxy, tmp_path, caplog):
    """Once botocore's attempts at a reset connection are spent (s3fs adds none for it), the
    read fails; that must fail the slab, not quarantine the file, and the ingest retry runs
    the slab again. botocore is held to one attempt here (4 requests) to keep the test short;
    its default allows a few more attempts (docs/robustness.md)."""
    corpus = write_days(tmp_path / "raw", range(4))
    upload(s3, corpus.directory, "raw")
    victim = name(corpus.day(2))
    via = {"endpoint_url": proxy.url, "config_kwargs": {"retries": {"max_attempts": 1}}}
    proxy.plan = FaultPlan(reset_before=1.0, only=victim, max_consecutive=4)
    caplog.set_level(logging.WARNING, logger="sgdsm_cloud.ingest")
    result = ingest(config([Location(s3.url("raw"), via)], Location(s3.url("faulty.zarr"), via)))
    assert proxy.stats.faults["reset_before"] == 4
    assert any(
        "slab-00000" in m and "transient storage failure" in m and "attempt 2 of 4" in m
        for m in caplog.messages
    ), proxy.stats.faulted
    assert_identical_and_complete(s3, corpus, result, tmp_path, proxy, "ingest, slab retry")
