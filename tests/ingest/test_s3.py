"""S3 sources and stores on a real endpoint (moto server over HTTP through s3fs)."""

from __future__ import annotations

import json
import os

import boto3
import numpy as np
import pytest
import s3fs
import xarray as xr
from data.badfiles import name

from sgdsm_cloud.cli import main
from sgdsm_cloud.ingest import ingest
from sgdsm_cloud.storage import Location

from .helpers import assert_same_store, config, snapshot, write_days

pytestmark = pytest.mark.s3


def upload(s3, corpus, prefix: str) -> None:
    fs = s3.filesystem()
    for path in sorted(corpus.directory.iterdir()):
        fs.put_file(str(path), f"{s3.bucket}/{prefix}/{path.name}")


def test_s3_sources_into_an_s3_store_with_an_unreadable_object(s3, tmp_path, monkeypatch, capsys):
    corpus = write_days(tmp_path / "raw", [0, 1, 2, 5])
    upload(s3, corpus, "raw/2015")
    archived = name(corpus.day(3))  # an object S3 refuses to serve (archived to GLACIER)
    boto3.client("s3", endpoint_url=s3.endpoint_url).put_object(
        Bucket=s3.bucket,
        Key=f"raw/2015/{archived}",
        Body=(corpus.directory / name(corpus.day(0))).read_bytes(),
        StorageClass="GLACIER",
    )
    # the standard variable, which the CLI reads
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.endpoint_url)
    argv = ["-q", "ingest", s3.url("raw/"), "--store", s3.url("cubes/raw.zarr"), "--variable", "x"]
    assert main([*argv, "--workers", "2", "--chunks", "4,10,20"]) == 3
    err = capsys.readouterr().err
    assert f"quarantined {s3.url('raw/2015/' + archived)}: cannot read the file" in err

    ds = xr.open_zarr(s3.url("cubes/raw.zarr"), storage_options=s3.storage_options)
    assert ds["day_status"].values.tolist() == [1, 1, 1, 2, 0, 1]
    for date, values in corpus.good.items():
        np.testing.assert_array_equal(ds["sm"].sel(time=str(date)).values, values)
    assert [q["file"] for q in ds.attrs["quarantine"]] == [s3.url(f"raw/2015/{archived}")]
    top = {key.rsplit("/", 1)[1] for key in s3.filesystem().ls(s3.url("cubes/raw.zarr"))}
    assert top == {*ds.variables, "zarr.json"}  # no side files: records live in attributes

    before = snapshot(s3.url("cubes/raw.zarr"), s3.storage_options)
    # the archived object is still refused; nothing else changes
    assert main([*argv, "--workers", "1"]) == 3
    assert_same_store(before, snapshot(s3.url("cubes/raw.zarr"), s3.storage_options))


def test_local_sources_into_s3_and_s3_sources_into_a_local_store_agree(s3, tmp_path):
    corpus = write_days(tmp_path / "raw", [0, 3])
    upload(s3, corpus, "raw")
    ingest(config([tmp_path / "raw"], Location(s3.url("a.zarr"), s3.storage_options)))
    ingest(config([Location(s3.url("raw"), s3.storage_options)], tmp_path / "b.zarr"))
    a, b = snapshot(s3.url("a.zarr"), s3.storage_options), snapshot(str(tmp_path / "b.zarr"))
    assert a["source_file"].tolist() == b["source_file"].tolist()
    np.testing.assert_array_equal(a["sm"], b["sm"])


def test_missing_credentials_fail_fast_without_a_traceback(s3, tmp_path, monkeypatch, capsys):
    write_days(tmp_path / "raw", [0])
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    s3fs.S3FileSystem.clear_instance_cache()  # forget the credentials of the fixture's instance
    options = json.dumps(s3.storage_options)
    code = main(
        [
            "-q",
            "ingest",
            str(tmp_path / "raw"),
            "--store",
            s3.url("c.zarr"),
            "--storage-options",
            options,
        ]
    )
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("sgdsm")]
    assert code == 1 and len(err) == 1
    assert err[0].startswith(f"sgdsm ingest: error: {s3.url('c.zarr')}: no AWS credentials found")


@pytest.mark.parametrize("where", ["store", "source"])
def test_a_missing_bucket_fails_fast(s3, tmp_path, capsys, where):
    write_days(tmp_path / "raw", [0])
    source, store = str(tmp_path / "raw"), s3.url("c.zarr")
    if where == "store":
        store = "s3://no-such-bucket/c.zarr"
    else:
        source = "s3://no-such-bucket/raw/"
    code = main(
        [
            "-q",
            "ingest",
            source,
            "--store",
            store,
            "--storage-options",
            json.dumps(s3.storage_options),
        ]
    )
    err = capsys.readouterr().err
    assert (
        code == 1
        and "s3://no-such-bucket" in err
        and "the bucket does not exist" in err
        and "Traceback" not in err
    )
    assert not s3.filesystem().exists(s3.url("c.zarr"))


def test_an_unreachable_endpoint_fails_fast(tmp_path, capsys, monkeypatch):
    import socket

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3fs.S3FileSystem.clear_instance_cache()

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    write_days(tmp_path / "raw", [0])
    options = {
        "endpoint_url": f"http://127.0.0.1:{port}",
        "config_kwargs": {"retries": {"max_attempts": 1}},
    }
    code = main(
        [
            "-q",
            "ingest",
            str(tmp_path / "raw"),
            "--store",
            "s3://bucket/c.zarr",
            "--storage-options",
            json.dumps(options),
        ]
    )
    err = capsys.readouterr().err
    assert (
        code == 1
        and "s3://bucket/c.zarr: cannot reach the S3 endpoint" in err
        and "check AWS_ENDPOINT_URL" in err
    )
