"""``sgdsm check PRODUCT --max-delay 5d``: is a seamless product current and whole? For monitoring.

Prints a JSON report: the newest day, how many days ago it ended, the last final day, and the
share of the land that is NaN over the last --days days. Exit status: 0 healthy, 4 late
(newest day older than --max-delay), 5 too much NaN on land (over --max-nan-share), 6 both,
1 the product cannot be read; each problem is one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

from sgdsm_cloud.cli.command import add_command, add_product, product_repository
from sgdsm_cloud.options import Count, Duration, converter


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "check", __doc__, run)
    add_product(parser)
    parser.add_argument(
        "--max-delay", default="5d", type=converter(Duration), metavar="DURATION",
        help="late when the newest day ended longer ago (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--max-nan-share", default=0.05, type=float, metavar="X",
        help="holey when more of the land is NaN over the last days (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--days", default=7, type=converter(Count), metavar="N",
        help="days checked for NaN (default: %(default)s)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.update.health import check_health

    repository = product_repository(args)
    health = check_health(
        repository.location.url,
        repository.location.storage_options,
        max_delay=args.max_delay,
        max_nan_share=args.max_nan_share,
        days=args.days,
    )
    print(json.dumps(health.to_dict(), sort_keys=True))
    for problem in health.problems:
        print(f"sgdsm check: {problem}", file=sys.stderr)
    return health.status
