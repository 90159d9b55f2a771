"""``sgdsm demo``: the whole pipeline on an embedded default (what ``make demo`` runs).

synth -> ingest -> train -> fill -> validate. Each step runs the same ``sgdsm`` command a user
would type, printed before it runs, so the demo doubles as a worked example. The default is a
synthetic regional archive; ``--real`` points at a folder of real LPRM files instead (the
repository ships 15 days in tests/data/lprm), which are filled by the model shipped in the
package for them (``model.builtin.DEFAULT``) instead of a model trained on the spot.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sgdsm_cloud.cli.command import add_command
from sgdsm_cloud.errors import SgdsmError
from sgdsm_cloud.model.builtin import DEFAULT
from sgdsm_cloud.options import add_options, from_args, option
from sgdsm_cloud.outputs import OutputKind, claim
from sgdsm_cloud.storage import Location

# What the demo puts in its folder: each step's output (and the raw cube's lock)
DEMO_ENTRIES = frozenset(
    {"archive", "raw.zarr", "raw.zarr.lock", "model", "seamless", "report"}
)  # fmt: skip
DEMO_FOLDER = OutputKind(
    "demo folder",
    "sgdsm demo",
    lambda folder: folder.names <= DEMO_ENTRIES,
    DEMO_ENTRIES.__contains__,
)


@dataclass(frozen=True)
class DemoConfig:
    """The embedded default: small enough for 2 CPU cores in a few minutes.

    Attributes:
        workdir: where the archive, cubes, model and report go.
        real: a folder of real LPRM files to use instead of a synthetic archive.
        bbox: synthetic region W,S,E,N (eastern Australia: wide all-land patches, as training needs).
        start, end: synthetic period; several months so that windows and validation have room.
        variable: LPRM band for real files (the shipped sample holds only X band everywhere).
        real_model: the model that fills real files (the shipped LPRM X-band model).
        real_validate_args: extra validate options for real files: the last five days, and the
            GAPFILLED peer beside the baselines. The default model was trained on all 15 shipped
            days, so these scores are in sample; its recipe's scores on days it never saw are
            in docs/model.md.
        train_args, fill_args, validate_args: extra options of those steps.
    """

    workdir: Path = option(Path("demo-output"), "folder for every output")
    real: Path | None = option(
        None, "folder of real LPRM files to use instead of a synthetic archive"
    )
    bbox: str = "115,-35,150,-15"
    start: str = "2015-03-01"
    end: str = "2015-06-30"
    variable: str = "x"
    real_model: str = DEFAULT
    real_validate_args: tuple[str, ...] = ("--start", "2015-04-11", "--end", "2015-04-15", "--peer")
    train_args: tuple[str, ...] = (  # squares of >= 80 % land: the wet coast is in them too
        "--preset", "anomaly", "--epochs", "40", "--batch-size", "16", "--samples-per-epoch", "1024",
        "--loss-norm", "l1", "--lr-drops", "2", "--patience", "6", "--min-land-fraction", "0.8",
        "--max-validation-samples", "192",
    )  # fmt: skip
    fill_args: tuple[str, ...] = ("--workers", "2")
    validate_args: tuple[str, ...] = ("--n-days", "8")

    def commands(self) -> list[tuple[str, list[str]]]:
        """The ``sgdsm`` argument lists of every step, in order."""
        w = self.workdir
        raw, filled, report = w / "raw.zarr", w / "seamless", w / "report"
        model: Path | str = w / "model"
        steps: list[tuple[str, list[str]]] = []
        if self.real is None:
            archive = w / "archive"
            period = ["--start", self.start, "--end", self.end, f"--bbox={self.bbox}"]
            steps.append(("synth", ["synth", str(archive), *period]))
            source, variable = archive, "c1"
            validate_extra = ["--truth", str(archive / "truth.zarr")]
        else:
            source, variable = self.real, self.variable
            validate_extra = list(self.real_validate_args)
        store = ["--store", str(raw)]
        steps.append(("ingest", ["ingest", str(source), *store, "--variable", variable]))
        if self.real is None:
            steps.append(("train", ["train", *store, "--out", str(model), *self.train_args]))
        else:
            model = self.real_model
        steps += [
            ("fill", ["fill", *store, "--model", str(model), "--out", str(filled), *self.fill_args]),
            ("validate", ["validate", *store, "--model", str(model), "--filled", str(filled),
                          "--report", str(report), *validate_extra, *self.validate_args]),
        ]  # fmt: skip
        return steps


def run_demo(config: DemoConfig) -> Path:
    """Run every step; return the report folder. Raises SgdsmError naming the failed step."""
    from sgdsm_cloud.cli import EXIT_OK, EXIT_QUARANTINED, main

    claim(Location(str(config.workdir.resolve())), DEMO_FOLDER, option="--workdir")
    config.workdir.mkdir(parents=True, exist_ok=True)
    timings: list[tuple[str, float]] = []
    for name, argv in config.commands():
        print(f"\n$ sgdsm {shlex.join(argv)}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        status = main(argv)
        timings.append((name, time.perf_counter() - started))
        if status == EXIT_QUARANTINED:
            print(
                f"sgdsm demo: {name} quarantined some inputs (see above); going on", file=sys.stderr
            )
        elif status != EXIT_OK:
            raise SgdsmError(f"the demo's {name} step failed (exit {status}); its message is above")
    print(
        "\nsgdsm demo: step times " + ", ".join(f"{n} {s:.0f} s" for n, s in timings),
        file=sys.stderr,
    )
    return config.workdir / "report"


def register(subparsers: argparse._SubParsersAction) -> None:
    add_options(add_command(subparsers, "demo", __doc__, run), DemoConfig)


def run(args: argparse.Namespace) -> int:
    report = run_demo(from_args(DemoConfig, args))
    print(f"sgdsm demo: report in {report / 'report.md'} (and report.html)")
    return 0
