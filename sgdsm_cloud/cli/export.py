"""``sgdsm export --filled URL --format netcdf --out DIR``: write daily NetCDF files of a seamless cube in the SGD-SM dataset's layout.

Write one NetCDF4 file per day of the seamless cube at --filled to --out (a directory or an
fsspec URL): original and reconstructed soil moisture in integer percent (int16, fill -32767),
the flag, and the uncertainty where the cube has one, with CF/ACDD attributes. One task per
group of days on a LocalCluster, or on the cluster at --scheduler. A re-run skips the days
whose file is complete. See docs/export.md.
"""

from __future__ import annotations

import argparse
import json

from sgdsm_cloud.cli.command import add_command, add_storage_options, add_workers, url_location
from sgdsm_cloud.cluster import add_scheduler_option
from sgdsm_cloud.options import add_options, from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    from sgdsm_cloud.publish.export import ExportConfig

    parser = add_command(subparsers, "export", __doc__, run)
    parser.add_argument(
        "--filled", required=True, help="seamless cube URL written by 'sgdsm fill' (path, s3://...)"
    )
    parser.add_argument("--out", required=True, help="directory or URL of the daily files")
    add_options(parser, ExportConfig)
    add_scheduler_option(parser, "start a LocalCluster")
    add_workers(parser, "LocalCluster worker processes (default: one per core)")
    add_storage_options(parser, "--filled and --out URLs")


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.cluster import connect
    from sgdsm_cloud.publish.export import ExportConfig, execute_export, prepare_export
    from sgdsm_cloud.storage import check_reachable

    config = from_args(ExportConfig, args)

    source, out = (url_location(url, args.storage_options) for url in (args.filled, args.out))
    check_reachable(source, must_exist=True)
    check_reachable(out)
    prepared = prepare_export(source, out, config)  # refuses bad inputs before a cluster starts
    with connect(args.scheduler, args.workers) as client:
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
