"""The source's quality layers through the fill, on real LPRM days: observed values get the
file's own error estimate, gaps on frozen days get flag 4 and no value; a raw cube without
the layers still fills."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sgdsm_cloud import cube
from sgdsm_cloud.cube import CubeChunks
from sgdsm_cloud.fill.api import fill_dataset
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.executor import run_fill
from sgdsm_cloud.grid import BBox
from sgdsm_cloud.ingest import IngestConfig, ingest
from sgdsm_cloud.product import (
    FLAG_FILLED,
    FLAG_FROZEN,
    FLAG_NOT_FILLED,
    FLAG_OBSERVED,
    FROZEN_WINDOW_DAYS,
    fill_land_mask,
    open_seamless,
)
from sgdsm_cloud.storage import Location

from .test_api import anomaly_checkpoint, anomaly_model_dir  # noqa: F401  (fixtures)

CONFIG = FillConfig(tile_days=8, tile_cells=40, chunk_days=4, chunk_cells=20, batch_size=16)


@pytest.fixture(scope="module")
def real_raw(tmp_path_factory, real_lprm_dir):
    """The fifteen real days (X band) from the Black Sea to the Aral Sea, where ts of
    2015-04-01 says frozen in two cells."""
    url = str(tmp_path_factory.mktemp("quality") / "raw.zarr")
    ingest(
        IngestConfig(
            (Location(str(real_lprm_dir)),),
            Location(url),
            variable="x",
            bbox=BBox(30, 40, 60, 52),
            chunks=CubeChunks(8, 24, 40),
        )
    )
    return url


def _fill_tiles(source: Location, out: Location, model_dir) -> xr.Dataset:
    """``sgdsm fill``'s task path, tile by tile in this process."""
    run_fill(source, out, Location(str(model_dir)), CONFIG)
    return open_seamless(out.url)


def _rule(frozen: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """The frozen rule, cell by cell: the day's own state, else the nearest known day within
    the window (frozen wins a tie), else not frozen."""
    out = np.zeros(gaps.shape, dtype=bool)
    for t, y, x in np.argwhere(gaps):
        for distance in range(FROZEN_WINDOW_DAYS + 1):
            near = [d for d in (t - distance, t + distance) if 0 <= d < frozen.shape[0]]
            states = {int(frozen[d, y, x]) for d in near} - {255}
            if states:
                out[t, y, x] = 1 in states
                break
    return out


def test_real_days_flag_frozen_gaps_and_give_observed_values_the_files_error(
    real_raw,
    anomaly_checkpoint,  # noqa: F811
    anomaly_model_dir,  # noqa: F811
    tmp_path,
):
    raw = cube.open_cube(real_raw)
    written = _fill_tiles(
        Location(real_raw), Location(str(tmp_path / "out.zarr")), anomaly_model_dir
    )
    flag, sm, unc = written.flag.values, written.sm.values, written.sm_uncertainty.values
    observed = np.isfinite(raw.sm.values)
    fill_land = fill_land_mask(raw.land.values, raw.lat.values, raw.lon.values)
    want = _rule(raw.frozen.values, ~observed & fill_land)
    # two cells said frozen on 2015-04-01; their gaps within 4 days take flag 4
    assert want.sum() == 3
    np.testing.assert_array_equal(flag == FLAG_FROZEN, want)
    assert np.isnan(sm[want]).all() and np.isnan(unc[want]).all()
    assert ((flag == FLAG_FILLED) | (flag == FLAG_NOT_FILLED))[~observed & fill_land & ~want].all()
    # observed values: the file's own error estimate where the file has one (day 1 only)
    seen = flag == FLAG_OBSERVED
    error = raw.sm_error.values
    np.testing.assert_array_equal(unc[seen], error[seen])
    assert np.isfinite(unc[0][seen[0]]).mean() > 0.9 and np.isnan(unc[1:][seen[1:]]).all()
    assert "source product's own error estimate" in written.sm_uncertainty.attrs["comment"]
    # the notebook API applies the same rule
    api = fill_dataset(raw, anomaly_checkpoint, config=CONFIG).compute(scheduler="synchronous")
    np.testing.assert_array_equal(api.flag.values, flag)
    xr.testing.assert_allclose(api.sm_uncertainty, written.sm_uncertainty.load())


def test_a_raw_cube_without_sm_error_and_frozen_still_fills(
    real_raw,
    anomaly_model_dir,  # noqa: F811
    tmp_path,
):
    old = cube.open_cube(real_raw).drop_vars(list(cube.QUALITY_VARS)).load()
    old_url = str(tmp_path / "old.zarr")
    old.to_zarr(old_url, zarr_format=3, consolidated=True)
    written = _fill_tiles(
        Location(old_url), Location(str(tmp_path / "out.zarr")), anomaly_model_dir
    )
    flag = written.flag.values
    assert (flag == FLAG_FILLED).sum() > 1000 and not (flag == FLAG_FROZEN).any()
    assert np.isnan(written.sm_uncertainty.values[flag == FLAG_OBSERVED]).all()
    assert "carries no error estimate" in written.sm_uncertainty.attrs["comment"]
