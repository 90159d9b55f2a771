"""sm_uncertainty through the tiles of ``sgdsm fill``: the same values as the notebook API."""

from __future__ import annotations

import numpy as np
import xarray as xr

from sgdsm_cloud import cube
from sgdsm_cloud.fill.api import fill_dataset
from sgdsm_cloud.fill.block import FillJob, TileStores, fill_tile
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.manifest import manifest_location
from sgdsm_cloud.fill.plan import halo_of, plan_fill
from sgdsm_cloud.fill.template import ModelInfo, template_for, write_template
from sgdsm_cloud.model.runner import Predictor
from sgdsm_cloud.product import FLAG_FILLED, FLAG_OBSERVED, open_seamless
from sgdsm_cloud.storage import Location

from .conftest import make_raw, write_raw
from .test_api import anomaly_checkpoint  # noqa: F401  (a fixture)


def test_tiles_write_sm_uncertainty_like_the_notebook_api(anomaly_checkpoint, tmp_path):  # noqa: F811
    """The task path (read_input, fill_block, write_tile) with sm_error and days cut by --start."""
    raw = make_raw(days=10, lon_cells=slice(14, 50))
    error = np.random.default_rng(4).uniform(0.01, 0.05, raw.sm.shape).astype("float32")
    raw["sm_error"] = raw.sm.copy(data=error)
    source = Location(write_raw(raw, str(tmp_path / "raw.zarr")))
    out = Location(str(tmp_path / "out.zarr"))
    config = FillConfig(tile_days=4, tile_cells=20, chunk_days=2, chunk_cells=10, batch_size=32)
    opened = cube.open_cube(source.url)
    plan = plan_fill(opened, halo_of(anomaly_checkpoint.config), config, start="2015-03-03")
    model = ModelInfo.from_checkpoint(anomaly_checkpoint)
    write_template(template_for(opened, plan, source.url, model), plan.layout, out)
    stores = TileStores(FillJob(source, out, manifest_location(out)))
    predictor = Predictor(anomaly_checkpoint.model, batch_size=32)
    for spec in plan.blocks:
        fill_tile(spec, stores, predictor)

    written = open_seamless(out.url)
    expected = fill_dataset(raw, anomaly_checkpoint, start="2015-03-03", config=config)
    expected = expected.compute(scheduler="synchronous")
    xr.testing.assert_allclose(written.sm_uncertainty.load(), expected.sm_uncertainty, rtol=1e-6)
    flag, unc = written.flag.values, written.sm_uncertainty.values
    np.testing.assert_array_equal(unc[flag == FLAG_OBSERVED], error[2:][flag == FLAG_OBSERVED])
    assert (unc[flag == FLAG_FILLED] > 0).all()
    assert written.sm_uncertainty.encoding["shards"] == written.sm.encoding["shards"]
    assert written.sm_uncertainty.encoding["chunks"] == written.sm.encoding["chunks"]
    assert '"scale": 0.9' in written.attrs["model_uncertainty"]
