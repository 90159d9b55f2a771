"""``sgdsm publish``: describe a seamless cube with a STAC Collection and Item (xarray-assets, datacube).

Read the coordinates and attributes of the seamless cube at --filled (no data) and write a
self-contained STAC catalogue to --stac-out: collection.json and one item, whose zarr asset
tells readers how to open the cube with xarray. No credential is ever written.
"""

from __future__ import annotations

import argparse

from sgdsm_cloud.cli.command import add_command, add_storage_options
from sgdsm_cloud.publish.api import DEFAULT_COLLECTION_ID


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "publish", __doc__, run)
    parser.add_argument(
        "--filled", required=True, help="seamless cube URL written by 'sgdsm fill' (path, s3://...)"
    )
    parser.add_argument(
        "--stac-out", required=True, help="directory or URL of the catalogue (path, s3://...)"
    )
    parser.add_argument(
        "--href-public",
        help="URL readers open when it differs from --filled, e.g. the public bucket or an https mirror",
    )
    add_storage_options(parser, "--filled and --stac-out")
    parser.add_argument("--collection-id", default=DEFAULT_COLLECTION_ID, help="STAC collection id")
    parser.add_argument(
        "--license",
        dest="license_id",
        help="SPDX licence id (default: the cube's 'license' attribute)",
    )


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.publish.api import PublishConfig, publish
    from sgdsm_cloud.storage import Location, protocol_of

    filled = Location.from_cli(args.filled, args.storage_options)
    same_place = (
        protocol_of(args.stac_out) == filled.protocol
    )  # the options are for the cube's protocol
    config = PublishConfig(
        filled=filled,
        stac_out=Location.from_cli(args.stac_out, args.storage_options if same_place else None),
        href_public=args.href_public,
        collection_id=args.collection_id,
        license_id=args.license_id,
    )
    print(publish(config))
    return 0
