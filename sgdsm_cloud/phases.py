"""Wall time of a run's phases (listing, planning, template, tasks, consolidation).

Ingest and fill log them on the ``sgdsm_cloud.phases`` logger as each phase ends, in one line
holding every phase so far, ``<what> phases (s): {json}``. The CLI shows that logger with
``sgdsm -v`` only (a plain run's output stays the same), so a user can see where a long run
spends its time, and ``benchmarks/full_run.py`` reads the planning and consolidation share of a
run from its log even when the run was killed half way.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

MARK = "phases (s): "
LOGGER = "sgdsm_cloud.phases"


class Phases:
    """Seconds per named phase of ``what`` (a phase entered twice adds up); every phase that
    ends logs the phases so far at INFO on the ``sgdsm_cloud.phases`` logger."""

    def __init__(self, what: str) -> None:
        self.seconds: dict[str, float] = {}
        self.what = what

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed
            self.log()

    def rounded(self) -> dict[str, float]:
        return {name: round(seconds, 3) for name, seconds in self.seconds.items()}

    def log(self) -> None:
        logging.getLogger(LOGGER).info("%s %s%s", self.what, MARK, json.dumps(self.rounded()))


def parse(log_text: str) -> dict[str, float] | None:
    """The phases of the last ``phases (s):`` line of a log, or None when it has none."""
    for line in reversed(log_text.splitlines()):
        _, mark, data = line.partition(MARK)
        if mark:
            return json.loads(data)
    return None
