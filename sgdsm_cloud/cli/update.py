"""``sgdsm update SOURCE... --store RAW --model MODEL --out PRODUCT``: keep a seamless product current, one version per run.

Ingest what is new or changed in the sources into the raw cube, refill exactly the days whose
window changed (a new day T: T-4..T; a changed granule's day D: D-4..D+4) with the product's
own model, check the result and publish it as the product's next version, all at once or not
at all. Days whose window is not complete yet are marked provisional and filled again as
later days arrive. Nothing new: nothing is published. Prints a JSON summary. See
docs/update.md.
"""

from __future__ import annotations

import argparse
import json

from sgdsm_cloud.cli.command import add_command, add_storage_options, add_workers, url_location
from sgdsm_cloud.cluster import add_scheduler_option
from sgdsm_cloud.options import add_options, from_args
from sgdsm_cloud.storage import Location


def register(subparsers: argparse._SubParsersAction) -> None:
    from sgdsm_cloud.update.config import UpdateOptions

    parser = add_command(subparsers, "update", __doc__, run)
    parser.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="what 'sgdsm ingest' takes: files, folders, globs, s3:// prefixes, https:// "
        "listings or earthdata:COLLECTION",
    )
    parser.add_argument("--store", required=True, help="the raw cube the product was filled from")
    parser.add_argument(
        "--model", required=True, help="the product's model: checkpoint folder or builtin:NAME"
    )
    parser.add_argument("--out", required=True, help="the seamless product made by 'sgdsm fill'")
    add_options(parser.add_argument_group("update (UpdateOptions)"), UpdateOptions)
    add_scheduler_option(parser, "run in this process, or on --workers local processes")
    add_workers(parser, "LocalCluster worker processes (default: none, in this process)")
    add_storage_options(parser, "every URL")


def run(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from sgdsm_cloud.cluster import connect
    from sgdsm_cloud.model.builtin import resolve_model
    from sgdsm_cloud.update.config import UpdateOptions
    from sgdsm_cloud.update.run import execute_update, prepare_update

    def location(url: str) -> Location:
        return url_location(url, args.storage_options)

    prepared = prepare_update(  # refuses bad inputs before a cluster starts
        tuple(location(s) for s in args.sources),
        location(args.store),
        location(resolve_model(args.model)),
        location(args.out),
        from_args(UpdateOptions, args),
    )
    clustered = args.scheduler or args.workers
    with connect(args.scheduler, args.workers) if clustered else nullcontext() as client:
        summary = execute_update(prepared, client)
    print(
        json.dumps(
            {
                "out": summary.out,
                "version": summary.version,
                "days_added": list(summary.days_added),
                "days_refilled": list(summary.days_refilled),
                "final_days_refilled": list(summary.final_days_refilled),
                "granules": len(summary.granules),
                "tiles": summary.tiles,
                "pack_bytes": summary.pack_bytes,
                "seconds": summary.seconds,
            },
            sort_keys=True,
        )
    )
    return 0
