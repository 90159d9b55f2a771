"""One ingest, three engines: in process, dask's process pool, and a distributed LocalCluster agree."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import xarray as xr
from data.badfiles import FIRST_DAY

from sgdsm_cloud.errors import StorageError
from sgdsm_cloud.ingest import ingest

from .helpers import assert_same_store, config, snapshot, write_days


def test_process_pool_and_local_cluster_write_the_same_store_as_one_process(tmp_path, corpus):
    from distributed import Client, LocalCluster

    sources = [corpus.directory]
    reference = ingest(config(sources, tmp_path / "inline.zarr", workers=1))
    assert reference.slabs == 5  # 20 days in chunks of 4
    pooled = ingest(config(sources, tmp_path / "pool.zarr", workers=2))
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        distributed = ingest(config(sources, tmp_path / "cluster.zarr"), client=client)
    expected = snapshot(str(tmp_path / "inline.zarr"))
    for name, report in (("pool", pooled), ("cluster", distributed)):
        assert report.quarantined == reference.quarantined and report.ingested == reference.ingested
        assert_same_store(expected, snapshot(str(tmp_path / f"{name}.zarr")))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failed_region_write_stops_the_run_naming_the_slab(tmp_path, workers):
    write_days(tmp_path / "raw", [0, 5])
    url = tmp_path / "cube.zarr"
    ingest(config([tmp_path / "raw"], url, end=FIRST_DAY + dt.timedelta(days=7)))
    write_days(tmp_path / "raw", [6])
    chunks = url / "sm" / "c" / "1"
    shutil.rmtree(chunks)
    chunks.write_text("not a directory")  # slab 1's chunks can no longer be written
    with pytest.raises(
        StorageError, match=r"slab-00001 \(days 4..7\): writing to .*cube.zarr failed"
    ):
        ingest(config([tmp_path / "raw"], url, workers=workers))
    status = xr.open_zarr(url, consolidated=False)["day_status"].values
    assert status.tolist() == [1, 0, 0, 0, 0, 1, 0, 0]  # the failed day is not recorded as ingested
