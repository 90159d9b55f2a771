"""The recipe benchmark's own pieces: its probes without learning, its mirror averaging and the
folder names of its candidates."""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.bench_recipe import RECIPES, folder, mirrored, probe
from sgdsm_cloud.model.anomaly import AnomalyCore
from sgdsm_cloud.validate.evaluate import Case
from sgdsm_cloud.validate.product import Crop


def shifted_day_case(past: int = 10) -> Case:
    """A field constant in time but for the centre day, which is 0.05 wetter everywhere; a
    5 x 5 block of it hidden."""
    y, x = np.meshgrid(np.arange(20), np.arange(20), indexing="ij")
    field = 0.2 + 0.01 * np.sin(x / 3.0) + 0.01 * np.cos(y / 4.0)
    values = np.repeat(field[None], past + 5, axis=0)
    values[past] = field + 0.05
    reference = values[past].copy()
    removed = np.zeros((20, 20), dtype=bool)
    removed[8:13, 8:13] = True
    values[past][removed] = np.nan
    land = np.ones((20, 20), dtype=bool)
    return Case("shift", 30, Crop.whole((20, 20)), values, land, past, removed, reference)


def test_probes_add_the_day_s_anomaly_to_their_temporal_base():
    case = shifted_day_case()
    for base in ("mean", "linear"):
        for past in (4, 10):
            filled = probe(base, 4.0, past=past)(case)
            np.testing.assert_allclose(
                filled[case.removed], case.reference[case.removed], atol=1e-9
            )
            observed = ~case.removed
            np.testing.assert_array_equal(
                filled[observed], case.values[case.centre][observed].astype("float32")
            )


def test_mirrored_averages_the_cnn_over_mirror_images_and_restores_it():
    torch.manual_seed(0)
    core = AnomalyCore(layers=3, features=4, kernel=3, scales=(2.0,))
    torch.nn.init.normal_(core.convs[-1].weight)  # a correction that is not zero
    x = torch.randn(1, core.convs[0].in_channels, 12, 12)
    alone = core.correction(x)
    expected = (alone + core.correction(x.flip(-1)).flip(-1)) / 2
    with mirrored(2):
        averaged = core.correction(x)
    torch.testing.assert_close(averaged, expected)
    assert not torch.allclose(averaged, alone)
    torch.testing.assert_close(core.correction(x), alone)  # restored on exit


def test_every_candidate_has_its_own_folder():
    names = [folder(name) for name in RECIPES]
    assert len(set(names)) == len(names)
    assert folder("all days, context 24") == "recipe-all-days-context-24"
