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

from sgdsm_cloud.cli.command import add_command

EXIT_OK, EXIT_QUARANTINED = 0, 3


def register(subparsers: argparse._SubParsersAction) -> None:
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
    parser.add_argument("--variable", help="LPRM band: c1 (default for a new store), c2 or x")
    parser.add_argument(
        "--pass",
        dest="pass_",
        choices=("A", "D"),
        help="ascending or descending (default: the store's)",
    )
    parser.add_argument("--start", help="first day to ingest, YYYY-MM-DD")
    parser.add_argument(
        "--end", help="last day to ingest, YYYY-MM-DD (a new store's axis spans --start..--end)"
    )
    parser.add_argument(
        "--bbox", help="crop global files to W,S,E,N degrees, snapped to the grid (new stores)"
    )
    parser.add_argument(
        "--storage-options",
        help='JSON fsspec options for s3:// sources and store, e.g. \'{"endpoint_url": "http://..."}\' '
        "(default: the AWS_* environment)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="parallel slab tasks (default: cores, at most 4; 1 = in process)",
    )
    parser.add_argument(
        "--chunks", help="TIME,LAT,LON chunk sizes of a new store (default 32,180,180)"
    )


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.grid import BBox
    from sgdsm_cloud.ingest import IngestConfig, ingest
    from sgdsm_cloud.ingest.config import default_workers, parse_chunks, parse_date
    from sgdsm_cloud.storage import Location, parse_storage_options

    parse_storage_options(args.storage_options)  # refuse bad JSON even when every path is local

    def location(url: str) -> Location:
        remote = "://" in url and not url.startswith("file://")
        return Location.from_cli(url, args.storage_options if remote else None)

    config = IngestConfig(
        sources=tuple(location(s) for s in args.sources),
        store=location(args.store),
        variable=args.variable,
        pass_=args.pass_,
        start=parse_date(args.start, "--start"),
        end=parse_date(args.end, "--end"),
        bbox=BBox.parse(args.bbox) if args.bbox else None,
        workers=default_workers() if args.workers is None else args.workers,
        chunks=parse_chunks(args.chunks),
    )
    report = ingest(config)
    print(f"sgdsm ingest: {config.store}: {report.summary()}", file=sys.stderr)
    return EXIT_QUARANTINED if report.quarantined else EXIT_OK
