"""The report's figures: each is a readable PNG of the size its layout asks for, also when the
inputs are empty or all missing."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from sgdsm_cloud.validate import figures

LAT = 42.0 - 0.125 - 0.25 * np.arange(6)
LON = -104.0 + 0.125 + 0.25 * np.arange(8)
TIMES = np.arange("2017-08-10", "2017-08-20", dtype="datetime64[D]")


def pixels(path, width_in: float, height_in: float) -> np.ndarray:
    """The PNG's pixels, checked to be an image of ``width_in`` x ``height_in`` inches at DPI."""
    image = imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    assert image.shape[:2] == (round(height_in * figures.DPI), round(width_in * figures.DPI))
    return image


def colourful(image: np.ndarray) -> bool:
    """Some pixel is neither grey nor white: a colour map or coloured marker was drawn."""
    rgb = image[..., :3]
    return bool((rgb.max(axis=-1) - rgb.min(axis=-1) > 0.2).any())


@pytest.fixture
def drawn(monkeypatch) -> list:
    """The figures saved during a test, to look at their axes."""
    kept = []
    save = figures._save

    def keep(fig, path):
        kept.append(fig)
        return save(fig, path)

    monkeypatch.setattr(figures, "_save", keep)
    return kept


def test_extent_covers_whole_cells_north_up():
    assert figures._extent(LAT, LON) == pytest.approx((-104.0, -102.0, 40.5, 42.0))
    assert figures._extent(np.array([10.0]), np.array([20.0])) == (19.5, 20.5, 9.5, 10.5)


def test_day_map_draws_three_panels_sized_by_the_grid(tmp_path, drawn):
    original = np.full((6, 8), 0.2)
    original[2:4, 3:6] = np.nan
    filled = np.full((6, 8), 0.3)
    flags = np.ones((6, 8), dtype="uint8")
    flags[2:4, 3:6] = 2
    flags[0, 0] = 0
    path = figures.day_map(tmp_path / "d" / "map.png", LAT, LON, original, filled, flags, "day")
    assert path == tmp_path / "d" / "map.png"  # the folder is created
    assert colourful(pixels(path, 12.6, 3.6))  # a wide grid: the widest figure
    fig = drawn[0]
    titles = [ax.get_title() for ax in fig.axes[:3]]
    assert titles == ["original", "filled", "flag"] and fig.get_suptitle() == "day"
    assert fig.axes[0].get_images()[0].get_extent() == pytest.approx([-104.0, -102.0, 40.5, 42.0])
    tall = figures.day_map(tmp_path / "tall.png", LAT, LON[:2], original[:, :2],
                           filled[:, :2], flags[:, :2], "tall")  # fmt: skip
    pixels(tall, 3 * 3.2 * 2 / 6 + 1.5, 3.6)  # narrower for a tall grid


def test_patches_draw_one_row_per_gap_and_a_column_per_method(tmp_path, drawn):
    removed = np.zeros((12, 12), dtype=bool)
    removed[3:9, 3:9] = True
    original = np.linspace(0.1, 0.4, 144).reshape(12, 12)
    masked = np.where(removed, np.nan, original)
    fills = {"a": original, "b": np.where(removed, np.nan, original)}  # b reaches nothing
    items = [figures.Patch(f"gap {k}", original, masked, removed, fills) for k in range(2)]
    path = figures.patches(tmp_path / "patches.png", items)
    assert colourful(pixels(path, 1.9 * 4 + 0.8, 1.9 * 2 + 0.4))
    panels = [ax for ax in drawn[0].axes if ax.get_images()]
    assert len(panels) == 2 * 4
    assert [ax.get_title() for ax in panels[:4]] == ["original", "masked input", "a", "b"]
    assert panels[0].get_ylabel() == "gap 0" and panels[4].get_ylabel() == "gap 1"


def test_patches_without_gaps_write_an_empty_figure(tmp_path, drawn):
    path = figures.patches(tmp_path / "none.png", [])
    pixels(path, 1.9 * 2 + 0.8, 1.9 + 0.4)
    assert not any(ax.get_images() for ax in drawn[0].axes)  # no panel, no colour bar


def test_scatter_density_titles_each_method_with_its_scores(tmp_path, drawn):
    rng = np.random.default_rng(0)
    ref = rng.uniform(0.1, 0.4, 200)
    pairs = {"good": (ref + 0.01, ref), "partial": (np.where(ref > 0.25, np.nan, ref), ref)}
    path = figures.scatter_density(tmp_path / "s.png", pairs, "Title", "x label", "y label")
    assert colourful(pixels(path, 3.0 * 2 + 0.6, 3.2))
    good, partial = drawn[0].axes[:2]
    assert good.get_title().startswith("good\nR=1.000 RMSE=0.010 N=200")
    assert partial.get_title().endswith(f"N={int((ref <= 0.25).sum())}")
    lo, hi = good.get_xlim()  # one range for every panel, over all finite values
    assert lo == pytest.approx(ref.min()) and hi == pytest.approx(ref.max() + 0.01)
    assert partial.get_xlim() == (lo, hi) and good.get_ylabel() == "y label"


def test_scatter_density_of_missing_or_constant_values_draws_empty_panels(tmp_path, drawn):
    nan = np.full(5, np.nan)
    figures.scatter_density(tmp_path / "nan.png", {"a": (nan, nan), "b": (nan, nan)}, "t", "x", "y")
    pixels(tmp_path / "nan.png", 6.6, 3.2)
    nothing = drawn[0].axes[0]
    assert "N=0" in nothing.get_title() and not nothing.collections  # no hexbin drawn
    assert nothing.get_xlim() == figures.SM_RANGE  # no finite value: the soil-moisture range
    constant = {"c": (np.full(3, 0.2), np.full(3, 0.2))}
    figures.scatter_density(tmp_path / "constant.png", constant, "t", "x", "y")
    assert drawn[1].axes[0].get_xlim() == pytest.approx((0.2, 0.21))  # a point range is widened
    figures.scatter_density(tmp_path / "empty.png", {}, "t", "x", "y")
    pixels(tmp_path / "empty.png", 3.6, 3.2)  # no method: one blank panel
    assert drawn[2].axes[0].get_ylabel() == "y" and not drawn[2].axes[0].get_title()


def test_time_series_counts_observed_and_filled_days_in_its_legend(tmp_path, drawn):
    product = np.linspace(0.1, 0.3, 10)
    product[7] = np.nan
    flags = np.array([1, 1, 2, 1, 2, 2, 1, 3, 0, 1])
    path = figures.time_series(tmp_path / "ts.png", TIMES, product, flags, "point",
                               insitu=product + 0.02)  # fmt: skip
    assert colourful(pixels(path, 8.0, 2.8))
    labels = [t.get_text() for t in drawn[0].axes[0].get_legend().get_texts()]
    assert labels == ["seamless series", "observed (5 d)", "filled (3 d)", "in situ"]
    figures.time_series(tmp_path / "bare.png", TIMES, product, flags, "point")
    labels = [t.get_text() for t in drawn[1].axes[0].get_legend().get_texts()]
    assert "in situ" not in labels


def test_calibration_draws_reliability_and_spread_skill_on_unit_axes(tmp_path, drawn):
    reliability = [(0.2, 0.15), (0.6827, 0.7), (0.9545, 0.93)]
    deciles = [(0.01, 0.012), (0.02, 0.018), (0.04, 0.05)]
    path = figures.calibration(tmp_path / "c.png", reliability, deciles, "sigma")
    assert colourful(pixels(path, 7.2, 3.4))
    left, right = drawn[0].axes[:2]
    assert left.get_xlim() == (0.0, 1.0) and left.get_ylim() == (0.0, 1.0)
    assert right.get_xlim() == pytest.approx((0.0, 0.05 * 1.05))  # the largest value, plus 5 %
    np.testing.assert_allclose(left.lines[1].get_xdata(), [0.2, 0.6827, 0.9545])
    np.testing.assert_allclose(right.lines[1].get_ydata(), [0.012, 0.018, 0.05])
