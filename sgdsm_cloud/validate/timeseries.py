"""Time series at chosen points: which points, and their original and filled series.

The paper's second programme is qualitative: filled days should follow the distribution of the
observed ones at the same place. By default the points are well-observed land cells spread over
the cube that still have gaps to fill; the points of the authors' project page (``PAPER_POINTS``)
can be passed explicitly (``--points``, parsed by ``context.parse_points``).
"""

from __future__ import annotations

import numpy as np

# lat, lon of the time-series points on the SGD-SM project page (qzhang95.github.io).
PAPER_POINTS = (
    (0.375, 36.875),
    (49.375, 35.125),
    (38.125, 117.375),
    (39.875, -106.125),
    (-15.125, -52.625),
    (-30.125, 150.375),
)


def pick_points(
    observed_fraction: np.ndarray,
    usable: np.ndarray,
    count: int,
    min_separation: int,
    seed: int = 0,
    max_fraction: float = 0.75,
) -> list[tuple[int, int]]:
    """Up to ``count`` cells with the highest observed fraction, ``min_separation`` cells apart.

    Only cells observed on at most ``max_fraction`` of the days qualify, so that every series
    shows filled days next to observed ones; if none does, all cells qualify. ``usable`` masks
    the cells that may be picked (land outside the excluded regions). Ties are broken in a
    random order drawn from ``seed`` (equally observed cells are not all taken from the first
    rows), which keeps the choice deterministic.
    """
    fraction = np.where(usable, observed_fraction, -1.0)
    gappy = fraction <= max_fraction
    if (gappy & (fraction > 0)).any():
        fraction = np.where(gappy, fraction, -1.0)
    tie_break = np.random.default_rng(seed).permutation(fraction.size)
    order = np.lexsort((tie_break, -fraction.ravel()))
    picked: list[tuple[int, int]] = []
    for flat in order:
        if len(picked) == count or fraction.flat[flat] <= 0:
            break
        row, col = divmod(int(flat), fraction.shape[1])
        if all(max(abs(row - r), abs(col - c)) >= min_separation for r, c in picked):
            picked.append((row, col))
    return picked
