"""The GPU path: workers offering GPU=1, CUDA with bf16 autocast (run with ``-m gpu``)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sgdsm_cloud.cluster import connect
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.executor import run_fill
from sgdsm_cloud.product import FLAG_FILLED
from sgdsm_cloud.storage import Location

from .conftest import make_raw, one_piece_fill, write_raw

pytestmark = pytest.mark.gpu


def test_gpu_fill_matches_the_fp32_cpu_fill_within_bf16_precision(tmp_path, checkpoint, model_dir):
    raw = make_raw(days=24)
    source = Location(write_raw(raw, str(tmp_path / "raw.zarr")))
    out = Location(str(tmp_path / "filled.zarr"))
    with connect(workers=1, gpu=True) as client:
        run_fill(
            source,
            out,
            Location(str(model_dir)),
            FillConfig(tile_days=12, tile_cells=48, gpu=True),
            client,
        )
    filled = xr.open_zarr(out.url)
    sm, flag = one_piece_fill(raw, checkpoint.model, checkpoint.config.receptive_radius)
    np.testing.assert_array_equal(filled.flag.values, flag)
    gaps = flag == FLAG_FILLED
    assert (
        np.abs(filled.sm.values[gaps] - sm[gaps]).max() < 0.02
    )  # bf16 keeps ~3 significant digits
    assert filled.attrs["model_sha256"] == checkpoint.sha256
