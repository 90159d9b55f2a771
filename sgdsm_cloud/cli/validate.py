"""``sgdsm validate``: validate a model/product: simulated gaps, in situ, time series; write a report.

Run the SGD-SM validation programmes: (a) simulated missing regions scored for SGD-SM and
baselines on the same masks, (b) ISMN in situ when --insitu is given, (c) time series at
points, plus the synthetic truth comparison (--truth) and a sensitivity sweep (--sweep).
Writes DIR/report.md, report.html, tables/ and figures/.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sgdsm_cloud.cli.command import add_command
from sgdsm_cloud.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "validate", __doc__, run)
    p.add_argument(
        "--store", required=True, metavar="URL", help="raw cube (zarr) from 'sgdsm ingest'"
    )
    p.add_argument(
        "--model",
        required=True,
        metavar="DIR",
        help="checkpoint directory from 'sgdsm train', or builtin:NAME (a model shipped in the "
        "package, e.g. builtin:lprm-x-d-025)",
    )
    p.add_argument("--report", required=True, metavar="DIR", help="report folder to write")
    p.add_argument(
        "--filled",
        metavar="URL",
        help="seamless cube from 'sgdsm fill' (default: computed where needed)",
    )
    p.add_argument("--insitu", metavar="PATH", help="ISMN download: folder, zip or .stm file")
    p.add_argument(
        "--truth",
        metavar="URL",
        help="complete field of a synthetic archive (truth.zarr from 'sgdsm synth')",
    )
    p.add_argument(
        "--start", metavar="DATE", help="first validated day (default: the cube's first)"
    )
    p.add_argument("--end", metavar="DATE", help="last validated day (default: the cube's last)")
    p.add_argument(
        "--days",
        metavar="D,D,...",
        help="days given simulated gaps (default: --n-days evenly spaced)",
    )
    p.add_argument(
        "--n-days", type=int, default=4, metavar="N", help="number of default days (default: 4)"
    )
    p.add_argument(
        "--gap-size",
        type=int,
        default=27,
        metavar="CELLS",
        help="side of a simulated gap block (default: 27)",
    )
    p.add_argument(
        "--gap-mode",
        choices=("squares", "pattern"),
        default="squares",
        help="remove whole blocks, or real gap shapes from other days inside them (default: squares)",
    )
    p.add_argument(
        "--gaps-per-day", type=int, default=8, metavar="N", help="blocks per day (default: 8)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the gap placement (default: 0)")
    p.add_argument(
        "--sweep",
        choices=("none", "small", "paper"),
        default="none",
        help="sensitivity sweep of kernel/layers/feature maps (default: none)",
    )
    p.add_argument(
        "--points",
        metavar="LAT,LON;...",
        help="time-series points (default: well-observed land cells)",
    )
    p.add_argument(
        "--insitu-depth",
        default="0,0.05",
        metavar="FROM,TO",
        help="sensor depth range in m (default: 0,0.05)",
    )
    p.add_argument(
        "--insitu-tolerance",
        type=float,
        default=1.0,
        metavar="HOURS",
        help="largest gap between overpass and in-situ record (default: 1)",
    )
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N] (default: auto)")
    p.add_argument(
        "--batch-size", type=int, default=8, metavar="N", help="days per forward pass (default: 8)"
    )
    p.add_argument(
        "--no-crosscheck",
        action="store_true",
        help="do not run pytesmo's DCT-PLS even if installed",
    )
    p.add_argument(
        "--storage-options",
        metavar="JSON",
        help="fsspec options for every URL, e.g. '{\"anon\": true}'",
    )


def _depths(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(
            f"--insitu-depth takes FROM,TO in metres (e.g. 0,0.05), got {text!r}"
        ) from None
    return lo, hi


def build_config(args: argparse.Namespace):
    from sgdsm_cloud.model.builtin import resolve_model
    from sgdsm_cloud.storage import Location
    from sgdsm_cloud.validate.context import ValidateConfig
    from sgdsm_cloud.validate.insitu import InsituConfig
    from sgdsm_cloud.validate.masks import GapConfig
    from sgdsm_cloud.validate.timeseries import parse_points

    def loc(url: str | None) -> Location | None:
        return Location.from_cli(url, args.storage_options) if url else None

    depth_from, depth_to = _depths(args.insitu_depth)
    return ValidateConfig(
        store=loc(args.store),
        model=loc(resolve_model(args.model)),
        report=Path(args.report),
        filled=loc(args.filled),
        insitu=Path(args.insitu) if args.insitu else None,
        truth=loc(args.truth),
        start=args.start,
        end=args.end,
        days=tuple(d.strip() for d in args.days.split(",") if d.strip()) if args.days else None,
        n_days=args.n_days,
        gaps=GapConfig(
            mode=args.gap_mode, size=args.gap_size, per_day=args.gaps_per_day, seed=args.seed
        ),
        points=tuple(parse_points(args.points)) if args.points else None,
        insitu_options=InsituConfig(
            depth_from=depth_from, depth_to=depth_to, tolerance_hours=args.insitu_tolerance
        ),
        sweep=args.sweep,
        device=args.device,
        batch_size=args.batch_size,
        crosscheck=not args.no_crosscheck,
    )


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.validate.run import run_validation

    path = run_validation(build_config(args))
    print(f"report written to {path.parent} (open {path.name} or report.html)")
    return 0
