"""Progress that fits where it goes: a live bar on a terminal, a few log lines elsewhere.

On a terminal, a tqdm bar. In a pod's log, a CI log or a file, a bar's carriage-return updates
are noise that hides the one line that matters, so there the same calls give log lines (the
``sgdsm_cloud.progress`` logger, so ``--log-format json`` formats them too): one when at least
10 % more is done **and** at least 30 s have passed since the last, with the count, the rate
and the time left, and a last one when a step that took longer than that ends. A step shorter
than 30 s logs nothing (its own result line says it ended). ``sgdsm -q`` shows neither.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

LOGGER = logging.getLogger("sgdsm_cloud.progress")
EVERY_FRACTION, EVERY_SECONDS = 0.10, 30.0


def progress(
    iterable: Any = None, *, desc: str, total: int | None = None, unit: str = "it", **kw: Any
) -> Any:
    """A tqdm bar on a terminal, else a :class:`LogProgress`; off under ``sgdsm -q`` (or
    ``disable=True``). Both take ``update(n)``, ``set_postfix(...)``, iteration and ``with``."""
    switched_off = bool(kw.pop("disable", False))  # the caller's own switch
    quiet = switched_off or logging.getLogger("sgdsm_cloud").getEffectiveLevel() > logging.INFO
    if sys.stderr.isatty():
        from tqdm.auto import tqdm

        return tqdm(
            iterable, desc=desc, total=total, unit=unit, disable=quiet, file=sys.stderr,
            dynamic_ncols=True, mininterval=0.1, **kw,
        )  # fmt: skip
    return LogProgress(iterable, desc=desc, total=total, unit=unit, disable=quiet)


def due(done: int, total: int | None, since_done: int, since_s: float) -> bool:
    """Whether a log line is due: 10 % more of ``total`` done since the last line (any amount
    when the total is unknown) and 30 s passed. Pure."""
    enough = since_done >= EVERY_FRACTION * total if total else since_done > 0
    return enough and since_s >= EVERY_SECONDS


def describe(desc: str, done: int, total: int | None, unit: str, seconds: float) -> str:
    """``fill: 40/160 tiles (25%), 3.1 tiles/s, about 39 s left``. Pure."""
    rate = done / seconds if seconds > 0 else 0.0
    count = f"{done}/{total} {unit}s ({done / total:.0%})" if total else f"{done} {unit}s"
    text = f"{desc}: {count}, {rate:.3g} {unit}s/s"
    if total and rate > 0 and done < total:
        text += f", about {_duration((total - done) / rate)} left"
    elif total and done >= total:
        text += f", done in {_duration(seconds)}"
    return text


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class LogProgress:
    """The log-line form of a progress bar (see the module docstring)."""

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        *,
        desc: str,
        total: int | None = None,
        unit: str = "it",
        disable: bool = False,
        clock: Any = time.monotonic,
    ) -> None:
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.iterable, self.desc, self.total, self.unit = iterable, desc, total, unit
        self.disable, self.clock = disable, clock
        self.n = 0
        self.started = self.last_time = clock()
        self.last_n = 0
        self.logged = False
        self.postfix = ""

    def __iter__(self) -> Iterator[Any]:
        assert self.iterable is not None, "nothing to iterate over"
        for item in self.iterable:
            yield item
            self.update()
        self.close()

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = self.clock()
        if not self.disable and due(self.n, self.total, self.n - self.last_n, now - self.last_time):
            self._log(now)

    def set_postfix(self, **values: Any) -> None:
        self.postfix = ", ".join(f"{k} {v}" for k, v in values.items())

    def close(self) -> None:
        """The last line, for a step long enough to have logged (once)."""
        now = self.clock()
        if not self.disable and now - self.started >= EVERY_SECONDS and self.last_n != self.n:
            self._log(now)
        self.last_n = self.n

    def _log(self, now: float) -> None:
        text = describe(self.desc, self.n, self.total, self.unit, now - self.started)
        LOGGER.info("%s%s", text, f" ({self.postfix})" if self.postfix else "")
        self.last_n, self.last_time, self.logged = self.n, now, True
