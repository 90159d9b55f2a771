"""The simulated-gap library: real day masks cut over all-land squares.

During the scan (:func:`sgdsm_cloud.model.sampling.scan`), every ``patch`` x ``patch`` all-land
window of every day whose gap fraction falls in ``gap_bins`` is offered to a reservoir of that
gap-fraction stratum; each reservoir keeps a uniform random subset. A draw picks a stratum
uniformly, then a mask in it, never one cut from the sample's own day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sgdsm_cloud.errors import ConfigError


@dataclass(frozen=True)
class GapLibrary:
    """Real day masks cut over all-land squares, with their day and stratum.

    Attributes:
        masks: (n, side, side) bool, True where the day observed the cell.
        days: (n,) the day each mask was cut from (period-relative).
        strata: (n,) the gap-fraction bin of each mask.
    """

    masks: np.ndarray
    days: np.ndarray
    strata: np.ndarray

    def __len__(self) -> int:
        return int(self.days.size)

    def draw(self, rng: np.random.Generator, avoid_days: np.ndarray) -> np.ndarray:
        """One mask per entry of ``avoid_days``, never one cut from that day.

        A stratum is picked uniformly among those holding a mask of another day, then a mask of
        another day in it, so a sample never learns to restore the gaps its own day really has.
        """
        if len(self) == 0:
            raise ConfigError(
                "the simulated gap library is empty: no all-land square has a gap fraction in "
                "the gap_bins range; train on a longer period or widen gap_bins"
            )
        chosen = np.empty(avoid_days.size, dtype=np.int64)
        for day in np.unique(avoid_days):
            allowed = self.days != day
            if not allowed.any():
                raise ConfigError(
                    "the simulated gap library holds masks of a single day only, so a sample of "
                    "that day has no other day's gaps to wear; train on a longer period"
                )
            strata = np.unique(self.strata[allowed])
            for i in np.flatnonzero(avoid_days == day):
                stratum = strata[rng.integers(strata.size)]
                members = np.flatnonzero(allowed & (self.strata == stratum))
                chosen[i] = members[rng.integers(members.size)]
        return self.masks[chosen]


class Reservoir:
    """Uniform random subsets of a stream of candidate masks, one reservoir per stratum."""

    def __init__(self, strata: int, capacity: int, patch: int, rng: np.random.Generator) -> None:
        self.capacity = capacity
        self.rng = rng
        self.masks = np.zeros((strata, capacity, patch, patch), dtype=bool)
        self.days = np.zeros((strata, capacity), dtype=np.int64)
        self.seen = np.zeros(strata, dtype=np.int64)

    def offer(self, stratum: int, mask: np.ndarray, day: int) -> None:
        seen = self.seen[stratum]
        slot = seen if seen < self.capacity else self.rng.integers(seen + 1)
        if slot < self.capacity:
            self.masks[stratum, slot] = mask
            self.days[stratum, slot] = day
        self.seen[stratum] += 1

    def library(self) -> GapLibrary:
        kept = np.minimum(self.seen, self.capacity)
        strata = np.repeat(np.arange(kept.size), kept)
        slots = (
            np.concatenate([np.arange(k) for k in kept])
            if kept.size
            else np.zeros(0, dtype=np.int64)
        )
        return GapLibrary(self.masks[strata, slots], self.days[strata, slots], strata)


def offer_day(
    reservoir: Reservoir,
    today: np.ndarray,
    day: int,
    rows: np.ndarray,
    cols: np.ndarray,
    all_land: np.ndarray,
    label: np.ndarray,
    edges: np.ndarray,
    p: int,
) -> None:
    """Offer ``today``'s all-land windows on the patch grid (``label``: observed cells of each)."""
    gap_fraction = 1.0 - label / float(p * p)
    strata = np.searchsorted(edges, gap_fraction, side="left") - 1
    candidates = all_land & (strata >= 0) & (strata < edges.size - 1)
    for r, c in zip(*np.nonzero(candidates)):
        window = today[rows[r] : rows[r] + p, cols[c] : cols[c] + p]
        reservoir.offer(int(strata[r, c]), window, day)
