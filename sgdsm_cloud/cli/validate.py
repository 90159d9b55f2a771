"""``sgdsm validate``: validate a model/product: simulated gaps, in situ, time series; write a report.

Run the SGD-SM validation programmes: (a) simulated missing regions scored for SGD-SM and
baselines on the same masks, (b) ISMN in situ when --insitu is given, (c) time series at
points, plus the synthetic truth comparison (--truth) and the table of a sensitivity sweep
(--sweep-table from 'sgdsm sweep', or --sweep to run one first).
Writes DIR/report.md, report.html, tables/ and figures/.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sgdsm_cloud.cli.command import add_command, add_storage_options
from sgdsm_cloud.options import add_options, from_args

if TYPE_CHECKING:
    from sgdsm_cloud.storage import Location
    from sgdsm_cloud.validate.context import ValidateConfig

URLS = (
    ("--filled", "seamless cube from 'sgdsm fill' (default: computed where needed)"),
    ("--truth", "complete field of a synthetic archive (truth.zarr from 'sgdsm synth')"),
)
NO_CROSSCHECK = "do not run pytesmo's DCT-PLS even if installed"


def register(subparsers: argparse._SubParsersAction) -> None:
    from sgdsm_cloud.validate.context import ValidateConfig

    p = add_command(subparsers, "validate", __doc__, run)
    add_store_and_model(p)
    for flag, text in URLS:
        p.add_argument(flag, metavar="URL", help=text)
    add_options(p, ValidateConfig)
    p.add_argument("--no-crosscheck", action="store_true", help=NO_CROSSCHECK)
    add_storage_options(p, "every URL")


def add_store_and_model(
    parser: argparse.ArgumentParser, model_required: bool = True, model_note: str = ""
) -> None:
    """``--store`` (the raw cube) and ``--model`` (a checkpoint, or a built-in one by name)."""
    parser.add_argument(
        "--store", required=True, metavar="URL", help="raw cube (zarr) from 'sgdsm ingest'"
    )
    parser.add_argument(
        "--model",
        required=model_required,
        metavar="DIR",
        help="checkpoint directory from 'sgdsm train', or builtin:NAME (a model shipped in the "
        f"package, e.g. builtin:lprm-x-d-025){model_note}",
    )


def locations(args: argparse.Namespace, *names: str) -> dict[str, Location | None]:
    """The URL options ``names`` as Locations (None where not given), ``--model`` resolved."""
    from sgdsm_cloud.model.builtin import resolve_model
    from sgdsm_cloud.storage import Location

    out: dict[str, Location | None] = {}
    for name in names:
        url = getattr(args, name)
        if url and name == "model":
            url = resolve_model(url)
        out[name] = Location.from_cli(url, args.storage_options) if url else None
    return out


def build_config(args: argparse.Namespace) -> ValidateConfig:
    from sgdsm_cloud.validate.context import ValidateConfig

    where = locations(args, "store", "model", "filled", "truth")
    return from_args(ValidateConfig, args, **where, crosscheck=not args.no_crosscheck)


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.validate.run import run_validation

    path = run_validation(build_config(args))
    print(f"report written to {path.parent} (open {path.name} or report.html)")
    return 0
