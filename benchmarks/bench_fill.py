"""The distributed fill's overhead over the network itself, and its worker memory, in one run.

    python benchmarks/run.py fill [--quick]        # or: python benchmarks/bench_fill.py [--quick]

Workload: a regional raw cube at 0.25 degrees (real land fraction from the GLOBE mask over
West Africa and the Gulf of Guinea, random soil moisture with 60 % of cell-days missing, so
every day of every land tile has gaps) and a randomly initialised ``small`` network (5 layers,
24 maps: the compute per day is what matters here, not the weights); the overhead ratio is also
measured with the ``anomaly`` preset carrying an error model (about a quarter of ``small``'s
compute per day, plus the standard error of every filled value and its ``sm_uncertainty`` writes).

1. Overhead ratio, round-robin (``common.interleaved``, one warm-up round in the full run,
   which is how a long fill sees its tiles: after the first ones): the end-to-end ``run_fill`` on a
   LocalCluster of one single-threaded worker process (template, plugin, reads, network,
   composition, region writes, manifest, consolidation; the worker imported torch beforehand,
   as a long-lived worker has) against the pure network time on the same blocks and centre
   days in this process, on one torch thread (``block.fill_block`` with a timing predictor).
   Target: end-to-end / network <= 1.2.
2. Worker scaling, round-robin: the same end-to-end fill on a LocalCluster of one and of two
   single-threaded worker processes (both started before timing); speed-up = time with 1 /
   time with 2 (2 would be perfect on 2 free cores).
3. Peak worker memory (``VmHWM`` of the worker process) for the same region over 1 and
   over 4 years, each on a fresh one-worker LocalCluster: a task holds one tile, so the peak
   must not grow with the record's length.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``benchmarks`` and ``sgdsm_cloud`` importable
    sys.path.insert(0, str(REPO))

from benchmarks.common import Samples, format_table, interleaved, per_round, result
from sgdsm_cloud import cube, grid
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.storage import Location

RES = 0.25
SOUTH, WEST = 0.0, 0.0  # the region's south-west corner (degrees)
GAP_FRACTION = 0.6
OVERHEAD_TARGET = 1.2
MB = 1024 * 1024


def write_region(path: Path, days: int, cells: int, seed: int = 0) -> str:
    """A raw cube of ``days`` x ``cells`` x ``cells`` at 0.25 degrees, written as a local zarr."""
    from sgdsm_cloud.landmask import global_land_fraction

    rows, cols = grid.bbox_slices(
        RES, grid.BBox(WEST, SOUTH, WEST + cells * RES, SOUTH + cells * RES)
    )
    rows, cols = slice(rows.stop - cells, rows.stop), slice(cols.start, cols.start + cells)
    lat, lon = grid.global_lat(RES)[rows], grid.global_lon(RES)[cols]
    land_fraction = global_land_fraction(RES)[rows, cols]
    time_axis = cube.daily_axis(
        "2015-01-01", pd.Timestamp("2015-01-01") + pd.Timedelta(days=days - 1)
    )
    chunks = cube.CubeChunks(time=32, lat=cells, lon=cells)
    ds = cube.empty_cube(
        time_axis, lat, lon, land_fraction, chunks, {"title": "fill benchmark cube"}
    )
    rng = np.random.default_rng(seed)
    sm = rng.uniform(0.02, 0.5, (days, cells, cells)).astype("float32")
    sm[rng.random(sm.shape) < GAP_FRACTION] = np.nan
    ds[cube.SM] = ds[cube.SM].copy(data=sm)
    ds.to_zarr(
        path, mode="w", encoding=cube.encoding_for(ds, chunks), zarr_format=3, consolidated=True
    )
    return str(path)


def write_model(path: Path, preset: str = "small") -> str:
    """A randomly initialised checkpoint of ``preset``; ``anomaly`` carries an error model (the
    builtin model's, so that every filled value gets its standard error as in the product)."""
    import torch

    from sgdsm_cloud.model.builtin import resolve_model
    from sgdsm_cloud.model.checkpoint import load_checkpoint, save_checkpoint
    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet

    torch.manual_seed(0)
    config = ModelConfig.preset(preset)
    uncertainty = None
    if preset == "anomaly":
        uncertainty = load_checkpoint(resolve_model("builtin:lprm-x-d-025")).uncertainty
    save_checkpoint(
        path,
        SGDSMNet(config, uncertainty),
        config,
        {"trained_on": "nothing: random weights for a benchmark"},
        uncertainty=uncertainty,
    )
    return str(path)


class TimedPredictor:
    """A Predictor that adds the seconds of its network calls (with the standard errors, when
    the model has an error model) to ``seconds``."""

    def __init__(self, predictor: Any) -> None:
        self.predictor = predictor
        self.seconds = 0.0

    def run(self, sm: np.ndarray, land: np.ndarray, centre_days: np.ndarray, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.predictor.run(sm, land, centre_days, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def network_seconds(raw_url: str, model_dir: str, config: FillConfig) -> tuple[float, int]:
    """Seconds the network takes on every block of the plan in this process, and the block count."""
    import torch

    from sgdsm_cloud.fill.block import fill_block
    from sgdsm_cloud.fill.plan import halo_of, plan_fill
    from sgdsm_cloud.model.checkpoint import load_checkpoint
    from sgdsm_cloud.model.runner import Predictor
    from sgdsm_cloud.product import fill_land_mask

    torch.set_num_threads(1)
    checkpoint = load_checkpoint(model_dir)
    raw = cube.open_cube(raw_url).load()
    plan = plan_fill(raw, halo_of(checkpoint.config), config)
    sm, land = raw[cube.SM].values, raw[cube.LAND].values.astype(bool)
    timer = TimedPredictor(Predictor(checkpoint.model, batch_size=config.batch_size))
    for spec in plan.blocks:
        t, y = slice(*spec.read_time), slice(*spec.read_lat)
        (x,) = [slice(*run) for run in spec.read_lon]  # a regional grid: one longitude run
        write, (_, cy, cx) = spec.write_slices, spec.core_slices
        fill_land = fill_land_mask(
            land[y, x][cy, cx], raw["lat"].values[write["lat"]], raw["lon"].values[write["lon"]]
        )
        fill_block(sm[t, y, x], land[y, x], fill_land, spec, timer)
    return timer.seconds, len(plan.blocks)


def end_to_end_seconds(
    raw_url: str, model_dir: str, out: Path, config: FillConfig, client: Any
) -> float:
    from sgdsm_cloud.fill.executor import run_fill

    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(f"{out}.manifest", ignore_errors=True)
    start = time.perf_counter()
    run_fill(
        Location(raw_url), Location(str(out)), Location(model_dir), config, client, overwrite=True
    )
    return time.perf_counter() - start


def one_worker() -> Any:
    """A LocalCluster of one single-threaded worker process that has imported torch."""
    return local_cluster(1)


def local_cluster(n_workers: int) -> Any:
    """A LocalCluster of ``n_workers`` single-threaded worker processes that imported torch."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    client.run(__import__, "torch")
    return cluster, client


def peak_worker_rss(client: Any) -> float:
    """Largest resident set of the (single) worker process so far, in MiB.

    ``VmHWM`` from /proc, not ``ru_maxrss``: the latter survives the fork + exec that spawns
    the worker, so it would report the driver's size at spawn time.
    """
    (status,) = client.run(Path("/proc/self/status").read_text).values()
    (line,) = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) * 1024 / MB


def worker_scaling(
    raw_url: str,
    model_dir: str,
    root: Path,
    config: FillConfig,
    warmup: int,
    repeats: int,
    label: str,
) -> list[dict[str, Any]]:
    """End-to-end fill time on 1 and on 2 single-threaded workers, timed round-robin."""
    clusters = {n: local_cluster(n) for n in (1, 2)}
    try:
        times = interleaved(
            {
                f"{n} worker(s)": (
                    lambda n=n: end_to_end_seconds(
                        raw_url, model_dir, root / f"scale-{n}.zarr", config, clusters[n][1]
                    )
                )
                for n in clusters
            },
            warmup=warmup,
            repeats=repeats,
        )
    finally:
        for cluster, client in clusters.values():
            client.close()
            cluster.close()
    speedup = per_round(lambda one, two: one / two, times["1 worker(s)"], times["2 worker(s)"])
    return [
        result(f"{label}: end-to-end fill, 2 workers", times["2 worker(s)"], "s"),
        result(f"{label}: speed-up, 2 workers / 1 worker", speedup, "ratio",
               reference="1 worker, same run", note="2 = perfect; 1 torch thread per worker"),
    ]  # fmt: skip


def overhead(
    raw_url: str,
    model_dir: str,
    root: Path,
    config: FillConfig,
    warmup: int,
    repeats: int,
    label: str,
) -> list[dict[str, Any]]:
    """End-to-end fill / network time, round-robin, on one single-threaded worker."""
    cluster, client = one_worker()
    network_times: list[float] = []
    try:
        times = interleaved(
            {
                "network": lambda: network_times.append(
                    network_seconds(raw_url, model_dir, config)[0]
                ),
                "end-to-end": lambda: end_to_end_seconds(
                    raw_url, model_dir, root / "out-overhead.zarr", config, client
                ),
            },
            warmup=warmup,
            repeats=repeats,
        )
    finally:
        client.close()
        cluster.close()
    network = Samples(tuple(network_times[warmup:]))
    ratio = per_round(lambda e2e, net: e2e / net, times["end-to-end"], network)
    return [
        result(f"{label}: end-to-end fill / network on the same blocks", ratio, "time ratio",
               reference="network time (with sigma), same run",
               note=f"target <= {OVERHEAD_TARGET}; writes sm, flag and sm_uncertainty"),
        result(f"{label}: end-to-end fill", times["end-to-end"], "s"),
        result(f"{label}: network only", network, "s", note="1 torch thread, with sigma"),
    ]  # fmt: skip


def run(quick: bool) -> list[dict[str, Any]]:
    cells, tile_cells, tile_days = (32, 16, 46) if quick else (64, 32, 92)
    years = (1, 2) if quick else (1, 4)
    warmup, repeats = (0, 1) if quick else (1, 3)
    config = FillConfig(tile_days=tile_days, tile_cells=tile_cells, batch_size=4)
    size = f"{cells}x{cells} cells, tiles {tile_days}x{tile_cells}x{tile_cells}"
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-fill-") as tmp:
        root = Path(tmp)
        model_dir = write_model(root / "model")
        raws = {n: write_region(root / f"raw-{n}y.zarr", 365 * n, cells) for n in years}

        cluster, client = one_worker()
        try:
            blocks: list[int] = []

            def network() -> None:
                seconds, count = network_seconds(raws[years[0]], model_dir, config)
                blocks.append(count)
                network_times.append(seconds)  # warm-up rounds included; dropped below

            network_times: list[float] = []
            times = interleaved(
                {
                    "network": network,
                    "end-to-end": lambda: end_to_end_seconds(
                        raws[years[0]], model_dir, root / "out.zarr", config, client
                    ),
                },
                warmup=warmup,
                repeats=repeats,
            )
        finally:
            client.close()
            cluster.close()
        network_samples = Samples(tuple(network_times[warmup:]))  # the network alone, not its reads
        ratio = per_round(lambda e2e, net: e2e / net, times["end-to-end"], network_samples)
        label = f"{years[0]} year, {size}"
        rows += [
            result(f"{label}: end-to-end fill / network on the same blocks", ratio, "time ratio",
                   reference="network time, same run",
                   note=f"target <= {OVERHEAD_TARGET}; {blocks[0]} tiles, 1 worker x 1 thread"),
            result(f"{label}: end-to-end fill", times["end-to-end"], "s"),
            result(f"{label}: network only", network_samples, "s", note="1 torch thread"),
        ]  # fmt: skip

        rows += worker_scaling(raws[years[0]], model_dir, root, config, warmup, repeats, label)
        rows += overhead(raws[years[0]], write_model(root / "anomaly", "anomaly"), root, config,
                         warmup, repeats, f"{label}, anomaly + error model")  # fmt: skip

        peaks = {}
        for n in years:
            cluster, client = one_worker()
            try:
                end_to_end_seconds(raws[n], model_dir, root / f"mem-{n}y.zarr", config, client)
                peaks[n] = peak_worker_rss(client)
            finally:
                client.close()
                cluster.close()
            rows.append(
                result(
                    f"{n} year(s), {size}: peak worker RSS",
                    peaks[n],
                    "MiB",
                    note="fresh worker, torch imported",
                )
            )
        rows.append(
            result(f"peak worker RSS, {years[-1]} years / {years[0]} year",
                   peaks[years[-1]] / peaks[years[0]], "ratio",
                   reference=f"{years[0]} year", note="~1: memory does not grow with the record")
        )  # fmt: skip
    return rows


if __name__ == "__main__":
    print(format_table(run(quick="--quick" in sys.argv[1:])))
