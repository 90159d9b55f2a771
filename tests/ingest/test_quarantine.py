"""The quarantine list merges across runs and logs one line per file."""

from __future__ import annotations

import logging

from sgdsm_cloud.errors import BadInputFile
from sgdsm_cloud.ingest.quarantine import QuarantineRecord, from_attr, merge


def test_merge_replaces_keeps_and_releases():
    old = [
        QuarantineRecord("/raw/a.nc4", "corrupt"),
        QuarantineRecord("/raw/b.nc4", "empty"),
        QuarantineRecord("/raw/c.nc4", "x"),
    ]
    new = [QuarantineRecord("/raw/a.nc4", "truncated"), QuarantineRecord("/raw/d.nc4", "future")]
    merged = merge(old, new, ingested_names=["b.nc4"])
    assert merged == [
        QuarantineRecord("/raw/a.nc4", "truncated"),  # seen again: the new reason
        QuarantineRecord("/raw/c.nc4", "x"),  # not seen in this run: kept
        QuarantineRecord("/raw/d.nc4", "future"),
    ]  # b.nc4 ingested fine: left the list


def test_attribute_round_trip_and_missing_attribute():
    records = [QuarantineRecord("s3://b/x.nc4", "reason")]
    assert from_attr([r.to_attr() for r in records]) == records
    assert from_attr(None) == [] and from_attr([]) == []


def test_record_from_error_and_its_log_line(caplog):
    record = QuarantineRecord.from_error(
        "/raw/x.nc4", BadInputFile("x.nc4", "empty file (0 bytes)")
    )
    assert (
        record == QuarantineRecord("/raw/x.nc4", "empty file (0 bytes)") and record.name == "x.nc4"
    )
    with caplog.at_level(logging.WARNING, logger="sgdsm_cloud.ingest"):
        record.log()
    assert caplog.messages == ["quarantined /raw/x.nc4: empty file (0 bytes)"]
