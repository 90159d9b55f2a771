"""``sgdsm export --filled URL --format netcdf --out DIR``: write daily NetCDF files of a seamless cube in the SGD-SM dataset's layout.

Write one NetCDF4 file per day of the seamless cube at --filled to --out (a directory or an
fsspec URL): original and reconstructed soil moisture in integer percent (int16, fill -32767),
the flag, and the uncertainty where the cube has one, with CF/ACDD attributes. One task per
group of days on a LocalCluster of --workers processes (default: one per core), or on the
cluster at --scheduler. A re-run skips the days whose file is complete. See docs/export.md.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

from sgdsm_cloud.cli.command import add_step, step_client
from sgdsm_cloud.options import Cluster, from_args, url
from sgdsm_cloud.storage import Location


@dataclass(frozen=True)
class ExportIO:
    """What ``sgdsm export`` reads and writes."""

    filled: Location = url("the seamless product written by 'sgdsm fill' (path, s3://...)")
    out: Location = url("directory or URL of the daily files")


def register(subparsers: argparse._SubParsersAction) -> None:
    from sgdsm_cloud.publish.export import ExportConfig

    add_step(subparsers, "export", __doc__, run, ExportIO, ExportConfig,
             cluster="where the days are written (Cluster)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.publish.export import ExportConfig, execute_export, prepare_export
    from sgdsm_cloud.storage import check_reachable

    io, config = from_args(ExportIO, args), from_args(ExportConfig, args)
    check_reachable(io.filled, must_exist=True)
    check_reachable(io.out)
    prepared = prepare_export(
        io.filled, io.out, config
    )  # refuses bad inputs before a cluster starts
    with step_client(from_args(Cluster, args)) as client:
        summary = execute_export(prepared, client)
    print(
        json.dumps(
            {
                "out": summary.out,
                "days": summary.days,
                "written": len(summary.written),
                "skipped": summary.skipped,
            },
            sort_keys=True,
        )
    )
    return 0
