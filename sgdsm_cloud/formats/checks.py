"""Checks every archive decoder applies to the values it read (no I/O)."""

from __future__ import annotations

import numpy as np

from sgdsm_cloud.errors import BadInputFile


def check_physical_range(name: str, percent: np.ndarray) -> None:
    """Raise BadInputFile when valid values are not finite or outside 0..100 percent."""
    finite = np.isfinite(percent)
    if not finite.all() and not np.isnan(percent[~finite]).all():
        raise BadInputFile(name, "infinite values among the retrievals")
    values = percent[finite]
    if values.size and (values.min() < 0 or values.max() > 100):
        raise BadInputFile(
            name,
            f"values outside the physical range 0..100 percent (0..1 m3 m-3): min {values.min():g}, max {values.max():g}",
        )
