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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sgdsm_cloud.cli.command import add_product_command
from sgdsm_cloud.options import Duration, option

if TYPE_CHECKING:
    from sgdsm_cloud.versioned.repository import Repository


@dataclass(frozen=True)
class Expiry:
    """Which versions and data ``sgdsm expire`` deletes."""

    older_than: Any = option(
        help="expire versions published longer ago than this (e.g. 90d)",
        kind=Duration,
        metavar="DURATION",
    )
    grace: Any = option(
        "1d", "keep unreferenced data younger than this", kind=Duration, metavar="DURATION"
    )

    def __post_init__(self) -> None:
        for name in ("older_than", "grace"):
            if isinstance(getattr(self, name), str):
                object.__setattr__(self, name, Duration.parse(getattr(self, name)))


def register(subparsers: argparse._SubParsersAction) -> None:
    add_product_command(subparsers, "expire", __doc__, Expiry, run)


def run(repository: Repository, expiry: Expiry) -> int:
    cutoff = dt.datetime.now(dt.UTC) - expiry.older_than
    removed = repository.expire(cutoff, grace=expiry.grace)
    print(json.dumps({"product": repository.location.url, **removed}, sort_keys=True))
    return 0
