"""The quarantine list: files an ingest refused, with one line saying why.

It lives in the store's root attribute ``quarantine`` (a list of ``{"file", "reason"}``), so the
cube carries its own record and no side file makes zarr warn. Runs merge into it: a file seen
again replaces its record, a file that later ingests fine leaves the list, and records of files
a run did not see stay.
"""

from __future__ import annotations

import logging
import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sgdsm_cloud.errors import BadInputFile

ATTR = "quarantine"
log = logging.getLogger("sgdsm_cloud.ingest")


@dataclass(frozen=True, order=True)
class QuarantineRecord:
    """One refused file.

    Attributes:
        file: the file's URL or path, as listed.
        reason: one line naming the problem (and the fix where there is one).
    """

    file: str
    reason: str

    def __post_init__(self) -> None:
        # A non-UTF-8 file name arrives with surrogate escapes, which strict JSON readers of
        # the store's attributes refuse: keep its bytes visible as \xNN instead.
        object.__setattr__(self, "file", printable(self.file))

    @classmethod
    def from_error(cls, url: str, err: BadInputFile) -> QuarantineRecord:
        return cls(url, err.reason)

    @property
    def name(self) -> str:
        return posixpath.basename(self.file)

    def to_attr(self) -> dict[str, str]:
        return {"file": self.file, "reason": self.reason}

    def log(self) -> None:
        """One error line on stderr naming the file and the reason: the file was refused, so
        even ``-q`` shows it (the run goes on, and ends with exit status 3)."""
        log.error("quarantined %s: %s", self.file, self.reason)


def printable(path: str) -> str:
    """``path`` as valid UTF-8 text: bytes that are not UTF-8 become ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def from_attr(value: Any) -> list[QuarantineRecord]:
    """Records from the store's attribute (tolerates a missing or empty one)."""
    return [QuarantineRecord(str(item["file"]), str(item["reason"])) for item in value or []]


def merge(
    existing: Iterable[QuarantineRecord],
    new: Iterable[QuarantineRecord],
    ingested_names: Iterable[str],
) -> list[QuarantineRecord]:
    """The list after a run, sorted by file: ``new`` replaces records of the same file,
    and files ingested in this run (matched by base name) leave the list."""
    by_file = {r.file: r for r in existing}
    by_file.update({r.file: r for r in new})
    ingested = set(ingested_names)
    return sorted(r for r in by_file.values() if r.name not in ingested)
