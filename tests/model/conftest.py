"""Fixtures of the model tests: one torch thread, a small synthetic store on disk."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sgdsm_cloud.model.sampling import DayReader, Period

from .cubes import in_memory_cube, smooth_cube, write_cube


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny tensors run fastest on one thread, and a loaded 2-core machine punishes more."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def synthetic_store(tmp_path_factory) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """A 16-day 40 x 48 cube on disk: ``(url, truth, observed, land)``."""
    truth, observed, land = smooth_cube()
    url = write_cube(tmp_path_factory.mktemp("cube") / "raw.zarr", observed, land)
    return url, truth, observed, land


@pytest.fixture(scope="module")
def small_cube() -> tuple[np.ndarray, np.ndarray, DayReader]:
    """A 12-day 24 x 28 cube in memory: ``(observed, land, reader over all days)``."""
    _, observed, land = smooth_cube(days=12, ny=24, nx=28)
    return observed, land, DayReader(in_memory_cube(observed, land), Period(0, 12))
