"""What keeping the source's quality layers (``sm_error``, ``frozen``) costs, on the real days.

    python benchmarks/bench_quality.py [--data tests/data/lprm] [--repeat 3] [--fill]

1. Size: ingests every file (X band, global) into a new store and reports the bytes on disk of
   each array, so the store without the layers is the total less theirs.
2. Time: a store is created from the first day; a copy of it has the quality arrays deleted
   (a cube as earlier versions wrote it, which ingest extends without them). Each copy is
   then extended with the other days in this process (``--workers 1``), alternately, and the
   best of ``--repeat`` runs of each is kept: the ratio is the cost of decoding ``error`` and
   ``ts`` and writing the two arrays.
3. ``--fill``: fills the store with the shipped model (``builtin:lprm-x-d-025``) and counts the
   flags, so the share of gaps flagged ``frozen`` is measured on the whole globe.

Results go to ``benchmarks/results/quality.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zarr

from sgdsm_cloud import cube
from sgdsm_cloud.ingest import IngestConfig, ingest
from sgdsm_cloud.product import (
    FLAG_FILLED,
    FLAG_FROZEN,
    FLAG_NOT_FILLED,
    FLAG_OBSERVED,
    open_seamless,
)
from sgdsm_cloud.storage import Location

RESULTS = Path(__file__).parent / "results" / "quality.json"


def _bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _ingest(sources: list[Path], store: Path) -> float:
    config = IngestConfig(
        tuple(Location(str(s)) for s in sources), Location(str(store)), variable="x"
    )
    started = time.perf_counter()
    ingest(config)
    return time.perf_counter() - started


def sizes(data: Path, work: Path) -> dict:
    store = work / "sizes.zarr"
    seconds = _ingest([data], store)
    arrays = {p.name: _bytes(p) for p in store.iterdir() if p.is_dir()}
    total = _bytes(store)
    quality = sum(arrays.get(name, 0) for name in cube.QUALITY_VARS)
    return {
        "cold_ingest_s": round(seconds, 2),
        "store_bytes": total,
        "array_bytes": arrays,
        "without_quality_bytes": total - quality,
        "increase": round(total / (total - quality) - 1, 4),
    }, store


def timing(data: Path, work: Path, repeat: int) -> dict:
    files = sorted(data.glob("*.nc4"))
    first, rest = work / "first", work / "rest"
    first.mkdir()
    rest.mkdir()
    shutil.copy(files[0], first)
    for f in files[1:]:
        shutil.copy(f, rest)
    base = work / "base.zarr"
    _ingest([first], base)
    best: dict[str, float] = {}
    for _ in range(repeat):
        for kind in ("with", "without"):
            store = work / f"{kind}.zarr"
            shutil.rmtree(store, ignore_errors=True)
            shutil.copytree(base, store)
            if kind == "without":
                group = zarr.open_group(str(store), mode="r+")
                for name in cube.QUALITY_VARS:
                    del group[name]
            seconds = _ingest([first, rest], store)
            best[kind] = min(best.get(kind, float("inf")), seconds)
    return {
        "files": len(files) - 1,
        "warm_ingest_with_s": round(best["with"], 3),
        "warm_ingest_without_s": round(best["without"], 3),
        "ratio": round(best["with"] / best["without"], 3),
    }


def fill_share(store: Path, work: Path, workers: int) -> dict:
    out = work / "filled.zarr"
    sgdsm = str(Path(sys.executable).with_name("sgdsm"))
    command = [sgdsm, "fill", "--store", str(store)]
    command += ["--model", "builtin:lprm-x-d-025", "--out", str(out), "--workers", str(workers)]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - started
    flag = open_seamless(str(out))["flag"].values
    counts = {
        name: int((flag == value).sum())
        for name, value in (
            ("observed", FLAG_OBSERVED),
            ("filled", FLAG_FILLED),
            ("not_filled", FLAG_NOT_FILLED),
            ("frozen", FLAG_FROZEN),
        )
    }
    gaps = counts["filled"] + counts["frozen"]
    return {
        "fill_s": round(seconds, 1),
        "flags": counts,
        "frozen_share_of_filled_and_frozen": counts["frozen"] / gaps if gaps else float("nan"),
        "frozen_per_day": [int(n) for n in (flag == FLAG_FROZEN).sum(axis=(1, 2))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("tests/data/lprm"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fill", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="fill's worker processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sgdsm-quality-") as tmp:
        work = Path(tmp)
        result, store = sizes(args.data, work)
        result.update(timing(args.data, work, args.repeat))
        if args.fill:
            result.update(fill_share(store, work, args.workers))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
