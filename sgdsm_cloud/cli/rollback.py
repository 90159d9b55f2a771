"""``sgdsm rollback PRODUCT --to VERSION``: publish an earlier version of a seamless product again, as its newest.

The version's references are published once more as a new version (readers see exactly what
they saw then, bit for bit); the versions after it stay in the history and can be restored
in turn. VERSION is a number from 'sgdsm history' or a tag.
"""

from __future__ import annotations

import argparse
import json

from sgdsm_cloud.cli.command import add_command, add_product, product_repository


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "rollback", __doc__, run)
    add_product(parser)
    parser.add_argument("--to", required=True, metavar="VERSION", help="version number or tag")


def run(args: argparse.Namespace) -> int:
    repository = product_repository(args)
    restored = repository.resolve(args.to)
    version = repository.rollback(restored)
    print(json.dumps({"product": args.product, "version": version, "restores": restored}))
    return 0
