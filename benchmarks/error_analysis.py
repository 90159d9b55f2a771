"""Where does a trained model lose to the baselines? Scores split by gap and cell properties.

Uses the cases of ``bench_accuracy.py`` (27 x 27 squares of observed land hidden on the real
LPRM days 2015-04-11 .. 15) and a model trained by it, and splits every method's errors by the
properties of :mod:`sgdsm_cloud.validate.breakdown`: gap size, distance to the day's nearest
observation, days to the nearest observation of the cell, value class and latitude.
Prints Markdown tables and writes ``breakdown.csv`` and ``breakdown.png`` to ``--out``::

    python benchmarks/bench_accuracy.py --part real --out WORK          # trains, scores
    python benchmarks/error_analysis.py --work WORK --out docs/figures   # splits the errors
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_accuracy import Settings, methods, square_cases
from sgdsm_cloud import cube, schema
from sgdsm_cloud.validate.breakdown import cell_properties, scores_by
from sgdsm_cloud.validate.evaluate import evaluate

CROP_HALO = 32  # the same crops for every model, so gap sizes (within the crop) compare
SPLITS = {
    "gap_cells": [0, 730, 2000, 10_000, np.inf],
    "edge_distance": [1, 3, 6, 10, 15, np.inf],
    "days_to_observation": [1, 2, 3, 5],
    "value_class": None,
    "lat": [-90, -30, 0, 30, 60, 90],
}
TITLES = {
    "gap_cells": "size of the connected gap (cells)",
    "edge_distance": "distance to the day's nearest observation (cells)",
    "days_to_observation": "days to the cell's nearest observation",
    "value_class": "value class of the true value",
    "lat": "latitude (degrees)",
}


def breakdown(work: Path, model: Path | None = None, peer: bool = True) -> pd.DataFrame:
    """Every split of every method's errors on the benchmark's real-data squares (with
    ``peer``, also DCT-PLS in GAPFILLED's configuration when pytesmo is installed)."""
    store = work / "lprm_x.zarr"
    model = model or work / "model_lprm"
    raw = cube.open_cube(str(store))
    cases = square_cases(store, model, list(range(10, 15)), Settings(), min_halo=CROP_HALO)
    chosen = methods(model, schema.physical_range(raw.attrs), raw[cube.SM] if peer else None)
    evaluation = evaluate(cases, chosen, desc="squares")
    lat = raw["lat"].values
    properties = pd.concat([cell_properties(c, lat) for c in cases], ignore_index=True)
    tables = []
    for column, bins in SPLITS.items():
        table = scores_by(properties, evaluation.pairs, column, bins)
        tables.append(table.rename(columns={column: "bin"}).assign(split=column))
    return pd.concat(tables, ignore_index=True)


def markdown(table: pd.DataFrame, reference: str = "linear interpolation") -> str:
    """One table per split: RMSE and MAE per method, and the first method's ratio to ``reference``."""
    lines = []
    methods = list(dict.fromkeys(table["method"]))  # one order (and colour) for every split
    first = methods[0]
    for split, part in table.groupby("split", sort=False):
        lines += ["", f"**{TITLES[split]}**", ""]
        header = " | ".join(f"{m} RMSE / MAE" for m in methods)
        lines += [f"| bin | N | {header} | {first} / {reference} RMSE |",
                  "|---" * (len(methods) + 3) + "|"]  # fmt: skip
        for bin_, rows in part.groupby("bin", sort=False, observed=True):
            by = rows.set_index("method")
            cells = " | ".join(f"{by.RMSE[m]:.4f} / {by.MAE[m]:.4f}" for m in methods)
            ratio = by.RMSE[first] / by.RMSE[reference]
            lines.append(f"| {bin_} | {int(by.N.iloc[0])} | {cells} | {ratio:.2f} |")
    return "\n".join(lines)


def plot(table: pd.DataFrame, path: Path) -> None:
    """RMSE of every method per bin, one panel per split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = list(dict.fromkeys(table["split"]))
    methods = list(dict.fromkeys(table["method"]))  # the legend's order holds in every panel
    fig, axes = plt.subplots(2, 3, figsize=(12, 7))
    panels = axes.ravel()
    for ax, split in zip(panels, splits):
        part = table[table["split"] == split]
        labels = part["bin"].astype(str)
        bins = list(dict.fromkeys(labels))
        width = 0.8 / len(methods)
        for k, method in enumerate(methods):
            rmse = dict(zip(labels[part["method"] == method], part.RMSE[part["method"] == method]))
            ax.bar(
                np.arange(len(bins)) + k * width,
                [rmse.get(b, np.nan) for b in bins],
                width,
                label=method,
            )
        ax.set_xticks(np.arange(len(bins)) + 0.4 - width / 2, bins, rotation=20, fontsize=8)
        ax.set_title(TITLES[split], fontsize=9)
        ax.set_ylabel("RMSE (m³ m⁻³)", fontsize=8)
    handles, names = panels[0].get_legend_handles_labels()
    for ax in panels[len(splits) :]:
        ax.axis("off")
    panels[-1].legend(handles, names, loc="center", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, required=True, help="bench_accuracy.py's --out folder")
    parser.add_argument("--model", type=Path, help="model folder (default: WORK/model_lprm)")
    parser.add_argument("--out", type=Path, required=True, help="where breakdown.csv/.png go")
    parser.add_argument("--name", default="breakdown", help="file name stem of the outputs")
    args = parser.parse_args()
    table = breakdown(args.work, args.model)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / f"{args.name}.csv", index=False)
    plot(table, args.out / f"{args.name}.png")
    print(markdown(table))


if __name__ == "__main__":
    main()
