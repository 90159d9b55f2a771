"""List raw archive files under local paths, globs and s3:// prefixes, and read them through fsspec.

A file named explicitly is always a candidate (an unrecognised name is quarantined). Walking a
directory or prefix keeps files with an archive extension only, and skips hidden entries and
zarr stores (``truth.zarr`` beside synthetic archives, or the cube itself), so a README or a
checksum list never clutters the quarantine list.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from sgdsm_cloud.errors import BadInputFile, ConfigError
from sgdsm_cloud.storage import Location, check_reachable, redact

ARCHIVE_EXTENSIONS = (".nc4", ".nc", ".h5", ".he5")
_GLOB_CHARS = "*?["


@dataclass(frozen=True)
class SourceFile:
    """One raw file: where it is and how big the listing says it is.

    Attributes:
        location: URL (absolute local path or fsspec URL) plus the options to reach it.
        size: bytes, from the listing.
    """

    location: Location
    size: int

    @property
    def url(self) -> str:
        return self.location.url

    @property
    def name(self) -> str:
        return posixpath.basename(self.location.url.rstrip("/"))


def list_sources(locations: tuple[Location, ...]) -> list[SourceFile]:
    """Every candidate file under ``locations``, each URL once, in sorted order.

    Raises StorageError when a bucket or endpoint cannot be reached and ConfigError when a
    source does not exist, before anything is written.
    """
    checked: set[tuple[str, str]] = set()
    found: dict[str, SourceFile] = {}
    for location in locations:
        bucket = (location.protocol, location.path.split("/", 1)[0])
        if location.protocol != "file" and bucket not in checked:
            check_reachable(location)
            checked.add(bucket)
        for source in _list_one(location):
            found.setdefault(source.url, source)
    return sorted(found.values(), key=lambda s: (s.name, s.url))


def _list_one(location: Location) -> list[SourceFile]:
    fs = location.filesystem()
    path = location.path
    if any(c in path for c in _GLOB_CHARS):
        root = path[: min(path.find(c) for c in _GLOB_CHARS if c in path)].rsplit("/", 1)[0]
        entries = fs.glob(path, detail=True)
        return [
            _source(location, e)
            for e in entries.values()
            if e["type"] == "file" and _walkable(e["name"], root)
        ]
    try:
        info = fs.info(path)
    except FileNotFoundError:
        raise ConfigError(
            f"source {location.url} does not exist; check the path or prefix"
        ) from None
    except PermissionError as err:
        raise ConfigError(
            f"source {location.url} cannot be listed (access denied: {redact(str(err))})"
        ) from None
    if info["type"] != "directory":
        return [_source(location, info)]
    entries = fs.find(path, detail=True)
    return [_source(location, e) for e in entries.values() if _walkable(e["name"], path)]


def _walkable(name: str, root: str) -> bool:
    """Whether a file found by walking ``root`` looks like an archive file."""
    relative = (
        name[len(root.rstrip("/")) :].lstrip("/") if name.startswith(root.rstrip("/")) else name
    )
    parts = relative.split("/")
    if any(p.startswith(".") or p.endswith(".zarr") for p in parts):
        return False
    return parts[-1].lower().endswith(ARCHIVE_EXTENSIONS)


def _source(location: Location, entry: dict) -> SourceFile:
    name = entry["name"]
    url = name if location.protocol == "file" else f"{location.protocol}://{name}"
    return SourceFile(Location(url, dict(location.storage_options)), int(entry.get("size") or 0))


def read_bytes(source: SourceFile) -> bytes:
    """The whole file, read once (to checksum and decode the same bytes).

    Raises BadInputFile naming the file when it cannot be read (missing, access denied,
    archived object), so the run quarantines it and goes on.
    """
    try:
        return source.location.filesystem().cat_file(source.location.path)
    except (
        Exception
    ) as err:  # fsspec/botocore raise many types; all mean "this file cannot be read"
        reason = redact(str(err), source.location.storage_options) or type(err).__name__
        if isinstance(err, PermissionError) or "AccessDenied" in reason or "Forbidden" in reason:
            reason = f"access denied ({reason})"
        raise BadInputFile(source.url, f"cannot read the file: {reason}") from None
