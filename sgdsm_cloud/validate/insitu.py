"""In-situ validation against ISMN stations.

Station files are read with the ``ismn`` package's file reader, which recognises both ISMN
download formats (header + values, and CEOP separate files) inside a folder, a zip archive or
as a single ``.stm`` file. Only sensors within the requested depth range (0-5 cm by default)
and records with an accepted ISMN quality flag (``G`` by default) are used; times are UTC.

Each station is matched to the grid cell whose centre is nearest (within half a cell), and each
cube day to the satellite overpass at the station: the instant of that UTC day when the local
solar time is 01:30 (descending pass) or 13:30 (ascending), i.e.
``day + ((local_hour - lon / 15) mod 24) h``. The in-situ record nearest to that instant, within
a tolerance, is the reference for the day.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sgdsm_cloud.errors import BadInputFile, ConfigError
from sgdsm_cloud.product import FLAG_FILLED, FLAG_OBSERVED

log = logging.getLogger(__name__)

PASS_LOCAL_SOLAR_HOURS = {"D": 1.5, "A": 13.5}
STATION_SUFFIX = ".stm"


@dataclass(frozen=True)
class InsituConfig:
    """Which in-situ records count.

    Attributes:
        depth_from, depth_to: sensors must lie within this depth range in metres (0-0.05 for
            the surface layer the satellite sees; COSMOS probes reach about 0.2 m).
        flags: accepted ISMN quality flags (``G`` = good).
        tolerance_hours: the nearest record must be at most this far from the overpass.
    """

    depth_from: float = 0.0
    depth_to: float = 0.05
    flags: tuple[str, ...] = ("G",)
    tolerance_hours: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.depth_from <= self.depth_to:
            raise ConfigError(
                f"in-situ depths must satisfy 0 <= depth_from <= depth_to (metres), "
                f"got {self.depth_from}, {self.depth_to}"
            )
        if self.tolerance_hours <= 0:
            raise ConfigError(
                f"in-situ time tolerance must be > 0 hours, got {self.tolerance_hours}"
            )
        if not self.flags:
            raise ConfigError("at least one accepted ISMN quality flag is needed (e.g. G)")


@dataclass(frozen=True)
class Station:
    """One ISMN sensor's surface soil moisture (m3 m-3, UTC index, accepted flags only)."""

    network: str
    name: str
    lat: float
    lon: float
    depth_from: float
    depth_to: float
    sensor: str
    file: str
    values: pd.Series

    @property
    def label(self) -> str:
        return f"{self.network}/{self.name}"


@dataclass(frozen=True)
class StationArchive:
    """The stations read from a path, and the files left out with the reason."""

    stations: tuple[Station, ...]
    skipped: tuple[tuple[str, str], ...]


def read_stations(path: str | Path, config: InsituConfig = InsituConfig()) -> StationArchive:
    """Read every ISMN soil-moisture file under ``path`` (folder, zip archive or one file).

    A file that is not an ISMN station file, or whose sensor lies outside the depth range, is
    skipped with its reason. A single file given directly must be readable.
    """
    from ismn.base import IsmnRoot

    path = Path(path)
    if not path.exists():
        raise BadInputFile(
            str(path), "does not exist; pass an ISMN download (folder, zip or .stm file)"
        )
    single = path.is_file() and path.suffix.lower() != ".zip"
    root = IsmnRoot(path.parent if single else path)
    members = [path.name] if single else _station_files(root)
    if not members:
        raise BadInputFile(
            str(path), f"contains no ISMN station files (*{STATION_SUFFIX}); pass an ISMN download"
        )
    stations: list[Station] = []
    skipped: list[tuple[str, str]] = []
    for member in members:
        try:
            station = _read_station(root, member, config)
        except BadInputFile as err:
            if single:
                raise
            skipped.append((member, err.reason))
            log.warning("skipping %s: %s", member, err.reason)
            continue
        if station is None:
            skipped.append(
                (member, f"sensor depth outside {config.depth_from:.2f}-{config.depth_to:.2f} m")
            )
        else:
            stations.append(station)
    return StationArchive(tuple(stations), tuple(skipped))


def _station_files(root) -> list[str]:
    if root.zip:
        return sorted(n for n in root.zip.namelist() if n.lower().endswith(STATION_SUFFIX))
    return sorted(str(p.relative_to(root.path)) for p in root.path.rglob(f"*{STATION_SUFFIX}"))


def _read_station(root, member: str, config: InsituConfig) -> Station | None:
    """One station file, or None when its sensor is outside the depth range."""
    from ismn.filehandlers import DataFile

    where = f"{root.path}/{member}" if not root.zip else f"{root.path}!{member}"
    try:
        datafile = DataFile(root, member, temp_root=tempfile.gettempdir())
    except (
        OSError,
        ValueError,
        IndexError,
        KeyError,
    ):  # what the ismn reader raises on foreign files
        raise BadInputFile(
            where, "not an ISMN station file (expected the 'header + values' or CEOP format)"
        ) from None
    meta = datafile.metadata
    if meta["variable"].val != "soil_moisture":
        raise BadInputFile(where, f"holds {meta['variable'].val}, not soil_moisture")
    depth = meta["instrument"].depth
    if depth.start < config.depth_from - 1e-9 or depth.end > config.depth_to + 1e-9:
        return None
    try:
        with warnings.catch_warnings():  # the reader's own pandas deprecation notices
            warnings.filterwarnings("ignore", message="The inplace keyword")
            data = datafile.read_data()
    except (OSError, ValueError, IndexError, KeyError) as err:
        raise BadInputFile(
            where, f"cannot be parsed as ISMN records ({type(err).__name__}: {err})"
        ) from None
    values, flags = data.iloc[:, 0], data.iloc[:, 1].astype(str)
    good = values[flags.isin(config.flags)].astype("float64").dropna()
    good = good[~good.index.duplicated()].sort_index()
    return Station(
        network=Path(member).name.split("_")[1],
        name=str(meta["station"].val),
        lat=float(meta["latitude"].val),
        lon=float(meta["longitude"].val),
        depth_from=float(depth.start),
        depth_to=float(depth.end),
        sensor=str(meta["instrument"].val),
        file=where,
        values=good.rename("insitu"),
    )


def overpass_times(days: pd.DatetimeIndex, lon: float, pass_: str) -> pd.DatetimeIndex:
    """UTC instant of each day at which the local solar time at ``lon`` is the pass's overpass."""
    try:
        local = PASS_LOCAL_SOLAR_HOURS[pass_]
    except KeyError:
        raise ConfigError(
            f"pass must be one of {sorted(PASS_LOCAL_SOLAR_HOURS)}, got {pass_!r}"
        ) from None
    offset = (local - lon / 15.0) % 24.0
    return pd.DatetimeIndex(days).normalize() + pd.Timedelta(hours=offset)


def nearest_records(
    values: pd.Series, times: pd.DatetimeIndex, tolerance_hours: float
) -> np.ndarray:
    """The record nearest each time, NaN when none lies within the tolerance."""
    if values.empty:
        return np.full(len(times), np.nan)
    matched = values.reindex(times, method="nearest", tolerance=pd.Timedelta(hours=tolerance_hours))
    return matched.to_numpy(dtype="float64")


def station_cell(
    lat: float, lon: float, grid_lat: np.ndarray, grid_lon: np.ndarray
) -> tuple[int, int] | None:
    """(row, col) of the cell containing the point, None when it is outside the grid."""
    row = int(np.abs(grid_lat - lat).argmin())
    col = int(np.abs(grid_lon - lon).argmin())
    half_lat = abs(float(grid_lat[1] - grid_lat[0])) / 2 if grid_lat.size > 1 else np.inf
    half_lon = abs(float(grid_lon[1] - grid_lon[0])) / 2 if grid_lon.size > 1 else np.inf
    if abs(grid_lat[row] - lat) > half_lat + 1e-9 or abs(grid_lon[col] - lon) > half_lon + 1e-9:
        return None
    return row, col


@dataclass(frozen=True)
class StationSeries:
    """A station's reference and the product at its cell on each cube day.

    Attributes:
        station: the station.
        cell: (row, col) of its grid cell.
        times: the cube days.
        insitu: the in-situ record nearest each day's overpass (NaN when none is close enough).
        product: the seamless product at the cell.
        flags: the product's flags (``sgdsm_cloud.fill.template``).
    """

    station: Station
    cell: tuple[int, int]
    times: pd.DatetimeIndex
    insitu: np.ndarray
    product: np.ndarray
    flags: np.ndarray


# Observed and filled days are scored apart: the paper reports the product on all days
# ("reconstructed") next to the observed days alone ("original").
SUBSETS = (
    ("observed days", (FLAG_OBSERVED,)),
    ("filled days", (FLAG_FILLED,)),
    ("all days", (FLAG_OBSERVED, FLAG_FILLED)),
)
TABLE_COLUMNS = ("station", "days", "R", "RMSE", "MAE", "ubRMSE", "bias", "N")


def station_table(series: list[StationSeries]) -> pd.DataFrame:
    """Scores per station and pooled over all stations, for observed, filled and all days."""
    from sgdsm_cloud.metrics import score

    rows = []
    groups = [(s.station.label, [s]) for s in series] + (
        [("all stations", series)] if len(series) > 1 else []
    )
    for label, members in groups:
        for subset, flags in SUBSETS:
            pred = np.concatenate(
                [np.where(np.isin(s.flags, flags), s.product, np.nan) for s in members]
            )
            ref = np.concatenate([s.insitu for s in members])
            r = score(pred, ref)
            rows.append((label, subset, r.r, r.rmse, r.mae, r.ubrmse, r.bias, r.n))
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
