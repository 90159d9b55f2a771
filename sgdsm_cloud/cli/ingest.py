"""``sgdsm ingest SOURCE... --store URL``: ingest raw LPRM/JAXA archive files into a raw zarr v3 cube.

Ingest raw AMSR2 L3 daily files (LPRM .nc4, JAXA .h5) into a raw zarr v3 cube, creating it
on the first run and extending it forward in time later. Re-runs skip days already ingested
and resume an interrupted run. Bad files are quarantined (listed on stderr and in the store's
'quarantine' attribute) and the run goes on. Exit status: 0 clean, 3 some file quarantined,
1 error.
"""

from __future__ import annotations

import argparse
import sys

from sgdsm_cloud.cli.command import add_command, add_storage_options, url_location
from sgdsm_cloud.cluster import add_scheduler_option
from sgdsm_cloud.options import add_options, from_args

EXIT_OK, EXIT_QUARANTINED = 0, 3


def register(subparsers: argparse._SubParsersAction) -> None:
    from sgdsm_cloud.ingest.config import IngestConfig

    parser = add_command(subparsers, "ingest", __doc__, run)
    parser.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="files, directories, globs, s3:// prefixes, https:// files or listings, or "
        "earthdata:COLLECTION (token: EARTHDATA_TOKEN or ~/.netrc)",
    )
    parser.add_argument(
        "--store",
        required=True,
        help="the cube: a local path (default) or an fsspec URL (s3://...)",
    )
    add_options(parser, IngestConfig)
    add_storage_options(parser, "s3:// sources and store")
    add_scheduler_option(parser, "run on --workers local processes")


def run(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from sgdsm_cloud.cluster import connect
    from sgdsm_cloud.ingest import IngestConfig, ingest
    from sgdsm_cloud.storage import Location

    def location(url: str) -> Location:
        return url_location(url, args.storage_options)

    config = from_args(
        IngestConfig,
        args,
        sources=tuple(location(s) for s in args.sources),
        store=location(args.store),
    )
    with connect(args.scheduler) if args.scheduler else nullcontext() as client:
        report = ingest(config, client=client)
    print(f"sgdsm ingest: {config.store}: {report.summary()}", file=sys.stderr)
    return EXIT_QUARANTINED if report.quarantined else EXIT_OK
