"""``sgdsm synth OUT_DIR --start D --end D``: a synthetic archive in a real format, plus its truth."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="write a synthetic AMSR2 archive (LPRM or JAXA files) and its complete truth cube",
        description=(
            "Write physically plausible synthetic soil moisture as daily archive files in the real LPRM "
            "(NetCDF4) or JAXA (HDF5) layout, with AMSR2 swath and retrieval gaps, plus OUT_DIR/truth.zarr "
            "holding the complete field. The same seed gives the same values at a cell and day whatever "
            "region or period is asked for. See docs/synth.md."
        ),
    )
    parser.add_argument(
        "out_dir",
        metavar="OUT_DIR",
        help="output directory: a local path or an fsspec URL (s3://...)",
    )
    parser.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--end", required=True, help="last day, YYYY-MM-DD (inclusive)")
    parser.add_argument("--bbox", help="region W,S,E,N in degrees (default: the globe)")
    parser.add_argument(
        "--res",
        type=float,
        choices=(0.25, 0.1),
        default=0.25,
        help="grid spacing in degrees (default 0.25)",
    )
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=("lprm", "jaxa"),
        default="lprm",
        help="file format (default lprm)",
    )
    parser.add_argument(
        "--pass",
        dest="pass_",
        choices=("A", "D"),
        default="D",
        help="ascending or descending (default D)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--storage-options",
        help='JSON fsspec options for an s3:// OUT_DIR, e.g. \'{"endpoint_url": "http://..."}\' (default: the AWS_* environment)',
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.grid import GLOBAL, BBox
    from sgdsm_cloud.storage import Location, check_reachable
    from sgdsm_cloud.synth import SynthConfig, write_archive

    config = SynthConfig(
        start=args.start,
        end=args.end,
        bbox=BBox.parse(args.bbox) if args.bbox else GLOBAL,
        res=args.res,
        fmt=args.fmt,
        pass_=args.pass_,
        seed=args.seed,
    )
    remote = "://" in args.out_dir and not args.out_dir.startswith("file://")
    out = Location.from_cli(args.out_dir, args.storage_options if remote else None)
    check_reachable(out)
    written = write_archive(config, out.url, storage_options=out.storage_options or None)
    kind = "LPRM NetCDF4" if config.fmt == "lprm" else "JAXA HDF5"
    print(
        f"sgdsm synth: {len(written.files)} {kind} files ({config.start}..{config.end}, pass {config.pass_}) in {out.url}"
    )
    print(f"sgdsm synth: truth cube in {written.truth}")
    return 0
