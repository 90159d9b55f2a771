"""The product at its full shape: 2013-2019, global 0.25 degree, the shipped ``anomaly``
variant with its error model, then a month of daily updates.

    python benchmarks/full_run.py [--quick] [--workdir DIR] [--fresh] [--record]

Steps, each the ``sgdsm`` command a user would run, in its own process, timed and watched
(``benchmarks/steps.py``: wall time, peak RSS of the command and of the workers it starts):

1. ``synth``: a synthetic global LPRM archive of 2013-01-01 .. 2019-12-31 and the 30 days
   after, with its truth cube;
2. ``ingest`` of 2013-2019 from disk, on a LocalCluster of 2 workers;
3. ``train``: the ``anomaly`` preset, streaming from the 7-year store (an epoch draws its samples
   from a few slabs: ``--slabs-per-epoch``), then its error model; ``train_1y`` trains the same
   way on the first year only, for 3 epochs: the peak memory of the two says whether memory
   grows with the record;
4. ``fill`` on 2 workers, its client SIGKILLed when half the tiles are done, then the same
   command again, which resumes; ``recompute``: sample land tiles filled again in this process
   and compared bit for bit with the product;
5. ``validate`` on sample days against the truth, and ``accuracy``: every 7th day of the whole
   period scored against the truth in the real gaps, by latitude band and season, with the
   baselines and the standard errors' coverage (``benchmarks/full_run_accuracy.py``);
6. ``publish`` (STAC) and ``export`` of the last year as daily NetCDF;
7. ``update_NN``: 30 daily updates through ``sgdsm update earthdata:...``, the loopback
   Earthdata server offering one more granule each day: time, bytes written, requests.

``--quick`` shortens the period to 64 days and 2 updates, with a token training: a check of a
few minutes. Finished steps are kept in ``WORKDIR/steps.json`` and not rerun, so a run cut off
after hours resumes at its first unfinished step (``--fresh`` starts over).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``benchmarks`` and ``sgdsm_cloud`` importable
    sys.path.insert(0, str(REPO))

from benchmarks.common import load_average, result  # noqa: E402
from benchmarks.run import (  # noqa: E402
    MARKDOWN,
    RESULTS_DIR,
    keep_latest,
    measured_record,
    update_markdown,
)
from benchmarks.steps import Step, run_step, tree_size  # noqa: E402

WORKERS = 2
COLLECTION, TOKEN = "LPRM_AMSR2_D_SOILM3", "loopback-token-full-run"
TRAIN = (  # the demo's recipe, its epochs drawing 1,024 samples from 8 random slabs of 32 days
    "--preset", "anomaly", "--batch-size", "16", "--samples-per-epoch", "1024",
    "--slabs-per-epoch", "8", "--loss-norm", "l1", "--lr-drops", "2", "--patience", "6",
    "--min-land-fraction", "0.8", "--max-validation-samples", "256", "--device", "cpu",
)  # fmt: skip
ATTRIBUTION = ("--license", "CC-BY-4.0", "--creator-name", "sgdsm_cloud full-shape rehearsal")


@dataclass(frozen=True)
class Shape:
    """What the run covers.

    Attributes:
        start, end: the period the first fill covers; ``updates`` days follow, one an update.
        epochs: the training's epoch budget (it stops earlier when it converges).
        one_year_end: the end of the one-year training of the memory comparison.
        tile_days, tile_cells: the fill's tiles.
        accuracy_every: the accuracy table scores every this many days.
        validate_days: days ``sgdsm validate`` scores.
        export_start: the export covers this day .. ``end``.
        sample_tiles: land tiles filled again to compare with the product.
        one_year_epochs: epochs of the one-year training (its memory peaks in the first).
        bfloat16: the fill's CNN in bfloat16 (``sgdsm fill --bfloat16``); updates keep it.
    """

    start: str
    end: str
    updates: int
    epochs: int
    one_year_end: str
    tile_days: int = 384
    tile_cells: int = 360
    accuracy_every: int = 7
    validate_days: int = 4
    export_start: str = "2019-01-01"
    sample_tiles: int = 4
    one_year_epochs: int = 3
    bfloat16: bool = True

    @property
    def days(self) -> int:
        return (dt.date.fromisoformat(self.end) - dt.date.fromisoformat(self.start)).days + 1

    def day(self, offset: int) -> str:
        return (dt.date.fromisoformat(self.end) + dt.timedelta(days=offset)).isoformat()


FULL = Shape("2013-01-01", "2019-12-31", updates=30, epochs=40, one_year_end="2013-12-31")
QUICK = Shape(
    "2013-01-01", "2013-03-05", updates=2, epochs=2, one_year_end="2013-02-05", tile_days=32,
    accuracy_every=8, validate_days=2, export_start="2013-03-01", sample_tiles=2, one_year_epochs=1,
)  # fmt: skip


class Rehearsal:
    """The steps in order, each skipped when ``steps.json`` records it as done."""

    def __init__(self, shape: Shape, workdir: Path, fresh: bool) -> None:
        self.shape, self.dir = shape, workdir
        if fresh and workdir.exists():
            shutil.rmtree(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        self.record_path = workdir / "steps.json"
        self.steps: dict[str, dict[str, Any]] = (
            json.loads(self.record_path.read_text()) if self.record_path.exists() else {}
        )
        self.archive, self.served = workdir / "archive", workdir / "served"
        self.raw, self.model = workdir / "raw.zarr", workdir / "model"
        self.product, self.logs = workdir / "product", workdir / "logs"

    def keep(self, step: Step) -> None:
        self.steps[step.name] = asdict(step)
        self.record_path.write_text(json.dumps(self.steps, indent=2) + "\n")

    def done(self, name: str) -> bool:
        return name in self.steps

    def command(
        self, name: str, argv: list[str], written: list[Path], **kwargs: Any
    ) -> Step | None:
        """Run ``sgdsm ARGV`` as step ``name`` unless recorded, counting what it wrote."""
        if self.done(name):
            return None
        step = run_step(name, argv, self.logs, **kwargs)
        step.objects, step.bytes = tree_size(*written)
        self.keep(step)
        return step

    def run(self) -> dict[str, dict[str, Any]]:
        s, raw, model, product = self.shape, str(self.raw), str(self.model), str(self.product)
        self.command("synth", ["synth", str(self.archive), "--start", s.start, "--end", s.day(s.updates),
                               "--workers", str(WORKERS)], [self.archive])  # fmt: skip
        self.serve_until(s.end)
        self.command("ingest", ["ingest", str(self.served), "--store", raw, "--variable", "c1",
                                "--workers", str(WORKERS)], [self.raw])  # fmt: skip
        self.command("train", ["train", "--store", raw, "--out", model, "--epochs", str(s.epochs), *TRAIN],
                     [self.model])  # fmt: skip
        self.command("train_1y", ["train", "--store", raw, "--out", str(self.dir / "model-1y"),
                                  "--end", s.one_year_end, "--epochs", str(s.one_year_epochs), *TRAIN], [])  # fmt: skip
        self.fill_with_interruption()
        if not self.done("recompute"):
            self.keep(self.recompute_sample())
        self.command("validate", ["validate", "--store", raw, "--model", model, "--filled", product,
                                  "--truth", str(self.archive / "truth.zarr"), "--n-days",
                                  str(s.validate_days), "--report", str(self.dir / "report"),
                                  "--device", "cpu"], [self.dir / "report"])  # fmt: skip
        if not self.done("accuracy"):
            self.keep(self.accuracy())
        self.command("publish", ["publish", "--filled", product, "--stac-out", str(self.dir / "stac"),
                                 "--license", "CC-BY-4.0"], [self.dir / "stac"])  # fmt: skip
        self.command("export", ["export", "--filled", product, "--out", str(self.dir / "export"),
                                "--start", s.export_start, "--end", s.end, "--workers", str(WORKERS)],
                     [self.dir / "export"])  # fmt: skip
        self.daily_updates()
        return self.steps

    # --- the archive a server offers ------------------------------------------------------------

    def serve_until(self, last: str) -> None:
        """Offer the archive's granules up to ``last`` (hard links: no copy of the bytes)."""
        self.served.mkdir(exist_ok=True)
        have = {p.name for p in self.served.iterdir()}
        stamp = last.replace("-", "")
        for path in sorted(self.archive.glob("*.nc4")):
            if path.name not in have and _granule_day(path.name) <= stamp:
                os.link(path, self.served / path.name)

    # --- the fill, interrupted and resumed ------------------------------------------------------

    def fill_argv(self) -> list[str]:
        s = self.shape
        return ["fill", "--store", str(self.raw), "--model", str(self.model), "--out", str(self.product),
                "--workers", str(WORKERS), "--tile-days", str(s.tile_days),
                "--tile-cells", str(s.tile_cells), *ATTRIBUTION,
                *(["--bfloat16"] if s.bfloat16 else [])]  # fmt: skip

    def plan(self) -> Any:
        from sgdsm_cloud import cube
        from sgdsm_cloud.fill.config import FillConfig
        from sgdsm_cloud.fill.plan import halo_of, plan_fill
        from sgdsm_cloud.model.checkpoint import load_checkpoint

        raw = cube.open_cube(str(self.raw), chunks=None)
        config = FillConfig(tile_days=self.shape.tile_days, tile_cells=self.shape.tile_cells)
        checkpoint = load_checkpoint(str(self.model), "cpu")
        return plan_fill(raw, halo_of(checkpoint.config), config), config, checkpoint

    def done_tiles(self) -> int:
        return sum(len(os.listdir(d)) for d in self.product.glob("runs/*/done"))

    def fill_with_interruption(self) -> None:
        """The fill, its client SIGKILLed when half its tiles are done, then resumed."""
        if self.done("fill_resumed"):
            return
        tiles = len(self.plan()[0].blocks)
        if not self.done("fill_killed"):
            shutil.rmtree(self.product, ignore_errors=True)
            killed = run_step(
                "fill_killed",
                self.fill_argv(),
                self.logs,
                kill_when=lambda: self.done_tiles() >= tiles // 2,
            )
            if not killed.killed:
                raise RuntimeError("the fill finished before half its tiles were done; no kill")
            killed.extra = {"tiles": tiles, "done_at_kill": self.done_tiles()}
            killed.objects, killed.bytes = tree_size(self.product)
            self.keep(killed)
        resumed = run_step("fill_resumed", self.fill_argv(), self.logs)
        resumed.objects, resumed.bytes = tree_size(self.product)
        resumed.extra = {
            "summary": json.loads(resumed.stdout.strip().splitlines()[-1]),
            "tiles": tiles,
        }
        self.keep(resumed)

    def recompute_sample(self) -> Step:
        """``sample_tiles`` land tiles filled again in this process (one torch thread, as each
        worker), compared bit for bit with the resumed product."""
        import torch

        from sgdsm_cloud.fill.block import FillJob, TileStores, fill_block, read_input
        from sgdsm_cloud.model.runner import Predictor
        from sgdsm_cloud.product import FLAG, SM, SM_UNCERTAINTY, open_seamless
        from sgdsm_cloud.storage import Location
        from sgdsm_cloud.versioned.repository import Repository

        started = time.perf_counter()
        plan, config, checkpoint = self.plan()
        product = open_seamless(str(self.product), chunks=None)
        scratch = Repository(Location(str(self.dir / "recompute")))
        job = FillJob(Location(str(self.raw)), scratch.run("recompute"), (), plan.layout.chunks[0])
        stores = TileStores(job)
        land = stores.land
        with_land = [
            b for b in plan.blocks if land[b.write_slices["lat"], b.write_slices["lon"]].any()
        ]
        count = self.shape.sample_tiles
        picks = [with_land[int(i)] for i in np.linspace(0, len(with_land) - 1, count)]
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        predictor = Predictor.from_checkpoint(
            checkpoint, "cpu", config.batch_size, threads=1, bfloat16=self.shape.bfloat16
        )
        mismatches = []
        try:
            for block in picks:
                read = read_input(stores, block)
                arrays, _ = fill_block(
                    read.block, read.land, read.fill_land, block, predictor, stores.valid_range,
                    read.error, read.frozen_days(block.shape[0]), chunk_days=job.chunk_days,
                )  # fmt: skip
                region = dict(zip(("time", "lat", "lon"), block.write_slices.values(), strict=True))
                for name, values in zip((SM, FLAG, SM_UNCERTAINTY), arrays, strict=True):
                    stored = product[name].isel(region).values
                    if stored.tobytes() != values.tobytes():
                        mismatches.append(f"{block.id}:{name}")
        finally:
            torch.set_num_threads(threads)
        step = Step("recompute", f"fill {len(picks)} land tiles again in this process",
                    round(time.perf_counter() - started, 2), 0, 0.0, [])  # fmt: skip
        step.extra = {
            "tiles": [b.id for b in picks],
            "bit_identical": not mismatches,
            "mismatches": mismatches,
        }
        return step

    # --- accuracy and updates ------------------------------------------------------------------

    def accuracy(self) -> Step:
        from benchmarks.full_run_accuracy import accuracy, checks

        started = time.perf_counter()
        table = accuracy(str(self.raw), str(self.product), str(self.archive / "truth.zarr"),
                         self.shape.accuracy_every)  # fmt: skip
        table.to_csv(self.dir / "accuracy.csv", index=False)
        step = Step("accuracy", f"every {self.shape.accuracy_every}th day against the truth",
                    round(time.perf_counter() - started, 2), 0, 0.0, [])  # fmt: skip
        step.extra = {"checks": checks(table), "table": table.round(5).to_dict(orient="records")}
        return step

    def daily_updates(self) -> None:
        """One granule more each day on the loopback Earthdata server, then ``sgdsm update``."""
        from sgdsm_cloud.ingest import earthdata
        from sgdsm_cloud.testing.earthdata import EarthdataServer

        s = self.shape
        with EarthdataServer({COLLECTION: self.served}, (TOKEN,)) as server:
            env = {earthdata.CMR_ENV: server.url, earthdata.TOKEN_ENV: TOKEN}
            for day in range(1, s.updates + 1):
                name = f"update_{day:02d}"
                if self.done(name):
                    continue
                self.serve_until(s.day(day))
                before = tree_size(self.product, self.raw)
                server.reset_stats()
                argv = ["update", f"earthdata:{COLLECTION}", "--store", str(self.raw), "--model",
                        str(self.model), "--out", str(self.product)]  # fmt: skip
                step = run_step(name, argv, self.logs, env=env)
                after = tree_size(self.product, self.raw)
                step.objects, step.bytes = after[0] - before[0], after[1] - before[1]
                step.extra = {
                    "summary": json.loads(step.stdout.strip().splitlines()[-1]),
                    "requests": dict(server.stats.requests),
                    "granules_read": len(server.stats.files_read),
                }
                self.keep(step)


def _granule_day(name: str) -> str:
    """``YYYYMMDD`` of an LPRM granule's name."""
    from sgdsm_cloud.formats.names import parse_name

    return parse_name(name).date.strftime("%Y%m%d")


# --- the report -------------------------------------------------------------------------------


def summarise(steps: dict[str, dict[str, Any]], shape: Shape) -> list[dict[str, Any]]:
    """The result rows of a finished run (the checks it must show are rows too)."""
    rows = []
    pipeline = ("ingest", "train", "fill_killed", "fill_resumed", "validate", "publish")
    for name in ("synth", *pipeline, "train_1y", "recompute", "accuracy", "export"):
        s = steps[name]
        workers = ", ".join(f"{w:.0f}" for w in s["worker_peaks_mb"]) or "none"
        rows.append(
            result(
                f"{name}: wall time", s["seconds"] / 60, "minutes",
                note=f"peak RSS {s['client_peak_mb']:.0f} MB, workers {workers} MB; "
                f"{s['objects']:,} objects, {s['bytes'] / 1e9:.2f} GB written; {s['command']}; "
                f"load {s.get('load')}",
            )
        )  # fmt: skip
    fill = steps["fill_killed"]["seconds"] + steps["fill_resumed"]["seconds"]
    rows.append(result("fill of every land tile (killed + resumed)", fill / 60, "minutes",
                       note=f"{steps['fill_resumed']['extra']['tiles']} tiles; target <= 30"))  # fmt: skip
    total = sum(steps[n]["seconds"] for n in pipeline)
    rows.append(
        result(
            "pipeline without synth",
            total / 60,
            "minutes",
            note=" + ".join(pipeline) + "; target <= 60",
        )
    )
    recompute = steps["recompute"]["extra"]
    rows.append(result("recomputed tiles equal the resumed product bit for bit", float(recompute["bit_identical"]),
                       "bool", note=f"tiles {', '.join(recompute['tiles'])}; mismatches {recompute['mismatches']}"))  # fmt: skip
    rows += training_rows(steps)
    rows += accuracy_rows(steps["accuracy"]["extra"])
    rows += update_rows(steps, shape, fill)
    return rows


def training_rows(steps: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    train, year = steps["train"], steps["train_1y"]
    return [
        result("train peak RSS, 7 years / 1 year", train["client_peak_mb"] / year["client_peak_mb"], "ratio",
               note=f"{train['client_peak_mb']:.0f} MB against {year['client_peak_mb']:.0f} MB; target within 1.10"),
        result("train: epochs to convergence", float(train["extra"].get("epochs", 0)), "epochs",
               note=f"{train['extra'].get('seconds_per_epoch', 0):.1f} s per epoch (median); "
               f"sample shares by band {train['extra'].get('samples_by_lat_band')} against land {train['extra'].get('land_by_lat_band')}; "
               f"by year {train['extra'].get('samples_by_year')}"),
    ]  # fmt: skip


def accuracy_rows(extra: dict[str, Any]) -> list[dict[str, Any]]:
    c = extra["checks"]
    return [
        result("accuracy: RMSE / linear interpolation RMSE, whole globe and period", c["rmse_vs_linear"], "ratio",
               reference="linear interpolation, same cells", note="target <= 0.75"),
        result("accuracy: bands and seasons where R is not above both baselines", float(len(c["r_short"])), "groups",
               note=str(c["r_short"])),
        result("accuracy: +-1 sigma coverage", c["within_1sigma"], "fraction", note="target 0.68 +- 0.05"),
        result("accuracy: +-2 sigma coverage", c["within_2sigma"], "fraction", note="target 0.95 +- 0.05"),
        result("accuracy: bands and seasons with coverage off by more than 5 points", float(len(c["coverage_short"])),
               "groups", note=str(c["coverage_short"])),
    ]  # fmt: skip


def update_rows(
    steps: dict[str, dict[str, Any]], shape: Shape, fill: float
) -> list[dict[str, Any]]:
    updates = [steps[f"update_{d:02d}"] for d in range(1, shape.updates + 1)]
    seconds = np.array([u["seconds"] for u in updates])
    written = np.array([u["bytes"] for u in updates]) / 1e6
    requests = [sum(u["extra"]["requests"].values()) for u in updates]
    return [
        result("update / full fill, median", float(np.median(seconds)) / fill, "ratio",
               note=f"worst {seconds.max() / fill:.4f}; median {np.median(seconds):.0f} s over {len(updates)} updates"),
        result("update: MB written, median", float(np.median(written)), "MB", note=f"worst {written.max():.1f} MB"),
        result("update: requests to the Earthdata server, median", float(np.median(requests)), "requests",
               note=f"worst {max(requests)}; {updates[-1]['extra']['requests']} on the last"),
    ]  # fmt: skip


def train_facts(workdir: Path, steps: dict[str, dict[str, Any]]) -> None:
    """Epochs, seconds per epoch and the sample coverage of the training, from its log and
    its checkpoint's provenance (kept in steps.json with the step)."""
    log = (workdir / "logs" / "train.err").read_text()
    provenance = json.loads((workdir / "model" / "config.json").read_text())["provenance"]
    steps["train"]["extra"] = {
        "epochs": provenance.get("epochs"),
        "seconds_per_epoch": _epoch_seconds(log),
        **provenance.get("sample_coverage", {}),
    }


def _epoch_seconds(log: str) -> float:
    """Median seconds between the train log's epoch lines."""
    stamps = [
        dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
        for line in log.splitlines()
        if " epoch " in line and "validation gaps" in line
    ]
    gaps = np.diff([t.timestamp() for t in stamps])
    return float(np.median(gaps)) if gaps.size else 0.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="64 days and 2 updates")
    parser.add_argument(
        "--workdir", type=Path, help="where the run writes (default: full-run/ or full-run-quick/)"
    )
    parser.add_argument("--fresh", action="store_true", help="delete the workdir and start over")
    parser.add_argument("--record", action="store_true", help="put the results in BENCHMARKS.md")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    shape = QUICK if args.quick else FULL
    workdir = args.workdir or REPO / ("full-run-quick" if args.quick else "full-run")
    command = shlex.join(["python", "benchmarks/full_run.py", *argv])
    print(
        f"[full_run] {shape.days} days + {shape.updates} updates, global 0.25 deg, in {workdir}; load {load_average()}"
    )
    rehearsal = Rehearsal(shape, workdir, args.fresh)

    def produce() -> list[dict[str, Any]]:
        steps = rehearsal.run()
        train_facts(workdir, steps)
        return summarise(steps, shape)

    record = measured_record("full_run", args.quick, command, produce)
    for row in record["results"]:
        print(f"{row['name']}: {row['value']:.4g} {row['unit']}  {row['note']}")
    keep_latest(RESULTS_DIR / "full_run.json", record)
    if args.record:
        update_markdown(MARKDOWN, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
