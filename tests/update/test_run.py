"""``update``: daily updates give the product a batch fill gives, one version each."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import xarray as xr

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


def test_a_two_pass_model_without_the_other_pass_is_refused(setup: Setup, tmp_path):
    import torch

    from sgdsm_cloud.model.checkpoint import save_checkpoint
    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet

    torch.manual_seed(6)
    config = ModelConfig.preset("anomaly-2pass")
    shutil.rmtree(setup.model)
    save_checkpoint(setup.model, SGDSMNet(config), config, {"trained_on": "nothing"})
    setup.add_days(1)
    with pytest.raises(ConfigError, match="reads both overpasses.*--other-pass"):
        setup.update(new_model=True)
    assert Repository(Location(str(setup.product))).head() == 1  # nothing published


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


def test_a_bfloat16_fill_records_its_precision_and_its_updates_keep_it(setup: Setup):
    shutil.rmtree(setup.product)
    setup.fill(setup.product, "--bfloat16")
    setup.add_days(1)
    summary = setup.update()
    assert summary.version == 2
    history = Repository(Location(str(setup.product))).history()
    assert [record["bfloat16"] for record in history] == [True, True]
    batch = setup.root / "batch"
    setup.fill(batch, "--bfloat16")  # the same precision gives the same bits
    assert_bitwise(open_seamless(str(setup.product)), open_seamless(str(batch)))
    exact = setup.root / "exact"
    setup.fill(exact)
    assert Repository(Location(str(exact))).history()[-1]["bfloat16"] is False
    sm, sm_bf16 = open_seamless(str(exact))["sm"].values, open_seamless(str(batch))["sm"].values
    assert not np.array_equal(sm, sm_bf16, equal_nan=True)  # bf16 ran
    np.testing.assert_allclose(sm_bf16, sm, atol=5e-3)  # and changed values only in the noise
