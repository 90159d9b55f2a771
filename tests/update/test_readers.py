"""A reader in another process, opening latest.json with xarray and fsspec alone while ten
updates publish, only ever sees whole versions."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import Setup

READER = r"""
import json, sys, time
from pathlib import Path
import numpy as np
import xarray as xr
latest, stop, report = sys.argv[1:4]
options = {"fo": latest, "target_options": {}, "remote_protocol": "file", "remote_options": {},
           "skip_instance_cache": True}
seen, problems, reads = set(), [], 0
while not Path(stop).exists():
    ds = xr.open_zarr("reference://", storage_options=options, consolidated=True)
    sm, flag = ds["sm"].values, ds["flag"].values
    reads += 1
    seen.add(int(ds.sizes["time"]))
    holes = np.isnan(sm) & ((flag == 1) | (flag == 2))
    if holes.any():
        problems.append(f"{int(holes.sum())} observed or filled cells are NaN")
    empty = ~(flag != 0).any(axis=(1, 2))
    if empty.any():
        problems.append(f"day {int(np.flatnonzero(empty)[0])} of the time axis has no data")
    if (ds["source_sha256"].values == "").any():
        problems.append("a day without its granule")
Path(report).write_text(json.dumps({"lengths": sorted(seen), "problems": problems, "reads": reads}))
"""


def test_a_polling_reader_sees_only_whole_versions(setup: Setup, tmp_path):
    stop, report = tmp_path / "stop", tmp_path / "report.json"
    latest = str(setup.product / "latest.json")
    reader = subprocess.Popen([sys.executable, "-c", READER, latest, str(stop), str(report)])
    try:
        for _ in range(10):
            setup.add_days(1)
            assert setup.update().version is not None
    finally:
        stop.write_text("")
        reader.wait(timeout=120)
    seen = json.loads(report.read_text())
    assert reader.returncode == 0
    assert seen["problems"] == []
    assert seen["reads"] >= 10 and len(seen["lengths"]) >= 3, seen  # it read along the way
