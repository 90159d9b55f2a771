"""``sgdsm publish``: describe a seamless cube with a STAC Collection and Item (xarray-assets, datacube).

Read the coordinates and attributes of the seamless cube at --filled (no data) and write a
self-contained STAC catalogue to --stac-out: collection.json and one item, whose zarr asset
tells readers how to open the cube with xarray. No credential is ever written.
"""

from __future__ import annotations

import argparse

from sgdsm_cloud.cli.command import add_step
from sgdsm_cloud.options import from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    from sgdsm_cloud.publish.api import PublishConfig

    add_step(subparsers, "publish", __doc__, run, PublishConfig)


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.publish.api import PublishConfig, publish

    print(publish(from_args(PublishConfig, args)))
    return 0
