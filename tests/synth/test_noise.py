"""Random fields: unit variance, the requested correlation scale, identical for any subset."""

from __future__ import annotations

import numpy as np

from sgdsm_cloud.synth import noise


def test_gaussian_rows_have_unit_variance_and_correlate_over_the_scale():
    rows = np.arange(150, 210)  # about 15 N .. 15 S on the 0.5 deg grid
    field = noise.gaussian_rows(3, 1, 42, 0.5, 200.0, rows)
    assert abs(field.mean()) < 0.1
    assert 0.85 < field.std() < 1.15
    near = np.corrcoef(field[:, :-1].ravel(), field[:, 1:].ravel())[0, 1]  # ~55 km apart
    far = np.corrcoef(field[:, :-20].ravel(), field[:, 20:].ravel())[0, 1]  # ~1100 km apart
    assert near > 0.9 and abs(far) < 0.2


def test_any_subset_of_rows_gives_bitwise_the_same_values():
    full = noise.gaussian_rows(0, 4, 7, 0.5, 80.0, np.arange(360))
    subset = noise.gaussian_rows(0, 4, 7, 0.5, 80.0, np.array([0, 1, 200, 359]))
    np.testing.assert_array_equal(subset, full[[0, 1, 200, 359]])


def test_streams_keys_and_seeds_draw_different_fields():
    rows = np.arange(100, 110)
    base = noise.gaussian_rows(0, 1, 1, 0.5, 80.0, rows)
    for other in ((1, 1, 1), (0, 2, 1), (0, 1, 2)):
        assert not np.allclose(noise.gaussian_rows(*other, 0.5, 80.0, rows), base)


def test_cell_uniform_is_uniform_and_crop_consistent():
    whole = noise.cell_uniform(5, 8, 735000, slice(0, 720), slice(0, 1440), 0.25)
    assert whole.min() >= 0 and whole.max() < 1 and abs(whole.mean() - 0.5) < 0.01
    np.testing.assert_array_equal(
        noise.cell_uniform(5, 8, 735000, slice(100, 120), slice(1430, 1440), 0.25),
        whole[100:120, 1430:],
    )


def test_resampler_reproduces_a_linear_field_and_wraps_the_dateline():
    coarse_lat = 90 - 0.25 - 0.5 * np.arange(360)
    coarse_lon = -180 + 0.25 + 0.5 * np.arange(720)
    fine_lat = np.array([10.1, 10.3, -45.05])
    fine_lon = np.array([-179.95, 20.05, 179.95])
    resample = noise.Resampler(0.5, fine_lat, fine_lon)
    linear = (coarse_lat[:, None] * 2.0 + 0 * coarse_lon[None, :]).astype("float32")
    np.testing.assert_allclose(
        resample(resample.window(linear)), np.repeat(2 * fine_lat[:, None], 3, axis=1), atol=1e-4
    )
    seam = np.zeros((360, 720), dtype="float32")
    seam[:, 0], seam[:, -1] = 1.0, 3.0  # -179.75 and 179.75: the dateline lies halfway
    at_seam = resample(resample.window(seam))
    np.testing.assert_allclose(at_seam[:, 0], 1.0 * 0.6 + 3.0 * 0.4, atol=1e-5)
