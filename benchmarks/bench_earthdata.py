"""Ingest from NASA Earthdata (loopback) against ingest of the same files from local disk.

The archive is synthetic global 0.25 deg LPRM days (``bench_ingest.archive``). A loopback
Earthdata (``python -m sgdsm_cloud.testing.earthdata``, its own process, so the server's CPU is
not counted in the ingest's memory) serves them: CMR granule search, bearer token, HTTP data.
Each round runs, one after the other, a warm ``sgdsm ingest`` (extending a store created from
the first day, so the land mask is not rebuilt) of

* the local folder, and
* ``earthdata:LPRM_AMSR2_D_SOILM3`` (CMR search, one HEAD per granule, one GET per file),

as subprocesses with RSS sampled over the ingest's process tree. The ratio of the two rates is
taken per round (interleaved, so load that comes and goes hits both alike). Peak memory of the
Earthdata ingest is measured for a short and a long archive: it must not grow with the number
of granules.

    python benchmarks/run.py earthdata            # the runner
    python benchmarks/bench_earthdata.py --days 60 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.bench_ingest import START, archive, run_sampled

COLLECTION = "LPRM_AMSR2_D_SOILM3"
TOKEN = "benchmark-token-not-secret"


class Server:
    """The loopback Earthdata serving ``folder``, in its own process."""

    def __init__(self, folder: Path) -> None:
        command = [sys.executable, "-m", "sgdsm_cloud.testing.earthdata"]
        command += ["--collection", f"{COLLECTION}={folder}", "--token", TOKEN]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://"):
            raise SystemExit("the loopback Earthdata did not start")

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def ingest_pair(folder: Path, server: Server, workers: int, tmp: Path, round_: int) -> dict:
    """One round: warm local ingest, then warm Earthdata ingest of the same files."""
    env = {**os.environ, "SGDSM_CMR_URL": server.url, "EARTHDATA_TOKEN": TOKEN}
    out = {}
    for kind, source in (("local", str(folder)), ("earthdata", f"earthdata:{COLLECTION}")):
        store = tmp / f"{kind}-{round_}.zarr"
        base = [sys.executable, "-m", "sgdsm_cloud", "-q", "ingest", source, "--store", str(store)]
        base += ["--workers", str(workers)]
        subprocess.run([*base, "--end", str(START)], env=env, check=True, capture_output=True)
        out[kind] = _sampled(base, env)
    return out


def _sampled(command: list[str], env: dict) -> dict:
    old = dict(os.environ)
    os.environ.update(env)
    try:
        return run_sampled(command)
    finally:
        os.environ.clear()
        os.environ.update(old)


def measure(days: int, workers: int, repeat: int) -> dict:
    files = archive(days, 0.25)
    folder = files[0].parent
    nbytes = sum(p.stat().st_size for p in files[1:])
    rounds = []
    load = os.getloadavg()[0]
    with Server(folder) as server, tempfile.TemporaryDirectory(prefix="sgdsm-bench-") as tmp:
        for r in range(repeat):
            rounds.append(ingest_pair(folder, server, workers, Path(tmp), r))
    n = len(files) - 1

    def rate(kind: str) -> list[float]:
        return [n / r[kind]["wall_s"] for r in rounds]

    ratios = [e / loc for e, loc in zip(rate("earthdata"), rate("local"), strict=True)]
    return {
        "command": f"python benchmarks/bench_earthdata.py --days {days} --workers {workers} "
        f"--repeat {repeat}",
        "files": n,
        "mb": round(nbytes / 1e6, 1),
        "load_average_1min_before": round(load, 2),
        "local_files_per_s": [round(v, 2) for v in rate("local")],
        "earthdata_files_per_s": [round(v, 2) for v in rate("earthdata")],
        "ratio_per_round": [round(v, 3) for v in ratios],
        "ratio_median": round(statistics.median(ratios), 3),
        "earthdata_max_process_rss_mb": round(
            max(r["earthdata"]["max_process_rss_mb"] for r in rounds), 1
        ),
        "local_max_process_rss_mb": round(max(r["local"]["max_process_rss_mb"] for r in rounds), 1),
        "earthdata_tree_rss_mb": round(max(r["earthdata"]["peak_tree_rss_mb"] for r in rounds), 1),
    }


def run(quick: bool) -> list[dict]:
    """The runner's entry point (benchmarks/common.py).

    Memory is compared between archives that both fill at least one whole 32-day slab (a
    shorter one has a smaller slab, hence less memory, whatever the source), for the Earthdata
    ingest and, as the reference, the local ingest of the same files."""
    from benchmarks.common import Samples, result

    short, long = (34, 50) if quick else (36, 91)  # files ingested: one less (the first: store)
    repeat = 1 if quick else 3
    rows = []
    peaks: dict[tuple[str, int], float] = {}
    for workers in (1,) if quick else (1, 2):
        m = measure(long, workers, repeat)
        label = f"{m['files']} global 0.25 deg days, {workers} worker(s), existing store"
        rows += [
            result(f"{label}: local files/s", Samples(tuple(m["local_files_per_s"])), "files/s"),
            result(f"{label}: Earthdata (loopback) files/s",
                   Samples(tuple(m["earthdata_files_per_s"])), "files/s",
                   note="CMR search + HEAD per granule + GET per file, bearer token"),
            result(f"{label}: Earthdata rate / local rate", Samples(tuple(m["ratio_per_round"])),
                   "rate ratio", reference="local ingest of the same files, same round",
                   note="target >= 0.8"),
        ]  # fmt: skip
        if workers == 1:
            peaks["earthdata", long] = m["earthdata_max_process_rss_mb"]
            peaks["local", long] = m["local_max_process_rss_mb"]
    m = measure(short, 1, 1)
    peaks["earthdata", short] = m["earthdata_max_process_rss_mb"]
    peaks["local", short] = m["local_max_process_rss_mb"]
    for days in (short, long):
        rows.append(result(f"{days - 1} granules from Earthdata, 1 worker: peak RSS",
                           peaks["earthdata", days], "MB",
                           note=f"local ingest of the same files: {peaks['local', days]:.0f} MB"))  # fmt: skip
    rows.append(
        result(f"Earthdata peak RSS, {long - 1} / {short - 1} granules",
               peaks["earthdata", long] / peaks["earthdata", short], "ratio",
               reference=f"{short - 1} granules", note="~1: flat in the number of granules")
    )  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=61, help="files in the archive (first: store)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(measure(args.days, args.workers, args.repeat), indent=2))


if __name__ == "__main__":
    main()
