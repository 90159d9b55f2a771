"""``sgdsm update SOURCE... --store RAW --model MODEL --out PRODUCT``: keep a seamless product current, one version per run.

Ingest what is new or changed in the sources into the raw cube, refill exactly the days whose
window changed (a new day T: T-4..T; a changed granule's day D: D-4..D+4) with the product's
own model, check the result and publish it as the product's next version, all at once or not
at all. Days whose window is not complete yet are marked provisional and filled again as
later days arrive. Nothing new: nothing is published. The tiles run in this process, or on a
LocalCluster of --workers processes, or on the cluster at --scheduler. Prints a JSON summary.
See docs/update.md.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

from sgdsm_cloud.cli.command import add_step, step_client
from sgdsm_cloud.ingest.config import sources_option
from sgdsm_cloud.model.builtin import resolve_model
from sgdsm_cloud.options import Cluster, from_args, url
from sgdsm_cloud.storage import Location


@dataclass(frozen=True)
class UpdateIO:
    """What ``sgdsm update`` reads and writes."""

    sources: tuple[Location, ...] = sources_option()
    store: Location = url("the raw cube the product was filled from")
    model: Location = url(
        "the product's model: checkpoint folder or builtin:NAME",
        metavar="MODEL",
        resolve=resolve_model,
    )
    out: Location = url("the seamless product made by 'sgdsm fill'")
    other_pass: Location | None = url(
        "a two-pass product's raw cube of the other overpass ('sgdsm fill --other-pass')",
        required=False,
    )
    other_sources: tuple[Location, ...] | None = url(
        "where the other overpass's granules come from (as SOURCE), with --other-pass",
        required=False,
        metavar="SOURCE",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    from sgdsm_cloud.update.config import UpdateOptions

    add_step(subparsers, "update", __doc__, run, UpdateIO, ("update (UpdateOptions)", UpdateOptions),
             cluster="where the tiles run (Cluster)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.update.config import UpdateOptions
    from sgdsm_cloud.update.run import execute_update, prepare_update

    io = from_args(UpdateIO, args)
    prepared = prepare_update(  # refuses bad inputs before a cluster starts
        io.sources, io.store, io.model, io.out, from_args(UpdateOptions, args),
        io.other_pass, io.other_sources or (),
    )  # fmt: skip
    with step_client(from_args(Cluster, args), default_workers=1) as client:
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
