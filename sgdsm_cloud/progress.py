"""Progress bars that follow the CLI's ``--quiet`` and stay silent when output is not a terminal."""

from __future__ import annotations

import logging
import sys
from typing import Any

from tqdm.auto import tqdm


def progress(iterable: Any = None, *, desc: str, total: int | None = None, unit: str = "it", **kw: Any) -> tqdm:
    """A tqdm bar, disabled when logging is at WARNING or above (``sgdsm -q``)."""
    quiet = logging.getLogger("sgdsm_cloud").getEffectiveLevel() > logging.INFO
    return tqdm(iterable, desc=desc, total=total, unit=unit, disable=quiet, file=sys.stderr, dynamic_ncols=True, **kw)
