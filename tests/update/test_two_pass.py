"""A two-pass product kept current: both passes' granules arrive, late ones too."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sgdsm_cloud.cli import main
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.product import open_seamless
from sgdsm_cloud.storage import Location
from sgdsm_cloud.update.run import update
from sgdsm_cloud.versioned.repository import Repository

from .conftest import FIRST_DAYS, Setup
from .test_run import assert_bitwise


class TwoPasses(Setup):
    """A Setup whose product's model also reads the ascending pass."""

    @property
    def ascending_archive(self) -> Path:
        return self.archive.parent / "archive_A"

    @property
    def ascending_feed(self) -> Path:
        return self.root / "feed_A"

    @property
    def ascending_raw(self) -> Path:
        return self.root / "raw_A.zarr"

    def add_ascending(self, count: int) -> None:
        have = {p.name for p in self.ascending_feed.glob("*.nc4")}
        files = sorted(self.ascending_archive.glob("*.nc4"))
        for path in [p for p in files if p.name not in have][:count]:
            shutil.copy2(path, self.ascending_feed / path.name)

    def update_both(self, **extra):
        return update(
            (Location(str(self.feed)),), Location(str(self.raw)), Location(str(self.model)),
            Location(str(self.product)), other_pass=Location(str(self.ascending_raw)),
            other_sources=(Location(str(self.ascending_feed)),), **extra,
        )  # fmt: skip

    def fill(self, out: Path, *extra: str) -> None:
        super().fill(out, "--other-pass", str(self.ascending_raw), *extra)


@pytest.fixture(scope="module")
def two_pass_base(update_base, tmp_path_factory) -> TwoPasses:
    import torch

    from sgdsm_cloud.model.checkpoint import save_checkpoint
    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet

    root = tmp_path_factory.mktemp("two-pass")
    base = TwoPasses(root / "base", update_base.archive)
    shutil.copytree(update_base.root, base.root, symlinks=True)  # the one-pass setup, then A
    shutil.rmtree(base.product)
    dates = ["--start", "2015-03-01", "--end", "2015-04-13", "--bbox=140,-30,148,-22"]
    if not base.ascending_archive.exists():
        argv = ["-q", "synth", str(base.ascending_archive), *dates, "--pass", "A"]
        assert main(argv) == 0
    base.ascending_feed.mkdir()
    base.add_ascending(FIRST_DAYS)
    ingest = ["-q", "ingest", str(base.ascending_feed), "--store", str(base.ascending_raw)]
    assert main([*ingest, "--workers", "1"]) == 0
    torch.manual_seed(3)
    config = ModelConfig(layers=2, features=4, variant="anomaly", scales=(1.0, 2.0), passes=2)
    net = SGDSMNet(config)
    for param in net.parameters():  # random weights everywhere: the other pass counts
        torch.nn.init.normal_(param, std=0.3)
    shutil.rmtree(base.model)
    save_checkpoint(base.model, net, config, {"trained_on": "nothing (tests)"})
    base.fill(base.product)
    return base


@pytest.fixture
def both(two_pass_base, tmp_path) -> TwoPasses:
    copy = two_pass_base.copy_to(tmp_path / "ws")
    assert isinstance(copy, TwoPasses)
    return copy


def test_daily_updates_of_both_passes_equal_a_batch_fill_and_a_late_granule_refills(
    both: TwoPasses,
):
    both.add_days(1)
    both.add_ascending(1)
    assert both.update_both().version == 2
    both.add_days(1)  # the ascending granule of that day is late
    late = both.update_both()
    assert late.version == 3 and late.days_added == ("2015-04-01",)
    both.add_ascending(1)  # it arrives: its day's window is computed again
    arrived = both.update_both()
    assert arrived.version == 4 and arrived.days_added == ()
    assert "2015-04-01" in arrived.days_refilled and len(arrived.days_refilled) == 5
    updated = open_seamless(str(both.product))
    assert str(updated["other_pass_source_sha256"].values[-1]) != ""
    repository = Repository(Location(str(both.product)))
    assert repository.load(4).meta["other_pass_store"] == str(both.ascending_raw)
    batch = both.root / "batch"
    both.fill(batch)
    assert_bitwise(updated, open_seamless(str(batch)))


def test_the_ascending_cube_is_extended_when_its_granule_is_late(both: TwoPasses):
    both.add_days(1)
    summary = both.update_both()
    assert summary.days_added == ("2015-03-31",)
    product = open_seamless(str(both.product))
    assert str(product["other_pass_source_sha256"].values[-1]) == ""  # not arrived yet
    assert np.isfinite(product.sm.values[-1]).any()


def test_a_two_pass_update_needs_the_other_pass_and_its_sources(both: TwoPasses):
    both.add_days(1)
    with pytest.raises(ConfigError, match="give the raw cube of the other pass"):
        update(
            (Location(str(both.feed)),), Location(str(both.raw)), Location(str(both.model)),
            Location(str(both.product)),
        )  # fmt: skip
    with pytest.raises(ConfigError, match="--other-sources"):
        update(
            (Location(str(both.feed)),), Location(str(both.raw)), Location(str(both.model)),
            Location(str(both.product)), other_pass=Location(str(both.ascending_raw)),
        )  # fmt: skip


def test_other_sources_alone_or_the_same_pass_as_other_pass_are_refused(both: TwoPasses):
    both.add_days(1)
    store, model, product = (Location(str(p)) for p in (both.raw, both.model, both.product))
    feed = (Location(str(both.feed)),)
    with pytest.raises(ConfigError, match="--other-sources needs --other-pass"):
        update(feed, store, model, product, other_sources=(Location(str(both.ascending_feed)),))
    with pytest.raises(ConfigError, match="holds the same pass"):
        update(feed, store, model, product, other_pass=store, other_sources=feed)
