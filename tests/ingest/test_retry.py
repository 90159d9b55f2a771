"""Which failures are transient, and how a slab is re-run after them."""

from __future__ import annotations

import errno
import logging

import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from sgdsm_cloud.errors import BadInputFile, StorageError
from sgdsm_cloud.ingest.retry import RetryPolicy, call_with_retries, is_transient

NO_WAIT = RetryPolicy(attempts=3, first_delay_s=0.0, max_delay_s=0.0)


def wrapped(cause: BaseException) -> StorageError:
    """A StorageError raised from ``cause``, as the slab's write raises it."""
    try:
        raise StorageError("slab-00001: writing failed") from cause
    except StorageError as err:
        return err


@pytest.mark.parametrize(
    "err",
    [
        EndpointConnectionError(endpoint_url="http://s3"),
        ConnectionClosedError(endpoint_url="http://s3"),
        ReadTimeoutError(endpoint_url="http://s3"),
        OSError(errno.EBUSY, "Service Unavailable"),  # s3fs' exhausted 503
        OSError(errno.EREMOTEIO, "InternalError"),  # s3fs' exhausted 500
        ConnectionResetError(errno.ECONNRESET, "reset by peer"),
        TimeoutError(),
        wrapped(EndpointConnectionError(endpoint_url="http://s3")),
    ],
)
def test_transient_failures(err):
    assert is_transient(err)


@pytest.mark.parametrize(
    "err",
    [
        PermissionError("AccessDenied"),
        FileNotFoundError("NoSuchKey"),
        OSError(errno.EINVAL, "InvalidObjectState"),
        BadInputFile("f.nc4", "empty file (0 bytes)"),
        ValueError("a bug"),
        wrapped(PermissionError("AccessDenied")),
    ],
)
def test_permanent_failures(err):
    assert not is_transient(err)


def flaky(failures: list[BaseException]):
    """A function that raises ``failures`` in turn, then returns the number of calls so far;
    and the list of its calls."""
    calls: list[int] = []

    def run():
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return len(calls)

    return run, calls


def test_transient_failures_are_retried_and_logged(caplog):
    caplog.set_level(logging.WARNING, logger="sgdsm_cloud.ingest")
    run, _ = flaky([EndpointConnectionError(endpoint_url="http://s3"), OSError(errno.EBUSY, "503")])
    assert call_with_retries(run, NO_WAIT, "slab-00002 of s3://b/c.zarr") == 3
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["slab-00002 of s3"] * 2
    assert "attempt 3 of 3" in caplog.records[-1].getMessage()


def test_a_permanent_failure_is_not_retried():
    run, calls = flaky([PermissionError("AccessDenied"), ValueError("never reached")])
    with pytest.raises(PermissionError):
        call_with_retries(run, NO_WAIT, "slab-00003")
    assert len(calls) == 1


def test_exhausted_retries_name_the_slab_redact_secrets_and_say_how_to_resume():
    errors = [OSError(errno.EBUSY, "503 for key s3cr3t-value")] * 3
    with pytest.raises(StorageError) as raised:
        call_with_retries(flaky(list(errors))[0], NO_WAIT, "slab-00004", {"secret": "s3cr3t-value"})
    message = str(raised.value)
    assert message.startswith("slab-00004 failed 3 times: OSError")
    assert "s3cr3t" not in message and "re-run the same command to resume" in message


def test_backoff_doubles_up_to_the_cap():
    policy = RetryPolicy(attempts=6, first_delay_s=2.0, max_delay_s=10.0)
    assert [policy.delay(n) for n in range(1, 6)] == [2.0, 4.0, 8.0, 10.0, 10.0]
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
