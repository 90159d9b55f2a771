"""Dress rehearsal: the 2013-2019 global 0.25 degree cube end to end, and its projection to GPUs.

    python benchmarks/full_run.py [--quick] [--workdir DIR] [--record]

Steps, each the ``sgdsm`` command a user would run, in its own process, timed and watched:

1. ``sgdsm synth``: a synthetic global LPRM archive of 2,556 daily files (2013-01-01 ..
   2019-12-31) and its truth cube, written by parallel processes, never all in memory.
2. ``sgdsm ingest`` on a LocalCluster of 2 workers.
3. ``sgdsm train``: a light network (one partial-convolution layer of the ``paper`` variant,
   3x3x3, masks and all) trained briefly on a few months, so every land tile goes through a
   real network on 2 cores within the rehearsal: the ``small`` preset runs at about 84,000
   px-day/s on 2 cores (BENCHMARKS.md), about 3.5 hours of network alone for the land of the
   full shape, and 2 layers x 8 maps take 7 times longer per tile than this one.
4. ``sgdsm fill`` on a LocalCluster of 2 workers, its client SIGKILLed once when half the
   tiles are done, then the same command again to resume.
5. A sample of tiles recomputed from scratch in this process, compared bit for bit with the
   resumed cube; the manifest must list every tile.
6. ``sgdsm validate`` on sample days against the truth, and ``sgdsm publish``.

Per step: wall time, peak RSS of the client process and of each process it started (the
cluster's workers), objects and bytes written, and the planning and consolidation time the
commands log (``sgdsm -v``: ``phases (s): {...}``). Then it measures the scheduler's cost per
task and the client's memory per tile, and projects the paper's preset on one H100 and on 1, 4
and 16 GPU workers, naming what bounds each case.

``--quick`` keeps the global 0.25 degree grid (the formats and land mask exist at 0.25 and 0.1
degrees only) and shortens the period to 64 days: a check of a few minutes. Steps that
finished are kept in ``WORKDIR/steps.json`` and not rerun, so a rehearsal interrupted after
hours resumes at its first unfinished step (``--fresh`` starts over).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
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
from sgdsm_cloud import phases as phase_log  # noqa: E402

WORKERS = 2
SAMPLE_TILES = 4
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Shape:
    """What the rehearsal runs: period, tiling and the light network.

    Attributes:
        start, end: the archive's period.
        train_start, train_end: the months the light network trains on.
        tile_days, tile_cells: the fill's tiles (the output's shards).
        layers, features: the light network (``paper`` variant).
        epochs, samples: its training budget.
        validate_days: days ``sgdsm validate`` scores.
    """

    start: str
    end: str
    train_start: str
    train_end: str
    tile_days: int
    tile_cells: int
    layers: int = 1
    features: int = 1
    epochs: int = 2
    samples: int = 512
    validate_days: int = 4

    @property
    def days(self) -> int:
        first, last = dt.date.fromisoformat(self.start), dt.date.fromisoformat(self.end)
        return (last - first).days + 1


FULL = Shape("2013-01-01", "2019-12-31", "2015-03-01", "2015-05-31", tile_days=128, tile_cells=360)
QUICK = Shape("2013-01-01", "2013-03-05", "2013-01-01", "2013-03-05", tile_days=32, tile_cells=360)


# --- watching a step --------------------------------------------------------------------------


@dataclass
class Watch:
    """Peak RSS of a process and of every process it started, sampled every POLL_SECONDS."""

    pid: int
    peaks: dict[int, int] = field(default_factory=dict)  # pid -> bytes
    names: dict[int, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Watch:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def descendants(self) -> list[int]:
        import psutil

        try:
            return [p.pid for p in psutil.Process(self.pid).children(recursive=True)]
        except psutil.Error:
            return []

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                processes = [root, *root.children(recursive=True)]
            except psutil.Error:
                processes = []
            for process in processes:
                try:
                    rss = process.memory_info().rss
                    self.names.setdefault(process.pid, " ".join(process.cmdline()[:3])[-80:])
                except psutil.Error:
                    continue
                self.peaks[process.pid] = max(rss, self.peaks.get(process.pid, 0))
            self._stop.wait(POLL_SECONDS)

    def client_peak(self) -> int:
        return self.peaks.get(self.pid, 0)

    def worker_peaks(self) -> list[int]:
        """Peaks of the started processes above 100 MB (dask workers; not tiny helpers such as
        multiprocessing's resource tracker), largest first."""
        others = [rss for pid, rss in self.peaks.items() if pid != self.pid]
        return sorted((rss for rss in others if rss > 100 * 2**20), reverse=True)


@dataclass
class Step:
    """One measured step (what steps.json keeps)."""

    name: str
    command: str
    seconds: float
    returncode: int
    client_peak_mb: float
    worker_peaks_mb: list[float]
    objects: int = 0
    bytes: int = 0
    phases: dict[str, float] | None = None
    stdout: str = ""
    killed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    finished: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    load: list[float] | None = field(default_factory=load_average)  # when the step ended


def run_step(
    name: str,
    argv: list[str],
    logs: Path,
    *,
    kill_when: Callable[[], bool] | None = None,
    env: dict[str, str] | None = None,
) -> Step:
    """Run ``sgdsm -v ARGV`` in its own process; SIGKILL it (and then whatever it started)
    once ``kill_when()`` turns true."""
    command = [sys.executable, "-m", "sgdsm_cloud", "-v", *argv]
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
    print(f"[full_run] {name}: sgdsm -v {shlex.join(argv)}", flush=True)
    started = time.perf_counter()
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            command, stdout=out, stderr=err, env={**os.environ, **(env or {})}
        )
        watch = Watch(process.pid).start()
        killed = False
        while process.poll() is None:
            if kill_when is not None and not killed and kill_when():
                started_processes = watch.descendants()
                process.send_signal(signal.SIGKILL)
                killed = True
                process.wait()
                _reap(started_processes)
            time.sleep(1.0)
        watch.stop()
    seconds = time.perf_counter() - started
    stderr = err_path.read_text()
    if process.returncode != 0 and not killed:
        raise RuntimeError(
            f"step {name} failed with status {process.returncode}; see {err_path}:\n"
            + "\n".join(stderr.splitlines()[-20:])
        )
    mb = 2**20
    return Step(
        name=name,
        command="sgdsm " + shlex.join(argv),
        seconds=round(seconds, 2),
        returncode=process.returncode,
        client_peak_mb=round(watch.client_peak() / mb, 1),
        worker_peaks_mb=[round(rss / mb, 1) for rss in watch.worker_peaks()],
        phases=phase_log.parse(stderr),
        stdout=out_path.read_text()[-4000:],
        killed=killed,
    )


def _reap(pids: list[int], grace: float = 20.0) -> None:
    """Workers orphaned by a killed client exit on their own (they lose their nanny); kill
    whatever is still alive after ``grace`` seconds so the next step starts clean."""
    import psutil

    alive = [p for p in (_process(pid) for pid in pids) if p is not None]
    _, still = psutil.wait_procs(alive, timeout=grace)
    for process in still:
        with contextlib.suppress(psutil.Error):  # it may exit between the wait and the kill
            process.kill()
    if still:
        print(f"[full_run] killed {len(still)} process(es) left after the client's death")


def _process(pid: int) -> Any:
    import psutil

    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def tree_size(*paths: Path) -> tuple[int, int]:
    """(objects, bytes) under ``paths``: on a local store a file is an object."""
    objects = size = 0
    for root in paths:
        for folder, _, files in os.walk(root):
            for name in files:
                objects += 1
                size += os.path.getsize(os.path.join(folder, name))
    return objects, size


# --- the rehearsal ----------------------------------------------------------------------------


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
        self.archive, self.raw = workdir / "archive", workdir / "raw.zarr"
        self.model, self.filled = workdir / "model", workdir / "seamless.zarr"
        self.logs = workdir / "logs"

    def _keep(self, step: Step) -> None:
        self.steps[step.name] = asdict(step)
        self.record_path.write_text(json.dumps(self.steps, indent=2) + "\n")

    def done(self, name: str) -> bool:
        return name in self.steps

    def run(self) -> dict[str, dict[str, Any]]:
        s, raw, model = self.shape, str(self.raw), str(self.model)
        report, stac = self.dir / "report", self.dir / "stac"
        # fmt: off
        self._command_step(["synth", str(self.archive), "--start", s.start, "--end", s.end,
                            "--workers", str(WORKERS)], self.archive)
        self._command_step(["ingest", str(self.archive), "--store", raw, "--variable", "c1",
                            "--workers", str(WORKERS)], self.raw)
        self._command_step(["train", "--store", raw, "--out", model, "--preset", "paper",
                            "--layers", str(s.layers), "--features", str(s.features),
                            "--start", s.train_start, "--end", s.train_end,
                            "--epochs", str(s.epochs), "--samples-per-epoch", str(s.samples),
                            "--batch-size", "32", "--max-validation-samples", "128",
                            "--device", "cpu"], self.model)
        if not self.done("fill_resumed"):
            self.fill_with_interruption()
        if not self.done("recompute"):
            self._keep(self.recompute_sample())
        self._command_step(["validate", "--store", raw, "--model", model,
                            "--filled", str(self.filled), "--truth", str(self.archive / "truth.zarr"),
                            "--n-days", str(s.validate_days), "--report", str(report),
                            "--device", "cpu"], report)
        self._command_step(["publish", "--filled", str(self.filled), "--stac-out", str(stac),
                            "--license", "CC-BY-4.0"], stac)
        # fmt: on
        if not self.done("scheduler"):
            self._keep(scheduler_cost())
        return self.steps

    def _command_step(self, argv: list[str], written: Path) -> None:
        """Run the ``sgdsm`` command ``argv`` unless recorded, counting what it wrote to ``written``."""
        name = argv[0]
        if self.done(name):
            return
        step = run_step(name, argv, self.logs)
        step.objects, step.bytes = tree_size(written)
        self._keep(step)

    def fill_argv(self) -> list[str]:
        s = self.shape
        return ["fill", "--store", str(self.raw), "--model", str(self.model),
                "--out", str(self.filled), "--workers", str(WORKERS),
                "--tile-days", str(s.tile_days), "--tile-cells", str(s.tile_cells)]  # fmt: skip

    def plan(self) -> Any:
        from sgdsm_cloud import cube
        from sgdsm_cloud.fill.config import FillConfig
        from sgdsm_cloud.fill.plan import halo_of, plan_fill
        from sgdsm_cloud.model.checkpoint import load_checkpoint

        raw = cube.open_cube(str(self.raw), chunks=None)
        config = FillConfig(tile_days=self.shape.tile_days, tile_cells=self.shape.tile_cells)
        checkpoint = load_checkpoint(str(self.model), "cpu")
        return plan_fill(raw, halo_of(checkpoint.config), config), config, checkpoint, raw

    def fill_with_interruption(self) -> None:
        """The fill, its client SIGKILLed when half its tiles are done, then resumed."""
        plan = self.plan()[0]
        done_dir = Path(f"{self.filled}.manifest") / "done"
        half = len(plan.blocks) // 2

        def half_done() -> bool:
            return done_dir.is_dir() and len(os.listdir(done_dir)) >= half

        if not self.done("fill_killed"):
            if Path(f"{self.filled}.manifest").exists():
                shutil.rmtree(f"{self.filled}.manifest")
                shutil.rmtree(self.filled, ignore_errors=True)
            killed = run_step("fill_killed", self.fill_argv(), self.logs, kill_when=half_done)
            killed.extra = {"tiles": len(plan.blocks), "done_at_kill": len(os.listdir(done_dir))}
            killed.objects, killed.bytes = tree_size(self.filled, Path(f"{self.filled}.manifest"))
            if not killed.killed:
                raise RuntimeError("the fill finished before half its tiles were done; no kill")
            self._keep(killed)
        resumed = run_step("fill_resumed", self.fill_argv(), self.logs)
        resumed.objects, resumed.bytes = tree_size(self.filled, Path(f"{self.filled}.manifest"))
        summary = json.loads(resumed.stdout.strip().splitlines()[-1])
        resumed.extra = {"summary": summary, "tiles": len(plan.blocks)}
        self._keep(resumed)

    def recompute_sample(self) -> Step:
        """Recompute SAMPLE_TILES land tiles from scratch into a new store; compare bit for bit."""
        import torch
        import zarr

        from sgdsm_cloud.fill.block import FillJob, TileStores, fill_tile
        from sgdsm_cloud.fill.manifest import Manifest, manifest_location
        from sgdsm_cloud.fill.template import ModelInfo, template_for, write_template
        from sgdsm_cloud.model.runner import Predictor
        from sgdsm_cloud.product import FLAG, SM, SM_UNCERTAINTY
        from sgdsm_cloud.storage import Location

        started = time.perf_counter()
        plan, config, checkpoint, raw = self.plan()
        manifest = Manifest(manifest_location(Location(str(self.filled))))
        done = manifest.done_ids()
        land = raw["land"].values.astype(bool)
        with_land = [
            b for b in plan.blocks if land[b.write_slices["lat"], b.write_slices["lon"]].any()
        ]
        picks = [with_land[int(i)] for i in np.linspace(0, len(with_land) - 1, SAMPLE_TILES)]
        scratch = Location(str(self.dir / "recomputed.zarr"))
        shutil.rmtree(scratch.url, ignore_errors=True)
        shutil.rmtree(f"{scratch.url}.manifest", ignore_errors=True)
        template = template_for(raw, plan, str(self.raw), ModelInfo.from_checkpoint(checkpoint))
        write_template(template, plan.layout, scratch)
        job = FillJob(Location(str(self.raw)), scratch, manifest_location(scratch))
        stores = TileStores(job)
        torch.set_num_threads(1)  # as the fill's workers (one thread each)
        predictor = Predictor.from_checkpoint(checkpoint, "cpu", config.batch_size, threads=1)
        resumed = zarr.open_group(str(self.filled), mode="r")
        fresh = zarr.open_group(scratch.url, mode="r")
        mismatches = []
        for block in picks:
            fill_tile(block, stores, predictor)
            region = tuple(block.write_slices.values())
            for name in (SM, FLAG, SM_UNCERTAINTY):
                a, b = np.asarray(resumed[name][region]), np.asarray(fresh[name][region])
                if a.tobytes() != b.tobytes():
                    mismatches.append(f"{block.id}:{name}")
        step = Step(
            name="recompute",
            command=f"recompute {len(picks)} land tiles from scratch in this process",
            seconds=round(time.perf_counter() - started, 2),
            returncode=0,
            client_peak_mb=0.0,
            worker_peaks_mb=[],
        )
        step.extra = {
            "tiles": [b.id for b in picks],
            "bit_identical": not mismatches,
            "mismatches": mismatches,
            "manifest_done": len(done),
            "plan_tiles": len(plan.blocks),
            "manifest_complete": done >= {b.id for b in plan.blocks},
        }
        shutil.rmtree(scratch.url, ignore_errors=True)
        return step


def scheduler_cost(tasks: int = 2000) -> Step:
    """Seconds per task of a no-op map on a LocalCluster of WORKERS processes, and the client's
    memory per pending task (futures and their keys), from two sizes."""
    import psutil
    from distributed import Client, LocalCluster, wait

    me = psutil.Process()
    started = time.perf_counter()
    with (
        LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,  # fmt: skip
        Client(cluster) as client,
    ):
        client.gather(client.map(_noop, range(50)))  # warm-up
        per_task, per_future = [], []
        for n in (tasks // 4, tasks):
            rss0 = me.memory_info().rss
            t0 = time.perf_counter()
            futures = client.map(_noop, range(n), key=[f"noop-{n}-{i}" for i in range(n)])
            wait(futures)
            per_task.append((time.perf_counter() - t0) / n)
            per_future.append((me.memory_info().rss - rss0) / n)
            del futures
    step = Step(
        name="scheduler",
        command=f"client.map(noop, range(n)) on LocalCluster({WORKERS} workers), n = {tasks // 4}, {tasks}",
        seconds=round(time.perf_counter() - started, 2),
        returncode=0,
        client_peak_mb=round(me.memory_info().rss / 2**20, 1),
        worker_peaks_mb=[],
    )
    step.extra = {
        "seconds_per_task": per_task,
        "client_bytes_per_pending_task": per_future,
    }
    return step


def _noop(i: int) -> int:
    return i


# --- memory per tile and the projection -------------------------------------------------------


def client_memory_per_tile(raw_path: Path, model_path: Path) -> dict[str, Any]:
    """Python heap the fill client holds for its plan and task arguments, for tilings of the
    same cube with more and more tiles (tracemalloc: the client's own objects, not the
    allocator's slack)."""
    import tracemalloc

    from sgdsm_cloud import cube
    from sgdsm_cloud.fill.config import FillConfig
    from sgdsm_cloud.fill.plan import halo_of, plan_fill
    from sgdsm_cloud.model.checkpoint import load_checkpoint

    raw = cube.open_cube(str(raw_path), chunks=None)
    halo = halo_of(load_checkpoint(str(model_path), "cpu").config)
    rows = []
    for tile_days, tile_cells in ((384, 360), (128, 180), (32, 90)):
        config = FillConfig(tile_days=tile_days, tile_cells=tile_cells)
        tracemalloc.start()
        plan = plan_fill(raw, halo, config)
        specs = [block.to_json() for block in plan.blocks]
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append({"tile_days": tile_days, "tile_cells": tile_cells,
                     "tiles": len(specs), "bytes": held})  # fmt: skip
        del plan, specs
    tiles = np.array([r["tiles"] for r in rows], float)
    held = np.array([r["bytes"] for r in rows], float)
    slope, intercept = np.polyfit(tiles, held, 1)
    return {"tilings": rows, "bytes_per_tile": float(slope), "fixed_bytes": float(intercept)}


# Figures a projection needs that this machine cannot measure; each says where it comes from.
H100_BF16_DENSE_FLOPS = 989e12  # NVIDIA H100 SXM datasheet, dense BF16 tensor-core peak
S3_GET_PER_PREFIX = 5500  # AWS S3 guidance: GET/HEAD requests per second per prefix
S3_PUT_PER_PREFIX = 3500  # PUT/COPY/POST/DELETE per second per prefix
NODE_BANDWIDTH = 25e9 / 8  # bytes/s of a 25 Gbit/s GPU node's network interface
PRODUCT_DAYS = 2556
RESOLUTION = 0.25


def projection(steps: dict[str, dict[str, Any]], shape: Shape) -> list[dict[str, Any]]:
    """The paper's preset on GPUs, from this run's tiles and the FLOP count (see the rows' notes)."""
    from benchmarks.bench_model import build_model, flops_per_pixel_day
    from benchmarks.gpu import fillable_cells, tiled_input_cells

    model = build_model("paper")
    paper = model.config
    flops = flops_per_pixel_day(model, paper.window).total
    gpu_rate, source = _measured_gpu_rate()
    if gpu_rate is None:
        gpu_rate = H100_BF16_DENSE_FLOPS / flops
        source = "FLOP floor: H100 dense BF16 peak / FLOPs per px-day (not a measurement)"
    resumed = steps["fill_resumed"]
    tiles = resumed["extra"]["tiles"]
    # px-days the network reads per output px-day on this tiling: day and cell halos
    halo_days, halo_cells = paper.half_window, paper.receptive_radius
    overhead = ((shape.tile_days + 2 * halo_days) / shape.tile_days) * (
        (shape.tile_cells + 2 * halo_cells) / shape.tile_cells
    ) ** 2
    # The network runs over whole tiles that hold fillable land, halos included (gpu.py's count)
    fillable, _ = fillable_cells(RESOLUTION)
    cells_per_day = tiled_input_cells(fillable, shape.tile_cells, halo_cells)
    input_px_days = (
        cells_per_day * PRODUCT_DAYS * (shape.tile_days + 2 * halo_days) / shape.tile_days
    )
    compute_seconds = input_px_days / gpu_rate
    full_tiles = tiles * PRODUCT_DAYS / shape.days
    written = resumed["bytes"] * PRODUCT_DAYS / shape.days
    read = steps["ingest"]["bytes"] * PRODUCT_DAYS / shape.days * overhead
    requests = _requests_per_tile(shape, halo_days, halo_cells) * full_tiles
    per_task = float(np.median(steps["scheduler"]["extra"]["seconds_per_task"]))
    rows = [
        result("paper preset FLOPs per px-day", flops, "FLOP"),
        result("GPU rate used", gpu_rate, "px-day/s", note=source),
        result(
            "network input of the land tiles",
            input_px_days,
            "px-day",
            note=f"{cells_per_day:,} cells a day on {shape.tile_cells}-cell tiles + {halo_cells} "
            f"per side, x {PRODUCT_DAYS} days x ({shape.tile_days} + {2 * halo_days}) / {shape.tile_days}",
        ),
    ]
    for n in (1, 4, 16):
        bounds = {
            "GPU compute": compute_seconds / n,
            "network bytes": (written + read) / (n * NODE_BANDWIDTH),
            "S3 requests": requests / S3_GET_PER_PREFIX,
            "scheduler per task": full_tiles * per_task,
            "tile granularity": math.ceil(full_tiles / n) * compute_seconds / full_tiles,
        }
        bound = max(bounds, key=lambda k: bounds[k])
        rows.append(
            result(
                f"2013-2019 0.25 deg, {n} GPU worker(s)", bounds[bound] / 60, "minutes",
                note=f"bound: {bound}; " + ", ".join(f"{k} {v / 60:.2f} min" for k, v in bounds.items()),
            )
        )  # fmt: skip
    return rows


def _measured_gpu_rate() -> tuple[float | None, str]:
    """px-day/s of the paper preset measured by benchmarks/gpu.py on CUDA, if it has run."""
    path = RESULTS_DIR / "gpu.json"
    if not path.exists():
        return None, ""
    for record in json.loads(path.read_text()):
        if record.get("machine", {}).get("cuda"):
            rates = [r["value"] for r in record["results"] if r["unit"] == "px-day/s"]
            if rates:
                return max(rates), "benchmarks/gpu.py on " + str(record["machine"]["cuda"])
    return None, ""


def _requests_per_tile(shape: Shape, halo_days: int, halo_cells: int) -> float:
    """Object requests of one tile: reading the raw chunks it touches with its halo (sm, its
    error and the frozen flag) and writing its three shards and its manifest entry."""
    from sgdsm_cloud.cube import CubeChunks

    chunks = CubeChunks()
    reads = (
        math.ceil((shape.tile_days + 2 * halo_days) / chunks.time + 1)
        * math.ceil((shape.tile_cells + 2 * halo_cells) / min(chunks.lat, chunks.lon) + 1) ** 2
    )
    return 3 * reads + 3 + 1


# --- the report -------------------------------------------------------------------------------


def summarise(steps: dict[str, dict[str, Any]], memory: dict[str, Any]) -> list[dict[str, Any]]:
    """The result rows of a finished rehearsal (the checks the run must show are rows too)."""
    rows = []
    pipeline = ("synth", "ingest", "train", "fill_killed", "fill_resumed", "validate", "publish")
    total = sum(steps[n]["seconds"] for n in pipeline)
    for name in pipeline:
        s = steps[name]
        workers = ", ".join(f"{w:.0f}" for w in s["worker_peaks_mb"]) or "none"
        ended = f"; ended {s['finished']} at load {s['load']}" if s.get("finished") else ""
        rows.append(
            result(
                f"{name}: wall time", s["seconds"] / 60, "minutes",
                note=f"client peak {s['client_peak_mb']:.0f} MB; workers {workers} MB; "
                f"{s['objects']:,} objects, {s['bytes'] / 1e9:.2f} GB written; {s['command']}{ended}",
            )
        )  # fmt: skip
    planning = sum(
        (steps[n]["phases"] or {}).get(k, 0.0)
        for n in ("ingest", "fill_killed", "fill_resumed")
        for k in ("list", "plan", "template", "consolidate")
    )
    rows.append(result("pipeline wall time", total / 60, "minutes"))
    rows.append(
        result("planning + template + consolidation / total", planning / total, "fraction",
               note="ingest and both fill runs; target < 0.05")
    )  # fmt: skip
    recompute = steps["recompute"]["extra"]
    rows.append(
        result("recomputed tiles equal the resumed cube bit for bit", float(recompute["bit_identical"]),
               "bool", note=f"tiles {', '.join(recompute['tiles'])}; mismatches {recompute['mismatches']}")
    )  # fmt: skip
    rows.append(
        result("manifest lists every tile", float(recompute["manifest_complete"]), "bool",
               note=f"{recompute['manifest_done']} of {recompute['plan_tiles']}")
    )  # fmt: skip
    fill_tiles = steps["fill_resumed"]["extra"]["tiles"]
    client = max(steps["fill_killed"]["client_peak_mb"], steps["fill_resumed"]["client_peak_mb"])
    rows.append(
        result("fill client peak RSS per tile", client * 1024 / fill_tiles, "kB",
               note=f"{client:.0f} MB over {fill_tiles} tiles (includes the interpreter, torch and dask)")
    )  # fmt: skip
    rows.append(
        result("fill client plan + task arguments per tile", memory["bytes_per_tile"] / 1024, "kB",
               note="slope over tilings " + ", ".join(f"{r['tiles']} tiles: {r['bytes'] / 1e6:.2f} MB"
                                                     for r in memory["tilings"]))
    )  # fmt: skip
    sched = steps["scheduler"]["extra"]
    rows.append(
        result("scheduler cost per task", float(np.median(sched["seconds_per_task"])) * 1e3, "ms",
               note=f"client memory per pending task {np.median(sched['client_bytes_per_pending_task']) / 1024:.1f} kB")
    )  # fmt: skip
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="64 days instead of 2,556")
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
    print(f"[full_run] {shape.days} days, global 0.25 deg, in {workdir}; load {load_average()}")
    rehearsal = Rehearsal(shape, workdir, args.fresh)

    def produce() -> list[dict[str, Any]]:
        steps = rehearsal.run()
        memory = client_memory_per_tile(rehearsal.raw, rehearsal.model)
        return summarise(steps, memory) + projection(steps, shape)

    record = measured_record("full_run", args.quick, command, produce)
    for row in record["results"]:
        print(f"{row['name']}: {row['value']:.4g} {row['unit']}  {row['note']}")
    keep_latest(RESULTS_DIR / "full_run.json", record)
    if args.record:
        update_markdown(MARKDOWN, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
