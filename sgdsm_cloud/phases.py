"""Wall time of a run's phases (listing, planning, template, tasks, consolidation).

Ingest and fill log them at INFO (``sgdsm -v``) as each phase ends, in one line holding every
phase so far, ``<what> phases (s): {json}``, so a user sees where a long run spends its time,
and ``benchmarks/full_run.py`` reads the planning and consolidation share of a run from its log
even when the run was killed half way.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

MARK = "phases (s): "


class Phases:
    """Seconds per named phase; a phase entered twice adds up. With a ``logger``, every phase
    that ends logs the phases so far."""

    def __init__(self, logger: logging.Logger | None = None, what: str = "") -> None:
        self.seconds: dict[str, float] = {}
        self.logger, self.what = logger, what

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed
            if self.logger is not None:
                self.log(self.logger, self.what)

    def rounded(self) -> dict[str, float]:
        return {name: round(seconds, 3) for name, seconds in self.seconds.items()}

    def log(self, logger: logging.Logger, what: str) -> None:
        logger.info("%s %s%s", what, MARK, json.dumps(self.rounded()))


def parse(log_text: str) -> dict[str, float] | None:
    """The phases of the last ``phases (s):`` line of a log, or None when it has none."""
    for line in reversed(log_text.splitlines()):
        _, mark, data = line.partition(MARK)
        if mark:
            return json.loads(data)
    return None
