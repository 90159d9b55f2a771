"""``sgdsm tag PRODUCT NAME``: name a version of a seamless product, e.g. a release (never moved).

The newest version by default, or --version N. Readers open a tagged version with
``open_seamless(url, version=NAME)``; 'sgdsm expire' never removes it.
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
class Tag:
    """The name ``sgdsm tag`` gives, and to which version."""

    name: str = option(help="letters, digits, '.', '_' and '-'", positional=True, metavar="NAME")
    version: str | None = option(None, "version number (default: the newest)")


def register(subparsers: argparse._SubParsersAction) -> None:
    add_product_command(subparsers, "tag", __doc__, Tag, run)


def run(repository: Repository, tag: Tag) -> int:
    number = repository.resolve(tag.version)
    repository.tag(tag.name, number)
    print(json.dumps({"product": repository.location.url, "tag": tag.name, "version": number}))
    return 0
