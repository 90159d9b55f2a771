"""Storage edge: URL parsing, secrets never shown, fail-fast checks against a real S3 endpoint (moto)."""

from __future__ import annotations

import os

import pytest

from sgdsm_cloud.errors import ConfigError, StorageError
from sgdsm_cloud.storage import (
    Location,
    check_reachable,
    default_storage_options,
    parse_storage_options,
    protocol_of,
    public_url,
    redact,
)


def test_parse_storage_options():
    assert parse_storage_options(None) == {}
    assert parse_storage_options('{"anon": true}') == {"anon": True}
    with pytest.raises(ConfigError, match="JSON object"):
        parse_storage_options("[1]")
    with pytest.raises(ConfigError, match="JSON object"):
        parse_storage_options("{nope")


def test_protocols_and_paths(tmp_path, monkeypatch):
    assert (
        protocol_of("s3://b/k") == "s3"
        and protocol_of("/tmp/x") == "file"
        and protocol_of("memory://x") == "memory"
    )
    monkeypatch.chdir(tmp_path)
    local = Location.from_cli("cube.zarr")
    assert (
        local.url == str(tmp_path / "cube.zarr")
        and local.protocol == "file"
        and local.storage_options == {}
    )
    remote = Location("s3://bucket/prefix/", {})
    assert (
        remote.path == "bucket/prefix/"
        and remote.child("a.zarr").url == "s3://bucket/prefix/a.zarr"
    )


def test_endpoint_from_the_environment_and_explicit_options_win(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://env:9000")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    assert default_storage_options("s3://b") == {"endpoint_url": "http://env:9000"}
    assert default_storage_options("/local") == {}
    location = Location.from_cli("s3://b/x/", '{"endpoint_url": "http://cli:1"}')
    assert location.url == "s3://b/x" and location.storage_options == {
        "endpoint_url": "http://cli:1"
    }


def test_secrets_never_appear_in_str_or_messages(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value")
    location = Location("s3://b/x", {"key": "AKIAEXAMPLE", "secret": "opt-secret-value"})
    assert "secret" not in str(location)
    text = redact(
        "key AKIAEXAMPLE secret opt-secret-value env env-secret-value", location.storage_options
    )
    assert (
        "AKIAEXAMPLE" not in text
        and "opt-secret-value" not in text
        and "env-secret-value" not in text
    )


@pytest.mark.s3
def test_reachable_bucket_passes_and_missing_things_fail_fast(s3):
    check_reachable(Location(s3.url("anything"), s3.storage_options))
    with pytest.raises(StorageError, match="the bucket does not exist"):
        check_reachable(Location("s3://no-such-bucket/x", s3.storage_options))
    s3.filesystem().pipe(s3.url("present.txt"), b"x")
    with pytest.raises(StorageError, match="does not exist; check the URL"):
        check_reachable(Location(s3.url("absent.txt"), s3.storage_options), must_exist=True)


@pytest.mark.s3
def test_missing_credentials_fail_fast_with_the_fix(s3, monkeypatch):
    import s3fs

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    s3fs.S3FileSystem.clear_instance_cache()
    with pytest.raises(StorageError, match="no AWS credentials found.*AWS_ACCESS_KEY_ID"):
        check_reachable(Location(s3.url("x"), s3.storage_options))


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("s3://bucket/raw.zarr", "s3://bucket/raw.zarr"),
        ("s3://AKIA123:s3cr3t@bucket/raw.zarr", "s3://bucket/raw.zarr"),
        ("https://host/raw.zarr?X-Amz-Signature=abc", "https://host/raw.zarr"),
        ("https://AKIA123:s3cr3t@host:9000/bucket/c.zarr?X-Amz-Signature=1#x",
         "https://host:9000/bucket/c.zarr"),
        ("/data/raw.zarr", "/data/raw.zarr"),
    ],
)  # fmt: skip
def test_public_url_drops_user_info_query_and_fragment(url, public):
    assert public_url(url) == public
