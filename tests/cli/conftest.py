"""A small workspace made by the pipeline's own commands: archive, raw cube, model, product.

Built once per test process, through ``sgdsm_cloud.cli.main`` as a user would, so that the
bad-input tests point each command at real outputs of the others.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import pytest

from sgdsm_cloud.cli import EXIT_OK, main

# The fixtures of the packages whose commands are tested here (tests/cli/test_<command>.py)
from tests.fill.conftest import checkpoint, model_dir, one_torch_thread  # noqa: E402, F401
from tests.ingest.conftest import corpus  # noqa: E402, F401
from tests.publish.conftest import cube, cube_store  # noqa: E402, F401
from tests.update.conftest import setup, update_base  # noqa: E402, F401
from tests.validate.conftest import tiny_land, tiny_model_dir, tiny_raw, tiny_store  # noqa: E402, F401

PERIOD = ("2015-03-01", "2015-03-24")
BBOX = "140,-30,148,-22"  # eastern Australia: 32 x 32 cells of mostly land
TRAIN = (
    "--preset small --layers 2 --features 4 --patch 16 --stride 8 --min-land-fraction 0.5 "
    "--min-label-fraction 0.3 --batch-size 4 --samples-per-epoch 4 --epochs 1 --device cpu "
    "--max-validation-samples 4"
).split()


@dataclass(frozen=True)
class Workspace:
    """Paths of the pipeline's outputs and of a user's own files beside them."""

    root: Path

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def raw(self) -> Path:
        return self.root / "raw.zarr"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def seamless(self) -> Path:
        return self.root / "seamless.zarr"

    @property
    def foreign(self) -> Path:
        """A user's folder: a thesis chapter and three archive files of their own."""
        return self.root / "thesis"

    @property
    def plain_file(self) -> Path:
        """A user's file without an extension."""
        return self.root / "notes"

    @property
    def pickled_model(self) -> Path:
        return self.root / "pickled-model"

    def snapshot(self) -> dict[str, str]:
        """SHA-256 of every file and the list of every folder under the workspace."""
        return snapshot(self.root)


def snapshot(root: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            out[os.path.relpath(os.path.join(folder, name), root) + "/"] = "dir"
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


def run_main(*argv: str) -> None:
    assert main(["-q", *argv]) in (EXIT_OK, 3), f"sgdsm {' '.join(argv)} failed"


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("workspace"))
    start, end = PERIOD
    run_main("synth", str(ws.archive), "--start", start, "--end", end, f"--bbox={BBOX}")
    run_main("ingest", str(ws.archive), "--store", str(ws.raw), "--variable", "c1")
    run_main("train", "--store", str(ws.raw), "--out", str(ws.model), *TRAIN)
    run_main(
        "fill", "--store", str(ws.raw), "--model", str(ws.model), "--out", str(ws.seamless),
        "--workers", "1",
    )  # fmt: skip
    ws.foreign.mkdir()
    (ws.foreign / "chapter-3.tex").write_text("\\chapter{Soil moisture}\nMy own words.\n")
    for name in ("LPRM-AMSR2_L3_D_SOILM3_V001_20150401013507.nc4", "SGD-SM_20150401.nc"):
        (ws.foreign / name).write_bytes(b"\x89HDF\r\n\x1a\n not really")
    (ws.foreign / "notes.csv").write_text("a,b\n1,2\n")
    ws.plain_file.write_text("my notes\n")
    ws.pickled_model.mkdir()
    (ws.pickled_model / "model.pth").write_bytes(pickle.dumps({"weights": [1.0, 2.0]}))
    return ws
