"""``sgdsm sweep``: train the paper's sensitivity sweep (kernel, layers, feature maps) and score it.

One factor at a time around the default configuration (the structure of the paper's Tables
S1-S3): each configuration is trained on the raw cube and scored by SGD-SM on simulated gaps
drawn as 'sgdsm validate' draws them, so with the same days and gap options its rows sit next
to the report's main table. Writes OUT/sweep.csv and OUT/sweep.json (include them with
'sgdsm validate --sweep-table OUT/sweep.csv') and keeps the models under OUT/sweep_models/;
re-running the same command resumes them.
"""

from __future__ import annotations

import argparse

from sgdsm_cloud.cli.command import add_step
from sgdsm_cloud.options import from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    from sgdsm_cloud.validate.context import SweepConfig

    add_step(subparsers, "sweep", __doc__, run, SweepConfig)


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.validate.context import SweepConfig
    from sgdsm_cloud.validate.sweep import run_sweep, write_sweep

    config = from_args(SweepConfig, args)
    path = write_sweep(run_sweep(config), config.out)
    print(f"sweep table written to {path} (include it with: sgdsm validate --sweep-table {path})")
    return 0
