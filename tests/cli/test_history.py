"""``sgdsm history``: every version with its granules, as lines or JSON."""

from __future__ import annotations

import json

from sgdsm_cloud.cli import main
from sgdsm_cloud.product import open_seamless
from tests.update.conftest import Setup


def test_history_lists_every_version_with_its_granules(setup: Setup, capsys):
    setup.add_days(1)
    setup.update()
    assert main(["-q", "tag", str(setup.product), "first-update"]) == 0
    capsys.readouterr()
    assert main(["history", str(setup.product)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("v1") and "fill" in lines[0] and "granules 30" in lines[0]
    assert lines[1].startswith("v2") and "update" in lines[1] and "tags first-update" in lines[1]
    assert main(["history", str(setup.product), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    granule = records[1]["granules"][0]
    assert set(granule) == {"day", "file", "sha256", "change"} and len(granule["sha256"]) == 64
    assert records[1]["model_sha256"] == records[0]["model_sha256"]
    attrs = open_seamless(str(setup.product)).attrs
    assert json.loads(attrs["version_granules"]) == records[1]["granules"]
