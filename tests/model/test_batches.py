"""Training batches: simulated gaps, truncated windows, fixed sizes, one read per slab."""

from __future__ import annotations

import dataclasses

import numpy as np

from sgdsm_cloud.model.batches import iter_batches, iter_slabs, make_batch, truncate_windows
from sgdsm_cloud.model.config import TrainConfig
from sgdsm_cloud.model.sampling import DayReader, Period, scan

from .cubes import in_memory_cube

HW = 4
CONFIG = TrainConfig(
    patch=8, stride=4, min_label_fraction=0.7, min_neighbour_coverage=0.9, slab_days=5
)


def test_make_batch_hides_the_simulated_gap_from_the_input_only():
    rng = np.random.default_rng(0)
    windows = rng.uniform(0.1, 0.4, size=(3, 9, 5, 5)).astype("float32")
    windows[rng.random(windows.shape) < 0.3] = np.nan
    land = np.ones((3, 5, 5), dtype=bool)
    land[:, 0] = False
    keep = rng.random((3, 5, 5)) < 0.5
    batch = make_batch(windows, land, keep)
    observed = np.isfinite(windows) & land[:, None]
    np.testing.assert_array_equal(batch.known[:, 0], observed[:, 4])
    np.testing.assert_array_equal(batch.mask[:, 0, 4], observed[:, 4] & keep)
    np.testing.assert_array_equal(batch.mask[:, 0, :4], observed[:, :4])
    np.testing.assert_array_equal(batch.gap[:, 0], observed[:, 4] & ~keep)
    assert np.all(batch.data[batch.mask == 0] == 0)
    np.testing.assert_array_equal(batch.target[:, 0][observed[:, 4]], windows[:, 4][observed[:, 4]])
    assert all(
        a.dtype == np.float32
        for a in (batch.data, batch.mask, batch.target, batch.known, batch.gap)
    )


def test_batches_are_full_except_when_there_is_only_one(small_cube):
    _, _, reader = small_cube
    index, library = scan(reader, CONFIG, HW, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    sizes = [
        len(b) for b in iter_batches(iter_slabs(reader, index, CONFIG, HW, rng), library, 7, rng)
    ]
    assert sizes == [7] * (len(index) // 7)
    few = index.subset(np.arange(3))
    sizes = [
        len(b) for b in iter_batches(iter_slabs(reader, few, CONFIG, HW, rng), library, 7, rng)
    ]
    assert sizes == [3]


def test_truncation_hides_whole_days_at_one_end_of_some_windows():
    windows = np.ones((400, 9, 2, 2), dtype="float32")
    out = truncate_windows(windows, 0.5, np.random.default_rng(0))
    hidden = np.isnan(out).all(axis=(2, 3))  # (window, day)
    assert np.array_equal(np.isnan(out).any(axis=(2, 3)), hidden)  # whole days only
    assert not hidden[:, 4].any()  # never the centre day
    truncated = hidden.any(axis=1)
    assert 150 < truncated.sum() < 250
    for row in hidden[truncated]:
        k = row.sum()
        assert 1 <= k <= 4 and (row[:k].all() or row[-k:].all())
    assert np.all(windows == 1)  # the input is not modified


class RecordingReader(DayReader):
    """Records the day ranges read from the store."""

    def __init__(self, *args):
        super().__init__(*args)
        self.reads: list[tuple[int, int]] = []

    def read(self, start, stop):
        self.reads.append((start, stop))
        return super().read(start, stop)


def test_an_epoch_reads_each_slab_once_with_its_window_halo(small_cube):
    observed, land, _ = small_cube
    reader = RecordingReader(in_memory_cube(observed, land), Period(0, 12))
    index, _ = scan(reader, CONFIG, HW, np.random.default_rng(0))
    reader.reads.clear()
    slabs = list(iter_slabs(reader, index, CONFIG, HW, np.random.default_rng(0)))
    starts = sorted(start + HW for start, _ in reader.reads)
    assert starts == sorted({int(d) // CONFIG.slab_days * CONFIG.slab_days for d in index.day})
    assert all(stop - start <= CONFIG.slab_days + 2 * HW for start, stop in reader.reads)
    windows, lands, members = slabs[0]
    d, r, c = members.day[0], members.row[0], members.col[0]
    expected = reader.read(d - HW, d + HW + 1)[:, r : r + CONFIG.patch, c : c + CONFIG.patch]
    np.testing.assert_array_equal(windows[0], expected)


def test_context_surrounds_each_patch_and_pads_beyond_the_grid_with_unobserved_sea(small_cube):
    _, land, reader = small_cube
    config = dataclasses.replace(CONFIG, context=3)
    index, library = scan(reader, config, HW, np.random.default_rng(0))
    assert library.masks.shape[1:] == (8, 8)  # simulated gaps lie on the patch
    windows, lands, members = next(iter_slabs(reader, index, config, HW, np.random.default_rng(0)))
    assert windows.shape[2:] == lands.shape[1:] == (14, 14)
    days = reader.read(0, reader.period.count)
    padded = np.pad(days, ((HW, HW), (3, 3), (3, 3)), constant_values=np.nan)
    padded_land = np.pad(land, 3, constant_values=False)
    for i in range(len(members)):
        d, r, c = members.day[i], members.row[i], members.col[i]
        expected = padded[d : d + 2 * HW + 1, r : r + 14, c : c + 14]
        np.testing.assert_array_equal(windows[i], expected)
        np.testing.assert_array_equal(lands[i], padded_land[r : r + 14, c : c + 14])
    assert (members.row == 0).any()  # some patches touch the grid's edge: their ring is padded


def test_with_context_the_gap_and_the_labels_are_the_patch_s_and_the_ring_stays_observed():
    rng = np.random.default_rng(0)
    windows = rng.uniform(0.1, 0.4, size=(2, 9, 7, 7)).astype("float32")
    windows[:, 4, 0, 0] = np.nan  # a ring cell the centre day did not observe
    land = np.ones((2, 7, 7), dtype=bool)
    keep = rng.random((2, 3, 3)) < 0.5  # the simulated day mask of the 3 x 3 patch
    batch = make_batch(windows, land, keep, context=2)
    ring = np.ones((7, 7), dtype=bool)
    ring[2:5, 2:5] = False
    assert not batch.known[:, 0][:, ring].any() and not batch.gap[:, 0][:, ring].any()
    assert batch.known[:, 0][:, ~ring].all()  # every patch cell is observed land here
    np.testing.assert_array_equal(batch.gap[:, 0][:, 2:5, 2:5], ~keep)
    np.testing.assert_array_equal(batch.mask[:, 0, 4][:, 2:5, 2:5], keep)
    centre_observed = np.isfinite(windows[:, 4])
    np.testing.assert_array_equal(batch.mask[:, 0, 4][:, ring], centre_observed[:, ring])
    assert batch.mask[:, 0, 4, 0, 0].sum() == 0  # what the day did not observe stays unobserved


def test_with_the_other_pass_it_is_input_alone_and_whole_while_the_gap_and_labels_are_pass_0s():
    rng = np.random.default_rng(2)
    windows = rng.uniform(0.1, 0.4, size=(3, 2, 9, 5, 5)).astype("float32")
    windows[rng.random(windows.shape) < 0.3] = np.nan
    land = np.ones((3, 5, 5), dtype=bool)
    land[:, 0] = False
    keep = rng.random((3, 5, 5)) < 0.5
    batch = make_batch(windows, land, keep)
    alone = make_batch(windows[:, 0], land, keep)  # what the pass to fill gives on its own
    for name in ("target", "known", "gap"):
        np.testing.assert_array_equal(getattr(batch, name), getattr(alone, name))
    np.testing.assert_array_equal(batch.data[:, :1], alone.data)
    np.testing.assert_array_equal(batch.mask[:, :1], alone.mask)
    other_observed = np.isfinite(windows[:, 1]) & land[:, None]
    np.testing.assert_array_equal(batch.mask[:, 1], other_observed)  # no simulated gap
    np.testing.assert_array_equal(batch.data[:, 1][other_observed], windows[:, 1][other_observed])
    shared = np.array([True, False, True])  # these samples' gaps hit both passes
    both = make_batch(windows, land, keep, shared=shared)
    expected = other_observed.copy()
    expected[shared, 4] &= keep[shared]
    np.testing.assert_array_equal(both.mask[:, 1], expected)
    np.testing.assert_array_equal(both.mask[:, 0], batch.mask[:, 0])
    assert (expected != other_observed).any()


def test_truncation_hides_the_same_days_of_both_passes():
    windows = np.ones((200, 2, 9, 2, 2), dtype="float32")
    out = truncate_windows(windows, 0.5, np.random.default_rng(0))
    hidden = np.isnan(out).all(axis=(3, 4))  # (window, pass, day)
    np.testing.assert_array_equal(hidden[:, 0], hidden[:, 1])
    assert 50 < hidden[:, 0].any(axis=1).sum() < 150 and not hidden[:, :, 4].any()


def test_with_the_other_pass_each_sample_reads_both_passes_on_the_same_days_and_cells(small_cube):
    observed, land, _ = small_cube
    ascending = np.where(np.isnan(observed), 0.3, np.nan).astype("float32")  # sees the gaps
    reader = DayReader(
        in_memory_cube(observed, land), Period(0, 12), in_memory_cube(ascending, land)
    )
    index, _ = scan(reader, CONFIG, HW, np.random.default_rng(0))
    windows, _, members = next(iter_slabs(reader, index, CONFIG, HW, np.random.default_rng(0)))
    assert windows.shape[1:] == (2, 2 * HW + 1, CONFIG.patch, CONFIG.patch)
    d, r, c = members.day[0], members.row[0], members.col[0]
    box = (slice(None), slice(r, r + CONFIG.patch), slice(c, c + CONFIG.patch))
    np.testing.assert_array_equal(windows[0, 0], reader.read(d - HW, d + HW + 1)[box])
    np.testing.assert_array_equal(windows[0, 1], reader.read(d - HW, d + HW + 1, reader.other)[box])
