"""Daily updates of a versioned product against the full fill of the same cube, in one run.

    python benchmarks/run.py update [--quick]     # or: python benchmarks/bench_update.py [--quick]

Workload (full): a synthetic global 0.25 deg LPRM archive of 365 + 30 days (``sgdsm synth``),
the first 365 ingested into a raw cube and filled by the shipped model
(``builtin:lprm-x-d-025``, the ``anomaly`` variant with its error model) on a LocalCluster of
two single-threaded worker processes: the full fill. Then 30 daily updates, each one granule
more in the feed folder (``sgdsm update`` in this process: ingest one day, refill five, check,
publish). Quick: a 10 x 10 deg region, 48 + 5 days, a small random network.

Measured, per update: its wall time as a share of the full fill's; the bytes it wrote (every
file added under the product and the raw cube is not counted: the product's own files only)
over the compressed bytes of the days it refilled (each chunk's stored bytes times the share
of its days refilled): the write amplification. After the last update: the read cost of a
one-day global map and of a whole-record pixel series (objects, chunks, MB) in the product as
it is, beside the layout of a plain sharded store (``fill.layout``: the table in
docs/fill.md). Targets: update <= 5 % of the fill (median), amplification <= 15 x (median),
read costs within 2 x of the sharded layout.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``benchmarks`` and ``sgdsm_cloud`` importable
    sys.path.insert(0, str(REPO))

from benchmarks.common import format_table, result

FULL = {"bbox": None, "days": 365, "updates": 30, "model": "builtin:lprm-x-d-025", "workers": 2}
QUICK = {"bbox": "140,-30,150,-20", "days": 48, "updates": 5, "model": None, "workers": 2}
START = "2015-01-01"
SHARE_TARGET, AMPLIFICATION_TARGET, READ_TARGET = 0.05, 15.0, 2.0


def files(root: Path) -> dict[str, int]:
    """Size of every file under ``root``, by path."""
    return {
        os.path.join(folder, name): os.path.getsize(os.path.join(folder, name))
        for folder, _, names in os.walk(root)
        for name in names
    }


def written_bytes(before: dict[str, int], after: dict[str, int]) -> int:
    """Bytes of the files added or rewritten between two listings."""
    return sum(
        size
        for path, size in after.items()
        if before.get(path) != size or path.endswith("latest.json")
    )


def refilled_bytes(refs: dict[str, Any], refilled: list[int], chunk_days: int, days: int) -> float:
    """The compressed bytes of the refilled days: each chunk's stored bytes times the share of
    its days (within the record) that were refilled."""
    wanted = set(refilled)
    total = 0.0
    for key, ref in refs.items():
        if (
            "/c/" not in key
            or not isinstance(ref, list)
            or key.split("/")[0] not in ("sm", "flag", "sm_uncertainty")
        ):
            continue
        t = int(key.split("/c/")[1].split("/")[0])
        span = range(t * chunk_days, min((t + 1) * chunk_days, days))
        hit = sum(1 for d in span if d in wanted)
        if hit:
            total += ref[2] * hit / len(span)
    return total


def read_cost(
    refs: dict[str, Any], day: int, pixel: tuple[int, int], chunks: tuple[int, int, int], ntime: int
) -> dict[str, Any]:
    """Objects, chunk reads and bytes of one day's map and one pixel's series of ``sm``."""
    t0, cy, cx = chunks
    day_chunk = day // t0
    in_map = [
        r for k, r in refs.items() if k.startswith(f"sm/c/{day_chunk}/") and isinstance(r, list)
    ]
    series_key = f"/{pixel[0] // cy}/{pixel[1] // cx}"
    in_series = [
        r
        for k, r in refs.items()
        if k.startswith("sm/c/") and k.endswith(series_key) and isinstance(r, list)
    ]
    chunk_mb = t0 * cy * cx * 4 / 1e6
    return {
        "map": (
            len({r[0] for r in in_map}),
            len(in_map),
            len(in_map) * chunk_mb,
            sum(r[2] for r in in_map) / 1e6,
        ),
        "series": (
            len({r[0] for r in in_series}),
            len(in_series),
            len(in_series) * chunk_mb,
            sum(r[2] for r in in_series) / 1e6,
        ),
    }


def run(quick: bool) -> list[dict[str, Any]]:
    import pandas as pd

    from sgdsm_cloud.cli import main
    from sgdsm_cloud.cluster import connect
    from sgdsm_cloud.fill.config import FillConfig
    from sgdsm_cloud.fill.executor import run_fill
    from sgdsm_cloud.fill.layout import Layout, map_cost, series_cost
    from sgdsm_cloud.storage import Location
    from sgdsm_cloud.update.config import UpdateOptions
    from sgdsm_cloud.update.run import update
    from sgdsm_cloud.versioned.repository import Repository

    setup = QUICK if quick else FULL
    root = Path(tempfile.mkdtemp(prefix="sgdsm-bench-update-"))
    try:
        archive, feed = root / "archive", root / "feed"
        total = setup["days"] + setup["updates"]
        end = str((pd.Timestamp(START) + pd.Timedelta(days=total - 1)).date())
        bbox = [f"--bbox={setup['bbox']}"] if setup["bbox"] else []
        assert (
            main(
                [
                    "-q",
                    "synth",
                    str(archive),
                    "--start",
                    START,
                    "--end",
                    end,
                    *bbox,
                    "--workers",
                    str(setup["workers"]),
                ]
            )
            == 0
        )
        granules = sorted(archive.glob("*.nc4"))
        feed.mkdir()
        for path in granules[: setup["days"]]:
            shutil.copy2(path, feed / path.name)
        raw = root / "raw.zarr"
        assert (
            main(
                [
                    "-q",
                    "ingest",
                    str(feed),
                    "--store",
                    str(raw),
                    "--variable",
                    "c1",
                    "--workers",
                    str(setup["workers"]),
                ]
            )
            == 0
        )
        model = setup["model"] or str(_small_model(root / "model"))
        from sgdsm_cloud.model.builtin import resolve_model

        model_location = Location(resolve_model(model))
        product = root / "product"
        config = FillConfig()
        started = time.perf_counter()
        with connect(None, setup["workers"]) as client:
            run_fill(Location(str(raw)), Location(str(product)), model_location, config, client)
        fill_seconds = time.perf_counter() - started

        shares, amplifications, writes, refilled_counts = [], [], [], []
        for path in granules[setup["days"] :]:
            shutil.copy2(path, feed / path.name)
            before = files(product)
            started = time.perf_counter()
            summary = update(
                (Location(str(feed)),),
                Location(str(raw)),
                model_location,
                Location(str(product)),
                UpdateOptions(),
            )
            seconds = time.perf_counter() - started
            repository = Repository(Location(str(product)))
            refs = repository.load(repository.head()).refs
            ndays = json.loads(refs["sm/zarr.json"])["shape"][0]
            refill = [(pd.Timestamp(d) - pd.Timestamp(START)).days for d in summary.days_refilled]
            written = written_bytes(before, files(product))
            shares.append(seconds / fill_seconds)
            amplifications.append(
                written / max(refilled_bytes(refs, refill, config.chunk_days or 32, ndays), 1.0)
            )
            writes.append(written)
            refilled_counts.append(len(refill))
        repository = Repository(Location(str(product)))
        refs = repository.load(repository.head()).refs
        shape = tuple(json.loads(refs["sm/zarr.json"])["shape"])
        chunks = tuple(
            json.loads(refs["sm/zarr.json"])["chunk_grid"]["configuration"]["chunk_shape"]
        )
        pixel = _land_pixel(refs, chunks)
        cost = read_cost(refs, shape[0] - 1, pixel, chunks, shape[0])
        middle = read_cost(refs, shape[0] // 2, pixel, chunks, shape[0])
        sharded = Layout(chunks, (config.tile_days, config.tile_cells, config.tile_cells))
        plain_map, plain_series = map_cost(shape, sharded), series_cost(shape, sharded)
        rows = [
            result(
                "full fill",
                fill_seconds,
                "s",
                note=f"{setup['days']} days, {shape[1]} x {shape[2]} cells, {model}",
            ),
            result(
                "update / full fill (median)",
                statistics.median(shares),
                "ratio",
                reference="full fill",
                note=f"target <= {SHARE_TARGET}; worst {max(shares):.4f} over {len(shares)} updates",
            ),
            result(
                "write amplification (median)",
                statistics.median(amplifications),
                "x",
                note=f"target <= {AMPLIFICATION_TARGET}; worst {max(amplifications):.1f}; bytes written / compressed bytes of the refilled days",
            ),
            result(
                "bytes written per update (median)",
                statistics.median(writes) / 1e6,
                "MB",
                note=f"worst {max(writes) / 1e6:.1f} MB; days refilled {statistics.median(refilled_counts):g}",
            ),
        ]
        for label, measured, plain in (
            ("map of the newest day", cost["map"], plain_map),
            ("map of a middle day", middle["map"], plain_map),
            ("pixel series, whole record", cost["series"], plain_series),
        ):
            objects, reads, mb, stored = measured
            rows.append(
                result(
                    f"{label}: objects",
                    objects / max(plain.objects, 1),
                    "ratio",
                    reference="sharded layout",
                    note=f"{objects} objects against {plain.objects}; target <= {READ_TARGET}",
                )
            )
            rows.append(
                result(
                    f"{label}: MB (uncompressed bound)",
                    mb / max(plain.bytes / 1e6, 1e-9),
                    "ratio",
                    reference="sharded layout",
                    note=f"{mb:.1f} MB against {plain.bytes / 1e6:.1f} MB ({reads} chunks; {stored:.2f} MB stored)",
                )
            )
        return rows
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _land_pixel(refs: dict[str, Any], chunks: tuple[int, int, int]) -> tuple[int, int]:
    """A cell of a spatial chunk that holds land (a chunk stored on the first days)."""
    for key in sorted(refs):
        if key.startswith("sm/c/0/"):
            _, y, x = (int(i) for i in key.split("/c/")[1].split("/"))
            return (y * chunks[1], x * chunks[2])
    return (0, 0)


def _small_model(path: Path) -> Path:
    import torch

    from sgdsm_cloud.model.checkpoint import save_checkpoint
    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet

    torch.manual_seed(0)
    config = ModelConfig(layers=2, features=8)
    save_checkpoint(path, SGDSMNet(config), config, {"trained_on": "nothing (benchmark)"})
    return path


if __name__ == "__main__":
    print(format_table(run("--quick" in sys.argv)))
