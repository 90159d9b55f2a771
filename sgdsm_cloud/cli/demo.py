"""``sgdsm demo``: the whole pipeline on the embedded default (what ``make demo`` runs)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run synth -> ingest -> train -> fill -> validate on the embedded default",
        description=(
            "Run the whole pipeline on a small synthetic regional archive (or on real LPRM files with --real), "
            "printing each sgdsm command before it runs, and say where the report is."
        ),
    )
    parser.add_argument(
        "--workdir", default="demo-output", help="folder for every output (default: demo-output)"
    )
    parser.add_argument(
        "--real",
        metavar="DIR",
        help="folder of real LPRM files to use instead of a synthetic archive",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sgdsm_cloud.demo import DemoConfig, run_demo

    report = run_demo(
        DemoConfig(workdir=Path(args.workdir), real=Path(args.real) if args.real else None)
    )
    print(f"sgdsm demo: report in {report / 'report.md'} (and report.html)")
    return 0
