"""Publishing writes a self-contained catalogue, locally or on S3, and never a credential."""

from __future__ import annotations

import json

import pystac
import pytest
import xarray as xr

from sgdsm_cloud.errors import ConfigError, StorageError
from sgdsm_cloud.publish.api import PublishConfig, publish, reader_storage_options
from sgdsm_cloud.publish.stac import ASSET_KEY
from sgdsm_cloud.publish.stac_io import FsspecStacIO
from sgdsm_cloud.storage import Location

from .cubes import seamless_cube, write_cube

CANARY_KEY = "AKIACANARY0000000001"
CANARY_SECRET = "canary-secret-Zq8w3Xv1Rk6Lp0"
CANARY_TOKEN = "canary-token-Fh2Jd9Ks4Ma7"


def test_local_catalogue_round_trips_and_opens_the_cube(tmp_path, cube_store, cube):
    url = publish(PublishConfig(Location(cube_store), Location(str(tmp_path / "stac"))))
    assert url == str(tmp_path / "stac" / "collection.json")
    collection = pystac.Collection.from_file(url)
    items = list(collection.get_items())
    assert len(items) == 1 and items[0].collection_id == collection.id
    on_disk = json.loads((tmp_path / "stac" / "collection.json").read_text())
    assert [link["href"] for link in on_disk["links"] if link["rel"] == "item"] == [
        f"./{items[0].id}/{items[0].id}.json"
    ]
    assert not [
        link for link in on_disk["links"] if link["rel"] == "self"
    ]  # self-contained: movable
    asset = items[0].assets[ASSET_KEY]
    opened = xr.open_dataset(asset.href, **asset.extra_fields["xarray:open_kwargs"])
    xr.testing.assert_identical(opened.load(), cube)


def test_s3_catalogue_keeps_every_credential_out(s3, monkeypatch):
    monkeypatch.setenv("AWS_SESSION_TOKEN", CANARY_TOKEN)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY_SECRET)
    options = {
        "endpoint_url": s3.endpoint_url,
        "key": CANARY_KEY,
        "secret": CANARY_SECRET,
        "token": CANARY_TOKEN,
    }
    write_cube(
        seamless_cube(uncertainty=True), s3.url("products/seamless.zarr"), s3.storage_options
    )
    config = PublishConfig(
        Location(s3.url("products/seamless.zarr"), options), Location(s3.url("stac"), options)
    )

    url = publish(config)

    assert url == s3.url("stac/collection.json")
    fs = s3.filesystem()
    written = fs.find(f"{s3.bucket}/stac")
    assert len(written) == 2  # collection.json and the item
    text = "".join(fs.cat(path).decode() for path in written)
    for secret in (CANARY_KEY, CANARY_SECRET, CANARY_TOKEN):
        assert secret not in text
    collection = pystac.Collection.from_file(url, stac_io=FsspecStacIO(s3.storage_options))
    asset = next(iter(collection.get_items())).assets[ASSET_KEY]
    assert asset.extra_fields["xarray:storage_options"] == {
        "anon": True,
        "endpoint_url": s3.endpoint_url,
    }


def test_a_secret_in_the_cube_attributes_stops_the_publication(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY_SECRET)
    cube = seamless_cube(uncertainty=True)
    cube.attrs["history"] += f"\nsgdsm fill --store s3://raw?X-Amz-Credential={CANARY_SECRET}"
    write_cube(cube, str(tmp_path / "seamless.zarr"))
    with pytest.raises(StorageError, match="credential"):
        publish(
            PublishConfig(
                Location(str(tmp_path / "seamless.zarr")), Location(str(tmp_path / "stac"))
            )
        )
    assert not (tmp_path / "stac").exists()


def test_readers_get_anon_and_the_endpoint_only():
    options = {
        "key": CANARY_KEY,
        "secret": CANARY_SECRET,
        "endpoint_url": f"http://{CANARY_KEY}:x@minio:9000",
        "anon": False,
    }
    assert reader_storage_options("s3://b/c.zarr", options) == {
        "anon": True,
        "endpoint_url": "http://minio:9000",
    }
    assert reader_storage_options("https://data.example.org/c.zarr", options) == {}


def test_href_public_with_credentials_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="--href-public"):
        PublishConfig(Location("x"), Location(str(tmp_path)), href_public="https://u:p@host/c.zarr")


def test_href_public_replaces_the_read_url(tmp_path, cube_store):
    url = publish(
        PublishConfig(
            Location(cube_store), Location(str(tmp_path / "stac")), href_public="s3://open/c.zarr"
        )
    )
    item = next(iter(pystac.Collection.from_file(url).get_items()))
    assert item.assets[ASSET_KEY].href == "s3://open/c.zarr"
    assert json.loads(
        json.dumps(item.assets[ASSET_KEY].extra_fields["xarray:storage_options"])
    ) == {"anon": True}
