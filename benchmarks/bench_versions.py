"""How a daily update writes and how a reader reads, under three ways to version the product.

    python benchmarks/run.py versions [--quick]   # needs icechunk: pip install 'sgdsm_cloud[bench]'

The storage alone, no network: one tile of the product (360 x 360 cells; quick: 90 x 90) of
smooth soil-moisture-like float32 values with land gaps, in chunks of 32 days x 90 x 90 and
tiles of 384 days (the product's defaults). It is written for 365 days, then 30 daily updates
each write days T-4..T (a new day T and the four provisional days it changes), committing one
version each:

* **references** (``sgdsm_cloud.versioned``, what the product uses): the changed chunks into a
  new pack, a tile's chunks that turned final copied into one pack (``update.compact``);
* **icechunk, sharded**: icechunk 1.x with zarr shards of one tile (384 days), as the product's
  earlier layout;
* **icechunk, unsharded**: icechunk with one object per chunk.

Measured: the bytes each update writes (every file added or changed under the store) over the
compressed bytes of the days it wrote (the write amplification; median over the updates), and
after the last update the objects a one-day map and a whole-record series of one cell read.
Whether a reader needs more than xarray and fsspec is a fact, not a number: icechunk needs its
library.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``benchmarks`` and ``sgdsm_cloud`` importable
    sys.path.insert(0, str(REPO))

from benchmarks.common import format_table, result

CHUNKS, TILE_DAYS, HALF_WINDOW = (32, 90, 90), 384, 4


def field(days: int, cells: int, seed: int = 0) -> np.ndarray:
    """Smooth moving waves with a fixed ocean and daily swath gaps (NaN), float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)[:, None, None]
    y, x = np.mgrid[0:cells, 0:cells] / cells
    values = 0.25 + 0.05 * np.sin(2 * np.pi * (1.3 * y + 0.7 * x) + 0.1 * t)
    values = values + rng.normal(0, 0.005, (days, cells, cells))
    values[:, : cells // 5, :] = np.nan  # ocean
    return values.astype("float32")


def tree_sizes(root: Path) -> dict[str, int]:
    return {
        os.path.join(d, n): os.path.getsize(os.path.join(d, n))
        for d, _, names in os.walk(root)
        for n in names
    }


def written(before: dict[str, int], after: dict[str, int]) -> int:
    """Bytes of the files added or rewritten (a rewritten file of the same size counts too)."""
    return sum(
        s
        for p, s in after.items()
        if p not in before or before[p] != s or p.endswith(("latest.json", ".json"))
    )


class References:
    """The product's own way: packs of chunks and kerchunk references, one version a commit."""

    def __init__(self, root: Path, values: np.ndarray) -> None:
        import xarray as xr

        from sgdsm_cloud.storage import Location
        from sgdsm_cloud.versioned.chunks import encode_region, template_items
        from sgdsm_cloud.versioned.refs import inline
        from sgdsm_cloud.versioned.repository import Repository

        self.root, self.encode = root, encode_region
        self.repository = Repository(Location(str(root)))
        self.repository.create()
        self.cells = values.shape[1]
        template = xr.Dataset({"sm": (("time", "lat", "lon"), _lazy(values.shape))})
        items = template_items(
            template, {"sm": {"chunks": CHUNKS, "fill_value": np.float32("nan")}}
        )
        self.meta = {k: inline(k, v) for k, v in items.items()}
        self.metadata = items["sm/zarr.json"]
        from sgdsm_cloud.versioned.packs import write_pack

        chunks = self._chunks(values, 0, values.shape[0])
        refs = write_pack(self.repository.run("fill").pack("tile"), chunks)
        self.refs = {**self.meta, **refs}
        self.head = self.repository.commit(self.refs, {"operation": "fill"}, None)

    def _chunks(self, values: np.ndarray, start: int, stop: int) -> dict[str, bytes]:
        region = (slice(start, stop), slice(0, self.cells), slice(0, self.cells))
        chunks = self.encode(self._grown(stop).encode(), "sm", region, values[start:stop])
        return {k: v for k, v in chunks.items() if v is not None}

    def _grown(self, days: int) -> str:
        """``sm``'s metadata with the time axis grown to ``days`` (also in the root's
        consolidated metadata), as an update publishes it."""
        self.days = max(getattr(self, "days", 0), days)
        shape = [self.days, self.cells, self.cells]
        metadata = {**json.loads(self.metadata), "shape": shape}
        root = json.loads(self.meta["zarr.json"])
        root["consolidated_metadata"]["metadata"]["sm"]["shape"] = shape
        self.meta = {
            **self.meta,
            "zarr.json": json.dumps(root),
            "sm/zarr.json": json.dumps(metadata),
        }
        return self.meta["sm/zarr.json"]

    def update(self, values: np.ndarray, day: int) -> None:
        from sgdsm_cloud.update.compact import compact, scattered_tiles
        from sgdsm_cloud.versioned.packs import write_pack

        start = (day - HALF_WINDOW) // CHUNKS[0] * CHUNKS[0]
        run = self.repository.run(f"update-{day}")
        packed = write_pack(run.pack("tile"), self._chunks(values, start, day + 1))
        refs = {**self.refs, **self.meta, **packed}
        final = (day + 1 - HALF_WINDOW) // CHUNKS[0]
        per_tile = (TILE_DAYS // CHUNKS[0], 1, 1)
        refs.update(compact(refs, scattered_tiles(refs, {"sm"}, per_tile, final), run, {}))
        self.refs = refs
        self.head = self.repository.commit(refs, {"operation": "update"}, self.head)

    def objects(self, day: int) -> tuple[int, int]:
        """Packs a one-day map and a land cell's whole series read."""
        in_map = {
            r[0]
            for k, r in self.refs.items()
            if k.startswith(f"sm/c/{day // CHUNKS[0]}/") and isinstance(r, list)
        }
        last = f"/{self.cells // CHUNKS[1] - 1}/{self.cells // CHUNKS[2] - 1}"  # a land chunk
        series = {
            r[0]
            for k, r in self.refs.items()
            if k.startswith("sm/c/") and k.endswith(last) and isinstance(r, list)
        }
        return len(in_map), len(series)


class Icechunk:
    """icechunk 1.x, sharded by tile or not, one commit an update."""

    def __init__(self, root: Path, values: np.ndarray, sharded: bool) -> None:
        import icechunk
        import zarr

        self.root = root
        self.repo = icechunk.Repository.create(icechunk.local_filesystem_storage(str(root)))
        session = self.repo.writable_session("main")
        shards = (TILE_DAYS, values.shape[1], values.shape[2]) if sharded else None
        group = zarr.group(store=session.store)
        array = group.create_array(
            "sm", shape=values.shape, chunks=CHUNKS, shards=shards, dtype="float32",
            fill_value=np.nan,
        )  # fmt: skip
        array[:] = values
        session.commit("fill")
        self.sharded = sharded

    def update(self, values: np.ndarray, day: int) -> None:
        import zarr

        session = self.repo.writable_session("main")
        array = zarr.open_array(session.store, path="sm")
        if array.shape[0] < day + 1:
            array.resize((day + 1, *array.shape[1:]))
        array[day - HALF_WINDOW : day + 1] = values[day - HALF_WINDOW : day + 1]
        session.commit(f"update {day}")

    def objects(self, day: int) -> tuple[int, int]:
        if self.sharded:
            return 1, -(-(day + 1) // TILE_DAYS)
        per_side = -(-self.cells() // CHUNKS[1])
        return per_side**2, -(-(day + 1) // CHUNKS[0])

    def cells(self) -> int:
        import zarr

        return zarr.open_array(self.repo.readonly_session("main").store, path="sm").shape[1]


def _lazy(shape: tuple[int, ...]) -> Any:
    import dask.array as da

    return da.full(shape, np.nan, dtype="float32", chunks=CHUNKS)


def run(quick: bool) -> list[dict[str, Any]]:
    try:
        import icechunk  # noqa: F401
    except ImportError:
        return [
            result(
                "icechunk",
                None,
                "",
                note="icechunk is not installed: pip install 'sgdsm_cloud[bench]'",
            )
        ]
    cells = 90 if quick else 360
    days, updates = 365, 30
    values = field(days + updates, cells)
    rows = []
    root = Path(tempfile.mkdtemp(prefix="sgdsm-bench-versions-"))
    try:
        for name, make in (
            ("references", lambda p: References(p, values[:days])),
            ("icechunk, sharded", lambda p: Icechunk(p, values[:days], True)),
            ("icechunk, unsharded", lambda p: Icechunk(p, values[:days], False)),
        ):
            store = make(root / name.replace(", ", "-").replace(" ", "-"))
            amplification, sizes = [], []
            for day in range(days, days + updates):
                before = tree_sizes(store.root)
                store.update(values, day)
                wrote = written(before, tree_sizes(store.root))
                window = values[day - HALF_WINDOW : day + 1]
                payload = _compressed(window)
                amplification.append(wrote / payload)
                sizes.append(wrote)
            map_objects, series_objects = store.objects(days + updates - 1)
            rows.append(result(f"{name}: write amplification (median)", statistics.median(amplification), "x",
                               note=f"worst {max(amplification):.1f}; {statistics.median(sizes) / 1e6:.2f} MB per update"))  # fmt: skip
            rows.append(
                result(
                    f"{name}: objects of a one-day map",
                    map_objects,
                    "objects",
                    note=f"{cells} x {cells} cells",
                )
            )
            rows.append(
                result(
                    f"{name}: objects of a whole-record series",
                    series_objects,
                    "objects",
                    note=f"{days + updates} days",
                )
            )
        rows.append(
            result(
                "readers need",
                None,
                "",
                note="references: xarray + fsspec; icechunk: the icechunk library",
            )
        )
        return rows
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _compressed(window: np.ndarray) -> int:
    """Compressed bytes of the written days in the product's codec (Blosc zstd 3, shuffle)."""
    from numcodecs import Blosc

    codec = Blosc(cname="zstd", clevel=3, shuffle=Blosc.SHUFFLE)
    return len(codec.encode(np.ascontiguousarray(window)))


if __name__ == "__main__":
    print(format_table(run("--quick" in sys.argv)))
