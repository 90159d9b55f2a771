"""``sgdsm expire``: old versions go, what the newest and tagged ones read stays."""

from __future__ import annotations

import json

import xarray as xr

from sgdsm_cloud.cli import main
from sgdsm_cloud.product import open_seamless
from sgdsm_cloud.storage import Location
from sgdsm_cloud.versioned.repository import Repository
from tests.update.conftest import Setup


def test_expiry_keeps_what_the_newest_and_tagged_versions_read(setup: Setup, capsys):
    for _ in range(3):
        setup.add_days(1)
        setup.update()
    assert main(["-q", "tag", str(setup.product), "release", "--version", "2"]) == 0
    newest = open_seamless(str(setup.product)).load()
    tagged = open_seamless(str(setup.product), version="release").load()
    capsys.readouterr()
    argv = ["-q", "expire", str(setup.product), "--older-than", "0d", "--grace", "0d"]
    assert main(argv) == 0
    removed = json.loads(capsys.readouterr().out)
    assert removed["versions"] == 2 and removed["packs"] > 0
    assert Repository(Location(str(setup.product))).numbers() == [2, 4]
    xr.testing.assert_identical(open_seamless(str(setup.product)).load(), newest)
    xr.testing.assert_identical(open_seamless(str(setup.product), version="release").load(), tagged)
