"""The synthetic gaps against the real April 2015 LPRM files."""

from __future__ import annotations

import numpy as np
import pytest

from sgdsm_cloud.grid import BBox
from sgdsm_cloud.synth import calibration


def test_synthetic_valid_fraction_tracks_the_real_files(real_lprm_dir, capsys):
    files = sorted(real_lprm_dir.glob("*.nc4"))[:3]
    result = calibration.compare(files, bbox=BBox(-125, 25, -67, 49))  # the contiguous USA
    assert list(result.daily.columns) == ["real", "synthetic"] and len(result.daily) == 3
    assert (abs(result.daily.real - result.daily.synthetic) < 0.1).all()
    band = result.bands.loc["0..30"]
    assert band.land_cells > 0 and abs(band.real - band.synthetic) < 0.1
    table = calibration.markdown(result.bands)
    assert table.splitlines()[0] == "| band | land_cells | real | synthetic |"


def test_roughness_of_a_known_series():
    from sgdsm_cloud.synth.calibration import roughness

    sm = np.full((4, 1, 2), np.nan, dtype="float32")
    sm[:, 0, 0] = [0.1, 0.2, 0.1, 0.2]  # changes of +-0.1
    sm[:2, 0, 1] = [0.3, 0.3]  # one pair, no change; the last two days unobserved
    stats = roughness(sm)
    assert stats["pairs"] == 4
    changes = np.array([0.1, -0.1, 0.1, 0.0])
    assert stats["change_std"] == pytest.approx(changes.std(), abs=1e-6)
    assert stats["change_p95"] == pytest.approx(np.percentile(np.abs(changes), 95), abs=1e-6)
    assert -1.0 <= stats["lag1_correlation"] <= 1.0
