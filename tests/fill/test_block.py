"""The per-tile array core: composition rules, and when the network is (not) needed."""

from __future__ import annotations

import numpy as np
import pytest

from sgdsm_cloud.fill.block import fill_block
from sgdsm_cloud.fill.geometry import Domain, Halo, TileShape, plan_blocks
from sgdsm_cloud.model.runner import Predictor
from sgdsm_cloud.product import (
    FLAG_FILLED,
    FLAG_NOT_FILLED,
    FLAG_NOT_LAND,
    FLAG_OBSERVED,
    compose,
    fill_land_mask,
)

NAN = np.nan


def test_compose_keeps_observations_fills_reached_gaps_and_flags_the_rest():
    observed = np.array([[[0.2, NAN, NAN, 0.4, NAN]]], dtype="float32")
    fill_land = np.array([[True, True, True, False, False]])
    pred = np.array([[[9.0, 0.3, 0.7, 9.0, 9.0]]], dtype="float32")
    reached = np.array([[[True, True, False, True, True]]])
    sm, flag = compose(observed, fill_land, pred, reached)
    np.testing.assert_array_equal(
        flag, [[[FLAG_OBSERVED, FLAG_FILLED, FLAG_NOT_FILLED, FLAG_NOT_LAND, FLAG_NOT_LAND]]]
    )
    np.testing.assert_array_equal(sm, np.array([[[0.2, 0.3, NAN, NAN, NAN]]], dtype="float32"))
    assert sm.dtype == np.float32 and flag.dtype == np.uint8


def test_filled_values_are_clamped_to_the_products_range_and_observations_never():
    observed = np.array([[[1.2, NAN, NAN, NAN]]], dtype="float32")  # an observation is kept as is
    pred = np.array([[[0.0, -0.05, 0.995, 0.5]]], dtype="float32")
    reached = np.ones((1, 1, 4), dtype=bool)
    sm, _ = compose(observed, np.ones((1, 4), dtype=bool), pred, reached, (0.0, 0.99))
    np.testing.assert_array_equal(sm, np.array([[[1.2, 0.0, 0.99, 0.5]]], dtype="float32"))


@pytest.mark.parametrize(
    ("product", "expected"), [("lprm", (0.0, 0.99)), ("jaxa", (0.0, 1.0)), ("other", (0.0, 1.0))]
)
def test_the_physical_range_follows_the_source_product(product, expected):
    from sgdsm_cloud import schema
    from sgdsm_cloud.schema import product_sm_attrs as sm_attrs

    assert schema.physical_range({"source_product": product}) == expected
    attrs = sm_attrs({"source_product": product})
    assert (attrs["valid_min"], attrs["valid_max"]) == expected


def test_excluded_regions_are_not_filled_even_on_land():
    lat = np.array([70.0, 40.0, -70.0])
    lon = np.array([-40.0, 20.0])  # Greenland's longitude, then Europe's
    fill = fill_land_mask(np.ones((3, 2), dtype="uint8"), lat, lon)
    np.testing.assert_array_equal(fill, [[False, True], [True, True], [False, False]])


def _single_block(days: int, nlat: int, nlon: int):
    domain = Domain(
        record_days=days, first_day=0, days=days, nlat=nlat, nlon=nlon, periodic_lon=False
    )
    return plan_blocks(domain, TileShape(days, nlat, nlon), Halo(4, 3))[0]


def test_gap_free_and_ocean_tiles_never_call_the_network():
    spec = _single_block(5, 4, 6)
    block = np.full((5, 4, 6), 0.25, dtype="float32")
    land = np.zeros((4, 6), dtype=bool)
    land[:, :3] = True
    block[:, :, 3:] = NAN  # gaps only over the ocean
    (sm, flag, _), counts = fill_block(block, land, land, spec, predict=None)
    assert counts["model_days"] == 0
    assert (flag[:, :, :3] == FLAG_OBSERVED).all() and (flag[:, :, 3:] == FLAG_NOT_LAND).all()
    (sm, flag, _), counts = fill_block(block, land, np.zeros_like(land), spec, predict=None)
    assert counts["model_days"] == 0 and (flag == FLAG_NOT_LAND).all() and np.isnan(sm).all()


def test_the_network_runs_only_on_days_with_land_gaps(checkpoint):
    spec = _single_block(6, 8, 8)
    block = np.full((6, 8, 8), 0.3, dtype="float32")
    block[2, 3, 3] = NAN
    block[4, 5, 5] = NAN
    land = np.ones((8, 8), dtype=bool)
    with pytest.raises(ValueError, match="no model"):
        fill_block(block, land, land, spec, predict=None)
    (sm, flag, _), counts = fill_block(block, land, land, spec, Predictor(checkpoint.model))
    assert counts.pop("network_seconds") > 0
    assert counts == {
        "model_days": 2,
        "model_cells": 2 * 64,  # both gaps in one pass; their windows meet: the whole block
        "observed": 6 * 64 - 2,
        "filled": 2,
        "not_filled": 0,
        "frozen": 0,
    }
    assert flag[2, 3, 3] == FLAG_FILLED and np.isfinite(sm[2, 3, 3])
    np.testing.assert_array_equal(sm[flag == FLAG_OBSERVED], np.float32(0.3))
