"""``sgdsm fill``: fill the gaps of a raw cube with a trained model (dask.distributed).

Fill the gaps of the raw cube at --store with the model at --model and write the seamless
product to --out (zarr v3, CF/ACDD, versioned). One task per output tile on a LocalCluster of
--workers processes (default: one per core; 1 with --gpu), or on the cluster at --scheduler.
An interrupted run resumes when the same command is re-run.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from sgdsm_cloud.cli.command import add_step, step_client
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.model.builtin import resolve_model
from sgdsm_cloud.options import Cluster, Day, from_args, option, url
from sgdsm_cloud.schema import Attribution
from sgdsm_cloud.storage import Location

MODEL_HELP = (
    "checkpoint directory written by 'sgdsm train' (path or URL), or a model shipped in the "
    "package: builtin:NAME (e.g. builtin:lprm-x-d-025-v2)"
)


@dataclass(frozen=True)
class FillIO:
    """What ``sgdsm fill`` reads and writes."""

    store: Location = url("raw cube (local path, s3://...) from 'sgdsm ingest'")
    model: Location = url(MODEL_HELP, metavar="MODEL", resolve=resolve_model)
    out: Location = url("the seamless product to write (path or URL)")
    other_pass: Location | None = url(
        "raw cube of the other overpass over the same days and grid, which a two-pass model "
        "(--preset anomaly-2pass in 'sgdsm train') reads",
        required=False,
    )
    start: Any = option(
        None, "first day to fill, YYYY-MM-DD (default: the store's first)", kind=Day
    )
    end: Any = option(None, "last day to fill, YYYY-MM-DD (default: the store's last)", kind=Day)
    overwrite: bool = option(
        False, "publish over a product holding another fill, or replace a plain zarr cube"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    add_step(
        subparsers, "fill", __doc__, run, FillIO, ("tiling and inference (FillConfig)", FillConfig),
        ("who makes and publishes the product (Attribution, ACDD)", Attribution),
        cluster="where the tiles run (Cluster)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.fill.executor import execute_fill, prepare_fill
    from sgdsm_cloud.storage import check_reachable

    io, config = from_args(FillIO, args), from_args(FillConfig, args)
    check_reachable(io.store, must_exist=True)
    check_reachable(io.model, must_exist=True)
    if io.other_pass is not None:
        check_reachable(io.other_pass, must_exist=True)
    check_reachable(io.out)
    prepared = prepare_fill(  # refuses bad inputs before a cluster starts
        io.store, io.out, io.model, config, start=io.start, end=io.end, overwrite=io.overwrite,
        attribution=from_args(Attribution, args), other_pass=io.other_pass,
    )  # fmt: skip
    with step_client(from_args(Cluster, args), gpu=config.gpu) as client:
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
