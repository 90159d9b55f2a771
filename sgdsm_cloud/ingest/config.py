"""What one ``sgdsm ingest`` run is asked to do, checked before anything is read or written."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

from sgdsm_cloud.cube import CubeChunks
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.formats.lprm import VARIABLES, variable_name
from sgdsm_cloud.grid import BBox
from sgdsm_cloud.options import Day, option, url
from sgdsm_cloud.storage import Location

PASSES = ("A", "D")


def default_workers() -> int:
    """Worker processes of ``sgdsm ingest``'s LocalCluster: the cores, at most 4 (I/O and zarr
    writes saturate)."""
    return max(1, min(4, os.cpu_count() or 1))


def sources_option() -> Any:
    """The positional SOURCE... of every command that ingests (``ingest``, ``update``)."""
    return url(
        "files, directories, globs, s3:// prefixes, https:// files or listings, or "
        "earthdata:COLLECTION (token: EARTHDATA_TOKEN or ~/.netrc)",
        positional=True,
        metavar="SOURCE",
    )


@dataclass(frozen=True)
class IngestConfig:
    """One ingest run; each option's help is its documentation (``sgdsm ingest`` and the YAML's
    ``ingest`` section take every field declared with ``option`` by name).

    Attributes:
        sources: files, directories (walked recursively), globs or s3:// prefixes.
        store: the raw cube (zarr v3), created on the first run and extended by later ones.
        variable: LPRM band (``c1``/``c2``/``x`` or ``soil_moisture_*``); ``None`` keeps the
            store's, else the LPRM default (C1). JAXA files hold one product and take none.
        pass_: ``"A"`` or ``"D"``; ``None`` keeps the store's, else the one pass in the sources.
        start, end: only files whose day falls in ``[start, end]``; a new store's time axis
            spans them when given. Dates, or ``YYYY-MM-DD`` text (a date after creation).
        bbox: crop global files to this box (snapped to the grid); fixes a new store's grid.
            A ``BBox`` or ``W,S,E,N`` text.
        chunks: chunk sizes of a new store (``CubeChunks`` or ``TIME,LAT,LON`` text); an
            existing store keeps its own.
        recheck_days: files of the store's last N days are read before planning and compared
            with the stored SHA-256 (0: only names and sizes are compared).
    """

    sources: tuple[Location, ...] = sources_option()
    store: Location = url("the cube: a local path or an fsspec URL (s3://...)")
    variable: str | None = option(None, "LPRM band: c1 (default for a new store), c2 or x")
    pass_: str | None = option(
        None, "ascending or descending (default: the store's)", choices=PASSES
    )
    start: Any = option(None, "first day to ingest, YYYY-MM-DD", kind=Day)
    end: Any = option(
        None, "last day to ingest, YYYY-MM-DD (a new store's axis spans --start..--end)", kind=Day
    )
    bbox: Any = option(
        None, "crop global files to W,S,E,N degrees, snapped to the grid (new stores)", kind=BBox
    )
    chunks: Any = option(
        CubeChunks(), "TIME,LAT,LON chunk sizes of a new store (default: 32,180,180)"
    )
    recheck_days: int = option(
        0,
        "read again the files of the store's last N days and ingest those whose bytes changed "
        "under the same name and size (near-real-time granules are regenerated); 0: none",
    )

    def __post_init__(self) -> None:
        if not self.sources:
            raise ConfigError(
                "ingest needs at least one SOURCE (file, directory, glob or s3:// prefix)"
            )
        if self.pass_ is not None and self.pass_ not in PASSES:
            raise ConfigError(f"--pass must be A (ascending) or D (descending), got {self.pass_!r}")
        if self.variable is not None and variable_name(self.variable) not in VARIABLES:
            short = ", ".join(v.removeprefix("soil_moisture_") for v in VARIABLES)
            raise ConfigError(
                f"--variable must be one of {short} (LPRM bands), got {self.variable!r}"
            )
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, parse_date(value, f"--{name}"))
        if isinstance(self.bbox, str):
            object.__setattr__(self, "bbox", BBox.parse(self.bbox) if self.bbox else None)
        if isinstance(self.chunks, str) or self.chunks is None:
            object.__setattr__(self, "chunks", parse_chunks(self.chunks))
        if self.start and self.end and self.start > self.end:
            raise ConfigError(f"--start {self.start} is after --end {self.end}")
        if self.recheck_days < 0:
            raise ConfigError(f"--recheck-days must be >= 0, got {self.recheck_days}")

    @property
    def lprm_variable(self) -> str | None:
        """The full LPRM variable name, or ``None`` when not given."""
        return variable_name(self.variable) if self.variable else None


def parse_date(text: str | None, option: str) -> dt.date | None:
    """Parse ``YYYY-MM-DD`` for ``--start``/``--end``."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} must be a date YYYY-MM-DD, got {text!r}") from None


def parse_chunks(text: str | None) -> CubeChunks:
    """Parse ``--chunks TIME,LAT,LON`` (e.g. ``32,180,180``)."""
    if not text:
        return CubeChunks()
    try:
        time, lat, lon = (int(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(
            f"--chunks must be three integers TIME,LAT,LON (e.g. 32,180,180), got {text!r}"
        ) from None
    try:
        return CubeChunks(time, lat, lon)
    except Exception as err:
        raise ConfigError(f"--chunks {text}: {err}") from None
