"""Generate the bad-file corpus: good LPRM days plus one file for each way an archive can be broken.

Every file is small (a 5 x 10 degree regional LPRM grid at 0.25 deg), so tests can ingest the
whole corpus in a second. ``write_corpus(directory)`` returns a :class:`Corpus` that says which
days must land with which values and which file must be quarantined for which reason.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from sgdsm_cloud.formats import jaxa, lprm
from sgdsm_cloud.grid import BBox, bbox_slices, global_lat, global_lon

VARIABLE = "soil_moisture_x"
REGION = BBox(0.0, 40.0, 10.0, 45.0)  # 20 x 40 cells at 0.25 deg
FIRST_DAY = dt.date(2015, 4, 1)


def region_grid(res: float = 0.25, bbox: BBox = REGION) -> tuple[np.ndarray, np.ndarray]:
    """North-up latitudes and ascending longitudes of ``bbox`` on the global grid."""
    rows, cols = bbox_slices(res, bbox)
    return global_lat(res)[rows], global_lon(res)[cols]


def sample_field(seed: int, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """A smooth soil-moisture field (m3 m-3, 0.05..0.45) with about a quarter of cells missing."""
    rng = np.random.default_rng(seed)
    y, x = np.meshgrid(
        np.linspace(0, np.pi, lat.size), np.linspace(0, 2 * np.pi, lon.size), indexing="ij"
    )
    values = 0.25 + 0.2 * np.sin(y + seed) * np.cos(x - seed / 3)
    values[rng.random(values.shape) < 0.25] = np.nan
    return values


def expected(fraction: np.ndarray) -> np.ndarray:
    """What the cube holds for ``fraction`` after the product's int16-percent round trip."""
    percent = np.round(np.clip(fraction, 0, 1) * 100)
    return np.where(np.isfinite(fraction), percent / 100.0, np.nan).astype("float32")


def name(day: dt.date, hhmmss: str = "013500", *, downscaled: bool = False) -> str:
    return lprm.file_name(day, "D", downscaled=downscaled, hhmmss=hhmmss)


@dataclass
class Corpus:
    """The corpus on disk.

    Attributes:
        directory: where the files are.
        good: expected ``sm`` per day that must land (the kept file's values).
        bad: file name -> a fragment the quarantine reason must contain.
        ignored: files a directory walk must skip (neither ingested nor quarantined).
        lat, lon: the corpus grid.
    """

    directory: Path
    good: dict[dt.date, np.ndarray] = field(default_factory=dict)
    bad: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    lat: np.ndarray = field(default_factory=lambda: region_grid()[0])
    lon: np.ndarray = field(default_factory=lambda: region_grid()[1])

    def day(self, offset: int) -> dt.date:
        return FIRST_DAY + dt.timedelta(days=offset)

    def write_good(self, offset: int, hhmmss: str = "013500", seed: int | None = None) -> Path:
        """A valid file for day ``offset``; returns its path (values recorded as expected)."""
        fraction = sample_field(offset if seed is None else seed, self.lat, self.lon)
        path = self.directory / name(self.day(offset), hhmmss)
        lprm.write(path, fraction, self.lat, self.lon, variable=VARIABLE)
        self.good.setdefault(self.day(offset), expected(fraction))
        return path

    def write_raw(
        self, file_name: str, data: np.ndarray, *, fill: float | None = lprm.FILL
    ) -> Path:
        """An LPRM-like file written with plain h5py (no dimension scales) holding ``data``."""
        path = self.directory / file_name
        with h5py.File(path, "w") as h5:
            h5["Latitude"] = self.lat.astype("float32")
            h5["Longitude"] = self.lon.astype("float32")
            ds = h5.create_dataset(VARIABLE, data=data)
            if fill is not None:
                ds.attrs["_FillValue"] = np.array(
                    [fill], dtype=data.dtype if data.dtype.kind in "iuf" else "int16"
                )
        return path


def write_corpus(directory: str | Path) -> Corpus:
    """Write the good days, a duplicate, and one file per bad case into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(directory)
    for offset in range(6):  # 2015-04-01 .. 04-06
        corpus.write_good(offset)
    corpus.write_good(19)  # 04-20: good data after every bad case
    kept = name(corpus.day(1))
    duplicate = corpus.write_good(1, hhmmss="020000", seed=99)  # a second file for 04-02
    corpus.bad[duplicate.name] = f"duplicate: another file for {corpus.day(1)} is kept: {kept}"

    shape = (corpus.lon.size, corpus.lat.size)  # the product's (Longitude, Latitude) layout
    percent = np.full(shape, 30, dtype="int16")

    path = corpus.write_good(6)  # 04-07: its data chunk overwritten with garbage
    with h5py.File(path, "r") as h5:
        info = h5[VARIABLE].id.get_chunk_info(0)
    with open(path, "r+b") as f:
        f.seek(info.byte_offset)
        f.write(np.random.default_rng(7).integers(0, 256, info.size, dtype="uint8").tobytes())
    del corpus.good[corpus.day(6)]
    corpus.bad[path.name] = "not a readable HDF5/netCDF4 file"

    path = corpus.write_good(7)  # 04-08: cut short
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 3 // 5])
    del corpus.good[corpus.day(7)]
    corpus.bad[path.name] = "not a readable HDF5/netCDF4 file"

    path = directory / name(corpus.day(8))  # 04-09
    path.write_bytes(b"")
    corpus.bad[path.name] = "empty file (0 bytes)"

    coarse_lat, coarse_lon = region_grid(0.5)  # 04-10: a 0.5 deg grid under a 0.25 deg name
    path = directory / name(corpus.day(9))
    lprm.write(
        path,
        np.full((coarse_lat.size, coarse_lon.size), 0.3),
        coarse_lat,
        coarse_lon,
        variable=VARIABLE,
    )
    corpus.bad[path.name] = "grid spacing 0.5/0.5 deg does not match"

    other_lat, other_lon = region_grid(0.25, BBox(20.0, 40.0, 30.0, 45.0))  # 04-11: another region
    path = directory / name(corpus.day(10))
    lprm.write(
        path,
        np.full((other_lat.size, other_lon.size), 0.3),
        other_lat,
        other_lon,
        variable=VARIABLE,
    )
    corpus.bad[path.name] = "wrong grid: the file covers"

    # 04-12: stored (Latitude, Longitude) without dimension names
    path = corpus.write_raw(name(corpus.day(11)), percent.T.copy())
    corpus.bad[path.name] = "axes swapped"

    # 04-13: text instead of numbers
    path = corpus.write_raw(name(corpus.day(12)), np.full(shape, b"30", dtype="S2"), fill=None)
    corpus.bad[path.name] = "has dtype |S2"

    path = corpus.write_raw(
        name(corpus.day(13)),
        np.where(np.arange(shape[1]) < 5, 150, 30).astype("int16")[None].repeat(shape[0], 0),
    )
    corpus.bad[path.name] = "outside the physical range"  # 04-14: 150 percent

    values = percent.astype("float32")
    values[0, 0] = np.inf
    path = corpus.write_raw(name(corpus.day(14)), values)  # 04-15
    corpus.bad[path.name] = "infinite values"

    values = percent.astype("float32")
    values[3, 4] = np.nan
    path = corpus.write_raw(name(corpus.day(15)), values)  # 04-16: NaN, _FillValue -32767
    corpus.bad[path.name] = "holds NaN although its declared _FillValue is -32767"

    path = corpus.write_raw(name(corpus.day(16)), np.full(shape, lprm.FILL, dtype="int16"))  # 04-17
    corpus.bad[path.name] = "no valid retrieval in the whole grid"

    # 04-18: another product
    path = directory / jaxa.file_name(corpus.day(17), "D", resolution=0.25)
    jaxa.write(path, np.full((720, 1440), 0.3, dtype="float32"), pass_="D", date=corpus.day(17))
    corpus.bad[path.name] = "product jaxa at 0.25 deg differs from the store's lprm at 0.25 deg"

    fine_lat, fine_lon = region_grid(0.1)  # 04-19: the 0.1 deg downscaled product
    path = directory / name(corpus.day(18), downscaled=True)
    lprm.write(
        path, np.full((fine_lat.size, fine_lon.size), 0.3), fine_lat, fine_lon, variable=VARIABLE
    )
    corpus.bad[path.name] = "product lprm at 0.1 deg differs"

    for bad_name, reason in (
        ("LPRM-AMSR2_L3_D_SOILM3_V001_2015041.nc4", "unrecognised file name"),
        (
            "LPRM-AMSR2_L3_D_SOILM3_V001_20150231013500.nc4",
            "'20150231' in the file name is not a valid date",
        ),
        ("LPRM-AMSR2_L3_D_SOILM3_V001_20990101013500.nc4", "in the future"),
    ):
        (directory / bad_name).write_bytes((directory / name(corpus.day(0))).read_bytes())
        corpus.bad[bad_name] = reason

    (directory / "README.txt").write_text("not an archive file\n")
    (directory / ".hidden.nc4").write_bytes(b"")
    corpus.ignored += ["README.txt", ".hidden.nc4"]
    return corpus


# The hostile corpus: write_corpus plus every other way an input can be broken or crafted.
# Kept separate so tests that pin write_corpus's exact layout stay valid.

ORIGINAL_KINDS = {  # day offset (or name) in write_corpus -> kind, for the robustness table
    6: "corrupt HDF5 chunk (garbage bytes)",
    7: "truncated NetCDF4 (cut at 60 %)",
    8: "zero-byte file",
    9: "mixed grids: 0.5 deg spacing",
    10: "mixed grids: another region",
    11: "swapped axes without dimension names",
    12: "wrong dtype (text)",
    13: "values over 1 m3/m3 (150 %)",
    14: "inf among the values",
    15: "NaN with a numeric _FillValue",
    16: "fill values only",
    17: "mixed products: JAXA file in an LPRM cube",
    18: "mixed products: 0.1 deg downscaled LPRM",
}
ORIGINAL_NAMED_KINDS = {
    "LPRM-AMSR2_L3_D_SOILM3_V001_2015041.nc4": "unparseable name",
    "LPRM-AMSR2_L3_D_SOILM3_V001_20150231013500.nc4": "invalid date in the name",
    "LPRM-AMSR2_L3_D_SOILM3_V001_20990101013500.nc4": "future date",
}
NON_UTF8_NAME = b"LPRM-AMSR2_L3_D_SOILM3_V001_2015040\xff013500.nc4"


@dataclass
class HostileCorpus(Corpus):
    """A corpus whose bad files also carry a short label of their kind (``kinds``)."""

    kinds: dict[str, str] = field(default_factory=dict)

    def add_bad(self, path: Path | str, fragment: str, kind: str) -> None:
        file_name = Path(path).name
        self.bad[file_name] = fragment
        self.kinds[file_name] = kind


def write_hostile_corpus(directory: str | Path) -> HostileCorpus:
    """write_corpus's files plus the other hostile kinds, each on a day that has a good file
    (so the good file must still land next to it) or needing no day at all."""
    base = write_corpus(directory)
    corpus = HostileCorpus(base.directory, base.good, base.bad, base.ignored)
    for file_name in base.bad:
        kind = ORIGINAL_NAMED_KINDS.get(file_name, "")
        for offset, label in ORIGINAL_KINDS.items():
            if f"{corpus.day(offset):%Y%m%d}" in file_name and not kind:
                kind = label
        corpus.kinds[file_name] = kind or "duplicate day"
    d = corpus.directory
    shape = (corpus.lon.size, corpus.lat.size)
    percent = np.full(shape, 30, dtype="int16")

    def on_day(offset: int, hhmmss: str) -> str:
        return name(corpus.day(offset), hhmmss)

    path = corpus.write_raw(on_day(0, "030000"), percent)  # plain HDF5 cut after its superblock
    path.write_bytes(path.read_bytes()[:512])
    corpus.add_bad(path, "not a readable HDF5/netCDF4 file", "truncated HDF5 (superblock only)")

    path = d / on_day(0, "030100")  # a failed download: the server's HTML page saved as .nc4
    path.write_bytes(b"<!DOCTYPE html><html><body>Please log in to Earthdata</body></html>\n")
    corpus.add_bad(path, "not a readable HDF5/netCDF4 file", "HTML error page saved as .nc4")

    negative = percent.copy()
    negative[:, :3] = -5
    path = corpus.write_raw(on_day(1, "030000"), negative)
    corpus.add_bad(path, "outside the physical range", "negative values (-5 %)")

    path = corpus.write_raw(on_day(1, "030100"), np.full(shape, 60, dtype="int16"))
    with h5py.File(path, "r+") as h5:
        h5[VARIABLE].attrs["scale_factor"] = np.float32(2.0)  # 120 % after scaling
    corpus.add_bad(path, "outside the physical range", "over 1 m3/m3 only after scale_factor")

    path = corpus.write_raw(on_day(2, "030000"), np.full((shape[0] + 3, shape[1]), 30, "int16"))
    corpus.add_bad(path, "has shape (43, 20)", "wrong shape")

    path = d / on_day(2, "030100")  # HDF5, but not the product's layout
    with h5py.File(path, "w") as h5:
        h5["temperature"] = np.zeros((4, 4), dtype="float32")
    corpus.add_bad(path, "no variable 'soil_moisture_x'", "HDF5 file that is not an LPRM file")

    path = corpus.write_raw(on_day(3, "030000"), percent)
    with h5py.File(path, "r+") as h5:
        lat = h5["Latitude"][()]
        lat[5] += 0.1
        h5["Latitude"][...] = lat
    corpus.add_bad(path, "not a regular grid", "irregular latitudes")

    path = d / on_day(3, "030100")  # 10^10 cells declared in a tiny file: never read
    with h5py.File(path, "w") as h5:
        h5.create_dataset("Latitude", shape=(100_000,), dtype="float32", chunks=(1000,))
        h5.create_dataset("Longitude", shape=(100_000,), dtype="float32", chunks=(1000,))
        h5.create_dataset(VARIABLE, shape=(100_000, 100_000), dtype="int16", chunks=(100, 100))
    corpus.add_bad(path, "larger than the global 0.25 deg grid", "decompression bomb (10^10 cells)")

    path = corpus.write_raw(on_day(4, "030000"), percent)
    with h5py.File(path, "r+") as h5:
        h5[VARIABLE].attrs["history"] = "x" * (2 << 20)
    corpus.add_bad(path, "attribute 'history'", "huge attribute (2 MiB)")

    path = d / on_day(4, "030100")
    (path / "inner").mkdir(parents=True)
    corpus.add_bad(path, "a directory named like an archive file", "directory named like a file")

    loop = d / "loop"  # a link back to the corpus directory itself
    loop.symlink_to(d, target_is_directory=True)
    corpus.add_bad(loop, "symbolic-link loop", "symbolic-link loop (directory)")

    path = d / on_day(5, "030000")
    path.symlink_to(path.name)  # points at itself
    corpus.add_bad(path, "Too many levels of symbolic links", "self-referencing symbolic link")

    path = d / on_day(5, "030100")
    path.symlink_to(d / "nowhere.nc4")
    corpus.add_bad(path, "No such file or directory", "dangling symbolic link")

    raw_name = os.fsencode(d) + b"/" + NON_UTF8_NAME
    with open(raw_name, "wb") as f:
        f.write((d / name(corpus.day(0))).read_bytes())
    shown = NON_UTF8_NAME.decode("utf-8", "backslashreplace")  # as the quarantine list shows it
    corpus.add_bad(shown, "unrecognised file name", "non-UTF-8 file name")
    return corpus


def write_jaxa_corpus(directory: str | Path) -> HostileCorpus:
    """Good global JAXA 0.25 deg days and the JAXA-specific bad kinds, for a JAXA cube."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lat, lon = global_lat(0.25), global_lon(0.25)
    corpus = HostileCorpus(directory, lat=lat, lon=lon)
    scale = float(np.float32(0.1))  # the file's SCALE FACTOR, as the reader sees it

    def jaxa_path(offset: int, pass_: str = "D") -> Path:
        return directory / jaxa.file_name(corpus.day(offset), pass_, resolution=0.25)

    for offset in (0, 1, 2):
        fraction = sample_field(offset, lat, lon)
        jaxa.write(jaxa_path(offset), fraction, pass_="D", date=corpus.day(offset))
        permille = np.round(np.clip(fraction, 0, 1) * 1000)
        corpus.good[corpus.day(offset)] = np.where(
            np.isfinite(fraction), permille * scale / 100.0, np.nan
        ).astype("float32")

    path = jaxa_path(3)  # says descending in its name, ascending inside
    jaxa.write(path, np.full((lat.size, lon.size), 0.3), pass_="A", date=corpus.day(3))
    corpus.add_bad(
        path, "OrbitDirection 'Ascending' contradicts pass 'D'", "JAXA pass contradicts its name"
    )

    path = jaxa_path(4)
    jaxa.write(path, np.full((lat.size, lon.size), 0.3), pass_="D", date=corpus.day(4))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    corpus.add_bad(path, "not a readable HDF5/netCDF4 file", "truncated JAXA HDF5")

    path = jaxa_path(5)
    with h5py.File(path, "w") as h5:
        h5.create_dataset(jaxa.DATASET, data=np.full((lat.size, lon.size, 1), 0.3, "float32"))
    corpus.add_bad(path, "expected int16", "JAXA wrong dtype (float)")

    path = jaxa_path(6)
    with h5py.File(path, "w") as h5:
        h5.create_dataset(jaxa.DATASET, data=np.full((lon.size, lat.size, 1), 300, "int16"))
    corpus.add_bad(path, "has shape (1440, 720, 1)", "JAXA swapped axes")
    return corpus
