"""Retry a slab when object storage fails transiently, after the client library's own retries.

botocore retries each request (5 attempts in its default mode) and s3fs retries a few error
kinds again (docs/robustness.md lists the faults the tests inject and survive). A burst of connection resets or
503s still exhausts them now and then, and a slab task is a long sequence of requests. A slab
owns whole time chunks and rewrites all of them, so running it again is always safe: this
module re-runs a slab whose failure was transient (a dropped connection, a timeout, a 5xx),
with exponential backoff, and gives up after a bounded number of attempts. Permanent errors
(403, 404, a bad file) are never retried.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sgdsm_cloud.errors import SgdsmError, StorageError
from sgdsm_cloud.storage import redact

log = logging.getLogger("sgdsm_cloud.ingest")
T = TypeVar("T")

# OSError numbers s3fs gives exhausted 5xx replies (EBUSY: 503 SlowDown, EREMOTEIO: 500) and
# the socket errors of a dropped connection.
_TRANSIENT_ERRNOS = {
    errno.EBUSY,
    errno.EREMOTEIO,
    errno.ECONNRESET,
    errno.ECONNREFUSED,
    errno.ECONNABORTED,
    errno.ETIMEDOUT,
    errno.EPIPE,
}


class TransientStorageError(StorageError):
    """Storage failed in a way that may succeed on a later attempt (the cause is attached)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a slab is re-run.

    Attributes:
        attempts: runs of a slab in all (1 = no retry).
        first_delay_s: wait before the second run; doubled before each later one.
        max_delay_s: the longest wait between two runs.
    """

    attempts: int = 4
    first_delay_s: float = 2.0
    max_delay_s: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.first_delay_s < 0 or self.max_delay_s < self.first_delay_s:
            raise ValueError(f"invalid retry policy {self}")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        return min(self.first_delay_s * 2 ** (retry - 1), self.max_delay_s)


def is_transient(err: BaseException) -> bool:
    """Whether ``err`` (or an exception it was raised from) is a transient storage failure."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _transient_type(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _transient_type(err: BaseException) -> bool:
    if isinstance(err, TransientStorageError | TimeoutError):
        return True
    if isinstance(err, (PermissionError, FileNotFoundError, IsADirectoryError)):
        return False
    if isinstance(err, OSError) and err.errno in _TRANSIENT_ERRNOS:
        return True
    try:  # botocore and aiohttp come with s3fs; a local-only run never raises their errors
        from aiohttp import ClientError
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import HTTPClientError
    except ImportError:
        return False
    return isinstance(err, BotoConnectionError | HTTPClientError | ClientError)


def call_with_retries(
    fn: Callable[[], T], policy: RetryPolicy, what: str, secrets: dict | None = None
) -> T:
    """``fn()``, re-run after transient failures as ``policy`` says; each retry is logged.

    A permanent failure propagates at once. The last transient one propagates as it is when it
    is already a user-facing error, else as a StorageError naming ``what`` (secrets from
    ``secrets`` redacted).
    """
    attempt = 1
    while True:
        try:
            return fn()
        except Exception as err:
            if not is_transient(err):
                raise
            message = redact(f"{type(err).__name__}: {err}", secrets)
            if attempt >= policy.attempts:
                if isinstance(err, SgdsmError):
                    raise
                raise StorageError(
                    f"{what} failed {attempt} times: {message}; re-run the same command to resume"
                ) from err
            delay = policy.delay(attempt)
            attempt += 1
            log.warning(
                "%s: transient storage failure (%s); attempt %d of %d in %.1f s",
                what,
                message,
                attempt,
                policy.attempts,
                delay,
            )
            time.sleep(delay)
