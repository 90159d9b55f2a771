"""Which days an update adds and refills: pure, from the granules behind each day.

Day T is filled from days T-4..T+4. A new day T changes the windows of T-4..T, and a day D
whose granule changed (a regenerated near-real-time file, a late granule) changes D-4..D+4;
no other day's window changes, so no other day is computed again. The product records the
SHA-256 of each day's granule, the raw cube the same after ingesting: their difference is
what is new or changed, whatever an earlier, interrupted update did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class UpdatePlan:
    """What one update changes, in days of the product (0 = its first day).

    Attributes:
        first_day: the product's first day on the raw cube's time axis.
        days: the product's length after the update (it runs to the raw cube's last day).
        previous_days: its length before.
        new: days added.
        changed: days it held whose granule changed.
        refill: every day computed again, sorted.
        final_refilled: days among ``refill`` that were final before (only a changed granule
            refills those; the version records them).
        spans: runs of whole chunks ``[start, stop)`` that hold the refilled days.
    """

    first_day: int
    days: int
    previous_days: int
    new: tuple[int, ...]
    changed: tuple[int, ...]
    refill: tuple[int, ...]
    final_refilled: tuple[int, ...]
    spans: tuple[tuple[int, int], ...]

    @property
    def nothing_new(self) -> bool:
        return not self.refill


def plan_update(
    product_sha256: Sequence[str],
    raw_sha256: Sequence[str],
    first_day: int,
    half_window: int,
    chunk_days: int,
) -> UpdatePlan:
    """The plan of an update of a product whose days hold ``product_sha256`` (one granule
    hash per day, empty where none), against a raw cube whose days hold ``raw_sha256``."""
    previous = len(product_sha256)
    days = len(raw_sha256) - first_day
    if days < previous:
        raise ValueError(
            f"the raw cube ends {previous - days} day(s) before the product; it must not shrink"
        )
    new = tuple(range(previous, days))
    changed = tuple(
        d for d in range(previous) if str(product_sha256[d]) != str(raw_sha256[first_day + d])
    )
    refill: set[int] = set()
    for day in new:
        refill.update(range(day - half_window, day + 1))
    for day in changed:
        refill.update(range(day - half_window, day + half_window + 1))
    ordered = tuple(sorted(d for d in refill if 0 <= d < days))
    final = tuple(d for d in ordered if d + half_window <= previous - 1)
    return UpdatePlan(
        first_day,
        days,
        previous,
        new,
        changed,
        ordered,
        final,
        chunk_spans(ordered, chunk_days, days),
    )


def chunk_spans(days: Sequence[int], chunk_days: int, length: int) -> tuple[tuple[int, int], ...]:
    """The runs of whole chunks (``[start, stop)``, the last cut at ``length``) holding
    ``days``: consecutive chunks merge into one run."""
    chunks = sorted({d // chunk_days for d in days})
    runs: list[list[int]] = []
    for chunk in chunks:
        if runs and runs[-1][1] == chunk:
            runs[-1][1] = chunk + 1
        else:
            runs.append([chunk, chunk + 1])
    return tuple((a * chunk_days, min(b * chunk_days, length)) for a, b in runs)
