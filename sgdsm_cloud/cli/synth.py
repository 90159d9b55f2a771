"""``sgdsm synth OUT_DIR --start D --end D``: write a synthetic AMSR2 archive (LPRM or JAXA files) and its complete truth cube.

Write physically plausible synthetic soil moisture as daily archive files in the real LPRM
(NetCDF4) or JAXA (HDF5) layout, with AMSR2 swath and retrieval gaps, plus OUT_DIR/truth.zarr
holding the complete field. The same seed gives the same values at a cell and day whatever
region or period is asked for. See docs/synth.md.
"""

from __future__ import annotations

import argparse

from sgdsm_cloud.cli.command import add_command, add_storage_options, add_workers, url_location
from sgdsm_cloud.options import add_options, from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    from sgdsm_cloud.synth.config import SynthConfig

    parser = add_command(subparsers, "synth", __doc__, run)
    parser.add_argument(
        "out_dir", metavar="OUT_DIR", help="output folder: local path or s3://... URL"
    )
    add_options(parser, SynthConfig)
    add_workers(
        parser,
        "processes that write spans of days; the archive is the same for any number (default: 1)",
        default=1,
    )
    add_storage_options(parser, "an s3:// OUT_DIR")


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.storage import check_reachable
    from sgdsm_cloud.synth import SynthConfig, write_archive

    config = from_args(SynthConfig, args)
    out = url_location(args.out_dir, args.storage_options)
    check_reachable(out)
    written = write_archive(
        config, out.url, storage_options=out.storage_options or None, workers=args.workers
    )
    kind = "LPRM NetCDF4" if config.fmt == "lprm" else "JAXA HDF5"
    print(
        f"sgdsm synth: {len(written.files)} {kind} files ({config.start}..{config.end}, pass {config.pass_}) in {out.url}"
    )
    print(f"sgdsm synth: truth cube in {written.truth}")
    return 0
