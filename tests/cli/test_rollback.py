"""``sgdsm rollback``: an earlier version published again, read bit for bit."""

from __future__ import annotations

import json

import xarray as xr

from sgdsm_cloud.cli import main
from sgdsm_cloud.product import open_seamless
from tests.update.conftest import FIRST_DAYS, Setup


def test_rollback_reads_the_earlier_version_bit_for_bit(setup: Setup, capsys):
    first = open_seamless(str(setup.product)).load()
    setup.add_days(3)
    setup.update()
    assert main(["-q", "rollback", str(setup.product), "--to", "1"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "product": str(setup.product), "version": 3, "restores": 1
    }  # fmt: skip
    xr.testing.assert_identical(open_seamless(str(setup.product)).load(), first)
    xr.testing.assert_identical(open_seamless(str(setup.product), version=1).load(), first)
    assert open_seamless(str(setup.product), version=2).sizes["time"] == FIRST_DAYS + 3
