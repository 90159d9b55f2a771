"""Ingest throughput and memory against the raw read+decode rate of the same files, in one run.

    python benchmarks/bench_ingest.py --days 365 --res 0.25 --workers 2

1. Writes (or reuses) N global daily LPRM files with ``sgdsm synth``'s ``write_archive``.
2. Reference: reads and decodes every file once in this process (``formats.read_day``).
3. Decode scaling: the same read+decode on ``--workers`` threads and on as many processes
   (h5py decodes under a global lock, which decides the local executor).
4. Cold run: ``sgdsm ingest`` of the whole archive into a new store, as a subprocess whose
   whole process tree (driver and worker processes) is sampled for RSS every 50 ms.
5. Warm run: a store created from the first day only, then extended with the whole archive;
   the second command is measured. It skips the fixed cost of a new store (the land mask
   from the 30" GLOBE mask, about 1 GB and several seconds), so it shows the per-file cost
   and the memory of the slabs themselves.

``python benchmarks/run.py ingest [--quick]`` runs ``run()``: 1 and 2 workers on a long
archive, and the memory of a short against a long one. Every timing is the best of ``--repeat``
runs (the machine may be shared); RSS is the largest. As a script, results are merged into ``benchmarks/results/ingest_script.json`` under
``<days>d_<res>deg_w<workers>`` (the runner keeps its own ``ingest.json``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import psutil

from sgdsm_cloud.formats import read_day

RESULTS = Path(__file__).parent / "results"
START = dt.date(2015, 1, 1)
MB = 1e6


def archive(days: int, res: float) -> list[Path]:
    """N global daily files, reused from ``results/archive-<res>-<days>d`` when complete."""
    from sgdsm_cloud.synth import SynthConfig, write_archive

    folder = RESULTS / f"archive-{res}-{days}d"
    files = sorted(folder.glob("*.nc4"))
    if len(files) != days:
        shutil.rmtree(folder, ignore_errors=True)
        config = SynthConfig(START, START + dt.timedelta(days=days - 1), res=res)
        write_archive(config, folder, progress=True)
        shutil.rmtree(folder / "truth.zarr")  # not needed here; keeps the walk to the daily files
        files = sorted(folder.glob("*.nc4"))
    return files


def read_and_decode(path: str) -> int:
    """One file read once and decoded, as a slab task does; returns the bytes read."""
    data = Path(path).read_bytes()
    read_day(data, Path(path).name)
    return len(data)


def decode_rate(files: list[Path], pool: str, workers: int) -> float:
    """Files per second for read+decode: ``serial`` here, or on a thread or process pool."""
    paths = [str(p) for p in files]
    if pool == "serial":
        start = time.perf_counter()
        for p in paths:
            read_and_decode(p)
        return len(paths) / (time.perf_counter() - start)
    executor = (
        ThreadPoolExecutor(workers)
        if pool == "threads"
        else ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
    )
    with executor:
        list(executor.map(read_and_decode, paths[:workers]))  # start and import before timing
        start = time.perf_counter()
        list(executor.map(read_and_decode, paths))
        return len(paths) / (time.perf_counter() - start)


def run_sampled(command: list[str]) -> dict:
    """Run ``command``: wall time and, sampled every 50 ms, the peak RSS of its process tree and
    of its largest process. (``ru_maxrss`` would not do: a forked child starts with its parent's
    high-water mark, so spawned workers would report the driver's.)"""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    root, tree_peak, process_peak = psutil.Process(proc.pid), 0, 0
    while proc.poll() is None:
        try:
            rss = [p.memory_info().rss for p in [root, *root.children(recursive=True)]]
            tree_peak, process_peak = max(tree_peak, sum(rss)), max(process_peak, *rss)
        except psutil.Error:  # a process ended between listing and reading
            pass
        time.sleep(0.05)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read() if proc.stderr else ""
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}):\n{stderr}")
    return {
        "wall_s": wall,
        "peak_tree_rss_mb": tree_peak / MB,
        "max_process_rss_mb": process_peak / MB,
        "exit": proc.returncode,
    }


def landmask_rss(res: float) -> float:
    """Peak RSS (MB) of a process that only builds the land fraction at ``res``."""
    code = f"from sgdsm_cloud.landmask import global_land_fraction; global_land_fraction({res})"
    return run_sampled([sys.executable, "-c", code])["max_process_rss_mb"]


def measure(days: int, res: float, workers: int, repeat: int) -> dict:
    """One archive size and worker count: the rates, ratios and memory described above."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    files = archive(days, res)
    total_bytes = sum(p.stat().st_size for p in files)
    best = range(repeat)
    serial = max(decode_rate(files, "serial", 1) for _ in best)
    threads = max(decode_rate(files, "threads", workers) for _ in best)
    processes = max(decode_rate(files, "processes", workers) for _ in best)

    folder = str(files[0].parent)
    cold, warm = [], []
    for _ in best:
        with tempfile.TemporaryDirectory(prefix="sgdsm-bench-") as tmp:
            cold_store, warm_store = Path(tmp) / "cold.zarr", Path(tmp) / "warm.zarr"
            base = [sys.executable, "-m", "sgdsm_cloud", "-q", "ingest", folder]
            base += ["--workers", str(workers)]
            load_before = os.getloadavg()[0]
            cold.append(run_sampled([*base, "--store", str(cold_store)]))
            store_mb = sum(f.stat().st_size for f in cold_store.rglob("*") if f.is_file()) / MB
            run_sampled([*base, "--store", str(warm_store), "--end", str(START)])
            warm.append(run_sampled([*base, "--store", str(warm_store)]))

    def rates(runs: list[dict], nfiles: int, nbytes: int) -> dict:
        wall = min(r["wall_s"] for r in runs)
        return {
            "wall_s": round(wall, 2),
            "files_per_s": round(nfiles / wall, 2),
            "mb_per_s": round(nbytes / MB / wall, 2),
            "ratio_to_reference_decode": round(nfiles / wall / serial, 3),
            "peak_tree_rss_mb": round(max(r["peak_tree_rss_mb"] for r in runs), 1),
            "max_process_rss_mb": round(max(r["max_process_rss_mb"] for r in runs), 1),
        }

    return {
        "command": f"python benchmarks/bench_ingest.py --days {days} --res {res} "
        f"--workers {workers} --repeat {repeat}",
        "measured": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "load_average_1min_before_ingest": round(load_before, 2),
        "files": len(files),
        "archive_mb": round(total_bytes / MB, 1),
        "store_mb": round(store_mb, 1),
        "reference_decode_files_per_s": round(serial, 2),
        "reference_decode_mb_per_s": round(serial * total_bytes / len(files) / MB, 2),
        f"decode_threads{workers}_files_per_s": round(threads, 2),
        f"decode_processes{workers}_files_per_s": round(processes, 2),
        "cold_ingest": rates(cold, len(files), total_bytes),
        "warm_ingest": rates(warm, len(files) - 1, total_bytes - files[0].stat().st_size),
        "landmask_only_rss_mb": round(landmask_rss(res), 1),
    }


def run(quick: bool) -> list[dict]:
    """The runner's entry point (benchmarks/common.py): rates with 1 and 2 workers against the
    serial read+decode of the same files, on the long archive (a short one is dominated by
    process start-up), and the largest process's memory for a short and a long archive."""
    from benchmarks.common import result

    res, repeat = 0.25, 1 if quick else 2
    short, long = (10, 30) if quick else (60, 365)
    rows, peaks = [], {}
    for workers in (1, 2):
        m = measure(long, res, workers, repeat)
        label = f"{long} global {res} deg days, {workers} worker(s)"
        for run_kind in ("warm_ingest", "cold_ingest"):
            r = m[run_kind]
            what = "existing store" if run_kind == "warm_ingest" else "new store (land mask built)"
            rows += [
                result(f"{label}, {what}: files/s", r["files_per_s"], "files/s",
                       note=f"{r['mb_per_s']} MB/s"),
                result(f"{label}, {what}: rate / serial read+decode",
                       r["ratio_to_reference_decode"], "rate ratio",
                       reference="serial read+decode of the same files, same run",
                       note=f"serial decode {m['reference_decode_files_per_s']} files/s"),
            ]  # fmt: skip
        peaks[long] = m["warm_ingest"]["max_process_rss_mb"]
    peaks[short] = measure(short, res, 2, 1)["warm_ingest"]["max_process_rss_mb"]
    for days in (short, long):
        rows.append(result(f"{days} days, 2 workers: largest process RSS (existing store)",
                           peaks[days], "MB"))  # fmt: skip
    rows.append(
        result(f"largest process RSS, {long} days / {short} days", peaks[long] / peaks[short],
               "ratio", reference=f"{short} days", note="~1: memory does not grow with the archive")
    )  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--res", type=float, default=0.25)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="best of N timings")
    parser.add_argument("--out", type=Path, default=RESULTS / "ingest_script.json")
    args = parser.parse_args()

    result = measure(args.days, args.res, args.workers, args.repeat)
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results[f"{args.days}d_{args.res}deg_w{args.workers}"] = result
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
