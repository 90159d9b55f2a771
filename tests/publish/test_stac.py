"""The STAC description of a seamless cube: extents, datacube, xarray asset, provenance."""

from __future__ import annotations

import pystac
import pytest
from pystac.validation import validate_dict

from sgdsm_cloud.errors import ConfigError, StoreContractError
from sgdsm_cloud.publish.stac import ASSET_KEY, OPEN_KWARGS, ZARR_MEDIA_TYPE, describe

from .cubes import MODEL_SHA256

HREF = "s3://open-bucket/sgdsm/seamless.zarr"
READER = {"anon": True}


def build(cube, **kwargs):
    collection = describe(cube, HREF, READER, collection_id="sgdsm-test", **kwargs)
    return collection, next(iter(collection.get_items()))


def test_extents_come_from_the_cell_edges_and_the_time_axis(cube):
    collection, item = build(cube)
    assert item.bbox == pytest.approx([5.0, 48.0, 8.0, 50.0])
    assert collection.extent.spatial.bboxes == [pytest.approx([5.0, 48.0, 8.0, 50.0])]
    start, end = collection.extent.temporal.intervals[0]
    assert (start.isoformat(), end.isoformat()) == (
        "2015-04-01T00:00:00+00:00",
        "2015-04-06T00:00:00+00:00",
    )
    assert item.common_metadata.start_datetime == start and item.common_metadata.end_datetime == end
    assert item.datetime is None
    assert item.id == "sgdsm-test-20150401-20150406"


def test_datacube_describes_dimensions_and_variables(cube):
    _, item = build(cube)
    dims = item.properties["cube:dimensions"]
    assert dims["time"] == {
        "type": "temporal",
        "extent": ["2015-04-01T00:00:00Z", "2015-04-06T00:00:00Z"],
        "step": "P1D",
        "description": "day (UTC)",
    }
    assert dims["lat"]["axis"] == "y" and dims["lat"]["step"] == pytest.approx(-0.25)
    assert dims["lat"]["extent"] == pytest.approx([48.125, 49.875])
    assert dims["lon"]["axis"] == "x" and dims["lon"]["step"] == pytest.approx(0.25)
    assert dims["lon"]["reference_system"] == 4326
    variables = item.properties["cube:variables"]
    assert variables["sm"]["type"] == "data" and variables["sm"]["unit"] == "m3 m-3"
    assert variables["sm"]["dimensions"] == ["time", "lat", "lon"] and variables["sm"][
        "extent"
    ] == [0.0, 1.0]
    assert variables["flag"]["type"] == "auxiliary" and variables["flag"]["values"] == [
        0,
        1,
        2,
        3,
        4,
    ]
    assert "2 filled" in variables["flag"]["description"]
    assert "unit" not in variables["flag"]


def test_datacube_lists_the_standard_error_with_where_its_values_come_from(cube):
    cube = cube.copy()
    cube["sm_uncertainty"].attrs["comment"] = "Filled values (flag 2): the standard error ..."
    cube.attrs["model_uncertainty"] = '{"scale": 0.84, "format": "log-quadratic-v1"}'
    _, item = build(cube)
    variable = item.properties["cube:variables"]["sm_uncertainty"]
    assert variable["type"] == "auxiliary" and variable["unit"] == "m3 m-3"
    assert variable["dimensions"] == ["time", "lat", "lon"]
    assert variable["description"].startswith("standard error of the surface soil moisture. ")
    assert "Filled values (flag 2)" in variable["description"]
    assert item.properties["sgdsm:model_uncertainty"]["scale"] == 0.84


def test_zarr_asset_tells_xarray_how_to_open_the_cube(cube):
    collection, item = build(cube)
    for owner in (collection, item):
        asset = owner.assets[ASSET_KEY]
        assert asset.href == HREF
        assert asset.media_type == ZARR_MEDIA_TYPE == "application/vnd+zarr; version=3"
        assert asset.roles == ["data", "zarr"]
        assert (
            asset.extra_fields["xarray:open_kwargs"]
            == OPEN_KWARGS
            == {"engine": "zarr", "consolidated": True}
        )
        assert asset.extra_fields["xarray:storage_options"] == {"anon": True}
        assert any("xarray-assets" in uri for uri in owner.stac_extensions)
        assert any("datacube" in uri for uri in owner.stac_extensions)


def test_provenance_license_providers_and_paper(cube):
    collection, item = build(cube)
    assert item.properties["sgdsm:model_sha256"] == MODEL_SHA256
    assert item.properties["sgdsm:model_config"]["layers"] == 11
    assert item.properties["processing:software"] == {"sgdsm_cloud": "0.1.0"}
    assert item.properties["processing:lineage"].endswith("sgdsm fill")
    assert any("processing" in uri for uri in item.stac_extensions)
    assert any("scientific" in uri for uri in collection.stac_extensions)
    assert collection.license == "CC-BY-4.0"
    assert [(p.name, p.roles) for p in collection.providers] == [
        ("Example Soil Moisture Group", ["producer", "processor"]),
        ("Example Open Data", ["host"]),
    ]
    assert collection.extra_fields["sci:publications"][0]["doi"] == "10.5194/essd-13-1385-2021"
    assert collection.keywords == ["soil moisture", "AMSR2", "gap filling"]


def test_core_stac_schemas_validate_offline(cube):
    collection, item = build(cube)
    collection.normalize_hrefs("/catalogue")
    for obj in (collection, item):  # pystac ships the core schemas; extension schemas need the web
        assert validate_dict(obj.to_dict(), extensions=[])
    broken = item.to_dict()
    del broken["geometry"]
    with pytest.raises(pystac.STACValidationError):
        validate_dict(broken, extensions=[])


def test_free_text_license_becomes_other_with_a_link(cube):
    cube.attrs["license"] = (
        "Creative Commons Attribution 4.0, https://creativecommons.org/licenses/by/4.0/."
    )
    collection, _ = build(cube)
    assert collection.license == "other"
    assert (
        collection.get_single_link("license").href == "https://creativecommons.org/licenses/by/4.0/"
    )


def test_license_must_be_known(cube):
    del cube.attrs["license"]
    with pytest.raises(ConfigError, match="--license"):
        build(cube)
    assert build(cube, license_id="CC0-1.0")[0].license == "CC0-1.0"
    with pytest.raises(ConfigError, match="SPDX"):
        build(cube, license_id="free for all")


def test_a_dataset_without_sm_is_refused(cube):
    with pytest.raises(StoreContractError, match="'sm'"):
        build(cube.drop_vars("sm"))
