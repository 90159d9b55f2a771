"""The product schema: one place for names, attributes, flags, the clamp and global metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sgdsm_cloud
from sgdsm_cloud import schema
from sgdsm_cloud.grid import global_lat, global_lon

PACKAGE = Path(sgdsm_cloud.__file__).parent


def test_the_soil_moisture_standard_name_is_written_in_one_module_only():
    holders = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if schema.SM_STANDARD_NAME in path.read_text(encoding="utf-8")
    )
    assert holders == ["schema.py"]


def test_every_store_and_file_declares_the_same_conventions():
    declaring = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "ACDD-1." in path.read_text(encoding="utf-8")
    }
    assert declaring == {"schema.py"}
    assert schema.discovery_attrs("L4")["Conventions"] == "CF-1.10, ACDD-1.3"


def test_filled_values_are_clamped_to_the_source_products_range():
    assert schema.physical_range({"source_product": "LPRM"}) == (0.0, 0.99)
    assert schema.physical_range({"source_product": "jaxa"}) == (0.0, 1.0)
    assert schema.physical_range({}) == schema.DEFAULT_RANGE
    clamped = schema.clamp(np.array([-0.2, 0.5, 1.3]), (0.0, 0.99))
    np.testing.assert_array_equal(clamped, [0.0, 0.5, 0.99])
    attrs = schema.product_sm_attrs({"source_product": "lprm"})
    assert (attrs["valid_min"], attrs["valid_max"]) == (0.0, 0.99)
    assert attrs["standard_name"] == schema.SM_STANDARD_NAME


def test_the_extent_is_the_extreme_cell_centres_and_the_bounds_their_edges():
    lat, lon = global_lat(0.25), global_lon(0.25)
    attrs = schema.geospatial_attrs(lat, lon)
    assert (attrs["geospatial_lat_min"], attrs["geospatial_lat_max"]) == (-89.875, 89.875)
    assert (attrs["geospatial_lon_min"], attrs["geospatial_lon_max"]) == (-179.875, 179.875)
    assert attrs["geospatial_lat_resolution"] == "0.25 degree"
    assert attrs["geospatial_bounds"].startswith("POLYGON ((-89.875 -179.875, -89.875 179.875")
    bounds = schema.bounds_variables(lat, lon)
    lat_edges = bounds[schema.LAT_BOUNDS][1]
    assert lat_edges.shape == (720, 2) and lat_edges.min() == -90.0 and lat_edges.max() == 90.0
    # north-up: each pair runs north to south, as the centres do, and neighbours share an edge
    np.testing.assert_array_equal(lat_edges[0], [90.0, 89.75])
    np.testing.assert_array_equal(lat_edges[:-1, 1], lat_edges[1:, 0])
    assert schema.coordinate_attrs("lat")["bounds"] == schema.LAT_BOUNDS


def test_a_one_cell_cut_takes_its_resolution_from_the_whole_grid():
    attrs = schema.geospatial_attrs(np.array([10.125]), np.array([20.125]), (0.125, 0.125))
    assert attrs["geospatial_lat_min"] == attrs["geospatial_lat_max"] == 10.125
    assert attrs["geospatial_lon_resolution"] == "0.25 degree"


def test_attribution_defaults_say_they_are_unset_and_how_to_set_them():
    defaults = schema.Attribution().attrs()
    assert set(defaults) == set(schema.ATTRIBUTION_KEYS)
    unset = [key for key, value in defaults.items() if schema.is_unset(value)]
    assert "license" in unset and "creator_name" in unset and "project" not in unset
    assert "--creator-name" in defaults["creator_name"]
    assert schema.is_unset("") and schema.is_unset(None) and not schema.is_unset("CC-BY-4.0")


def test_an_update_keeps_the_attribution_its_product_carries():
    attrs = {"license": "CC-BY-4.0", "creator_name": "Soil Team", "title": "ignored"}
    kept = schema.Attribution.from_attrs(attrs)
    assert kept.license == "CC-BY-4.0" and kept.creator_name == "Soil Team"
    assert schema.is_unset(kept.publisher_name)


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        (
            {"source_product": "LPRM", "source_variable": "soil_moisture_c1", "source_pass": "D"},
            "sgdsm-amsr2-lprm-soil_moisture_c1-d",
        ),
        ({}, "sgdsm-amsr2"),
    ],
)
def test_the_product_id_names_its_source(attrs, expected):
    assert schema.product_id(attrs) == expected


def test_flags_have_one_meaning_per_value():
    assert len(schema.FLAG_MEANINGS.split()) == len(schema.FLAG_VALUES)
    assert schema.FLAG_ATTRS["flag_values"].dtype == np.uint8
    assert len(schema.PROVISIONAL_ATTRS["flag_meanings"].split()) == 2
