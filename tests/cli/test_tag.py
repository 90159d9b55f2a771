"""``sgdsm tag``: a name for a version, given once."""

from __future__ import annotations

import json

from sgdsm_cloud.cli import main
from sgdsm_cloud.storage import Location
from sgdsm_cloud.versioned.repository import Repository
from tests.update.conftest import Setup


def test_a_tag_names_a_version_and_is_never_moved(setup: Setup, capsys):
    setup.add_days(1)
    setup.update()
    assert main(["-q", "tag", str(setup.product), "release", "--version", "1"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "product": str(setup.product), "tag": "release", "version": 1
    }  # fmt: skip
    assert main(["-q", "tag", str(setup.product), "release"]) == 1  # taken: refused
    assert "release" in capsys.readouterr().err
    assert Repository(Location(str(setup.product))).resolve("release") == 1
