"""Simulated missing regions: which observed cells each method must reconstruct.

Two kinds of masks, both placed only where a day is observed on land so that every removed cell
has a reference value:

* ``squares`` (the paper's programme): ``size`` x ``size`` blocks (27 cells, about 6.8 degrees
  at 0.25 degrees) of fully observed land, all cells removed.
* ``pattern``: the same windows, but only the cells that are missing on another day of the
  record are removed, so the hole has the shape of a real AMSR2 gap (swath edges, RFI, frozen
  soil). A window is used only when the borrowed pattern removes between ``min_removed`` and
  ``max_removed`` of it.

Placement is pure and deterministic: the generator is seeded from ``(seed, day)``, so a day's
masks do not depend on which other days are validated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sgdsm_cloud.errors import ConfigError

MODES = ("squares", "pattern")


@dataclass(frozen=True)
class GapConfig:
    """How simulated gaps are drawn.

    Attributes:
        mode: ``squares`` (remove whole blocks) or ``pattern`` (remove a real gap shape
            borrowed from another day inside each block).
        size: block side in cells.
        per_day: at most this many blocks per validated day.
        margin: minimum number of cells between two blocks of the same day, so that one
            block's hole is not in another's context (11 = the paper model's spatial reach).
        seed: seeds the placement together with the day index.
        min_removed, max_removed: in ``pattern`` mode, the accepted fraction of a block that
            the borrowed gap removes.
    """

    mode: str = "squares"
    size: int = 27
    per_day: int = 8
    margin: int = 11
    seed: int = 0
    min_removed: float = 0.25
    max_removed: float = 0.9

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"gap mode must be one of {MODES}, got {self.mode!r}")
        if self.size < 1:
            raise ConfigError(f"--gap-size must be >= 1 cell, got {self.size}")
        if self.per_day < 1:
            raise ConfigError(f"gaps per day must be >= 1, got {self.per_day}")
        if self.margin < 0:
            raise ConfigError(f"gap margin must be >= 0 cells, got {self.margin}")
        if not 0 < self.min_removed <= self.max_removed <= 1:
            raise ConfigError(
                f"pattern fractions must satisfy 0 < min_removed <= max_removed <= 1, "
                f"got {self.min_removed}, {self.max_removed}"
            )


@dataclass(frozen=True)
class Square:
    """A block of cells: top-left ``(row, col)`` and side ``size``; ``source_day`` for patterns."""

    row: int
    col: int
    size: int
    source_day: int | None = None

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.row, self.row + self.size), slice(self.col, self.col + self.size)

    def grown(self, halo: int, shape: tuple[int, int]) -> tuple[slice, slice]:
        """The block widened by ``halo`` cells on each side, clipped to a grid of ``shape``."""
        return (
            slice(max(self.row - halo, 0), min(self.row + self.size + halo, shape[0])),
            slice(max(self.col - halo, 0), min(self.col + self.size + halo, shape[1])),
        )


@dataclass(frozen=True)
class DayGaps:
    """The simulated gaps of one day.

    Attributes:
        day: index of the day on the cube's time axis.
        squares: the blocks, in placement order.
        removed: (lat, lon) bool, the cells hidden from every method on that day.
    """

    day: int
    squares: tuple[Square, ...]
    removed: np.ndarray

    @property
    def count(self) -> int:
        return int(self.removed.sum())


def default_days(ntime: int, count: int, half_window: int = 4) -> list[int]:
    """``count`` evenly spaced day indices, preferring days whose whole window is in the record."""
    if ntime < 1 or count < 1:
        return []
    first, last = (
        (half_window, ntime - 1 - half_window) if ntime > 2 * half_window else (0, ntime - 1)
    )
    return sorted({round(v) for v in np.linspace(first, last, min(count, last - first + 1))})


def full_windows(candidate: np.ndarray, size: int) -> np.ndarray:
    """Top-left positions whose ``size`` x ``size`` window is entirely ``candidate``.

    Returns a bool array of shape ``(H - size + 1, W - size + 1)`` (empty if the grid is smaller).
    """
    candidate = np.asarray(candidate, dtype=bool)
    h, w = candidate.shape
    if h < size or w < size:
        return np.zeros((max(h - size + 1, 0), max(w - size + 1, 0)), dtype=bool)
    integral = np.zeros((h + 1, w + 1), dtype=np.int64)
    integral[1:, 1:] = candidate.cumsum(0).cumsum(1)
    sums = (
        integral[size:, size:]
        - integral[:-size, size:]
        - integral[size:, :-size]
        + integral[:-size, :-size]
    )
    return sums == size * size


def place_squares(
    candidate: np.ndarray, size: int, count: int, margin: int, rng: np.random.Generator
) -> list[Square]:
    """Up to ``count`` blocks entirely on ``candidate`` cells, ``margin`` cells apart.

    Positions are visited in a random order and accepted greedily.
    """
    free = full_windows(candidate, size)
    order = rng.permutation(np.flatnonzero(free))
    reach = size + margin  # top-lefts closer than this (per axis) would overlap or touch
    squares: list[Square] = []
    for flat in order:
        if len(squares) == count:
            break
        row, col = divmod(int(flat), free.shape[1])
        if not free[row, col]:
            continue
        squares.append(Square(row, col, size))
        free[max(row - reach + 1, 0) : row + reach, max(col - reach + 1, 0) : col + reach] = False
    return squares


def square_gaps(day: int, observed_land: np.ndarray, config: GapConfig) -> DayGaps:
    """Whole blocks of observed land removed on ``day``."""
    rng = _rng(config.seed, day)
    squares = place_squares(observed_land, config.size, config.per_day, config.margin, rng)
    removed = np.zeros(observed_land.shape, dtype=bool)
    for square in squares:
        removed[square.slices] = True
    return DayGaps(day, tuple(squares), removed)


def pattern_gaps(
    day: int,
    observed_land: np.ndarray,
    other_days_observed: dict[int, np.ndarray],
    config: GapConfig,
) -> DayGaps:
    """Blocks of observed land in which the cells missing on another day are removed.

    ``other_days_observed`` maps day index -> (lat, lon) bool observed mask of candidate source
    days. For each block, one source day whose gap covers an accepted fraction is drawn.
    """
    rng = _rng(config.seed, day)
    # Draw more blocks than needed: some have no source day with a suitable gap.
    windows = place_squares(observed_land, config.size, 4 * config.per_day, config.margin, rng)
    sources = sorted(d for d in other_days_observed if d != day)
    removed = np.zeros(observed_land.shape, dtype=bool)
    squares: list[Square] = []
    for window in windows:
        if len(squares) == config.per_day:
            break
        fractions = np.array([1.0 - other_days_observed[d][window.slices].mean() for d in sources])
        usable = [
            d
            for d, f in zip(sources, fractions, strict=True)
            if config.min_removed <= f <= config.max_removed
        ]
        if not usable:
            continue
        source = int(rng.choice(usable))
        removed[window.slices] = ~other_days_observed[source][window.slices]
        squares.append(Square(window.row, window.col, window.size, source))
    return DayGaps(day, tuple(squares), removed & observed_land)


def _rng(seed: int, day: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, day]))
