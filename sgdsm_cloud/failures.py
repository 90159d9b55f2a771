"""What a failed task reports: one redacted line to the driver, its redacted traceback to the
worker's log.

The error that reaches the driver carries no traceback (its frames could hold secrets); the
worker's log keeps the whole traceback, every secret replaced, for whoever debugs the failure.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from sgdsm_cloud.storage import redact

# A child of dask's worker logger: what tasks log here reaches the worker's log as dask shows it
# (the dashboard, Client.get_worker_logs) besides the process's stderr (kubectl logs).
worker_log = logging.getLogger("distributed.worker.sgdsm_cloud")


def redacted_traceback(err: BaseException, options: dict[str, Any]) -> str:
    """``err``'s formatted traceback with every secret of ``options`` (and AWS_*) replaced."""
    return redact("".join(traceback.format_exception(err)), options)


def task_failed(what: str, err: BaseException, options: dict[str, Any]) -> str:
    """Log ``what`` failed with ``err``'s redacted traceback; the one-line redacted reason."""
    worker_log.error("%s failed:\n%s", what, redacted_traceback(err, options))
    return redact(f"{type(err).__name__}: {err}", options)
