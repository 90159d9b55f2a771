"""Fixtures for robustness tests: a fault-injecting proxy in front of the moto server, a tiny
model, a LocalCluster of worker processes, and helpers to compare runs and find processes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from products import open_any, variable_digests

from sgdsm_cloud.testing.faults import FaultPlan, FaultProxy

VOLATILE_ATTRS = ("history", "date_created", "date_modified", "sources_listed_at")
WHERE_ATTRS = ("source", "source_store")  # a fill names its raw cube's URL, local or s3://


@pytest.fixture
def proxy(s3):
    """A FaultProxy in front of the freshly reset moto server; no faults until a test sets some."""
    import s3fs

    with FaultProxy(s3.endpoint_url) as running:
        yield running
    s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """A randomly initialised tiny network (3 layers, 4 features) saved as safetensors + JSON."""
    import torch

    from sgdsm_cloud.model.checkpoint import save_checkpoint
    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet

    torch.manual_seed(0)
    config = ModelConfig(layers=3, features=4)
    path = tmp_path_factory.mktemp("model")
    save_checkpoint(path, SGDSMNet(config), config, {"trained_on": "random weights for tests"})
    return path


@pytest.fixture(scope="session")
def raw_store(tmp_path_factory) -> Path:
    """A small local raw cube (8 good days, 20 x 40 cells, chunks 4 x 10 x 20) made by ingest."""
    from ingest.helpers import config, write_days

    from sgdsm_cloud.ingest import ingest

    root = tmp_path_factory.mktemp("raw")
    corpus = write_days(root / "files", range(8))
    ingest(config([corpus.directory], str(root / "raw.zarr")))
    return root / "raw.zarr"


FILL_TILES = {"tile_days": 4, "tile_cells": 10, "batch_size": 8}  # 2 x 2 x 4 = 16 tiles
FILL_TILE_COUNT = 16


@pytest.fixture(scope="session")
def clean_fill(raw_store, model_dir, cluster, tmp_path_factory) -> dict[str, str]:
    """Digest of the fill of ``raw_store`` that nothing disturbed (local paths, no proxy)."""
    from distributed import Client

    from sgdsm_cloud.fill.config import FillConfig
    from sgdsm_cloud.fill.executor import run_fill
    from sgdsm_cloud.storage import Location

    out = str(tmp_path_factory.mktemp("clean-fill") / "filled.zarr")
    with Client(cluster) as client:
        run_fill(
            Location(str(raw_store)),
            Location(out),
            Location(str(model_dir)),
            FillConfig(**FILL_TILES),
            client,
        )
    return store_digest(out, ignore_attrs=WHERE_ATTRS)


def upload_store(s3, store: Path, key: str) -> str:
    """A local zarr store copied under ``key`` in the test bucket; returns its URL."""
    s3.filesystem().put(str(store), f"{s3.bucket}/{key}", recursive=True)
    return s3.url(key)


def store_digest(
    url: str, storage_options: dict | None = None, ignore_attrs: tuple[str, ...] = ()
) -> dict[str, str]:
    """SHA-256 of every decoded variable, plus the attributes except timestamps (and
    ``ignore_attrs``).

    Two runs that decided the same way (values, provenance, quarantine, coordinates) have
    equal digests, whatever their chunk encoding or write order.
    """
    ds = open_any(url, storage_options)
    digest = variable_digests(ds)
    attrs = {k: v for k, v in ds.attrs.items() if k not in (*VOLATILE_ATTRS, *ignore_attrs)}
    digest["attrs"] = hashlib.sha256(
        json.dumps(attrs, sort_keys=True, default=str).encode()
    ).hexdigest()
    return digest


def report(test: str, **figures) -> None:
    """One line of measured figures for docs/robustness.md (shown by ``pytest -rP``)."""
    print(f"robustness {test}: {json.dumps(figures, sort_keys=True)}")


def upload(s3, directory: Path, prefix: str) -> None:
    """Every file of ``directory`` under ``prefix`` in the test bucket, straight to moto."""
    fs = s3.filesystem()
    for path in sorted(directory.iterdir()):
        if path.is_file():
            fs.put_file(str(path), f"{s3.bucket}/{prefix}/{path.name}")


def sgdsm(*args: str, env: dict | None = None) -> subprocess.Popen:
    """A real ``sgdsm`` process (``python -m sgdsm_cloud``), stdout and stderr captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "sgdsm_cloud", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 180) -> None:
    """Poll ``condition`` until it holds (fails the test after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def process_with_port(root_pid: int, port: int) -> int:
    """The pid, among ``root_pid`` and its descendants, that owns a socket on local ``port``."""
    import psutil

    root = psutil.Process(root_pid)
    for process in [root, *root.children(recursive=True)]:
        try:
            if any(c.laddr and c.laddr.port == port for c in process.net_connections("tcp")):
                return process.pid
        except psutil.NoSuchProcess:
            continue
    raise AssertionError(f"no process under {root_pid} holds a socket on port {port}")


def every_kind_at(rate: float, *, delay_s: float, seed: int, max_consecutive: int) -> FaultPlan:
    """A plan that injects each fault kind into ``rate`` of the requests."""
    return FaultPlan(
        slowdown=rate,
        reset_before=rate,
        reset_mid=rate,
        slow=rate,
        delay_s=delay_s,
        seed=seed,
        max_consecutive=max_consecutive,
    )
