"""``sgdsm update`` through ``cli.main``: the JSON summary of an update that publishes the next
version, of one that finds nothing new, and bad inputs refused in one line."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sgdsm_cloud.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, main
from sgdsm_cloud.product import open_seamless
from sgdsm_cloud.storage import Location
from sgdsm_cloud.versioned.repository import Repository
from tests.update.conftest import FIRST_DAYS, Setup


def update_argv(setup: Setup, out=None) -> list[str]:
    return [
        "update", str(setup.feed), "--store", str(setup.raw), "--model", str(setup.model),
        "--out", str(out or setup.product),
    ]  # fmt: skip


def test_an_update_prints_what_it_published_and_then_that_nothing_was_new(setup: Setup, capsys):
    new = setup.add_days(2)
    assert main(["-q", *update_argv(setup)]) == EXIT_OK
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {
        "out", "version", "days_added", "days_refilled", "final_days_refilled", "granules",
        "tiles", "pack_bytes", "seconds",
    }  # fmt: skip
    assert summary["out"] == str(setup.product) and summary["version"] == 2
    assert summary["days_added"] == ["2015-03-31", "2015-04-01"]
    assert summary["granules"] == len(new) == 2
    assert set(summary["days_added"]) <= set(summary["days_refilled"])
    assert summary["tiles"] > 0 and summary["pack_bytes"] > 0
    product = open_seamless(str(setup.product))
    assert product.sizes["time"] == FIRST_DAYS + 2
    assert pd.Timestamp(product.time.values[-1]).strftime("%Y-%m-%d") == "2015-04-01"

    assert main(["-q", *update_argv(setup)]) == EXIT_OK
    again = json.loads(capsys.readouterr().out)
    assert again["version"] is None and again["days_added"] == again["days_refilled"] == []
    assert Repository(Location(str(setup.product))).numbers() == [1, 2]


def test_an_update_without_a_product_says_to_fill_first(setup: Setup, tmp_path, capsys):
    setup.add_days(1)
    out = tmp_path / "no-product"
    assert main(update_argv(setup, out)) == EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert err.startswith("sgdsm update: error: --out") and "\n" not in err
    assert "'sgdsm fill'" in err and str(out) in err
    assert not out.exists()
    assert Repository(Location(str(setup.product))).numbers() == [1]


@pytest.mark.parametrize(
    ("option", "message"),
    [(["--look-back", "0"], "--look-back"), (["--batch-size", "-2"], "--batch-size")],
)
def test_a_bad_option_is_a_one_line_usage_error(setup: Setup, capsys, option, message):
    assert main([*update_argv(setup), *option]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith("sgdsm update: error:") and message in err and "\n" not in err
    assert Repository(Location(str(setup.product))).numbers() == [1]
