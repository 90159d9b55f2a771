"""A product kept current day by day: a synthetic archive fed one granule at a time.

The session builds once: 44 days of synthetic LPRM files over eastern Australia (32 x 32
cells), a small random network, a raw cube of the first 30 days and the product a fill made
of it. Each test gets its own copy, and a feed folder to which it adds the next days' files,
as a near-real-time archive grows.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from sgdsm_cloud.cli import main
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.storage import Location
from sgdsm_cloud.update.config import UpdateOptions
from sgdsm_cloud.update.run import UpdateSummary, update

FIRST_DAYS = 30
TILING = ["--tile-days", "16", "--chunk-days", "8", "--tile-cells", "16", "--chunk-cells", "8"]
CONFIG = FillConfig(tile_days=16, chunk_days=8, tile_cells=16, chunk_cells=8)


@dataclass(frozen=True)
class Setup:
    """One test's archive, feed, raw cube, model and product."""

    root: Path
    archive: Path

    @property
    def feed(self) -> Path:
        return self.root / "feed"

    @property
    def raw(self) -> Path:
        return self.root / "raw.zarr"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def product(self) -> Path:
        return self.root / "product"

    def files(self) -> list[Path]:
        return sorted(self.archive.glob("*.nc4"))

    def add_days(self, count: int) -> list[Path]:
        """Copy the next ``count`` granules of the archive into the feed."""
        have = {p.name for p in self.feed.glob("*.nc4")}
        new = [p for p in self.files() if p.name not in have][:count]
        for path in new:
            shutil.copy2(path, self.feed / path.name)
        return new

    def copy_to(self, root: Path) -> Setup:
        """A copy of this setup's product, raw cubes, model and feeds under ``root``."""
        shutil.copytree(self.root, root, symlinks=True)
        return type(self)(root, self.archive)

    def location(self, path: Path) -> Location:
        return Location(str(path))

    def update(self, **options) -> UpdateSummary:
        """``sgdsm update`` of the feed, in this process."""
        return update(
            (self.location(self.feed),),
            self.location(self.raw),
            self.location(self.model),
            self.location(self.product),
            UpdateOptions(**options),
        )

    def fill(self, out: Path, *extra: str) -> None:
        argv = ["-q", "fill", "--store", str(self.raw), "--model", str(self.model), "--out"]
        assert main([*argv, str(out), "--workers", "1", *TILING, *extra]) == 0


@pytest.fixture(scope="session")
def update_base(tmp_path_factory) -> Setup:
    import torch

    from sgdsm_cloud.model.checkpoint import save_checkpoint
    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet

    root = tmp_path_factory.mktemp("update-base")
    archive = root / "archive"
    dates = ["--start", "2015-03-01", "--end", "2015-04-13", "--bbox=140,-30,148,-22"]
    assert main(["-q", "synth", str(archive), *dates]) == 0
    setup = Setup(root / "base", archive)
    setup.feed.mkdir(parents=True)
    setup.add_days(FIRST_DAYS)
    assert main(["-q", "ingest", str(setup.feed), "--store", str(setup.raw), "--workers", "1"]) == 0
    torch.manual_seed(0)
    config = ModelConfig(layers=2, features=4)
    save_checkpoint(setup.model, SGDSMNet(config), config, {"trained_on": "nothing (tests)"})
    setup.fill(setup.product)
    return setup


@pytest.fixture
def setup(update_base, tmp_path) -> Setup:
    """A copy of the session's product, raw cube and feed for one test to change."""
    return update_base.copy_to(tmp_path / "ws")
