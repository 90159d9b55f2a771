"""Two updates started at once publish one version; the other says why in one line (the
raw cube's ingest lock, or a version published while it ran) or finds nothing new."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sgdsm_cloud.product import open_seamless
from sgdsm_cloud.storage import Location
from sgdsm_cloud.update.config import UpdateOptions
from sgdsm_cloud.update.run import execute_update, prepare_update
from sgdsm_cloud.versioned.repository import Repository, VersionConflict

from .conftest import Setup


def test_two_updates_at_once_publish_one_version_and_lose_nothing(setup: Setup):
    setup.add_days(2)
    argv = [sys.executable, "-m", "sgdsm_cloud", "-q", "update", str(setup.feed)]
    argv += ["--store", str(setup.raw), "--model", str(setup.model), "--out", str(setup.product)]
    runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    codes = sorted(code for code, _, _ in results)
    assert codes in ([0, 0], [0, 1]), results
    assert Repository(Location(str(setup.product))).numbers() == [1, 2]
    for code, _, err in results:
        if code == 1:
            line = err.strip()
            assert "\n" not in line and "Traceback" not in line
            assert "another ingest holds the lock" in line or "published by another" in line
    assert open_seamless(str(setup.product)).sizes["time"] == 32  # both new days, once


def test_an_update_that_began_on_an_older_version_publishes_nothing(setup: Setup):
    setup.add_days(1)
    late = prepare_update(
        (Location(str(setup.feed)),),
        Location(str(setup.raw)),
        Location(str(setup.model)),
        Location(str(setup.product)),
        UpdateOptions(),
    )
    assert setup.update().version == 2  # another update publishes meanwhile
    with pytest.raises(VersionConflict, match="published by another writer while this one ran"):
        execute_update(late)
    assert Repository(Location(str(setup.product))).numbers() == [1, 2]
