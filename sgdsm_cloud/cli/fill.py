"""``sgdsm fill``: fill the gaps of a raw cube with a trained model (dask.distributed).

Fill the gaps of the raw cube at --store with the model at --model and write the seamless
cube to --out (zarr v3, CF/ACDD). One task per output tile on a LocalCluster, or on the cluster
at --scheduler. An interrupted run resumes when the same command is re-run.
"""

from __future__ import annotations

import argparse
import json

from sgdsm_cloud.cli.command import (
    add_command,
    add_period,
    add_storage_options,
    add_workers,
    url_location,
)
from sgdsm_cloud.cluster import add_scheduler_option
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.options import add_options, from_args
from sgdsm_cloud.schema import Attribution


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "fill", __doc__, run)
    parser.add_argument("--store", required=True, help="raw cube URL (local path, s3://...)")
    parser.add_argument(
        "--model",
        required=True,
        help="checkpoint directory written by 'sgdsm train' (path or URL), or a model shipped "
        "in the package: builtin:NAME (e.g. builtin:lprm-x-d-025)",
    )
    parser.add_argument("--out", required=True, help="output zarr URL")
    add_scheduler_option(parser, "start a LocalCluster")
    add_workers(parser, "LocalCluster worker processes (default: one per core; 1 with --gpu)")
    add_period(parser, "to fill")
    add_storage_options(parser, "the store, the output and the model")
    add_options(parser.add_argument_group("tiling and inference (FillConfig)"), FillConfig)
    add_options(
        parser.add_argument_group("who makes and publishes the product (Attribution, ACDD)"),
        Attribution,
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing output instead of resuming it"
    )


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.cluster import connect
    from sgdsm_cloud.fill.executor import execute_fill, prepare_fill
    from sgdsm_cloud.model.builtin import resolve_model
    from sgdsm_cloud.storage import check_reachable

    config = from_args(FillConfig, args)

    urls = (args.store, args.out, resolve_model(args.model))
    source, out, model = (url_location(url, args.storage_options) for url in urls)
    check_reachable(source, must_exist=True)
    check_reachable(model, must_exist=True)
    check_reachable(out)
    prepared = prepare_fill(  # refuses bad inputs before a cluster starts
        source,
        out,
        model,
        config,
        start=args.start,
        end=args.end,
        overwrite=args.overwrite,
        attribution=from_args(Attribution, args),
    )
    with connect(args.scheduler, args.workers, gpu=args.gpu) as client:
        summary = execute_fill(prepared, client)
    print(
        json.dumps(
            {
                "out": summary.out,
                "tiles": summary.tiles,
                "skipped": summary.skipped,
                "version": summary.version,
                **summary.totals(),
                "seconds": summary.seconds,
            },
            sort_keys=True,
        )
    )
    return 0
