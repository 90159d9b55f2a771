"""``update``: daily updates give the product a batch fill gives, one version each."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import xarray as xr

from sgdsm_cloud.cli import main
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.product import LAST_FINAL_DAY, LAST_PROVISIONAL_DAY, open_seamless
from sgdsm_cloud.storage import Location
from sgdsm_cloud.versioned.repository import Repository

from .conftest import FIRST_DAYS, Setup

ARRAYS = ("sm", "flag", "sm_uncertainty", "provisional", "source_sha256")


def assert_bitwise(a: xr.Dataset, b: xr.Dataset) -> None:
    for name in ARRAYS:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def test_ten_daily_updates_equal_a_batch_fill_of_the_same_days(setup: Setup):
    versions = []
    for _ in range(10):
        setup.add_days(1)
        summary = setup.update()
        assert len(summary.days_added) == 1 and len(summary.days_refilled) == 5
        assert summary.final_days_refilled == ()
        versions.append(summary.version)
    assert versions == list(range(2, 12))
    updated = open_seamless(str(setup.product))
    batch = setup.root / "batch"
    setup.fill(batch)
    expected = open_seamless(str(batch))
    assert updated.sizes["time"] == expected.sizes["time"] == FIRST_DAYS + 10
    assert_bitwise(updated, expected)  # final days and the provisional ones the last update left
    assert updated["provisional"].values[-4:].tolist() == [1] * 4
    assert updated.attrs[LAST_FINAL_DAY] == "2015-04-05"
    assert updated.attrs[LAST_PROVISIONAL_DAY] == "2015-04-09"


def test_a_provisional_day_turns_final_when_its_fourth_day_arrives(setup: Setup):
    before = open_seamless(str(setup.product))
    assert before["provisional"].values[-4:].tolist() == [1, 1, 1, 1]
    assert before.attrs[LAST_FINAL_DAY] == "2015-03-26"
    setup.add_days(1)
    summary = setup.update()
    after = open_seamless(str(setup.product))
    assert summary.days_refilled[0] == "2015-03-27"  # the oldest provisional day ...
    assert after.attrs[LAST_FINAL_DAY] == "2015-03-27"  # ... is now final
    final = before["provisional"].values == 0
    for name in ("sm", "flag", "sm_uncertainty"):  # final days never change
        np.testing.assert_array_equal(
            after[name].values[: before.sizes["time"]][final], before[name].values[final]
        )


def test_nothing_new_publishes_nothing(setup: Setup):
    summary = setup.update()
    assert summary.version is None and summary.days_refilled == ()
    assert Repository(Location(str(setup.product))).numbers() == [1]


def test_a_changed_granule_refills_its_window_and_the_history_says_so(setup: Setup):
    setup.add_days(2)
    setup.update()
    files = sorted(setup.feed.glob("*.nc4"))
    changed = files[-4]  # within the look-back: read again, its bytes differ
    other = sorted(setup.archive.glob("*.nc4"))[0]  # another day's field under its name
    shutil.copy(other, changed)
    summary = setup.update()
    day = changed.name.split("_")[-1][:8]
    day = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    assert summary.granules[0]["change"] == "changed" and summary.granules[0]["day"] == day
    assert len(summary.days_refilled) == 9 - 1  # D-4..D+4, the last day of the record is D+3
    assert summary.final_days_refilled  # days whose window was complete: recorded
    record = Repository(Location(str(setup.product))).history()[-1]
    assert record["granules"][0]["change"] == "changed" and record["final_days_refilled"]
    batch = setup.root / "batch"
    setup.fill(batch)
    assert_bitwise(open_seamless(str(setup.product)), open_seamless(str(batch)))


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


def test_another_model_is_refused_unless_asked(setup: Setup, tmp_path):
    import torch

    from sgdsm_cloud.model.checkpoint import save_checkpoint
    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet

    torch.manual_seed(5)
    config = ModelConfig(layers=2, features=4)
    other = tmp_path / "other-model"
    save_checkpoint(other, SGDSMNet(config), config, {"trained_on": "nothing"})
    shutil.rmtree(setup.model)
    shutil.copytree(other, setup.model)
    setup.add_days(1)
    with pytest.raises(ConfigError, match="is not the model of"):
        setup.update()
    assert setup.update(new_model=True).version == 2


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


def test_the_stac_item_opens_the_newest_version_and_names_its_granules(setup: Setup, tmp_path):
    from sgdsm_cloud.publish.api import PublishConfig, publish

    setup.add_days(1)
    setup.update()
    stac = tmp_path / "stac"
    config = PublishConfig(
        Location(str(setup.product)), Location(str(stac)), license_id="CC-BY-4.0"
    )
    publish(config)
    collection = json.loads((stac / "collection.json").read_text())
    (item_path,) = stac.glob("*/*.json")
    item = json.loads(item_path.read_text())
    asset = item["assets"]["zarr"]
    assert asset["href"] == str(setup.product / "latest.json") and "references" in asset["roles"]
    opened = xr.open_zarr("reference://", storage_options=asset["xarray:storage_options"])
    xr.testing.assert_identical(opened.load(), open_seamless(str(setup.product)).load())
    props = item["properties"]
    assert props["sgdsm:version"] == 2 and props["sgdsm:last_final_day"] == "2015-03-27"
    assert [g["change"] for g in props["sgdsm:version_granules"]] == ["new"]
    assert collection["assets"]["zarr"]["href"] == asset["href"]


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
