"""The notebook path: anyone opens the published cube anonymously from its STAC item, and an
anonymous client cannot overwrite it.

The bucket policy is the one deploy/README.md tells operators to apply. How moto enforces it
(moto/s3/responses.py, ``_key_response``): only object-level requests of anonymous clients are
checked, so a GET, HEAD or PUT of an existing key is refused unless the policy allows it, while
new keys and bulk deletes go through whatever the policy says. The write test therefore
overwrites published objects, the damage a public-read policy must prevent. moto names the
HEAD action ``s3:HeadObject`` where AWS authorises HEAD with ``s3:GetObject``, so the test adds
moto's name to the documented policy.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pystac
import pytest
import s3fs
import xarray as xr

from sgdsm_cloud.publish.api import PublishConfig, publish
from sgdsm_cloud.publish.stac import ASSET_KEY
from sgdsm_cloud.publish.stac_io import FsspecStacIO
from sgdsm_cloud.storage import Location

from .cubes import seamless_cube, write_cube

pytestmark = pytest.mark.s3
README = Path(__file__).resolve().parents[2] / "deploy" / "README.md"
PUBLIC_BUCKET_PLACEHOLDER = "my-sgdsm-public"


def documented_policy(bucket: str) -> dict:
    """The public-read bucket policy from deploy/README.md, for ``bucket``."""
    blocks = re.findall(r"```json\n(.*?)```", README.read_text(), re.DOTALL)
    policy = next(json.loads(b) for b in blocks if '"s3:GetObject"' in b)
    return json.loads(json.dumps(policy).replace(PUBLIC_BUCKET_PLACEHOLDER, bucket))


def make_public(s3) -> None:
    import boto3

    policy = documented_policy(s3.bucket)
    for statement in policy["Statement"]:
        if "s3:GetObject" in statement["Action"]:
            statement["Action"] = [*statement["Action"], "s3:HeadObject"]  # moto's name for HEAD
    client = boto3.client(
        "s3",
        endpoint_url=s3.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.put_bucket_policy(Bucket=s3.bucket, Policy=json.dumps(policy))


def go_anonymous(monkeypatch) -> None:
    """No credentials anywhere in the environment; options of an anonymous reader."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    s3fs.S3FileSystem.clear_instance_cache()


def test_documented_policy_grants_read_only():
    actions = {a for s in documented_policy("b")["Statement"] for a in s["Action"]}
    assert actions == {"s3:GetObject", "s3:ListBucket"}
    assert all(
        s["Effect"] == "Allow" and s["Principal"] == "*"
        for s in documented_policy("b")["Statement"]
    )


def test_notebook_opens_the_cube_anonymously_from_its_stac_item(s3, tmp_path, monkeypatch):
    cube = seamless_cube(uncertainty=True)
    url = s3.url("sgdsm/seamless.zarr")
    write_cube(cube, url, s3.storage_options)
    catalogue = publish(
        PublishConfig(Location(url, s3.storage_options), Location(str(tmp_path / "stac")))
    )
    asset = next(
        iter(pystac.Collection.from_file(catalogue, stac_io=FsspecStacIO()).get_items())
    ).assets[ASSET_KEY]
    options = asset.extra_fields["xarray:storage_options"]
    assert options == {"anon": True, "endpoint_url": s3.endpoint_url}

    go_anonymous(monkeypatch)
    with pytest.raises(PermissionError):  # private until the policy is applied
        xr.open_dataset(
            asset.href, storage_options=options, **asset.extra_fields["xarray:open_kwargs"]
        )

    make_public(s3)
    s3fs.S3FileSystem.clear_instance_cache()
    opened = xr.open_dataset(
        asset.href, storage_options=options, **asset.extra_fields["xarray:open_kwargs"]
    )
    xr.testing.assert_identical(opened.load(), cube)
    assert float(
        xr.open_zarr(url, storage_options={"anon": True, "endpoint_url": s3.endpoint_url}).sm.mean()
    ) == pytest.approx(float(cube.sm.mean()))


def test_anonymous_client_cannot_overwrite_the_published_cube(s3, monkeypatch):
    cube = seamless_cube(uncertainty=True)
    url = s3.url("sgdsm/seamless.zarr")
    write_cube(cube, url, s3.storage_options)
    make_public(s3)
    go_anonymous(monkeypatch)
    anonymous = {"anon": True, "endpoint_url": s3.endpoint_url}

    vandal = cube[["sm"]].isel(time=slice(0, 1)).drop_vars(["lat", "lon", "time"]).copy(deep=True)
    vandal["sm"][:] = np.float32(9.0)
    with pytest.raises(PermissionError):
        vandal.to_zarr(url, region={"time": slice(0, 1)}, mode="r+", storage_options=anonymous)
    with pytest.raises(PermissionError):
        s3fs.S3FileSystem(**anonymous).pipe(f"{s3.bucket}/sgdsm/seamless.zarr/zarr.json", b"{}")

    s3fs.S3FileSystem.clear_instance_cache()
    xr.testing.assert_identical(xr.open_zarr(url, storage_options=anonymous).load(), cube)
