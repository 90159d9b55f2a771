"""GPU throughput of the SGD-SM network, and the time it projects for the whole product.

    python benchmarks/gpu.py [--quick] [--preset paper,anomaly] [--tile CELLS] [--json PATH] [--record]

For each preset (default: the paper's and ``anomaly``, the variant the product ships), on a
CUDA device it times the network on fill-sized tiles (``--tile`` output cells plus the
model's receptive radius on every side, as ``sgdsm fill`` reads them) in several modes: fp32,
bf16 and fp16 autocast, channels-last (``torch.channels_last_3d`` for the paper's 3-D network;
the ``anomaly`` variant's 2-D CNN runs channels-last in every mode), cuDNN benchmark mode and
``torch.compile``; for the paper's network the dense Conv3d stack and the straightforward
partial convolution (reference_partialconv.py) run beside them. It then sweeps the batch size of the fastest
mode and projects the time of the 2013-2019 cube (2,556 days) at 0.25 and 0.1 degrees:
over fillable land (land fraction >= 0.5 outside Greenland and south of 60 S) and over the
full grid, each with the halo overhead of the fill tiling, and over the land tiles exactly as
the fill plans them.

Without CUDA it says so and runs the same code paths on the CPU with the ``small`` preset (in
place of ``paper``) at a tiny size (the CUDA-only modes are listed as skipped), so the script can be checked anywhere;
those numbers are not GPU numbers. Results are printed, written as JSON (default
``benchmarks/results/gpu.json``) and, with ``--record``, put in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import shlex
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``benchmarks`` and ``sgdsm_cloud`` importable
    sys.path.insert(0, str(REPO))

from benchmarks.bench_model import DenseStack, Workload, build_model, make_inputs
from benchmarks.common import format_table, machine, result, timed
from benchmarks.reference_partialconv import reference_like
from benchmarks.run import (
    MARKDOWN,
    RESULTS_DIR,
    markdown_section,
    measured_record,
    update_markdown,
    write_json,
)
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.geometry import Domain, Halo, TileShape, plan_blocks

PRODUCT_DAYS = (dt.date(2019, 12, 31) - dt.date(2013, 1, 1)).days + 1  # 2,556 days
RESOLUTIONS = (0.25, 0.1)


@dataclass(frozen=True)
class Mode:
    """How the network runs: precision, memory format, cuDNN tuning, compiling, network."""

    name: str
    amp: torch.dtype | None = None  # autocast dtype; None runs float32
    channels_last: bool = False
    cudnn_benchmark: bool = False
    compiled: bool = False
    network: str = "sgdsm"  # or "dense" (no masks) or "reference" (reference_partialconv.py)

    @property
    def cuda_only(self) -> bool:
        return self.amp is not None or self.cudnn_benchmark or self.compiled


FAST = "bf16 channels_last_3d cudnn.benchmark"
FAST_SETTINGS: dict[str, Any] = {
    "amp": torch.bfloat16,
    "channels_last": True,
    "cudnn_benchmark": True,
}
MODES = (
    Mode("fp32"),
    Mode("fp32 cudnn.benchmark", cudnn_benchmark=True),
    Mode("fp32 channels_last_3d", channels_last=True),
    Mode("bf16 autocast", amp=torch.bfloat16),
    Mode("fp16 autocast", amp=torch.float16),
    Mode("bf16 channels_last_3d", amp=torch.bfloat16, channels_last=True),
    Mode(FAST, **FAST_SETTINGS),
    Mode(f"{FAST} compile", **FAST_SETTINGS, compiled=True),
    Mode(f"dense conv3d stack, {FAST}", **FAST_SETTINGS, network="dense"),
    Mode("reference partial conv, fp32", network="reference"),
)


@dataclass(frozen=True)
class Setting:
    """What one invocation measures."""

    device: torch.device
    preset: str
    tile: int  # output cells per side of the timed tiles
    batch: int  # windows per forward call in the mode comparison
    sweep: tuple[int, ...]
    warmup: int
    repeats: int


def choose_setting(quick: bool, preset: str, tile: int | None) -> Setting:
    """Fill-sized tiles on CUDA; a tiny tile on the CPU, with the small preset for the paper's."""
    if torch.cuda.is_available():
        tile = tile or (64 if quick else FillConfig().tile_cells)
        if quick:
            return Setting(torch.device("cuda"), preset, tile, 2, (1, 2), warmup=1, repeats=2)
        return Setting(
            torch.device("cuda"), preset, tile, 4, (1, 2, 4, 8, 16, 32), warmup=3, repeats=5
        )
    cpu_preset = "small" if preset == "paper" else preset
    return Setting(torch.device("cpu"), cpu_preset, tile or 24, 1, (1, 2), 1, 2)


def input_side(tile: int, radius: int) -> int:
    """Cells per side of the network's input for one fill tile: the tile and its halo."""
    return tile + 2 * radius


@contextlib.contextmanager
def cudnn_benchmark(enabled: bool) -> Iterator[None]:
    previous = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = enabled
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = previous


def forward_for(mode: Mode, setting: Setting, batch: int) -> tuple[Callable[[], Any], int]:
    """A no-argument forward call of ``mode`` and the output pixel-days it computes."""
    model = build_model(setting.preset).to(setting.device)
    three_d = model.config.variant == "paper"
    if mode.network != "sgdsm" and not three_d:
        raise NotApplicable(f"the {mode.network} stack is the paper's 3-D network's peer")
    side = input_side(setting.tile, model.config.receptive_radius)
    data, mask = (
        t.to(setting.device)
        for t in make_inputs(Workload(setting.preset, batch, side), model.config.window)
    )
    if mode.channels_last and three_d:  # the anomaly variant's CNN is channels-last already
        model = model.to(memory_format=torch.channels_last_3d)
        data, mask = (
            data.to(memory_format=torch.channels_last_3d),
            mask.to(memory_format=torch.channels_last_3d),
        )
    if mode.network == "dense":
        network: Callable[..., Any] = DenseStack(model)
        arguments: tuple[torch.Tensor, ...] = (data,)
    else:
        network = reference_like(model) if mode.network == "reference" else model
        arguments = (data, mask)
    if mode.compiled:
        network = torch.compile(network)
    autocast = torch.autocast(
        setting.device.type, dtype=mode.amp or torch.bfloat16, enabled=mode.amp is not None
    )

    def forward() -> Any:
        with torch.inference_mode(), autocast:
            return network(*arguments)

    return forward, batch * side * side


def measure(mode: Mode, setting: Setting, batch: int) -> dict[str, Any]:
    """Pixel-days per second of ``mode`` (median and range), or why it could not run."""
    if mode.cuda_only and setting.device.type != "cuda":
        return {"mode": mode.name, "batch": batch, "skipped": "needs CUDA"}
    sync = torch.cuda.synchronize if setting.device.type == "cuda" else None
    if sync:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    try:
        with cudnn_benchmark(mode.cudnn_benchmark):
            forward, pixel_days = forward_for(mode, setting, batch)
            warmup = setting.warmup + (2 if mode.compiled else 0)
            seconds = timed(forward, warmup=warmup, repeats=setting.repeats, sync=sync)
    except NotApplicable as why:
        return {"mode": mode.name, "batch": batch, "skipped": str(why)}
    except torch.cuda.OutOfMemoryError:
        return {"mode": mode.name, "batch": batch, "skipped": "out of GPU memory"}
    except Exception as err:  # e.g. torch.compile without a working compiler: report, go on
        return {
            "mode": mode.name,
            "batch": batch,
            "skipped": f"failed: {type(err).__name__}: {err}"[:200],
        }
    row = {
        "mode": mode.name,
        "batch": batch,
        "rate": seconds.map(lambda s: pixel_days / s),
        "seconds": seconds,
    }
    if sync:
        row["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return row


class NotApplicable(Exception):
    """A mode that does not apply to the preset (e.g. the 3-D dense stack to a 2-D network)."""


def fillable_cells(res: float) -> tuple[np.ndarray, int]:
    """``(fillable, grid cells)`` of the global grid (fillable: land, outside the exclusions)."""
    from sgdsm_cloud.grid import global_lat, global_lon
    from sgdsm_cloud.landmask import LAND_THRESHOLD, excluded_regions, global_land_fraction

    land = global_land_fraction(res) >= LAND_THRESHOLD
    fillable = land & ~excluded_regions(global_lat(res), global_lon(res))
    return fillable, land.size


def tiled_input_cells(fillable: np.ndarray, tile: int, radius: int) -> int:
    """Network input cells per day over the tiles with fillable land, as the fill plans them."""
    nlat, nlon = fillable.shape
    domain = Domain(record_days=1, first_day=0, days=1, nlat=nlat, nlon=nlon, periodic_lon=True)
    total = 0
    for block in plan_blocks(domain, TileShape(1, tile, tile), Halo(0, radius)):
        _, (y0, y1), (x0, x1) = block.write
        if fillable[y0:y1, x0:x1].any():
            lat_cells = block.read_lat[1] - block.read_lat[0]
            total += lat_cells * sum(stop - start for start, stop in block.read_lon)
    return total


def projections(rate: float, tile: int, radius: int, label: str) -> list[dict[str, Any]]:
    """Projected hours for the 2013-2019 cube at each resolution at ``rate`` px-days/s."""
    halo_factor = (input_side(tile, radius) / tile) ** 2
    note = f"at {rate:,.0f} px-day/s ({label}); halo: {tile}-cell tiles + {radius} cells per side"
    rows = []
    for res in RESOLUTIONS:
        fillable, grid = fillable_cells(res)
        tiled = tiled_input_cells(fillable, tile, radius)
        land = int(fillable.sum())
        counts = {
            f"fillable land ({land:,} cells) x halo factor {halo_factor:.3f}": land * halo_factor,
            f"land tiles with halo, as the fill plans them ({tiled:,} cells)": tiled,
            f"full grid ({grid:,} cells) x halo factor {halo_factor:.3f}": grid * halo_factor,
        }
        for what, cells in counts.items():
            hours = PRODUCT_DAYS * float(cells) / rate / 3600
            rows.append(
                result(
                    f"{label.split(' preset')[0]}: {res} deg, {PRODUCT_DAYS} days, {what}",
                    hours,
                    "hours",
                    note=note,
                )
            )
    return rows


def mode_rows(rows: list[dict[str, Any]], side: int) -> list[dict[str, Any]]:
    """Result rows of timed modes (px-days/s over the whole input tile) and of skipped ones."""
    out = []
    for row in rows:
        name = f"{row['mode']}, batch {row['batch']} of {side}x{side}"
        if "skipped" in row:
            out.append(result(name, None, "px-day/s", note=f"skipped: {row['skipped']}"))
            continue
        memory = f"peak {row['peak_gib']:.1f} GiB" if "peak_gib" in row else ""
        out.append(result(name, row["rate"], "px-day/s", note=memory))
    return out


def gpu_results(setting: Setting, projection_tile: int) -> list[dict[str, Any]]:
    """Every mode at the setting's batch, a batch sweep of the fastest, and the projections."""
    radius = build_model(setting.preset).config.receptive_radius
    side = input_side(setting.tile, radius)
    compared = [measure(mode, setting, setting.batch) for mode in MODES]
    best_mode, best = max(
        (
            (m, r)
            for m, r in zip(MODES, compared, strict=True)
            if m.network == "sgdsm" and "rate" in r
        ),
        key=lambda pair: pair[1]["rate"].median,
    )
    sweep = [measure(best_mode, setting, batch) for batch in setting.sweep]
    fastest = max((r for r in sweep + [best] if "rate" in r), key=lambda r: r["rate"].median)
    label = f"{setting.preset} preset, {fastest['mode']}, batch {fastest['batch']}, "
    label += machine()["device"]
    rows = mode_rows(compared, side) + mode_rows(sweep, side)
    for row in rows:
        row["name"] = f"{setting.preset}: {row['name']}"
    return rows + projections(fastest["rate"].median, projection_tile, radius, label)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="small tiles, two batch sizes, few repeats"
    )
    parser.add_argument(
        "--preset",
        default="paper,anomaly",
        help="model presets, comma-separated (default: paper,anomaly)",
    )
    parser.add_argument(
        "--tile",
        type=int,
        help="output cells per tile side, timed and projected (default: the fill's, 360)",
    )
    parser.add_argument(
        "--json", type=Path, default=RESULTS_DIR / "gpu.json", help="where to write the results"
    )
    parser.add_argument(
        "--record", action="store_true", help="also record the results in BENCHMARKS.md"
    )
    args = parser.parse_args(argv)
    settings = [
        choose_setting(args.quick, preset.strip(), args.tile) for preset in args.preset.split(",")
    ]
    if settings[0].device.type != "cuda":
        print(
            "CUDA is not available: running each preset ('small' for 'paper') on a tiny CPU tile "
            "so that every code path runs; these are not GPU numbers and the CUDA-only modes "
            "are skipped."
        )
    command = shlex.join(["python", "benchmarks/gpu.py", *argv])
    projection_tile = args.tile or FillConfig().tile_cells
    record = measured_record(
        "gpu",
        args.quick,
        command,
        lambda: [row for s in settings for row in gpu_results(s, projection_tile)],
    )
    print(format_table(record["results"]))
    write_json(args.json, [record])
    if args.record:
        update_markdown(MARKDOWN, record)
        print(markdown_section(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
