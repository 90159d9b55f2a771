"""Compare a synthetic archive with a real one: gaps and roughness in time.

Run ``python -m sgdsm_cloud.synth.calibration DIR [--variable soil_moisture_x] [--seed 0]
[--bbox W,S,E,N]`` on a directory of real LPRM files; it prints Markdown tables of

* the daily valid fraction over land (land fraction >= 0.5) of the real files and of a
  synthetic archive for the same days and pass, globally and by latitude band;
* the roughness in time of both (:func:`roughness`) inside ``--bbox``: lag-1-day correlation,
  standard deviation and 95th percentile of the absolute day-to-day change of the cells
  observed on consecutive days.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sgdsm_cloud.formats import parse_name, read_day
from sgdsm_cloud.grid import GLOBAL, BBox, global_lat
from sgdsm_cloud.landmask import LAND_THRESHOLD, global_land_fraction
from sgdsm_cloud.synth.archive import iter_days
from sgdsm_cloud.synth.config import SynthConfig

LATITUDE_BANDS = ((-90, -60), (-60, -30), (-30, 0), (0, 30), (30, 60), (60, 90))


@dataclass(frozen=True)
class Comparison:
    """Valid fraction over land of a real and a synthetic archive.

    Attributes:
        daily: one row per day: ``real``, ``synthetic`` (fractions of land cells).
        bands: one row per latitude band: ``real``, ``synthetic`` over all days.
    """

    daily: pd.DataFrame
    bands: pd.DataFrame


def compare(
    files: Sequence[str | Path],
    *,
    variable: str = "soil_moisture_x",
    seed: int = 0,
    bbox: BBox = GLOBAL,
) -> Comparison:
    """Valid fractions of real LPRM ``files`` (one pass, 0.25 deg) and their synthetic twins."""
    files = sorted(files, key=lambda f: parse_name(str(f)).date)
    names = [parse_name(str(f)) for f in files]
    passes = {n.pass_ for n in names}
    if len(passes) != 1:
        raise ValueError(f"compare one pass direction at a time, got {sorted(passes)}")
    config = SynthConfig(
        names[0].date, names[-1].date, bbox=bbox, res=0.25, pass_=passes.pop(), seed=seed
    )
    crop = config.crop
    land = crop.of(global_land_fraction(config.res)) >= LAND_THRESHOLD
    real = {
        n.date: crop.of(np.isfinite(read_day(str(f), variable=variable).values))
        for f, n in zip(files, names)
    }
    lat = global_lat(config.res)[crop.rows]
    bands = {f"{s}..{n}": land & ((lat >= s) & (lat < n))[:, None] for s, n in LATITUDE_BANDS}
    daily, totals = [], {band: [0, 0, 0] for band in bands}
    for day in iter_days(config):
        if day.date not in real:
            continue
        seen = np.isfinite(day.sm)
        daily.append(
            {"date": day.date, "real": real[day.date][land].mean(), "synthetic": seen[land].mean()}
        )
        for band, mask in bands.items():
            totals[band][0] += real[day.date][mask].sum()
            totals[band][1] += seen[mask].sum()
            totals[band][2] += mask.sum()
    band_rows = [
        {"band": band, "land_cells": n // max(len(daily), 1), "real": r / n, "synthetic": s / n}
        for band, (r, s, n) in totals.items()
        if n
    ]
    return Comparison(
        pd.DataFrame(daily).set_index("date"), pd.DataFrame(band_rows).set_index("band")
    )


def roughness(sm: np.ndarray) -> dict[str, float]:
    """Day-to-day statistics of ``sm (time, lat, lon)`` over cells observed on both days.

    Returns ``lag1_correlation``, ``change_std`` and ``change_p95`` (of the absolute change,
    m3 m-3) and ``pairs``, the number of cell pairs.
    """
    today, tomorrow = sm[:-1], sm[1:]
    both = np.isfinite(today) & np.isfinite(tomorrow)
    a, b = today[both].astype("float64"), tomorrow[both].astype("float64")
    change = b - a
    return {
        "lag1_correlation": float(np.corrcoef(a, b)[0, 1]) if a.size > 1 else float("nan"),
        "change_std": float(change.std()) if a.size else float("nan"),
        "change_p95": float(np.percentile(np.abs(change), 95)) if a.size else float("nan"),
        "pairs": int(a.size),
    }


def compare_roughness(
    files: Sequence[str | Path], bbox: BBox, *, variable: str = "soil_moisture_x", seed: int = 0
) -> pd.DataFrame:
    """:func:`roughness` of real LPRM ``files`` and of their synthetic twin inside ``bbox``."""
    files = sorted(files, key=lambda f: parse_name(str(f)).date)
    names = [parse_name(str(f)) for f in files]
    config = SynthConfig(
        names[0].date, names[-1].date, bbox=bbox, res=0.25, pass_=names[0].pass_, seed=seed
    )
    crop = config.crop
    by_date = {n.date: f for f, n in zip(files, names)}
    real, synthetic = [], []
    for day in iter_days(config):
        synthetic.append(day.sm)
        if day.date in by_date:
            real.append(
                crop.of(np.asarray(read_day(str(by_date[day.date]), variable=variable).values))
            )
        else:
            real.append(np.full(day.sm.shape, np.nan, dtype="float32"))
    rows = {"real": roughness(np.stack(real)), "synthetic": roughness(np.stack(synthetic))}
    return pd.DataFrame(rows).T.rename_axis("archive")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sgdsm_cloud.synth.calibration", description=__doc__.splitlines()[0]
    )
    parser.add_argument("directory", type=Path, help="directory of real LPRM .nc4 files (one pass)")
    parser.add_argument("--variable", default="soil_moisture_x")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--bbox", default="115,-35,150,-15", help="W,S,E,N of the roughness comparison"
    )
    args = parser.parse_args(argv)
    files = sorted(args.directory.glob("*.nc4"))
    result = compare(files, variable=args.variable, seed=args.seed)
    print(markdown(result.daily))
    print()
    print(markdown(result.bands))
    print()
    rough = compare_roughness(files, BBox.parse(args.bbox), variable=args.variable, seed=args.seed)
    print(markdown(rough))


def markdown(table: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table, fractions with three decimals."""
    header = [str(table.index.name or ""), *map(str, table.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, row in zip(table.index, table.itertuples(index=False)):
        cells = [str(index), *(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
