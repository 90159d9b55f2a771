"""Progress bars that follow the CLI's ``--quiet`` and stay terse when output is a log file."""

from __future__ import annotations

import logging
import sys
from typing import Any

from tqdm.auto import tqdm


def progress(
    iterable: Any = None, *, desc: str, total: int | None = None, unit: str = "it", **kw: Any
) -> tqdm:
    """A tqdm bar on stderr, off under ``sgdsm -q`` (or ``disable=True``); when stderr is not a
    terminal (a pod log, CI) it updates every 30 s instead of continuously, so logs stay
    readable."""
    switched_off = bool(kw.pop("disable", False))  # the caller's own switch
    quiet = switched_off or logging.getLogger("sgdsm_cloud").getEffectiveLevel() > logging.INFO
    interactive = sys.stderr.isatty()
    kw.setdefault("mininterval", 0.1 if interactive else 30.0)
    return tqdm(
        iterable,
        desc=desc,
        total=total,
        unit=unit,
        disable=quiet,
        file=sys.stderr,
        dynamic_ncols=interactive,
        **kw,
    )
