"""``sgdsm tag PRODUCT NAME``: name a version of a seamless product, e.g. a release (never moved).

The newest version by default, or --version N. Readers open a tagged version with
``open_seamless(url, version=NAME)``; 'sgdsm expire' never removes it.
"""

from __future__ import annotations

import argparse
import json

from sgdsm_cloud.cli.command import add_command, add_product, product_repository


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "tag", __doc__, run)
    add_product(parser)
    parser.add_argument("name", metavar="NAME", help="letters, digits, '.', '_' and '-'")
    parser.add_argument("--version", help="version number (default: the newest)")


def run(args: argparse.Namespace) -> int:
    repository = product_repository(args)
    number = repository.resolve(args.version)
    repository.tag(args.name, number)
    print(json.dumps({"product": args.product, "tag": args.name, "version": number}))
    return 0
