"""``sgdsm ingest SOURCE... --store URL``: ingest raw LPRM/JAXA archive files into a raw zarr v3 cube.

Ingest raw AMSR2 L3 daily files (LPRM .nc4, JAXA .h5) into a raw zarr v3 cube, creating it
on the first run and extending it forward in time later. Re-runs skip days already ingested
and resume an interrupted run. Bad files are quarantined (listed on stderr and in the store's
'quarantine' attribute) and the run goes on. The slabs run on a LocalCluster of --workers
processes (default: the cores, at most 4; 1: in this process), or on the cluster at
--scheduler. Exit status: 0 clean, 3 some file quarantined, 1 error.
"""

from __future__ import annotations

import argparse
import sys

from sgdsm_cloud.cli.command import add_step, step_client
from sgdsm_cloud.options import Cluster, from_args

EXIT_OK, EXIT_QUARANTINED = 0, 3


def register(subparsers: argparse._SubParsersAction) -> None:
    from sgdsm_cloud.ingest.config import IngestConfig

    add_step(
        subparsers, "ingest", __doc__, run, IngestConfig, cluster="where the slabs run (Cluster)"
    )


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.ingest import IngestConfig, ingest
    from sgdsm_cloud.ingest.config import default_workers

    config = from_args(IngestConfig, args)
    with step_client(from_args(Cluster, args), default_workers()) as client:
        report = ingest(config, client=client)
    print(f"sgdsm ingest: {config.store}: {report.summary()}", file=sys.stderr)
    return EXIT_QUARANTINED if report.quarantined else EXIT_OK
