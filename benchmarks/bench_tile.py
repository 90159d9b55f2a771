"""Where a fill tile's time goes, with the shipped model, before and after the fill computes
only what the product needs.

    python benchmarks/run.py tile [--quick]

A synthetic global 0.25 degree archive (32 days; quick: 8) is ingested, then two tiles of the
fill's default width (360 x 360 cells) are filled in this process with ``builtin:lprm-x-d-025``
(the ``anomaly`` variant and its error model) on one torch thread, as each fill worker runs:
one dense with land (Europe) and one mostly ocean (southern Africa and the Indian Ocean).
Each tile is timed in two ways, round-robin in the same run:

* **dense**: the network over the whole haloed block on every pass, its CNN's activations in
  torch's default (contiguous) layout: what the fill did before;
* **windows**: the network only over the windows of the block the pass's gaps need
  (``fill.geometry.needed_windows``), its CNN channels-last: what it does now;
* **windows, bfloat16**: the same with the CNN in bfloat16 (``sgdsm fill --bfloat16``; the
  priors and error features stay float32), with the largest difference of its filled values
  from float32's.

The phases: ``read`` (the raw cube, with halo), ``priors`` (per-cell priors and the smoothed
anomaly), ``network`` (the 2-D CNN), ``error features`` and ``sigma`` (the error model),
``other`` (the rest of the forward passes: window arrays, copies), ``compose`` (the product
rule), ``write`` (encoding the chunks and writing the tile's pack). The model's steps come from
torch's profiler (the labels of ``model.anomaly``), the others from the clock.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import Samples, result

TILES = {"dense land (Europe)": (0, 720), "mostly ocean (southern Africa)": (360, 720)}
PHASES = ("read", "priors", "network", "error features", "sigma", "other", "compose", "write")
MODES = {"dense": (False, False), "windows": (True, False), "windows, bfloat16": (True, True)}


def archive(root: Path, days: int) -> Path:
    """A synthetic global archive of ``days`` days, ingested; the raw cube's path."""
    from sgdsm_cloud.cli import main

    end = np.datetime64("2015-06-01") + np.timedelta64(days - 1, "D")
    assert (
        main(["-q", "synth", str(root / "archive"), "--start", "2015-06-01", "--end", str(end)])
        == 0
    )
    raw = root / "raw.zarr"
    argv = ["-q", "ingest", str(root / "archive"), "--store", str(raw), "--variable", "c1"]
    assert main([*argv, "--workers", "1"]) == 0
    return raw


class Tile:
    """Everything one tile's fill needs, read once; :meth:`fill` runs it in one way."""

    def __init__(self, raw: Path, out: Path, days: int, origin: tuple[int, int]) -> None:
        from sgdsm_cloud.fill.block import FillJob, TileStores
        from sgdsm_cloud.fill.config import FillConfig
        from sgdsm_cloud.fill.executor import prepare_fill
        from sgdsm_cloud.fill.template import ModelInfo, array_metadata, metadata_refs, template_for
        from sgdsm_cloud.model.builtin import resolve_model
        from sgdsm_cloud.model.runner import Predictor
        from sgdsm_cloud.storage import Location
        from sgdsm_cloud.versioned.repository import Repository

        config = FillConfig(tile_days=days, tile_cells=360, chunk_days=days)
        model = Location(resolve_model("builtin:lprm-x-d-025"))
        prepared = prepare_fill(Location(str(raw)), Location(str(out)), model, config)
        self.spec = next(
            b for b in prepared.plan.blocks if tuple(b.write[1][:1] + b.write[2][:1]) == origin
        )
        template = template_for(
            prepared.raw, prepared.plan, str(raw), ModelInfo.from_checkpoint(prepared.checkpoint)
        )
        repository = Repository(Location(str(out)))
        repository.create()
        metadata = array_metadata(metadata_refs(template, prepared.plan.layout))
        self.job = FillJob(
            Location(str(raw)), repository.run("bench"), tuple(metadata.items()), days
        )
        self.stores = TileStores(self.job)
        self.predictors = {
            bfloat16: Predictor.from_checkpoint(
                prepared.checkpoint, "cpu", config.batch_size, threads=1, bfloat16=bfloat16
            )
            for bfloat16 in (False, True)
        }
        self.core = prepared.checkpoint.model.core

    def fill(
        self, windows: bool, bfloat16: bool = False
    ) -> tuple[dict[str, float], dict[str, Any]]:
        """Seconds per phase and the tile's counts (with its filled ``sm``), filled with or
        without windows, in float32 or with the CNN in bfloat16."""
        import torch
        from torch.profiler import ProfilerActivity, profile

        from sgdsm_cloud.fill.block import encode_tile, fill_block, read_input
        from sgdsm_cloud.model.anomaly import ERROR_FEATURES, NETWORK, PRIORS
        from sgdsm_cloud.model.network import SIGMA
        from sgdsm_cloud.product import FLAG, SM, SM_UNCERTAINTY
        from sgdsm_cloud.versioned.packs import write_pack

        self.core.memory_format = torch.channels_last if windows else torch.contiguous_format
        started = time.perf_counter()
        tile = read_input(self.stores, self.spec)
        frozen = tile.frozen_days(self.spec.shape[0])
        read = time.perf_counter() - started
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            (sm, flag, unc), counts = fill_block(
                tile.block, tile.land, tile.fill_land, self.spec, self.predictors[bfloat16],
                self.stores.valid_range, tile.error, frozen, chunk_days=self.job.chunk_days,
                windows=windows,
            )  # fmt: skip
        steps = {
            e.key: e.cpu_time_total / 1e6
            for e in prof.key_averages()
            if e.key in (PRIORS, NETWORK, ERROR_FEATURES, SIGMA)
        }
        filled = time.perf_counter()
        chunks = encode_tile(self.job, self.spec, {SM: sm, FLAG: flag, SM_UNCERTAINTY: unc})
        write_pack(
            self.job.run.pack(f"{self.spec.id}-{windows}-{bfloat16}"),
            {k: v for k, v in chunks.items() if v is not None},
        )
        write = time.perf_counter() - filled
        network = counts["network_seconds"]
        seconds = {
            "read": read,
            "priors": steps.get(PRIORS, 0.0),
            "network": steps.get(NETWORK, 0.0),
            "error features": steps.get(ERROR_FEATURES, 0.0),
            "sigma": steps.get(SIGMA, 0.0),
            "compose": filled - started - read - network,
            "write": write,
        }
        seconds["other"] = network - sum(
            seconds[k] for k in ("priors", "network", "error features", "sigma")
        )
        return seconds, {**counts, "sm": sm}


def run(quick: bool) -> list[dict]:
    """The benchmark-runner entry point (benchmarks/common.py describes the convention)."""
    import torch

    days, repeats = (8, 1) if quick else (32, 2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root = Path(tempfile.mkdtemp(prefix="sgdsm-bench-tile-"))
    rows: list[dict] = []
    try:
        raw = archive(root, days)
        for label, origin in TILES.items():
            tile = Tile(raw, root / f"product-{origin[0]}-{origin[1]}", days, origin)
            timings: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
            counts: dict[str, dict[str, Any]] = {}
            for windows, bfloat16 in MODES.values():  # warm-up: oneDNN picks its kernels
                tile.fill(windows, bfloat16)
            for _ in range(repeats):
                for mode, (windows, bfloat16) in MODES.items():  # round-robin
                    seconds, counts[mode] = tile.fill(windows, bfloat16)
                    timings[mode].append(seconds)
            rows.extend(tile_rows(label, days, timings, counts))
    finally:
        torch.set_num_threads(threads)
        shutil.rmtree(root, ignore_errors=True)
    return rows


def tile_rows(
    label: str,
    days: int,
    timings: dict[str, list[dict[str, float]]],
    counts: dict[str, dict[str, Any]],
) -> list[dict]:
    cells = days * 360 * 360
    rows = []
    for phase in PHASES:
        before = Samples(tuple(t[phase] for t in timings["dense"]))
        after = Samples(tuple(t[phase] for t in timings["windows"]))
        rows.append(result(f"{label}: {phase}", after, "s", note=f"dense: {before.median:.2f} s"))
    totals = {m: Samples(tuple(sum(t.values()) for t in timings[m])) for m in MODES}
    rows.append(
        result(
            f"{label}: tile total",
            totals["windows"],
            "s",
            note=f"dense: {totals['dense'].median:.2f} s; {days} days x 360 x 360 cells",
        )
    )
    rows.append(
        result(
            f"{label}: windows / dense",
            _ratio(totals["windows"], totals["dense"]),
            "ratio",
            reference="dense, same run",
            note=f"network input cells per output cell: {counts['windows']['model_cells'] / cells:.2f} "
            f"(dense {counts['dense']['model_cells'] / cells:.2f}); gaps filled {counts['windows']['filled']:,}",
        )
    )
    network = {m: Samples(tuple(t["network"] for t in timings[m])) for m in MODES}
    difference = np.nanmax(np.abs(counts["windows, bfloat16"]["sm"] - counts["windows"]["sm"]))
    rows.append(
        result(
            f"{label}: bfloat16 / float32, tile total",
            _ratio(totals["windows, bfloat16"], totals["windows"]),
            "ratio",
            reference="windows in float32, same run",
            note=f"network alone {_ratio(network['windows, bfloat16'], network['windows']).median:.2f}; "
            f"largest difference of a filled value {difference:.1e} m3 m-3",
        )
    )
    return rows


def _ratio(a: Samples, b: Samples) -> Samples:
    return Samples(tuple(x / y for x, y in zip(a.values, b.values, strict=True)))
