"""``sgdsm rollback PRODUCT --to VERSION``: publish an earlier version of a seamless product again, as its newest.

The version's references are published once more as a new version (readers see exactly what
they saw then, bit for bit); the versions after it stay in the history and can be restored
in turn. VERSION is a number from 'sgdsm history' or a tag.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sgdsm_cloud.cli.command import add_product_command
from sgdsm_cloud.options import option

if TYPE_CHECKING:
    from sgdsm_cloud.versioned.repository import Repository


@dataclass(frozen=True)
class Rollback:
    """The version ``sgdsm rollback`` publishes again."""

    to: str = option(help="version number or tag", metavar="VERSION")


def register(subparsers: argparse._SubParsersAction) -> None:
    add_product_command(subparsers, "rollback", __doc__, Rollback, run)


def run(repository: Repository, rollback: Rollback) -> int:
    restored = repository.resolve(rollback.to)
    version = repository.rollback(restored)
    print(
        json.dumps({"product": repository.location.url, "version": version, "restores": restored})
    )
    return 0
