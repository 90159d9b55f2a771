"""Thin fsspec edge: where stores and sources live, how to reach them, and fail-fast checks.

URLs are anything fsspec understands: a local path (the default), ``file://``, ``memory://``
or ``s3://`` through s3fs. For S3 the endpoint and credentials come from the standard AWS
environment variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``,
``AWS_ENDPOINT_URL``, ``AWS_REGION``) or from explicit ``storage_options``. Credentials are never
logged: every message that may carry options goes through :func:`redact`.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import fsspec

from sgdsm_cloud.errors import ConfigError, SgdsmError, StorageError

_SECRET_KEYS = re.compile(r"(secret|token|password|key)", re.IGNORECASE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # s3:, file:, C: (a Windows drive)
_ENCODED_DOT = re.compile(r"%2e", re.IGNORECASE)
EARTHDATA_PREFIX = "earthdata:"  # a NASA Earthdata collection by short name (ingest.earthdata)
_SECRETS: set[str] = set()  # values redact() always hides (register_secret)


class UnsafeKeyError(SgdsmError, ValueError):
    """An object key or file name would leave the store or folder it is meant for."""


def unsafe_key_reason(key: str) -> str | None:
    """Why ``key`` is not a plain relative key under some base, or None when it is.

    Pure. Refused: empty keys, absolute paths, URL schemes and drive letters, backslashes,
    NUL and other control characters, and ``.``, ``..`` or empty segments, also
    percent-encoded (``%2e%2e``), which some servers decode.
    """
    if not key:
        return "empty key"
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        return "control character (NUL, newline, ...) in the key"
    if "\\" in key:
        return "backslash in the key"
    if key.startswith(("/", "~")):
        return "absolute path"
    if _SCHEME.match(key) or "://" in key:
        return "URL scheme or drive letter"
    for segment in _ENCODED_DOT.sub(".", key).split("/"):
        if segment in ("", ".", ".."):
            return f"'{segment or '//'}' path segment"
    return None


def safe_join(base: str, key: str) -> str:
    """``base/key``, for a ``key`` that stays under ``base``; raise UnsafeKeyError otherwise.

    Use it wherever a key comes from data (a manifest entry, a record in a JSON file, a
    listing): a crafted ``../../x`` must never read, write or delete outside its folder.
    """
    reason = unsafe_key_reason(key)
    if reason:
        raise UnsafeKeyError(f"refusing key {key!r} under {base}: {reason}")
    return f"{base.rstrip('/')}/{key}"


def parse_storage_options(text: str | None) -> dict[str, Any]:
    """Parse the CLI's ``--storage-options JSON`` into a dict (empty when not given)."""
    if not text:
        return {}
    try:
        options = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"--storage-options must be a JSON object, e.g. '{{\"anon\": true}}': {err}"
        ) from None
    if not isinstance(options, dict):
        raise ConfigError("--storage-options must be a JSON object, e.g. '{\"anon\": true}'")
    return options


def protocol_of(url: str) -> str:
    """The fsspec protocol of ``url`` (``file`` for plain paths; ``earthdata`` for a NASA
    Earthdata collection, ``earthdata:SHORT_NAME``)."""
    if url.startswith(EARTHDATA_PREFIX):
        return "earthdata"
    return url.split("://", 1)[0] if "://" in url else "file"


def default_storage_options(url: str) -> dict[str, Any]:
    """Options fsspec needs beyond its own defaults: the S3 endpoint from ``AWS_ENDPOINT_URL``."""
    if protocol_of(url) != "s3":
        return {}
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return {"endpoint_url": endpoint} if endpoint else {}


@dataclass(frozen=True)
class Location:
    """A URL plus the fsspec options to reach it.

    Attributes:
        url: local path or fsspec URL of a store or a source prefix.
        storage_options: passed to fsspec/s3fs; explicit values win over the environment.
    """

    url: str
    storage_options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_cli(cls, url: str, options_json: str | None = None) -> Location:
        options = {**default_storage_options(url), **parse_storage_options(options_json)}
        if url.startswith(EARTHDATA_PREFIX):
            return cls(url.strip(), options)
        return cls(url.rstrip("/") if "://" in url else os.path.abspath(url), options)

    @property
    def protocol(self) -> str:
        return protocol_of(self.url)

    def filesystem(self) -> fsspec.AbstractFileSystem:
        return fsspec.filesystem(self.protocol, **self.storage_options)

    @property
    def path(self) -> str:
        """The URL without its protocol, as fsspec filesystems take it."""
        return self.url.split("://", 1)[1] if "://" in self.url else self.url

    def child(self, name: str) -> Location:
        """``name`` under this location; names that would escape it raise UnsafeKeyError."""
        return Location(safe_join(self.url, name), dict(self.storage_options))

    def __str__(self) -> str:  # never shows options, which may hold secrets
        return self.url

    def __repr__(self) -> str:
        # dask and logging print reprs of task arguments (a failed task's "Compute Failed"
        # report, debug logs): secret-looking options show as ***.
        return f"Location(url={self.url!r}, storage_options={_masked(self.storage_options)!r})"


def _masked(options: Any) -> Any:
    """``options`` with the values of secret-looking keys replaced by ``***``, at any depth."""
    if not isinstance(options, dict):
        return options
    return {
        k: "***" if _SECRET_KEYS.search(str(k)) and not isinstance(v, dict) else _masked(v)
        for k, v in options.items()
    }


def public_url(url: str) -> str:
    """``url`` without user info, query or fragment, which may carry credentials or signatures."""
    parts = urlsplit(url)
    if len(parts.scheme) <= 1:  # a local path (or a Windows drive letter)
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def register_secret(value: str) -> None:
    """Make :func:`redact` hide ``value`` in this process from now on (e.g. an Earthdata token
    obtained from ~/.netrc credentials, which is in neither the options nor the environment)."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str, options: dict[str, Any] | None = None) -> str:
    """Replace every secret-looking value from ``options`` and the environment (AWS keys,
    ``EARTHDATA_TOKEN``), and every registered secret, with ``***``."""
    secrets = [
        str(v)
        for source in (options or {}, os.environ)
        for k, v in _flatten(source)
        if _SECRET_KEYS.search(k) and v and len(str(v)) >= 4
    ] + list(_SECRETS)
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _flatten(mapping: Any, prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    if isinstance(mapping, dict) or hasattr(mapping, "items"):
        for k, v in mapping.items():
            if isinstance(v, dict):
                items += _flatten(v, f"{prefix}{k}.")
            else:
                items.append((f"{prefix}{k}", v))
    return items


def create_exclusive(location: Location, data: bytes) -> None:
    """Create the object or file at ``location`` holding ``data``, or raise FileExistsError
    when it exists: of two writers racing for one name exactly one wins.

    S3 gets ``If-None-Match: *`` (s3fs ``mode="create"``); a local disk a hard link of a
    complete temporary file, so the name never shows a partial file. A retried request whose
    first attempt landed also sees FileExistsError: callers read the object back when they
    must know whose it is.
    """
    fs = location.filesystem()
    if location.protocol != "file":
        fs.pipe_file(location.path, data, mode="create")
        return
    os.makedirs(os.path.dirname(location.path), exist_ok=True)
    temporary = f"{location.path}.{uuid.uuid4().hex}.tmp"
    with open(temporary, "wb") as f:
        f.write(data)
    try:
        os.link(temporary, location.path)
    finally:
        os.unlink(temporary)


def write_atomic(location: Location, data: bytes) -> None:
    """Replace the object or file at ``location`` in one step: readers see the old bytes or
    the new ones, never a mix (a rename on a local disk, one PUT on an object store)."""
    if location.protocol != "file":
        location.filesystem().pipe_file(location.path, data)
        return
    os.makedirs(os.path.dirname(location.path), exist_ok=True)
    temporary = f"{location.path}.{uuid.uuid4().hex}.tmp"
    with open(temporary, "wb") as f:
        f.write(data)
    os.replace(temporary, location.path)


def check_reachable(location: Location, *, must_exist: bool = False) -> None:
    """Fail fast, with a clear message, when a store or source cannot be reached.

    For S3 this touches the bucket once: missing credentials, a wrong endpoint or a missing
    bucket surface here instead of deep inside a dask task.
    """
    fs = location.filesystem()
    try:
        if location.protocol == "s3":
            bucket = location.path.split("/", 1)[0]
            fs.ls(bucket, refresh=True)
        if must_exist and not fs.exists(location.path):
            raise StorageError(f"{location.url} does not exist; check the URL")
    except StorageError:
        raise
    except Exception as err:  # botocore/aiohttp raise many unrelated types
        raise StorageError(unreachable_reason(location, err)) from None


def unreachable_reason(location: Location, err: Exception) -> str:
    """One line saying why ``location`` could not be reached (credentials, bucket, endpoint)."""
    name = type(err).__name__
    text = redact(str(err), location.storage_options)
    if name == "NoCredentialsError" or "Unable to locate credentials" in text:
        return (
            f"{location.url}: no AWS credentials found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(and AWS_ENDPOINT_URL for a non-AWS endpoint), or pass --storage-options "
            "'{\"anon\": true}' to read a public bucket."
        )
    if isinstance(err, FileNotFoundError) or "NoSuchBucket" in text:
        return f"{location.url}: the bucket does not exist; create it or fix the URL"
    if isinstance(err, PermissionError) or "AccessDenied" in text or "Forbidden" in text:
        return f"{location.url}: access denied; check the credentials' permissions on this bucket"
    if "Could not connect" in text or "Connect" in name or "EndpointConnection" in name:
        return f"{location.url}: cannot reach the S3 endpoint ({text}); check AWS_ENDPOINT_URL and the network"
    return f"{location.url}: cannot be reached ({name}: {text})"
