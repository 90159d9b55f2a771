"""Land fraction on the canonical grid from the offline ``global-land-mask`` package.

The package ships a 30 arc-second mask (True = ocean) from the NOAA GLOBE DEM. The fraction
of land in each grid cell is the mean over the 30"-cells it contains; a cell is land when
the fraction reaches ``LAND_THRESHOLD``. Regions the SGD-SM product never fills (Greenland,
Antarctica, everything south of 60 S) are a separate, explicit exclusion mask.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sgdsm_cloud.grid import check_resolution

LAND_THRESHOLD = 0.5
_MASK_CELLS_PER_DEGREE = 120


@lru_cache(maxsize=4)
def global_land_fraction(res: float) -> np.ndarray:
    """Land fraction (float32, 0..1) of every cell of the global grid at ``res`` degrees."""
    from global_land_mask import globe  # 4 s import, ~1 GB transient: only when needed

    factor = round(check_resolution(res) * _MASK_CELLS_PER_DEGREE)
    ocean = globe._mask  # (21600, 43200) bool, north-up, lon -180..180
    rows, cols = ocean.shape[0] // factor, ocean.shape[1] // factor
    land_count = np.zeros((rows, cols), dtype="int32")
    step = 600 // factor * factor or factor  # process in row bands to bound memory
    for start in range(0, ocean.shape[0], step):
        band = ~ocean[start : start + step]
        land_count[start // factor : (start + band.shape[0]) // factor] = band.reshape(
            band.shape[0] // factor, factor, cols, factor
        ).sum(axis=(1, 3))
    return (land_count / float(factor * factor)).astype("float32")


def excluded_regions(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """True where SGD-SM does not fill: south of 60 S and Greenland (a lon/lat box around it)."""
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    south = lat2 < -60.0
    greenland = (lat2 > 59.5) & (lon2 > -74.0) & (lon2 < -10.0) & ~((lat2 < 66.0) & (lon2 < -60.0))
    return south | greenland
