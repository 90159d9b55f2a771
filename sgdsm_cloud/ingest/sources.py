"""List raw archive files under local paths, globs, s3:// prefixes, http(s):// URLs and NASA
Earthdata collections, and read them (fsspec, or ``ingest.http`` for HTTP).

A file named explicitly is always a candidate (an unrecognised name is quarantined). Walking a
directory or prefix keeps files with an archive extension only, and skips hidden entries and
zarr stores (``truth.zarr`` beside synthetic archives, or the cube itself), so a README or a
checksum list never clutters the quarantine list.

A local directory is walked here rather than by fsspec, which does not follow symbolic links
to directories. Links are followed, each directory once: a link back to a directory on its
own path (a loop) is reported, never followed, so a looping tree lists in one pass. Entries
the walk finds broken (a dangling or looping link, a directory named like an archive file)
come back with a ``problem`` and are quarantined without being read.

An ``https://`` URL is a file when its name has an archive extension, else an HTML directory
listing (Apache or GES DISC style), walked into its subdirectories. ``earthdata:SHORT_NAME``
lists a collection's granules through CMR (``ingest.earthdata``). Every HTTP file's size comes
from a HEAD request; the first one checks the Earthdata token before any file is read.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from sgdsm_cloud.errors import BadInputFile, ConfigError
from sgdsm_cloud.ingest import earthdata, http
from sgdsm_cloud.ingest.retry import TransientStorageError, is_transient
from sgdsm_cloud.storage import Location, check_reachable, public_url, redact

ARCHIVE_EXTENSIONS = earthdata.ARCHIVE_EXTENSIONS
_GLOB_CHARS = "*?["
_WEB = ("http", "https", "earthdata")


@dataclass(frozen=True)
class SourceFile:
    """One raw file: where it is and how big the listing says it is.

    Attributes:
        location: URL (absolute local path or fsspec URL) plus the options to reach it.
        size: bytes, from the listing (for a granule the store already holds and the catalogue
            does not call revised: the stored size, no request made).
        problem: why the listing already knows the entry cannot be read (quarantined as is).
        sha256: the bytes' SHA-256 when the driver read them before planning (a recheck):
            a file under a stored name whose hash differs is ingested again.
        revised: for a catalogued granule (Earthdata), whether CMR lists it as changed since
            the store's last listing; None for files no catalogue describes.
    """

    location: Location
    size: int
    problem: str | None = None
    sha256: str | None = None  # the bytes' hash when read before planning (a recheck)
    revised: bool | None = None  # a catalogue's word on a change since the last listing

    @property
    def url(self) -> str:
        return self.location.url

    @property
    def name(self) -> str:
        name = posixpath.basename(self.location.url.rstrip("/"))
        if self.location.protocol in ("http", "https"):  # the file's own name, as on disk
            return unquote(name.split("?", 1)[0], errors="surrogateescape")
        return name


@dataclass(frozen=True)
class ListingHints:
    """What the store knows, so that listing a collection costs requests only for news.

    Attributes:
        start, end: the days wanted (CMR's temporal range; None: open).
        known: names the store holds, with their sizes: no HEAD request for them.
        revised_since: when the store's previous listing began (ISO, UTC); granules CMR
            records as updated since then are listed (whatever their day) and checked again.
    """

    start: dt.date | None = None
    end: dt.date | None = None
    known: Mapping[str, int] = field(default_factory=dict)
    revised_since: str | None = None


def list_sources(
    locations: tuple[Location, ...], hints: ListingHints | None = None
) -> list[SourceFile]:
    """Every candidate file under ``locations``, each URL once, in sorted order.

    Raises StorageError when a bucket or endpoint cannot be reached and ConfigError when a
    source does not exist, before anything is written. ``hints`` narrow an Earthdata
    collection's listing (``ListingHints``).
    """
    hints = hints or ListingHints()
    checked: set[tuple[str, str]] = set()
    found: dict[str, SourceFile] = {}
    web = [location for location in locations if location.protocol in _WEB]
    for source in _list_web(web, hints) if web else []:
        found.setdefault(source.url, source)
    for location in locations:
        if location.protocol in _WEB:
            continue
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
    if location.protocol == "file" and not any(c in path for c in _GLOB_CHARS):
        return _list_local(path)
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


def _list_web(locations: list[Location], hints: ListingHints) -> list[SourceFile]:
    """HTTP(S) files, listings and Earthdata collections: URLs first, then one HEAD each,
    except for a collection's granules the store already holds and CMR does not call revised.

    The token is required for a collection and used, when found, for NASA hosts otherwise; a
    missing, wrong or expired one raises AuthenticationError here, before any file is read.
    """
    collections = [loc for loc in locations if loc.protocol == "earthdata"]
    token = earthdata.credentials(required=bool(collections))
    named: list[str] = []  # URLs given as files: a 404 means a wrong SOURCE
    urls: list[str] = []
    granules: set[str] = set()  # a collection's: known ones need no HEAD
    revised: set[str] = set()
    for location in collections:
        short, version = earthdata.collection(location)
        listed = earthdata.search(short, version, token, temporal=(hints.start, hints.end))
        if hints.revised_since:
            revised.update(
                earthdata.search(short, version, token, updated_since=hints.revised_since)
            )
        granules.update(listed, revised)
        urls += listed + sorted(revised)
    for location in locations:
        if location.protocol == "earthdata":
            continue
        url = public_url(location.url)
        if _archive_name(url):
            named.append(url)
            continue
        secret = token.value if token is not None and earthdata.sends_token_to(url) else None
        try:
            urls += http.walk(url, secret)
        except http.HttpStatusError as err:
            raise ConfigError(
                f"source {url} cannot be listed (HTTP {err.status}); check the URL"
            ) from None
        except http.NotAListing:  # a file without an archive extension
            named.append(url)
    urls = sorted(set(urls + named))
    urls = [u for u in urls if u in named or _archive_name(u)]
    known = {
        u: hints.known[name]
        for u in urls
        if u in granules and u not in revised and (name := _url_name(u)) in hints.known
    }
    asked = [u for u in urls if u not in known]
    sizes: dict[str, Any] = dict(known)
    sizes.update(
        http.sizes(asked, lambda u: earthdata.options_for(u, token).get(earthdata.TOKEN_OPTION))
    )
    sources = []
    for url in urls:
        size = sizes[url]
        if isinstance(size, http.HttpStatusError):
            if url in named and size.status in (404, 410):
                raise ConfigError(
                    f"source {url} does not exist (HTTP {size.status}); check the URL"
                )
            what = "access denied" if size.status == 403 else f"HTTP {size.status}"
            problem = f"cannot read the file: {what}{f' ({size.detail})' if size.detail else ''}"
            sources.append(SourceFile(Location(url, earthdata.options_for(url, token)), 0, problem))
            continue
        location = Location(url, earthdata.options_for(url, token))
        sources.append(
            SourceFile(location, size, revised=(url in revised) if url in granules else None)
        )
    return sources


def _url_name(url: str) -> str:
    return unquote(posixpath.basename(url.split("?", 1)[0].rstrip("/")), errors="surrogateescape")


def _archive_name(url: str) -> bool:
    name = posixpath.basename(url.split("?", 1)[0].rstrip("/"))
    return name.lower().endswith(ARCHIVE_EXTENSIONS) and not name.startswith(".")


def _list_local(path: str) -> list[SourceFile]:
    """A local file or directory tree (see the module docstring for links)."""
    try:
        if os.path.isdir(path):
            return _walk_local(path)
        return [SourceFile(Location(path), os.stat(path).st_size)]
    except FileNotFoundError:
        if os.path.islink(path):
            return [_broken(path)]
        raise ConfigError(f"source {path} does not exist; check the path") from None
    except PermissionError:
        raise ConfigError(f"source {path} cannot be listed (permission denied)") from None
    except OSError:  # a looping link named explicitly
        return [_broken(path)]


def _walk_local(root: str) -> list[SourceFile]:
    found: list[SourceFile] = []
    visited: set[str] = set()
    # real directories first: files keep their real paths
    directories: list[str] = [root]
    links: list[str] = []
    while directories or links:
        directory = directories.pop() if directories else links.pop()
        real = os.path.realpath(directory)
        if real in visited:  # a second path to a listed directory adds nothing
            continue
        visited.add(real)
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda e: e.name)
        for entry in entries:
            if entry.name.startswith(".") or entry.name.endswith(".zarr"):
                continue
            archive_name = entry.name.lower().endswith(ARCHIVE_EXTENSIONS)
            try:
                is_dir = entry.is_dir()
                size = 0 if is_dir else entry.stat().st_size
            except OSError:  # a dangling or looping link
                if archive_name or entry.is_symlink():
                    found.append(_broken(entry.path))
                continue
            if not is_dir:
                if archive_name:
                    found.append(SourceFile(Location(entry.path), size))
            elif archive_name:
                found.append(
                    SourceFile(Location(entry.path), 0, "a directory named like an archive file")
                )
            elif _is_ancestor(os.path.realpath(entry.path), real):
                found.append(
                    SourceFile(
                        Location(entry.path),
                        0,
                        f"symbolic-link loop: leads back to {os.path.realpath(entry.path)}, "
                        "which contains it; not followed",
                    )
                )
            else:
                (links if entry.is_symlink() else directories).append(entry.path)
    return found


def _is_ancestor(real: str, here: str) -> bool:
    """Whether directory ``real`` is ``here`` or contains it (both resolved paths)."""
    return here == real or here.startswith(real.rstrip(os.sep) + os.sep)


def _broken(path: str) -> SourceFile:
    try:
        os.stat(path)
        reason = "cannot be listed"
    except OSError as err:
        reason = err.strerror or type(err).__name__
    target = os.readlink(path) if os.path.islink(path) else None
    what = f"symbolic link to {target} cannot be followed" if target is not None else "unreadable"
    return SourceFile(Location(path), 0, f"{what} ({reason})")


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
    archived object), so the run quarantines it and goes on; a transient failure (dropped
    connection, timeout, 5xx) raises TransientStorageError instead, so the slab is retried
    and a good file is never quarantined for a network hiccup.
    """
    if source.location.protocol in ("http", "https"):
        return _read_http(source)
    try:
        return source.location.filesystem().cat_file(source.location.path)
    except (
        Exception
    ) as err:  # fsspec/botocore raise many types; all mean "this file cannot be read"
        reason = redact(str(err), source.location.storage_options) or type(err).__name__
        if is_transient(err):
            raise TransientStorageError(
                f"cannot read {source.url}: {type(err).__name__}: {reason}"
            ) from err
        if isinstance(err, PermissionError) or "AccessDenied" in reason or "Forbidden" in reason:
            reason = f"access denied ({reason})"
        raise BadInputFile(source.url, f"cannot read the file: {reason}") from None


def _read_http(source: SourceFile) -> bytes:
    """GET one file (token from the source's options); errors as :func:`read_bytes` says.

    A refused token (401) raises AuthenticationError: the run stops, keeping finished slabs.
    """
    token = source.location.storage_options.get(earthdata.TOKEN_OPTION)
    try:
        return http.fetch(source.url, token)
    except http.HttpStatusError as err:
        what = "access denied" if err.status == 403 else f"HTTP {err.status}"
        detail = redact(err.detail, source.location.storage_options)
        raise BadInputFile(
            source.url, f"cannot read the file: {what}{f' ({detail})' if detail else ''}"
        ) from None
