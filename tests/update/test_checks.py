"""Checks before publishing: a version that changes the structure, shrinks time, shows NaN
where the flag says observed or filled, or disagrees with the raw cube is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sgdsm_cloud import cube
from sgdsm_cloud.product import FLAG_OBSERVED, open_seamless
from sgdsm_cloud.storage import Location
from sgdsm_cloud.update.checks import UpdateRefused, check_candidate, structure_changes
from sgdsm_cloud.versioned.repository import Repository

from .conftest import Setup


def metadata(**changes) -> dict:
    base = {"shape": [30, 32, 32], "chunk_grid": {"chunk_shape": [8, 16, 16]}, "data_type": "float32",
            "dimension_names": ["time", "lat", "lon"], "attributes": {"a": 1}}  # fmt: skip
    return {"sm/zarr.json": json.dumps({**base, **changes})}


def test_only_the_time_axis_may_grow_and_attributes_change():
    assert structure_changes(metadata(), metadata(shape=[31, 32, 32], attributes={"b": 2})) == []
    assert structure_changes(metadata(), metadata(data_type="float64")) == [
        "sm changed its data_type"
    ]
    assert structure_changes(metadata(), metadata(chunk_grid={"chunk_shape": [4, 16, 16]}))
    assert structure_changes(metadata(), metadata(shape=[30, 33, 32]))
    assert structure_changes(metadata(), {}) == ["sm is gone"]


def test_a_version_that_disagrees_with_the_raw_cube_is_refused(setup: Setup):
    product = open_seamless(str(setup.product))
    raw = cube.open_cube(str(setup.raw))
    check_candidate(product, product, raw, [26, 27, 28, 29], [])  # the published one passes
    with pytest.raises(UpdateRefused, match="structure"):
        check_candidate(product, product, raw, [29], ["sm changed its data_type"])
    with pytest.raises(UpdateRefused, match="fewer than"):
        check_candidate(product, product.isel(time=slice(0, 20)), raw, [], [])
    broken = product.load()
    day = broken["flag"].values[29]
    broken["sm"].values[29][day == FLAG_OBSERVED] = np.nan
    with pytest.raises(UpdateRefused, match="NaN .*2015-03-30"):
        check_candidate(product, broken, raw, [29], [])
    lost = product.load()
    lost["flag"].values[28][lost["flag"].values[28] == FLAG_OBSERVED] = 3
    lost["sm"].values[28][lost["flag"].values[28] == 3] = np.nan
    with pytest.raises(UpdateRefused, match="observed cells, the raw cube"):
        check_candidate(product, lost, raw, [28], [])
    assert Repository(Location(str(setup.product))).numbers() == [1]
