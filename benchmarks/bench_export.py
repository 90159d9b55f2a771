"""Export of the seamless cube to daily SGD-SM NetCDF files against reading the same cube.

    python benchmarks/run.py export [--quick]      # or: python benchmarks/bench_export.py [--quick]

Workload: a year (quick: 60 days) of a demo-sized seamless cube, the demo region
115,-35,150,-15 at 0.25 degrees (80 x 140 cells): synthetic soil moisture
(``sgdsm_cloud.synth.synthesize``), observed where the synthetic retrieval has a value on
fillable land, the synthetic truth as the filled values elsewhere on land, a standard error,
written in the seamless layout and codecs ``sgdsm fill`` writes (inner chunks of 32 days,
shards, Blosc zstd).

Cases, round-robin (``common.interleaved``, one warm-up round) on one LocalCluster of two
single-threaded worker processes:

* read: every day's ``sm``, ``flag`` and ``sm_uncertainty`` loaded with xarray/dask on the
  cluster into this process (``xr.open_zarr`` then one ``client.compute`` of the per-day
  selections, so each chunk is read once);
* bulk read: the whole period's variables loaded at once (one ``client.compute`` of the
  dataset), a stricter reference reported beside the headline;
* export: ``export_netcdf`` of the same days on the same cluster into a fresh directory.

Headline: export rate / read rate (= read time / export time) per round; the target is 0.8 or
more. After the rounds, every file of the last export is read back with netCDF4 and compared
with the cube, value by value.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``benchmarks`` and ``sgdsm_cloud`` importable
    sys.path.insert(0, str(REPO))

from benchmarks.common import format_table, interleaved, per_round, result

DEMO_BBOX = "115,-35,150,-15"
RATE_TARGET = 0.8
UNCERTAINTY = "sm_uncertainty"


def build_cube(path: Path, days: int) -> str:
    """A seamless cube of ``days`` days over the demo region, written as ``sgdsm fill`` does."""
    import pandas as pd
    import xarray as xr
    from zarr.codecs import BloscCodec

    from sgdsm_cloud import product, schema
    from sgdsm_cloud.fill.config import FillConfig
    from sgdsm_cloud.fill.layout import output_layout
    from sgdsm_cloud.grid import BBox
    from sgdsm_cloud.synth import SynthConfig, synthesize

    end = pd.Timestamp("2015-01-01") + pd.Timedelta(days=days - 1)
    raw = synthesize(SynthConfig("2015-01-01", end.date(), bbox=BBox.parse(DEMO_BBOX)))
    fill_land = product.fill_land_mask(raw.land.values, raw.lat.values, raw.lon.values)
    sm, truth = raw.sm.values, raw.truth.values
    seen = np.isfinite(sm) & fill_land
    flag = np.where(seen, product.FLAG_OBSERVED, product.FLAG_FILLED).astype("uint8")
    flag[:, ~fill_land] = product.FLAG_NOT_LAND
    filled = np.clip(truth, 0.0, 0.99)
    value = np.where(seen, sm, np.where(flag == product.FLAG_FILLED, filled, np.nan))
    sigma = np.where(flag == product.FLAG_FILLED, 0.05, np.where(seen, 0.03, np.nan))
    dims = ("time", "lat", "lon")
    ds = xr.Dataset(
        {
            product.SM: (dims, value.astype("float32"), schema.product_sm_attrs(raw.attrs)),
            product.FLAG: (dims, flag, schema.FLAG_ATTRS),
            UNCERTAINTY: (
                dims,
                sigma.astype("float32"),
                {"units": "m3 m-3", "long_name": "standard error of the surface soil moisture"},
            ),
            product.LAND: (("lat", "lon"), raw.land.values.astype("uint8")),
        },
        coords={"time": raw.time, "lat": raw.lat, "lon": raw.lon},
        attrs={
            **{k: v for k, v in raw.attrs.items() if k != "quarantine"},
            "title": "export benchmark cube",
        },
    )
    layout = output_layout(value.shape, FillConfig())
    sharding = {"shards": layout.shards} if layout.shards != layout.chunks else {}
    floats = {
        "chunks": layout.chunks,
        **sharding,
        "_FillValue": np.float32("nan"),
        "compressors": (BloscCodec(cname="zstd", clevel=3, shuffle="shuffle"),),
    }
    encoding = {
        product.SM: floats,
        UNCERTAINTY: dict(floats),
        product.FLAG: {
            "chunks": layout.chunks,
            **sharding,
            "fill_value": 0,
            "compressors": (BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle"),),
        },
    }
    ds.to_zarr(path, mode="w", zarr_format=3, consolidated=True, encoding=encoding)
    return str(path)


def read_days(url: str, client: Any) -> int:
    """Load every day's sm, flag and uncertainty on the cluster into this process; bytes read."""
    import xarray as xr

    ds = xr.open_zarr(url)[["sm", "flag", UNCERTAINTY]]
    days = [ds.isel(time=i) for i in range(ds.sizes["time"])]
    loaded = client.gather(client.compute(days))
    return sum(day.nbytes for day in loaded)


def read_bulk(url: str, client: Any) -> int:
    """Load the whole period's sm, flag and uncertainty at once on the cluster; bytes read."""
    import xarray as xr

    ds = xr.open_zarr(url)[["sm", "flag", UNCERTAINTY]]
    return int(client.compute(ds).result().nbytes)


def check_files(url: str, files: list[str]) -> int:
    """Every value of the files against the cube; the number of files checked."""
    import netCDF4
    import xarray as xr

    from sgdsm_cloud.publish.export import FILL_VALUE

    ds = xr.open_zarr(url).load()
    assert len(files) == ds.sizes["time"], f"{len(files)} files for {ds.sizes['time']} days"
    for i, path in enumerate(sorted(files)):
        sm, flag = ds.sm.values[i].astype("float64"), ds.flag.values[i]
        unc = ds[UNCERTAINTY].values[i].astype("float64")
        want = {
            "reconstructed_sm_c1": np.where(np.isfinite(sm), np.floor(sm * 100 + 1e-3), FILL_VALUE),
            "original_sm_c1": np.where(flag == 1, np.floor(sm * 100 + 1e-3), FILL_VALUE),
            "flag": flag,
            "reconstructed_sm_c1_uncertainty": np.where(
                np.isfinite(unc), np.rint(unc * 1e4), FILL_VALUE
            ),
        }
        with netCDF4.Dataset(path) as nc:
            nc.set_auto_maskandscale(False)
            for name, values in want.items():
                if not np.array_equal(np.asarray(nc[name][...]), values):
                    raise AssertionError(f"{path}: {name} differs from the cube")
    return len(files)


def run(quick: bool) -> list[dict[str, Any]]:
    from distributed import Client, LocalCluster

    from sgdsm_cloud.publish.export import export_netcdf

    days = 60 if quick else 365
    repeats = 2 if quick else 5
    work = Path(tempfile.mkdtemp(prefix="sgdsm-bench-export-"))
    rounds = iter(range(10_000))
    last: list[str] = []
    try:
        url = build_cube(work / "seamless.zarr", days)
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):

            def export() -> None:
                out = work / f"daily-{next(rounds)}"
                last[:] = export_netcdf(url, str(out), client=client)
                # the files of earlier rounds are not needed (disk, page cache)
                for old in work.glob("daily-*"):
                    if old != out:
                        shutil.rmtree(old)

            samples = interleaved(
                {
                    "read": lambda: read_days(url, client),
                    "bulk": lambda: read_bulk(url, client),
                    "export": export,
                },
                warmup=1,
                repeats=repeats,
            )
        checked = check_files(url, last)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    read, bulk, exp = samples["read"], samples["bulk"], samples["export"]
    label = f"{days} days, demo region 80x140 cells"
    return [
        result(
            f"{label}: export rate / read rate",
            per_round(lambda r, e: r / e, read, exp),
            "ratio",
            reference="reading sm+flag+uncertainty per day, same cluster, same run",
            note=f"target >= {RATE_TARGET}; 2 workers x 1 thread",
        ),
        result(
            f"{label}: export rate / bulk read rate",
            per_round(lambda b, e: b / e, bulk, exp),
            "ratio",
            reference="the whole period loaded at once, same cluster, same run",
            note="a stricter reference: one compute of the whole cube, no per-day selections",
        ),
        result(f"{label}: read every day (xarray/dask)", read, "s"),
        result(f"{label}: read the period at once (xarray/dask)", bulk, "s"),
        result(f"{label}: export to daily NetCDF", exp, "s", note=f"{days} files"),
        result(
            f"{label}: files checked against the cube",
            float(checked),
            "files",
            note="every value of every variable of the last export's files",
        ),
    ]


if __name__ == "__main__":
    print(format_table(run("--quick" in sys.argv)))
