"""Shared fixtures: real sample data, and a real S3 endpoint (moto server on loopback)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
REAL_LPRM = DATA / "lprm"
REAL_ISMN = DATA / "ismn"
TEST_BUCKET = "sgdsm-test"


@pytest.fixture(scope="session")
def real_lprm_dir() -> Path:
    """Fifteen real LPRM AMSR2 descending days, April 2015 (see tests/data/README.md)."""
    return REAL_LPRM


@dataclass(frozen=True)
class S3Endpoint:
    """A moto S3 server reached over HTTP through s3fs."""

    endpoint_url: str
    bucket: str

    @property
    def storage_options(self) -> dict:
        return {"endpoint_url": self.endpoint_url}

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def filesystem(self):
        import s3fs

        return s3fs.S3FileSystem(**self.storage_options)


@pytest.fixture(scope="session")
def moto_server():
    """One ThreadedMotoServer on a free loopback port for the whole session."""
    from moto.server import ThreadedMotoServer

    saved = {
        k: os.environ.get(k)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_PROFILE")
    }
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def s3(moto_server) -> S3Endpoint:
    """A fresh, empty bucket on the moto server (state reset before each test)."""
    import requests
    import s3fs

    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    s3fs.S3FileSystem.clear_instance_cache()
    endpoint = S3Endpoint(moto_server, TEST_BUCKET)
    endpoint.filesystem().mkdir(TEST_BUCKET)
    return endpoint


@pytest.fixture(scope="session")
def cluster(moto_server):
    """Two single-threaded worker processes, shared by every test that needs a real cluster
    (started after the moto fixture set the AWS credentials the workers inherit)."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster


@pytest.fixture
def client(cluster):
    """A client whose workers forget cached S3 filesystems (the moto server is reset per test)."""
    import s3fs
    from distributed import Client

    with Client(cluster) as client:
        client.run(s3fs.S3FileSystem.clear_instance_cache)
        yield client
