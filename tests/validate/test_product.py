import numpy as np

from sgdsm_cloud import cube
from sgdsm_cloud.model.checkpoint import load_checkpoint
from sgdsm_cloud.product import fill_land_mask
from sgdsm_cloud.validate.product import Crop, ModelFiller, ModelProduct, read_days


def test_crop_wraps_longitude_on_a_global_grid_and_clips_latitude():
    crop = Crop.around((0, 2), (0, 3), 2, (10, 20), periodic=True)
    np.testing.assert_array_equal(crop.rows, [0, 1, 2, 3])
    np.testing.assert_array_equal(crop.cols, [18, 19, 0, 1, 2, 3, 4])
    assert crop.core == (slice(0, 2), slice(2, 5))
    grid = np.arange(200).reshape(10, 20)
    np.testing.assert_array_equal(crop.take(grid)[crop.core], grid[0:2, 0:3])
    regional = Crop.around((0, 2), (0, 3), 2, (10, 20), periodic=False)
    np.testing.assert_array_equal(regional.cols, [0, 1, 2, 3, 4])
    assert regional.core == (slice(0, 2), slice(0, 3))


def test_read_days_pads_days_outside_the_record(tiny_raw):
    crop = Crop.around((5, 7), (5, 7), 0, (48, 64), False)
    block = read_days(tiny_raw[cube.SM], np.array([-2, -1, 0, 1]), crop)
    assert np.isnan(block[:2]).all()
    np.testing.assert_array_equal(block[2:], tiny_raw[cube.SM].values[0:2, 5:7, 5:7])


def test_cell_series_from_crops_equal_the_whole_grid_fill(tiny_raw, tiny_model_dir):
    """A crop widened by the receptive radius gives its centre the whole-grid values."""
    checkpoint = load_checkpoint(tiny_model_dir)
    filler = ModelFiller.from_checkpoint(checkpoint)
    land = tiny_raw[cube.LAND].values.astype(bool)
    fill_land = fill_land_mask(land, tiny_raw["lat"].values, tiny_raw["lon"].values)
    product = ModelProduct(tiny_raw[cube.SM], land, fill_land, filler, periodic=False)
    cells = [(10, 20), (0, 63), (30, 5)]
    days = np.arange(2, 9)
    values, flags = product.at_cells(cells, days)
    for k, day in enumerate(days):
        whole, whole_flags = product.day(int(day))
        for c, (row, col) in enumerate(cells):
            assert flags[k, c] == whole_flags[row, col]
            np.testing.assert_allclose(values[k, c], whole[row, col], rtol=1e-5, equal_nan=True)
    assert {1, 2} <= set(np.unique(flags))
    observed = np.isfinite(tiny_raw[cube.SM].values[days][:, 10, 20])
    np.testing.assert_array_equal(
        values[observed, 0], tiny_raw[cube.SM].values[days][observed, 10, 20]
    )


def test_whole_day_maps_and_truth_cases_equal_the_fill_next_to_the_dateline():
    """On a global grid validation sees across the dateline, as ``sgdsm fill`` does."""
    import pandas as pd
    import torch

    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet
    from sgdsm_cloud.model.runner import Predictor
    from sgdsm_cloud.validate.cases import truth_cases
    from tests.fill.conftest import make_raw, one_piece_fill

    torch.manual_seed(0)
    config = ModelConfig(layers=3, features=4)
    net = SGDSMNet(config).eval()
    raw = make_raw(days=12)
    land = raw[cube.LAND].values.astype(bool)
    fill_land = fill_land_mask(land, raw["lat"].values, raw["lon"].values)
    filler = ModelFiller(Predictor(net, batch_size=4), config.half_window, config.receptive_radius)
    sm_ref, flag_ref = one_piece_fill(raw, net, config.receptive_radius)
    day = 6

    product = ModelProduct(raw[cube.SM], land, fill_land, filler, periodic=True)
    sm, flag = product.day(day)
    np.testing.assert_array_equal(flag, flag_ref[day])
    np.testing.assert_allclose(sm, sm_ref[day], rtol=0, atol=1e-5)
    edge = np.isfinite(sm_ref[day][:, :3]) & np.isnan(raw[cube.SM].values[day][:, :3])
    assert edge.any()  # filled cells next to the dateline are compared

    dates = pd.DatetimeIndex(raw["time"].values)
    (case,) = truth_cases(
        raw[cube.SM], raw[cube.SM].fillna(0.25), land, fill_land, dates, [day],
        config.half_window, config.receptive_radius, periodic=True,
    )  # fmt: skip
    filled = filler.fill_window(case.values, case.land, case.centre)[case.crop.core]
    gaps = case.removed[case.crop.core] & np.isfinite(sm_ref[day])
    np.testing.assert_allclose(filled[gaps], sm_ref[day][gaps], rtol=0, atol=1e-5)
    assert case.removed.sum() == (fill_land & np.isnan(raw[cube.SM].values[day])).sum()


def test_validation_day_maps_and_series_equal_the_fill_output_across_the_dateline(tmp_path):
    """Validation run on a stored global cube gives the values ``sgdsm fill`` writes, also in the
    first and last columns, whose neighbours lie across the dateline."""
    import torch

    from sgdsm_cloud.fill.api import fill_dataset
    from sgdsm_cloud.fill.config import FillConfig
    from sgdsm_cloud.model.checkpoint import save_checkpoint
    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet
    from sgdsm_cloud.product import FLAG_FILLED
    from sgdsm_cloud.storage import Location
    from sgdsm_cloud.validate.context import ValidateConfig
    from sgdsm_cloud.validate.run import open_context
    from tests.fill.conftest import make_raw, write_raw

    torch.manual_seed(1)
    config = ModelConfig(layers=3, features=4)
    save_checkpoint(tmp_path / "model", SGDSMNet(config), config, {"note": "random weights"})
    store = write_raw(make_raw(days=12, seed=2), str(tmp_path / "raw.zarr"))
    tiles = FillConfig(tile_days=6, tile_cells=20, batch_size=32)  # dateline tiles read both sides
    filled = fill_dataset(
        cube.open_cube(store), str(tmp_path / "model"), config=tiles, device="cpu"
    )
    filled = filled.compute(scheduler="synchronous")

    ctx = open_context(
        ValidateConfig(
            store=Location(store),
            model=Location(str(tmp_path / "model")),
            report=tmp_path / "report",
            device="cpu",
        )  # fmt: skip
    )
    assert ctx.periodic
    day = 6
    sm, flag = ctx.product.day(day)
    np.testing.assert_array_equal(flag, filled["flag"].values[day])
    np.testing.assert_allclose(sm, filled["sm"].values[day], rtol=0, atol=1e-5)
    edge = filled["flag"].values[day][:, [0, 1, 2, -3, -2, -1]] == FLAG_FILLED
    assert edge[:, :3].any() and edge[:, 3:].any()  # filled cells on both sides of the dateline

    last = flag.shape[1] - 1
    cells = [(int(np.flatnonzero(flag[:, col] == FLAG_FILLED)[0]), col) for col in (0, last)]
    values, flags = ctx.product.at_cells(cells, ctx.period)
    for k, (row, col) in enumerate(cells):
        np.testing.assert_array_equal(flags[:, k], filled["flag"].values[:, row, col])
        np.testing.assert_allclose(
            values[:, k], filled["sm"].values[:, row, col], rtol=0, atol=1e-5
        )
