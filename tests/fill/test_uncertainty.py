"""sm_uncertainty through the tiles of ``sgdsm fill``: the same values as the notebook API."""

from __future__ import annotations

import numpy as np
import xarray as xr

from sgdsm_cloud.fill.api import fill_dataset
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.executor import run_fill
from sgdsm_cloud.product import FLAG_FILLED, FLAG_OBSERVED, open_seamless
from sgdsm_cloud.storage import Location

from .conftest import make_raw, write_raw
from .test_api import anomaly_checkpoint, anomaly_model_dir  # noqa: F401  (fixtures)


def test_tiles_write_sm_uncertainty_like_the_notebook_api(
    anomaly_checkpoint,  # noqa: F811
    anomaly_model_dir,  # noqa: F811
    tmp_path,
):
    """The task path (read_input, fill_block, packs) with sm_error and days cut by --start."""
    raw = make_raw(days=10, lon_cells=slice(14, 50))
    error = np.random.default_rng(4).uniform(0.01, 0.05, raw.sm.shape).astype("float32")
    raw["sm_error"] = raw.sm.copy(data=error)
    source = Location(write_raw(raw, str(tmp_path / "raw.zarr")))
    out = Location(str(tmp_path / "out.zarr"))
    config = FillConfig(tile_days=4, tile_cells=20, chunk_days=2, chunk_cells=10, batch_size=32)
    run_fill(source, out, Location(str(anomaly_model_dir)), config, start="2015-03-03")

    written = open_seamless(out.url)
    expected = fill_dataset(raw, anomaly_checkpoint, start="2015-03-03", config=config)
    expected = expected.compute(scheduler="synchronous")
    xr.testing.assert_allclose(written.sm_uncertainty.load(), expected.sm_uncertainty, rtol=1e-6)
    flag, unc = written.flag.values, written.sm_uncertainty.values
    np.testing.assert_array_equal(unc[flag == FLAG_OBSERVED], error[2:][flag == FLAG_OBSERVED])
    assert (unc[flag == FLAG_FILLED] > 0).all()
    assert written.sm_uncertainty.encoding["chunks"] == written.sm.encoding["chunks"]
    assert '"scale": 0.9' in written.attrs["model_uncertainty"]
