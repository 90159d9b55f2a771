"""A daily update from a NASA Earthdata collection (loopback CMR and data server) asks for
a few days of granules, not the whole collection, and sends requests for the new granule only."""

from __future__ import annotations

import os
import shutil

import pytest

from sgdsm_cloud.ingest import earthdata
from sgdsm_cloud.storage import Location
from sgdsm_cloud.testing.earthdata import EarthdataServer
from sgdsm_cloud.update.config import UpdateOptions
from sgdsm_cloud.update.run import update

from .conftest import Setup

COLLECTION = "LPRM_AMSR2_D_SOILM3"
TOKEN = "loopback-token-0123456789"
EARLIER_DAYS = 2100  # granules before the product's record: the collection is long


@pytest.fixture
def collection(setup: Setup, tmp_path):
    """Years of earlier granules (names only: they are never read), the product's days and
    the next day, each with the time its file was written, as CMR's ``updated`` says."""
    import datetime as dt

    folder = tmp_path / "collection"
    folder.mkdir()
    first = dt.date(2015, 3, 1)
    for back in range(1, EARLIER_DAYS + 1):
        day = first - dt.timedelta(days=back)
        path = folder / f"LPRM-AMSR2_L3_D_SOILM3_V001_{day:%Y%m%d}013500.nc4"
        path.write_bytes(b"an old granule")
        os.utime(path, (1.5e9, 1.5e9))  # written in 2017, long before the store listed
    for path in sorted(setup.feed.glob("*.nc4")):
        shutil.copy2(path, folder / path.name)  # the granules the store holds ...
        os.utime(folder / path.name, (1.6e9, 1.6e9))  # ... written before it listed them
    new = setup.files()[len(list(setup.feed.glob("*.nc4")))]
    shutil.copy2(new, folder / new.name)  # today's granule
    return folder, new.name


def test_a_one_day_update_asks_cmr_for_days_and_fetches_only_the_new_granule(
    setup: Setup, collection, monkeypatch, tmp_path
):
    folder, new = collection
    with EarthdataServer({COLLECTION: folder}, (TOKEN,)) as server:
        monkeypatch.setenv(earthdata.CMR_ENV, server.url)
        monkeypatch.setenv(earthdata.TOKEN_ENV, TOKEN)
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        monkeypatch.delenv("NETRC", raising=False)
        summary = update(
            (Location(f"earthdata:{COLLECTION}"),),
            Location(str(setup.raw)),
            Location(str(setup.model)),
            Location(str(setup.product)),
            UpdateOptions(),
        )
        searches = server.stats.requests["GET search"]
        headed, read = list(server.stats.files_headed), list(server.stats.files_read)
    assert len(list(folder.iterdir())) >= 2000
    assert summary.version == 2 and len(summary.days_added) == 1
    assert searches <= 10, searches  # the days after the look-back, and what was revised
    assert headed == [new] and read == [new], (headed, read)
