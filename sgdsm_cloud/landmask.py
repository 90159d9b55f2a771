"""Land fraction on the canonical grid from the offline ``global-land-mask`` package.

The package ships a 30 arc-second mask (True = ocean) from the NOAA GLOBE DEM. The fraction
of land in each grid cell is the mean over the 30"-cells it contains; a cell is land when
the fraction reaches ``LAND_THRESHOLD``. Regions the SGD-SM product never fills (Greenland,
Antarctica, everything south of 60 S) are a separate, explicit exclusion mask.

Greenland is the island itself, not a box around it: the land cells connected (edge to edge)
to the ice sheet's interior on the grid's own land mask, so Iceland, Baffin Island and
Ellesmere Island, a strait away, stay in the product. The masks of both supported grids are
computed once by :func:`build_greenland` and shipped (``data/greenland.npz``, 7 KiB), and so
are the land fractions themselves (``data/land_count.npz``, 340 KiB), so that no pipeline
process loads the 1 GB global mask (``python -m sgdsm_cloud.landmask sgdsm_cloud/data``
rebuilds both).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from sgdsm_cloud.grid import SUPPORTED_RESOLUTIONS, check_resolution, global_lat, global_lon

LAND_THRESHOLD = 0.5
SOUTH_LIMIT = -60.0  # the product leaves out everything south of it (Antarctica)
GREENLAND_INTERIOR = (72.0, -40.0)  # lat, lon on the ice sheet: the seed of the island
GREENLAND_BOX = (59.0, 84.0, -75.0, -10.0)  # south, north, west, east: holds the whole island
EXCLUDED_REGIONS = (
    "south of 60S (Antarctica), and the island of Greenland: land cells connected edge to edge "
    "to 72N 40W on the grid's land mask (GLOBE DEM land fraction >= 0.5)"
)
_MASK_CELLS_PER_DEGREE = 120


@lru_cache(maxsize=4)
def global_land_fraction(res: float) -> np.ndarray:
    """Land fraction (float32, 0..1) of every cell of the global grid at ``res`` degrees.

    Read from the shipped counts of land 30"-cells (``data/land_count.npz``), which
    :func:`build_land_count` computes from the global mask: loading that mask costs seconds
    and about 1 GB in every process that needs the fraction.
    """
    factor = _mask_cells_per_side(res)
    return (shipped_land_count(res) / float(factor * factor)).astype("float32")


def _mask_cells_per_side(res: float) -> int:
    return round(check_resolution(res) * _MASK_CELLS_PER_DEGREE)


def build_land_count(res: float) -> np.ndarray:
    """Land 30"-cells of the global mask in every cell of the grid at ``res`` (uint16)."""
    from global_land_mask import globe  # 4 s import, ~1 GB transient: only when rebuilding

    factor = _mask_cells_per_side(res)
    ocean = globe._mask  # (21600, 43200) bool, north-up, lon -180..180
    rows, cols = ocean.shape[0] // factor, ocean.shape[1] // factor
    land_count = np.zeros((rows, cols), dtype="uint16")
    step = 600 // factor * factor or factor  # process in row bands to bound memory
    for start in range(0, ocean.shape[0], step):
        band = ~ocean[start : start + step]
        land_count[start // factor : (start + band.shape[0]) // factor] = band.reshape(
            band.shape[0] // factor, factor, cols, factor
        ).sum(axis=(1, 3))
    return land_count


@lru_cache(maxsize=2)
def shipped_land_count(res: float) -> np.ndarray:
    """The shipped counts of :func:`build_land_count` at ``res``."""
    key = f"count_{check_resolution(res)}"
    path = resources.files("sgdsm_cloud") / LAND_COUNT_FILE
    with path.open("rb") as stream, np.load(stream, allow_pickle=False) as data:
        return data[key]


def excluded_regions(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """True where SGD-SM does not fill: south of 60 S and the island of Greenland."""
    lat, lon = np.asarray(lat, dtype="float64"), np.asarray(lon, dtype="float64")
    return (lat[:, None] < SOUTH_LIMIT) | greenland(lat, lon)


def greenland(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """True on the island of Greenland, for (lat, lon) cell centres.

    Coordinates on the 0.25 degree grid read that grid's island; any other coordinates read
    the 0.1 degree island at the nearest cell.
    """
    south, north, west, east = GREENLAND_BOX
    out = np.zeros((lat.size, lon.size), dtype=bool)
    near_rows = np.flatnonzero((lat >= south) & (lat <= north))
    near_cols = np.flatnonzero((lon >= west) & (lon <= east))
    if near_rows.size == 0 or near_cols.size == 0:
        return out
    res = 0.25 if _on_grid(lat[near_rows], 0.25) and _on_grid(lon[near_cols], 0.25) else 0.1
    first_row, first_col, island = shipped_greenland()[res]
    rows = np.rint((90.0 - res / 2 - lat[near_rows]) / res).astype(int) - first_row
    cols = np.rint((lon[near_cols] + 180.0 - res / 2) / res).astype(int) - first_col
    rows_in = (rows >= 0) & (rows < island.shape[0])
    cols_in = (cols >= 0) & (cols < island.shape[1])
    out[np.ix_(near_rows[rows_in], near_cols[cols_in])] = island[
        np.ix_(rows[rows_in], cols[cols_in])
    ]
    return out


GREENLAND_FILE = "data/greenland.npz"
LAND_COUNT_FILE = "data/land_count.npz"


@lru_cache(maxsize=1)
def shipped_greenland() -> dict[float, tuple[int, int, np.ndarray]]:
    """The shipped island masks: resolution -> (first global row, first global column, mask)."""
    path = resources.files("sgdsm_cloud") / GREENLAND_FILE
    with path.open("rb") as stream, np.load(stream, allow_pickle=False) as data:
        return {
            res: (
                int(data[f"first_row_{res}"]),
                int(data[f"first_col_{res}"]),
                np.unpackbits(data[f"mask_{res}"], count=int(np.prod(data[f"shape_{res}"])))
                .reshape(data[f"shape_{res}"])
                .astype(bool),
            )
            for res in SUPPORTED_RESOLUTIONS
        }


def build_greenland(res: float) -> tuple[int, int, np.ndarray]:
    """Greenland on the global grid at ``res``: ``(first row, first column, mask)`` of its box.

    The connected component (edge neighbours) of the land mask that holds the ice sheet's
    interior, so islands a strait away are not part of it.
    """
    from scipy import ndimage

    land = global_land_fraction(res) >= LAND_THRESHOLD
    lat, lon = global_lat(res), global_lon(res)
    labels, _ = ndimage.label(land)
    seed_lat, seed_lon = GREENLAND_INTERIOR
    island = labels == labels[np.argmin(abs(lat - seed_lat)), np.argmin(abs(lon - seed_lon))]
    rows, cols = np.nonzero(island)
    box = island[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    return int(rows.min()), int(cols.min()), box


def write_greenland(path: Path) -> None:
    """Write the shipped masks (``python -m sgdsm_cloud.landmask PATH`` rebuilds them)."""
    arrays: dict[str, np.ndarray] = {}
    for res in SUPPORTED_RESOLUTIONS:
        first_row, first_col, island = build_greenland(res)
        arrays |= {
            f"first_row_{res}": np.array(first_row),
            f"first_col_{res}": np.array(first_col),
            f"shape_{res}": np.array(island.shape),
            f"mask_{res}": np.packbits(island.ravel()),
        }
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]  # the stub reads ** as allow_pickle


def _on_grid(coord: np.ndarray, res: float) -> bool:
    """True when every value is a cell centre of the global grid at ``res``."""
    offset = (np.asarray(coord) + 180.0 - res / 2) / res
    return bool(np.all(np.abs(offset - np.rint(offset)) < 1e-3))


def write_land_count(path: Path) -> None:
    """Write the shipped land counts of every supported grid."""
    arrays = {f"count_{res}": build_land_count(res) for res in SUPPORTED_RESOLUTIONS}
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]  # the stub reads ** as allow_pickle


if __name__ == "__main__":
    import sys

    # python -m sgdsm_cloud.landmask sgdsm_cloud/data: rebuild both shipped files; the land
    # counts first, since the island is found on the land mask they give.
    folder = Path(sys.argv[1])
    write_land_count(folder / Path(LAND_COUNT_FILE).name)
    shipped_land_count.cache_clear()
    global_land_fraction.cache_clear()
    write_greenland(folder / Path(GREENLAND_FILE).name)
