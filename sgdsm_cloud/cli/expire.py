"""``sgdsm expire PRODUCT --older-than 90d``: delete old versions of a seamless product and the data only they used.

Versions published before the cut-off go, except the newest and tagged ones. Then packs that
no remaining version references, and records of runs that never published, are deleted once
they are older than --grace: a writer running for less than that keeps what it has written
(make --grace longer than the longest fill or update). Prints what was removed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

from sgdsm_cloud.cli.command import add_command, add_product, product_repository
from sgdsm_cloud.options import Duration, converter


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "expire", __doc__, run)
    add_product(parser)
    parser.add_argument(
        "--older-than", required=True, type=converter(Duration), metavar="DURATION",
        help="expire versions published longer ago than this (e.g. 90d)",
    )  # fmt: skip
    parser.add_argument(
        "--grace", default="1d", type=converter(Duration), metavar="DURATION",
        help="keep unreferenced data younger than this (default: %(default)s)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    repository = product_repository(args)
    cutoff = dt.datetime.now(dt.UTC) - args.older_than
    removed = repository.expire(cutoff, grace=args.grace)
    print(json.dumps({"product": args.product, **removed}, sort_keys=True))
    return 0
