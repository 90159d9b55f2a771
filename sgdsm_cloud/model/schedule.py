"""When to lower the learning rate and when to stop: pure functions of the score history.

Training "until the loss has decreased and then stays smooth" (the paper) is read as a plateau
rule on the monitored score (validation gap RMSE): a plateau is reached once the best of the
last ``patience`` epochs improves on the best before them by at most ``tolerance`` (relative),
and, in the first stage, the score has fallen below its first value. At each plateau the
learning rate is multiplied by ``lr_drop_factor``, ``lr_drops`` times; the plateau after the
last drop stops training. Being a function of the history alone, the schedule resumes exactly
from the saved history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def plateaued(
    values: Sequence[float], patience: int, tolerance: float, *, require_decrease: bool = True
) -> bool:
    """True once the best of the last ``patience`` values improves on the best before them by at
    most ``tolerance`` (relative); NaN counts as no improvement."""
    if len(values) <= patience:
        return False
    finite = np.nan_to_num(np.asarray(values, dtype="float64"), nan=np.inf)
    before, recent = finite[:-patience].min(), finite[-patience:].min()
    decreased = finite.min() < finite[0] or not require_decrease
    return bool(decreased and recent > before * (1.0 - tolerance))


@dataclass(frozen=True)
class Stage:
    """Attributes: ``drops`` learning-rate drops so far; ``finished`` once training should stop."""

    drops: int
    finished: bool


def stage(values: Sequence[float], patience: int, tolerance: float, max_drops: int) -> Stage:
    """The schedule's state after the epochs whose monitored scores are ``values``."""
    start, drops = 0, 0
    for end in range(1, len(values) + 1):
        if plateaued(values[start:end], patience, tolerance, require_decrease=drops == 0):
            if drops == max_drops:
                return Stage(drops, True)
            drops, start = drops + 1, end
    return Stage(drops, False)
