"""A failed task: one redacted line for the driver, the redacted traceback in the worker's log."""

from __future__ import annotations

import logging

from sgdsm_cloud.failures import redacted_traceback, task_failed, worker_log

SECRET = "canary-Zq8sW1xY"


def failure() -> OSError:
    try:
        raise OSError(f"cannot open s3://bucket/raw.zarr with key {SECRET}")
    except OSError as err:
        return err


def test_the_traceback_keeps_the_frames_and_loses_the_secret():
    text = redacted_traceback(failure(), {"secret": SECRET})
    assert "Traceback" in text and "OSError" in text and "def failure" not in text
    assert "in failure" in text and SECRET not in text and "***" in text


def test_a_failed_task_logs_its_traceback_and_returns_one_line(caplog):
    with caplog.at_level(logging.ERROR, logger=worker_log.name):
        reason = task_failed("tile t0", failure(), {"secret": SECRET})
    assert reason == "OSError: cannot open s3://bucket/raw.zarr with key ***"
    (record,) = caplog.records
    assert record.name == "distributed.worker.sgdsm_cloud"
    assert record.getMessage().startswith("tile t0 failed:\nTraceback (most recent call last)")
    assert SECRET not in record.getMessage()
