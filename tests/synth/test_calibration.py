"""The synthetic gaps against the real April 2015 LPRM files."""

from __future__ import annotations

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
