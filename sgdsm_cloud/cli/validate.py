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

from sgdsm_cloud.cli.command import add_step
from sgdsm_cloud.options import from_args

if TYPE_CHECKING:
    from sgdsm_cloud.validate.context import ValidateConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    from sgdsm_cloud.validate.context import ValidateConfig

    add_step(subparsers, "validate", __doc__, run, ValidateConfig)


def build_config(args: argparse.Namespace) -> ValidateConfig:
    """The validation the parsed options ask for."""
    from sgdsm_cloud.validate.context import ValidateConfig

    return from_args(ValidateConfig, args)


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.validate.run import run_validation

    path = run_validation(build_config(args))
    print(f"report written to {path.parent} (open {path.name} or report.html)")
    return 0
