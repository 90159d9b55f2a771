"""Report figures as PNG files (matplotlib's object API with the Agg canvas: no display, no pyplot).

Soil moisture always uses the same colour scale (0-0.5 m3 m-3) so panels compare at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sgdsm_cloud.product import FLAG_FILLED, FLAG_OBSERVED

SM_RANGE = (0.0, 0.5)
SM_CMAP = "YlGnBu"
FLAG_COLOURS = (
    "#d9d9d9",
    "#4575b4",
    "#f46d43",
    "#a50026",
    "#9ecae1",
)  # not land, observed, filled, not filled, frozen
FLAG_NAMES = ("not land / excluded", "observed", "filled", "not filled", "frozen")
DPI = 110


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def _extent(lat: np.ndarray, lon: np.ndarray) -> tuple[float, float, float, float]:
    dlat = abs(lat[1] - lat[0]) / 2 if lat.size > 1 else 0.5
    dlon = abs(lon[1] - lon[0]) / 2 if lon.size > 1 else 0.5
    return float(lon[0] - dlon), float(lon[-1] + dlon), float(lat[-1] - dlat), float(lat[0] + dlat)


def day_map(
    path: Path,
    lat: np.ndarray,
    lon: np.ndarray,
    original: np.ndarray,
    filled: np.ndarray,
    flags: np.ndarray,
    title: str,
) -> Path:
    """Original, filled and flag maps of one day side by side."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    aspect = original.shape[1] / max(original.shape[0], 1)
    fig = _figure(min(4.2 * 3, 3 * 3.2 * aspect + 1.5), 3.6)
    axes = fig.subplots(1, 3, sharex=True, sharey=True)
    extent = _extent(lat, lon)
    for ax, field, name in zip(axes[:2], (original, filled), ("original", "filled"), strict=False):
        im = ax.imshow(
            field,
            extent=extent,
            origin="upper",
            cmap=SM_CMAP,
            vmin=SM_RANGE[0],
            vmax=SM_RANGE[1],
            interpolation="nearest",
        )
        ax.set_title(name)
    fig.colorbar(im, ax=axes[:2], shrink=0.8, label="soil moisture (m3 m-3)")
    cmap = ListedColormap(FLAG_COLOURS)
    im = axes[2].imshow(
        flags,
        extent=extent,
        origin="upper",
        cmap=cmap,
        norm=BoundaryNorm(np.arange(-0.5, len(FLAG_NAMES)), len(FLAG_NAMES)),
        interpolation="nearest",
    )
    axes[2].set_title("flag")
    bar = fig.colorbar(im, ax=axes[2], ticks=range(len(FLAG_NAMES)), shrink=0.8)
    bar.ax.set_yticklabels(FLAG_NAMES, fontsize=7)
    axes[0].set_ylabel("latitude")
    from matplotlib.ticker import MaxNLocator

    for ax in axes:
        ax.set_xlabel("longitude")
        ax.xaxis.set_major_locator(MaxNLocator(4))
    fig.suptitle(title)
    return _save(fig, path)


@dataclass(frozen=True)
class Patch:
    """One simulated gap for the enlarged view: the fields of its crop on the validated day."""

    label: str
    original: np.ndarray
    masked: np.ndarray
    removed: np.ndarray
    fills: dict[str, np.ndarray]


def patches(path: Path, items: list[Patch]) -> Path:
    """Rows of patches: original, masked input, then each method's fill; the gap outlined."""
    methods = list(items[0].fills) if items else []
    ncols = 2 + len(methods)
    fig = _figure(1.9 * ncols + 0.8, 1.9 * max(len(items), 1) + 0.4)
    axes = np.atleast_2d(fig.subplots(max(len(items), 1), ncols, squeeze=False))
    im = None
    for row, item in enumerate(items):
        panels = [
            ("original", item.original),
            ("masked input", item.masked),
            *list(item.fills.items()),
        ]
        for col, (name, field) in enumerate(panels):
            ax = axes[row, col]
            im = ax.imshow(
                field, cmap=SM_CMAP, vmin=SM_RANGE[0], vmax=SM_RANGE[1], interpolation="nearest"
            )
            ax.contour(item.removed.astype(float), levels=[0.5], colors="k", linewidths=0.6)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(name, fontsize=8)
        axes[row, 0].set_ylabel(item.label, fontsize=7)
    if im is not None:
        fig.colorbar(im, ax=axes, shrink=0.6, label="m3 m-3")
    return _save(fig, path)


def scatter_density(
    path: Path,
    pairs: dict[str, tuple[np.ndarray, np.ndarray]],
    title: str,
    xlabel: str,
    ylabel: str,
) -> Path:
    """One hexbin panel per method: prediction (y) against reference (x), 1:1 line, R and RMSE."""
    from sgdsm_cloud.metrics import score

    n = max(len(pairs), 1)
    fig = _figure(3.0 * n + 0.6, 3.2)
    axes = np.atleast_1d(fig.subplots(1, n, squeeze=False)[0])
    finite_all = [
        np.concatenate([np.asarray(p, float).ravel(), np.asarray(r, float).ravel()])
        for p, r in pairs.values()
    ]
    values = np.concatenate(finite_all) if finite_all else np.array([0.0, 0.5])
    values = values[np.isfinite(values)]
    lo, hi = (float(values.min()), float(values.max())) if values.size else SM_RANGE
    hi = hi if hi > lo else lo + 0.01
    for ax, (name, (pred, ref)) in zip(axes, pairs.items(), strict=False):
        pred, ref = np.asarray(pred, float).ravel(), np.asarray(ref, float).ravel()
        ok = np.isfinite(pred) & np.isfinite(ref)
        if ok.any():
            ax.hexbin(
                ref[ok],
                pred[ok],
                gridsize=40,
                extent=(lo, hi, lo, hi),
                mincnt=1,
                bins="log",
                cmap="viridis",
            )
        ax.plot([lo, hi], [lo, hi], "k--", linewidth=0.8)
        s = score(pred, ref)
        ax.set_title(f"{name}\nR={s.r:.3f} RMSE={s.rmse:.3f} N={s.n}", fontsize=8)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(xlabel, fontsize=8)
    axes[0].set_ylabel(ylabel, fontsize=8)
    fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def time_series(
    path: Path,
    times: np.ndarray,
    product: np.ndarray,
    flags: np.ndarray,
    title: str,
    insitu: np.ndarray | None = None,
) -> Path:
    """The product at one cell: observed days as dots, filled days as open circles, the series as a line."""
    fig = _figure(8.0, 2.8)
    ax = fig.subplots()
    ax.plot(times, product, color="0.6", linewidth=0.8, label="seamless series")
    observed, filled = flags == FLAG_OBSERVED, flags == FLAG_FILLED
    ax.plot(
        times[observed],
        product[observed],
        "o",
        color=FLAG_COLOURS[1],
        markersize=3,
        label=f"observed ({observed.sum()} d)",
    )
    ax.plot(
        times[filled],
        product[filled],
        "o",
        mfc="none",
        color=FLAG_COLOURS[2],
        markersize=3,
        label=f"filled ({filled.sum()} d)",
    )
    if insitu is not None:
        ax.plot(times, insitu, "k.", markersize=2, label="in situ")
    ax.set_ylabel("soil moisture (m3 m-3)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="best")
    fig.autofmt_xdate()
    return _save(fig, path)


def calibration(
    path: Path,
    reliability: list[tuple[float, float]],
    deciles: list[tuple[float, float]],
    title: str,
) -> Path:
    """Reliability diagram (observed against nominal coverage of central Gaussian intervals)
    and spread-skill (RMSE against RMS sigma per decile of sigma), each with its 1:1 line."""
    fig = _figure(7.2, 3.4)
    left, right = fig.subplots(1, 2)
    nominal, observed = (np.array(v, float) for v in zip(*reliability, strict=True))
    left.plot([0, 1], [0, 1], "k--", linewidth=0.8)
    left.plot(nominal, observed, "o-", color="#4575b4", markersize=4)
    for level in (0.6827, 0.9545):
        left.axvline(level, color="#bbbbbb", linewidth=0.6)
    left.set_xlim(0, 1)
    left.set_ylim(0, 1)
    left.set_xlabel("nominal coverage of the interval", fontsize=8)
    left.set_ylabel("observed coverage", fontsize=8)
    left.set_title("reliability", fontsize=9)
    sigma, rmse = (np.array(v, float) for v in zip(*deciles, strict=True))
    top = float(max(sigma.max(), rmse.max())) * 1.05 if sigma.size else 0.1
    right.plot([0, top], [0, top], "k--", linewidth=0.8)
    right.plot(sigma, rmse, "o-", color="#f46d43", markersize=4)
    right.set_xlim(0, top)
    right.set_ylim(0, top)
    right.set_xlabel("RMS of sigma in the decile (m3 m-3)", fontsize=8)
    right.set_ylabel("RMSE in the decile (m3 m-3)", fontsize=8)
    right.set_title("spread-skill, deciles of sigma", fontsize=9)
    fig.suptitle(title, fontsize=9)
    return _save(fig, path)
