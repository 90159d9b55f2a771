"""Training batches: windows cut from a slab of days, simulated gaps, truncated windows.

:func:`iter_slabs` visits the slabs of centre days in random order, reads each once from the
store (with its window halo) and cuts its samples' windows; :func:`iter_batches` lays a
simulated gap over each centre day, optionally hides the first or last days of some windows,
and yields :class:`Batch` es of a fixed size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from sgdsm_cloud.model.config import TrainConfig
from sgdsm_cloud.model.gaps import GapLibrary
from sgdsm_cloud.model.sampling import DayReader, SampleIndex


@dataclass(frozen=True)
class Batch:
    """Network inputs and loss masks of a batch, float32 numpy arrays.

    Attributes:
        data, mask: ``(B, passes, window, P, P)``; the centre day of pass 0 carries the
            simulated gaps (pass 1, the other overpass when there is one, keeps all it saw).
        target: ``(B, 1, P, P)`` the real centre day (0 where unobserved).
        known: 1 where the label is known (observed land).
        gap: 1 where the label is known but hidden from the input (the simulated gap).
    """

    data: np.ndarray
    mask: np.ndarray
    target: np.ndarray
    known: np.ndarray
    gap: np.ndarray

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def slice(self, start: int, stop: int) -> Batch:
        return Batch(
            *(a[start:stop] for a in (self.data, self.mask, self.target, self.known, self.gap))
        )

    @classmethod
    def concat(cls, batches: list[Batch]) -> Batch:
        return cls(
            *(
                np.concatenate(parts)
                for parts in zip(*((b.data, b.mask, b.target, b.known, b.gap) for b in batches))
            )
        )


def make_batch(
    windows: np.ndarray,
    land: np.ndarray,
    keep: np.ndarray,
    context: int = 0,
    shared: np.ndarray | None = None,
) -> Batch:
    """Build a :class:`Batch` from windows ``(B, window, S, S)`` (NaN gaps), ``land`` and ``keep``.

    Windows ``(B, 2, window, S, S)`` hold the pass to fill and the other overpass: the second
    is input alone (no label), whole but for the samples ``shared`` marks, whose simulated gap
    hides its centre day too.

    ``keep`` ``(B, P, P)`` is the simulated day mask (True = observed) of the patch: the centre
    day's input keeps only its observations inside ``keep``. With ``context`` the windows are
    the patch plus that many cells on each side (``S = P + 2 context``), where the centre day
    keeps what it observed, as around a gap in a fill; the labels (``known``, ``gap``) are the
    patch's alone.
    """
    other = windows[:, 1] if windows.ndim == 5 else None
    windows = windows[:, 0] if windows.ndim == 5 else windows
    if context:
        ring = np.ones((len(keep), windows.shape[-1], windows.shape[-1]), dtype=bool)
        ring[:, context:-context, context:-context] = keep
        keep = ring
    centre = windows.shape[1] // 2
    observed = np.isfinite(windows) & land[:, None]
    known = observed[:, centre] & _inner(windows.shape[-1], context)
    mask = observed.copy()
    mask[:, centre] &= keep
    masks = [mask]
    if other is not None:
        other_mask = np.isfinite(other) & land[:, None]
        if shared is not None:
            other_mask[:, centre] &= keep | ~shared[:, None, None]
        masks.append(other_mask)
    inputs = [windows] if other is None else [windows, other]
    data = np.stack([np.where(m, w, 0.0) for m, w in zip(masks, inputs)], axis=1)
    target = np.where(known, windows[:, centre], 0.0).astype("float32")
    gap = known & ~mask[:, centre]
    return Batch(
        data.astype("float32"),
        np.stack(masks, axis=1).astype("float32"),
        target[:, None],
        _channel(known),
        _channel(gap),
    )


def _inner(side: int, context: int) -> np.ndarray:
    """``(side, side)`` bool: True on the patch, False on its ``context`` ring."""
    inner = np.zeros((side, side), dtype=bool)
    inner[context : side - context, context : side - context] = True
    return inner


def _channel(flags: np.ndarray) -> np.ndarray:
    """Boolean flags ``(N, ...)`` as float32 with a channel axis: ``(N, 1, ...)``."""
    return flags.astype("float32")[:, None]


def truncate_windows(
    windows: np.ndarray, probability: float, rng: np.random.Generator
) -> np.ndarray:
    """Hide the first or last ``k`` days (``k`` in 1..half window) of a random share of windows
    ``(n, [passes,] window, S, S)`` (the same days of both passes: a day missing from the record).

    The record's ends and missing days leave windows without some neighbour days in
    inference; this shows the network such windows in training too.
    """
    window = windows.shape[-3]
    out = windows.copy()
    for i in np.flatnonzero(rng.random(len(windows)) < probability):
        k = int(rng.integers(1, window // 2 + 1))
        hidden = slice(window - k, None) if rng.random() < 0.5 else slice(0, k)
        out[i][..., hidden, :, :] = np.nan
    return out


def cut_samples(
    slab: np.ndarray,
    slab_start: int,
    index: SampleIndex,
    land: np.ndarray,
    patch: int,
    half_window: int,
    context: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Windows ``(n, window, S, S)`` and land ``(n, S, S)`` of ``index``'s samples from a slab,
    ``S = patch + 2 * context``: each patch with ``context`` cells around it (unobserved sea
    beyond the grid's edges).

    ``slab`` holds days ``slab_start - half_window ..`` (period-relative) of the whole grid.
    """
    window, side = 2 * half_window + 1, patch + 2 * context
    windows = np.full((len(index), window, side, side), np.nan, dtype="float32")
    lands = np.zeros((len(index), side, side), dtype=bool)
    height, width = land.shape
    for i, (day, row, col) in enumerate(zip(index.day, index.row, index.col)):
        local = day - slab_start
        top, left = row - context, col - context
        rows = slice(max(top, 0), min(top + side, height))
        cols = slice(max(left, 0), min(left + side, width))
        at = (slice(rows.start - top, rows.stop - top), slice(cols.start - left, cols.stop - left))
        windows[i][:, at[0], at[1]] = slab[local : local + window, rows, cols]
        lands[i][at] = land[rows, cols]
    return windows, lands


def iter_slabs(
    reader: DayReader,
    index: SampleIndex,
    config: TrainConfig,
    half_window: int,
    rng: np.random.Generator,
) -> Iterator[tuple[np.ndarray, np.ndarray, SampleIndex]]:
    """``(windows, land, samples)`` per slab of centre days, slabs and samples in random order.

    With the other overpass (``reader.other``) the windows are ``(n, 2, window, S, S)``.
    """
    slab_of = index.day // config.slab_days
    for slab in rng.permutation(np.unique(slab_of)):
        members = index.subset(rng.permutation(np.flatnonzero(slab_of == slab)))
        start = int(slab) * config.slab_days
        stop = min(start + config.slab_days, reader.period.count)
        days = reader.read(start - half_window, stop + half_window)
        windows, lands = cut_samples(
            days, start, members, reader.land, config.patch, half_window, config.context
        )
        if reader.other is not None:
            other = reader.read(start - half_window, stop + half_window, reader.other)
            other_windows, _ = cut_samples(
                other, start, members, reader.land, config.patch, half_window, config.context
            )
            windows = np.stack([windows, other_windows], axis=1)
        yield windows, lands, members


def iter_batches(
    slabs: Iterator[tuple[np.ndarray, np.ndarray, SampleIndex]],
    library: GapLibrary,
    batch_size: int,
    rng: np.random.Generator,
    truncate_probability: float = 0.0,
    context: int = 0,
    shared_gap: float = 0.0,
) -> Iterator[Batch]:
    """Batches of ``batch_size`` with simulated gaps (and truncated windows, see
    :func:`truncate_windows`); a last partial batch only if it is the only one. With the other
    pass, a ``shared_gap`` share of the samples' gaps hide its centre day too."""
    pending: list[Batch] = []
    count, emitted = 0, False
    for windows, lands, members in slabs:
        if truncate_probability > 0:
            windows = truncate_windows(windows, truncate_probability, rng)
        keep = library.draw(rng, members.day)
        shared = rng.random(len(members)) < shared_gap if windows.ndim == 5 else None
        pending.append(make_batch(windows, lands, keep, context, shared))
        count += len(members)
        while count >= batch_size:
            merged = Batch.concat(pending)
            yield merged.slice(0, batch_size)
            emitted = True
            pending, count = [merged.slice(batch_size, len(merged))], len(merged) - batch_size
    if count and not emitted:
        yield Batch.concat(pending)
