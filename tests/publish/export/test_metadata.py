"""The files' CF/ACDD attributes: what a written file declares, and the builders behind it (the
global and per-day attributes, the variables' attributes per band, the whitelist of the
cube's own attributes, the coordinates' bounds) and the refusal of any credential."""

from __future__ import annotations

import json

import netCDF4
import numpy as np
import pandas as pd
import pytest

from sgdsm_cloud.errors import StorageError
from sgdsm_cloud.publish.export import FILL_VALUE, export_netcdf
from sgdsm_cloud.publish.export.config import Names
from sgdsm_cloud.publish.export.metadata import (
    BOUNDS,
    attr_value,
    band_of,
    day_attrs,
    global_attrs,
    refuse_secrets,
    variable_attrs,
)
from sgdsm_cloud.schema import half_cells
from sgdsm_cloud.storage import Location
from tests.publish.cubes import seamless_cube


def test_cf_and_acdd_attributes(tmp_path, store):
    ds, url = store
    (path, *_) = export_netcdf(url, str(tmp_path / "daily"), end="2015-04-01")
    with netCDF4.Dataset(path) as nc:
        glob = {k: nc.getncattr(k) for k in nc.ncattrs()}
        assert glob["Conventions"] == "CF-1.10, ACDD-1.3"
        for key in ("title", "summary", "license", "creator_name", "references", "model_sha256"):
            assert glob[key] == ds.attrs[key]
        assert glob["history"].startswith(ds.attrs["history"])
        assert "sgdsm export" in glob["history"].splitlines()[-1]
        assert glob["date"] == "2015-04-01"
        assert glob["time_coverage_start"] == "2015-04-01T00:00:00Z"
        assert glob["time_coverage_end"] == "2015-04-01T00:00:00Z"  # the file's time value
        assert (glob["geospatial_lat_min"], glob["geospatial_lat_max"]) == (48.125, 49.875)
        np.testing.assert_array_equal(nc["Latitude_bnds"][0], [50.0, 49.75])  # north-up edges
        assert nc.data_model == "NETCDF4"
        assert nc.dimensions["Latitude"].size == ds.lat.size
        lat, lon, time = nc["Latitude"], nc["Longitude"], nc["time"]
        assert (lat.units, lat.standard_name) == ("degrees_north", "latitude")
        assert (lon.units, lon.standard_name) == ("degrees_east", "longitude")
        assert time.standard_name == "time" and time.units.startswith("days since 1970-01-01")
        assert time.calendar == "standard"
        for name in ("original_sm_c1", "reconstructed_sm_c1"):
            var = nc[name]
            assert var.dtype == np.int16 and var._FillValue == FILL_VALUE
            assert var.units == "percent"
            assert var.standard_name == "volume_fraction_of_condensed_water_in_soil"
            assert (var.scale_factor, var.add_offset) == (1.0, 0.0)
            assert var.coordinates == "time Latitude Longitude"
            assert var.dimensions == ("Latitude", "Longitude")
        unc = nc["reconstructed_sm_c1_uncertainty"]
        assert unc.scale_factor == pytest.approx(0.01) and unc.units == "percent"
        assert unc.standard_name.endswith(" standard_error")
        flag = nc["flag"]
        assert flag.standard_name == "status_flag"
        assert list(flag.flag_values) == [0, 1, 2, 3, 4]
        assert flag.flag_meanings == "not_land_or_excluded observed filled not_filled frozen"
        assert "_FillValue" not in flag.ncattrs()


def grid(ds):
    lat, lon = ds["lat"].values, ds["lon"].values
    return lat, lon, half_cells(lat, lon)


def test_global_attributes_carry_only_whitelisted_cube_attributes():
    ds = seamless_cube(days=2)
    ds.attrs.update(
        storage_options=json.dumps({"endpoint_url": "http://minio.internal:9000"}),
        secret_note="not for the files",
        source_variable="soil_moisture_x",
        contributor_role=["principalInvestigator", "processor"],  # not NetCDF text: JSON
    )
    lat, lon, half = grid(ds)
    source = Location("s3://user:pass@bucket/seamless.zarr?X-Amz-Signature=abc#frag")
    attrs = global_attrs(ds, source, lat, lon, half)

    assert "storage_options" not in attrs and "secret_note" not in attrs
    assert "minio.internal" not in json.dumps(attrs, default=str)
    for key in ("summary", "license", "creator_name", "model_sha256", "model_config"):
        assert attrs[key] == ds.attrs[key]
    assert attrs["source_variable"] == "soil_moisture_x"
    assert json.loads(attrs["contributor_role"]) == ["principalInvestigator", "processor"]
    assert attrs["Conventions"] == "CF-1.10, ACDD-1.3" and attrs["processing_level"] == "L4"
    assert attrs["source_store"] == "s3://bucket/seamless.zarr"  # no user, query or fragment
    assert attrs["date_created"] == ds.attrs["date_created"]  # the cube's, not the export's
    history = attrs["history"].splitlines()
    assert history[:-1] == ds.attrs["history"].splitlines()
    assert "sgdsm export" in history[-1] and history[-1].endswith("s3://bucket/seamless.zarr")
    assert (attrs["geospatial_lat_min"], attrs["geospatial_lat_max"]) == (48.125, 49.875)
    assert (attrs["geospatial_lon_min"], attrs["geospatial_lon_max"]) == (5.125, 7.875)
    assert attrs["geospatial_lat_resolution"] == "0.25 degree"


def test_a_dataset_source_is_named_without_a_store_and_a_cut_keeps_the_grid_resolution():
    ds = seamless_cube(days=2)
    del ds.attrs["history"], ds.attrs["date_created"]
    lat, lon, half = grid(ds)
    attrs = global_attrs(ds, ds, lat[:1], lon[:1], half)  # a single cell
    assert "source_store" not in attrs
    assert attrs["history"].endswith("daily NetCDF of a seamless dataset")
    assert "\n" not in attrs["history"]
    assert attrs["date_created"] == attrs["date_issued"]  # no date of the cube: the export's
    assert attrs["geospatial_lat_resolution"] == attrs["geospatial_lon_resolution"] == "0.25 degree"
    assert attrs["geospatial_lat_min"] == attrs["geospatial_lat_max"] == lat[0]


def test_each_file_declares_its_own_day():
    day = day_attrs({"title": "t", "date": "old"}, pd.Timestamp("2015-04-07"))
    assert day == {
        "title": "t",
        "date": "2015-04-07",
        "time_coverage_start": "2015-04-07T00:00:00Z",
        "time_coverage_end": "2015-04-07T00:00:00Z",
        "time_coverage_duration": "P1D",
        "time_coverage_resolution": "P1D",
    }


def test_variable_attributes_name_the_band_the_bounds_and_the_packing():
    ds = seamless_cube(days=2)
    ds["sm"].attrs["valid_max"] = 0.6
    ds["sm_uncertainty"].attrs["comment"] = "from the ensemble spread"
    names = Names(band="c2", uncertainty=True)
    attrs = variable_attrs(ds, names)

    assert set(attrs) == {"Latitude", "Longitude", "time", *BOUNDS.values(), *names.all()}
    assert attrs["Latitude"]["bounds"] == "Latitude_bnds"
    assert attrs["Longitude"]["bounds"] == "Longitude_bnds"
    assert attrs["Latitude_bnds"] == attrs["Longitude_bnds"] == {}  # CF 7.1: inherited
    assert attrs["time"]["units"] == "days since 1970-01-01 00:00:00"
    original, reconstructed = attrs["original_sm_c2"], attrs["reconstructed_sm_c2"]
    assert "SM_C2 from 7.3 GHz" in original["long_name"]
    assert original["valid_max"] == reconstructed["valid_max"] == 60  # floor(100 * 0.6)
    assert original["_FillValue"] == FILL_VALUE and original["_FillValue"].dtype == np.int16
    assert original["coverage_content_type"] == "physicalMeasurement"
    assert reconstructed["coverage_content_type"] == "modelResult"
    assert reconstructed["ancillary_variables"] == "flag"
    assert attrs["flag"]["flag_values"].dtype == np.uint8
    assert "_FillValue" not in attrs["flag"]
    unc = attrs["reconstructed_sm_c2_uncertainty"]
    assert unc["scale_factor"] == np.float32(0.01) and unc["units"] == "percent"
    assert unc["long_name"] == ds["sm_uncertainty"].attrs["long_name"]
    assert unc["comment"] == "from the ensemble spread"

    other = variable_attrs(ds, Names(band="", uncertainty=False))
    assert "reconstructed_sm_uncertainty" not in other
    assert "surface soil moisture" in other["reconstructed_sm"]["long_name"]
    assert "GHz" not in other["reconstructed_sm"]["long_name"]


@pytest.mark.parametrize(
    ("attrs", "band"),
    [
        ({"source_variable": "soil_moisture_c1"}, "c1"),
        ({"source_variable": "soil_moisture_x"}, "x"),
        ({"source_variable": "soil_moisture_c2"}, "c2"),
        ({"source_variable": "sm"}, ""),  # another product: no band suffix
        ({"source_variable": "soil_moisture_c1_error"}, ""),
        ({}, "c1"),  # a cube that does not say: the dataset's band
    ],
)
def test_the_band_comes_from_the_cube_source_variable(attrs, band):
    assert band_of(attrs) == band


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("text", "text"),
        (3, 3),
        (2.5, 2.5),
        (np.float32(1.5), np.float32(1.5)),
        (True, "true"),
        ({"layers": 11}, '{"layers": 11}'),
        ([1, "a"], '[1, "a"]'),
    ],
)
def test_attribute_values_are_text_numbers_or_json(value, stored):
    assert attr_value(value) == stored


def test_numeric_arrays_stay_arrays_and_others_become_json():
    numbers = np.array([1, 2, 3], dtype="int16")
    assert attr_value(numbers) is numbers
    text = attr_value(np.array(["a", "b"]))  # not numeric: text NetCDF can hold
    assert isinstance(text, str) and "a" in text and "b" in text


def test_attributes_holding_a_credential_of_either_location_are_refused():
    out = Location("s3://bucket/daily", {"secret": "out-secret-value-1"})
    source = Location("s3://bucket/seamless.zarr", {"token": "source-token-value-2"})
    refuse_secrets({"attrs": {"title": "soil moisture"}}, source, out)  # nothing to hide
    with pytest.raises(StorageError, match="refusing to export to s3://bucket/daily"):
        refuse_secrets({"attrs": {"summary": "key out-secret-value-1"}}, source, out)
    with pytest.raises(StorageError, match="credential"):
        refuse_secrets({"vars": {"sm": {"comment": "source-token-value-2"}}}, source, out)
    ds = seamless_cube(days=1)  # a dataset source has no options of its own
    refuse_secrets({"attrs": {"summary": "source-token-value-2"}}, ds, out)
