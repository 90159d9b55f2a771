"""``sgdsm check``: a JSON report and an exit status that says what is wrong."""

from __future__ import annotations

import json

from sgdsm_cloud.cli import main
from sgdsm_cloud.update.health import LATE
from tests.update.conftest import Setup


def test_the_command_prints_json_and_exits_with_what_is_wrong(setup: Setup, capsys):
    # 2015's last day is years ago: late
    assert main(["check", str(setup.product), "--max-delay", "5d"]) == LATE
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["status"] == LATE and report["last_day"] == "2015-03-30"
    assert err.strip().startswith("sgdsm check: late:") and len(err.strip().splitlines()) == 1
    assert main(["check", str(setup.product), "--max-delay", "100000d"]) == 0
