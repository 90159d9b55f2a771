"""An update killed (SIGKILL) in each phase leaves the published product as it was, and the
same command then ends where an uninterrupted update would have.

The update runs as a real ``sgdsm`` process on S3 (moto) behind the fault proxy, which parks
one request of the phase: the listing of the sources, a write into the raw cube (ingest), a
pack (the refill), or ``latest.json`` (the commit, after the version file was created).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from products import variable_digests

from sgdsm_cloud.cli import main
from sgdsm_cloud.product import open_seamless
from sgdsm_cloud.storage import Location
from sgdsm_cloud.testing.faults import FaultProxy
from sgdsm_cloud.versioned.repository import Repository

from .conftest import TILING, Setup

pytestmark = pytest.mark.s3
PHASES = {
    "listing": ("prefix=feed", "GET"),
    "ingest": ("raw.zarr/sm/c/", "PUT"),
    "refill": ("/data/update-", "PUT"),
    "commit": ("product/latest.json", "PUT"),
}


@pytest.fixture
def proxy(s3):
    import s3fs

    with FaultProxy(s3.endpoint_url) as running:
        yield running
    s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture(scope="module")
def uninterrupted(update_base, tmp_path_factory) -> dict[str, str]:
    """The decoded product after one uninterrupted update of one new day (local)."""
    import shutil

    setup = Setup(tmp_path_factory.mktemp("uninterrupted") / "ws", update_base.archive)
    shutil.copytree(update_base.root, setup.root)
    setup.add_days(1)
    setup.update()
    return digests(str(setup.product))


def digests(url: str, options: dict | None = None) -> dict[str, str]:
    ds = open_seamless(url, options)
    return {k: v for k, v in variable_digests(ds).items()}


def on_s3(s3, setup: Setup) -> dict[str, str]:
    """The setup's raw cube and feed uploaded, the product filled on S3, one new day fed."""
    fs = s3.filesystem()
    fs.put(str(setup.raw), f"{s3.bucket}/raw.zarr", recursive=True)
    fs.put(str(setup.feed), f"{s3.bucket}/feed", recursive=True)
    options = json.dumps(s3.storage_options)
    argv = ["-q", "fill", "--store", s3.url("raw.zarr"), "--model", str(setup.model)]
    argv += ["--out", s3.url("product"), "--storage-options", options, "--workers", "1", *TILING]
    assert main(argv) == 0
    new = setup.add_days(1)[0]
    fs.put_file(str(new), f"{s3.bucket}/feed/{new.name}")
    return {"latest": fs.cat_file(f"{s3.bucket}/product/latest.json").decode()}


def update_argv(s3, setup: Setup, endpoint: str) -> list[str]:
    argv = ["-q", "update", s3.url("feed"), "--store", s3.url("raw.zarr")]
    argv += ["--model", str(setup.model), "--out", s3.url("product")]
    return [*argv, "--storage-options", json.dumps({"endpoint_url": endpoint})]


@pytest.mark.parametrize("phase", sorted(PHASES))
def test_an_update_killed_in_each_phase_publishes_nothing_and_resumes(
    s3, proxy, setup, uninterrupted, phase
):
    before = on_s3(s3, setup)
    fragment, method = PHASES[phase]
    hold = proxy.hold(fragment, method=method)
    process = subprocess.Popen(
        [sys.executable, "-m", "sgdsm_cloud", *update_argv(s3, setup, proxy.url)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 180
    while hold.waiting == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hold.waiting >= 1, process.communicate()
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    hold.release()
    fs = s3.filesystem()
    fs.invalidate_cache()
    assert fs.cat_file(f"{s3.bucket}/product/latest.json").decode() == before["latest"]
    product = Location(s3.url("product"), s3.storage_options)
    published = {"commit": [1, 2]}.get(phase, [1])  # the commit's version file was created
    assert Repository(product).numbers() == published

    assert main(update_argv(s3, setup, s3.endpoint_url)) == 0
    assert Repository(product).numbers() == [1, 2]  # one version for the update, not two
    assert digests(product.url, s3.storage_options) == uninterrupted
