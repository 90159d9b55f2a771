"""NASA Earthdata sources: the token, the CMR granule search, and HTTP(S) listings.

``earthdata:SHORT_NAME`` (optionally ``earthdata:SHORT_NAME.VERSION``) names a collection,
e.g. ``earthdata:LPRM_AMSR2_D_SOILM3``. Its granules are found through NASA's Common Metadata
Repository: ``GET {CMR}/search/granules.json?short_name=...&page_size=2000`` pages through the
collection with the ``CMR-Search-After`` header, and each entry of ``feed.entry`` gives its
file's HTTPS URL in the ``links`` whose ``rel`` ends in ``/data#``. ``SGDSM_CMR_URL`` points
the search elsewhere (tests use a server on loopback).

The token (:func:`credentials`) is read as earthaccess reads it: ``EARTHDATA_TOKEN``, else the
login and password of ``machine urs.earthdata.nasa.gov`` in ~/.netrc (or ``$NETRC``),
exchanged for a token at Earthdata Login's ``/api/users/find_or_create_token``
(``SGDSM_URS_URL`` points it elsewhere). A token that says it has expired is refused before any
request. It is sent only over HTTPS (or to loopback) and only to NASA hosts and the CMR host
(:func:`sends_token_to`), in the ``Authorization`` header; sources carry it in their storage
options under ``earthdata_token``, which ``Location``'s repr masks and ``storage.redact`` hides.

Every granule's size comes from a HEAD request before anything is read: the plan compares
names and sizes with the store's ledger (resume), and the first HEAD checks the token, so a
missing, wrong or expired token stops the run with one line before any file is read.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import netrc
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from sgdsm_cloud.errors import AuthenticationError, ConfigError, StorageError
from sgdsm_cloud.ingest import http
from sgdsm_cloud.storage import EARTHDATA_PREFIX, Location, public_url, register_secret

TOKEN_ENV = "EARTHDATA_TOKEN"
CMR_ENV = "SGDSM_CMR_URL"
URS_ENV = "SGDSM_URS_URL"
CMR_URL = "https://cmr.earthdata.nasa.gov"
URS_URL = "https://urs.earthdata.nasa.gov"
URS_MACHINE = "urs.earthdata.nasa.gov"
TOKEN_OPTION = "earthdata_token"  # key of the token in a source's storage options
PAGE_SIZE = 2000  # CMR's largest page
DATA_REL = "/data#"  # rel of a granule's download links: http://esipfed.org/ns/fedsearch/1.1/data#
ARCHIVE_EXTENSIONS = (".nc4", ".nc", ".h5", ".he5")
_FIX = (
    f"set {TOKEN_ENV} to a token from Earthdata Login (urs.earthdata.nasa.gov: Generate Token) "
    f"or put your login in ~/.netrc (machine {URS_MACHINE})"
)


@dataclass(frozen=True)
class Token:
    """An Earthdata bearer token and where it came from (for messages: never the value)."""

    value: str
    origin: str

    def __repr__(self) -> str:
        return f"Token(value='***', origin={self.origin!r})"


def cmr_url() -> str:
    return os.environ.get(CMR_ENV, CMR_URL).rstrip("/")


def urs_url() -> str:
    return os.environ.get(URS_ENV, URS_URL).rstrip("/")


def credentials(*, required: bool) -> Token | None:
    """The user's token (see the module doc), checked for expiry; registered with redact.

    Raises AuthenticationError, naming what to set, when ``required`` and none is found, when
    the token has expired, or when Earthdata Login refuses the ~/.netrc login.
    """
    value = os.environ.get(TOKEN_ENV, "").strip()
    token = Token(value, TOKEN_ENV) if value else _from_netrc()
    if token is None:
        if required:
            raise AuthenticationError(f"no Earthdata credentials found: {_FIX}")
        return None
    register_secret(token.value)
    expires = expiry(token.value)
    if expires is not None and expires <= dt.datetime.now(dt.UTC):
        raise AuthenticationError(
            f"the Earthdata token from {token.origin} expired on {expires:%Y-%m-%d %H:%M} UTC: {_FIX}"
        )
    return token


def expiry(token: str) -> dt.datetime | None:
    """The ``exp`` claim of a JWT (Earthdata Login tokens are JWTs), or None. Pure: the
    signature is not checked, the server does that; this only avoids starting with a token
    that says it has run out."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return dt.datetime.fromtimestamp(float(payload["exp"]), dt.UTC)
    except (ValueError, KeyError, TypeError, OverflowError):
        return None


def _from_netrc() -> Token | None:
    path = Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    if not path.is_file():
        return None
    try:
        entry = netrc.netrc(str(path)).authenticators(URS_MACHINE)
    except (netrc.NetrcParseError, OSError) as err:
        raise AuthenticationError(f"{path} cannot be read ({type(err).__name__}): {_FIX}") from None
    if not entry or not entry[0] or not entry[2]:
        return None
    login, _, password = entry
    register_secret(password)
    url = f"{urs_url()}/api/users/find_or_create_token"
    answer = http.post(url, auth=(login, password))
    if answer.status in (401, 403):
        raise AuthenticationError(
            f"Earthdata Login refused the login of machine {URS_MACHINE} in {path} "
            f"(HTTP {answer.status}): {_FIX}"
        )
    try:
        value = json.loads(answer.body)["access_token"]
    except (ValueError, KeyError, TypeError):
        raise StorageError(
            f"{public_url(url)}: no token in Earthdata Login's answer (HTTP {answer.status})"
        ) from None
    register_secret(value)
    return Token(value, f"~/.netrc ({URS_MACHINE})")


def sends_token_to(url: str) -> bool:
    """Whether ``url`` may receive the Earthdata token: NASA hosts and the CMR host, over
    HTTPS (plain HTTP only on loopback)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    loopback = host in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        return False
    cmr_host = (urlsplit(cmr_url()).hostname or "").lower()
    return host == "nasa.gov" or host.endswith(".nasa.gov") or host == cmr_host


def options_for(url: str, token: Token | None) -> dict[str, str]:
    return {TOKEN_OPTION: token.value} if token is not None and sends_token_to(url) else {}


def collection(location: Location) -> tuple[str, str | None]:
    """``(short_name, version)`` of ``earthdata:SHORT_NAME[.VERSION]``."""
    name = location.url[len(EARTHDATA_PREFIX) :].strip().strip("/")
    if not name or any(c in name for c in "/?&# "):
        raise ConfigError(
            f"{location.url}: name a collection by its short name, e.g. earthdata:LPRM_AMSR2_D_SOILM3"
        )
    short, _, version = name.partition(".")
    return short, version or None


def search(
    short_name: str,
    version: str | None,
    token: Token | None,
    *,
    temporal: tuple[dt.date | None, dt.date | None] = (None, None),
    updated_since: str | None = None,
) -> list[str]:
    """The download URL of every granule of the collection, paging with CMR-Search-After.

    ``temporal``: only granules of these days (CMR's ``temporal``; either end may be open), so
    a daily run asks for a few days, not the whole record. ``updated_since``: only granules
    CMR records as changed after that time (ISO 8601, UTC): regenerated near-real-time files.
    """
    params: dict[str, Any] = {
        "short_name": short_name,
        "page_size": PAGE_SIZE,
        "sort_key": "start_date",
    }
    if version:
        params["version"] = version
    first, last = temporal
    if first or last:
        start = f"{first.isoformat()}T00:00:00Z" if first else ""
        end = f"{last.isoformat()}T23:59:59Z" if last else ""
        params["temporal[]"] = f"{start},{end}"
    if updated_since:
        params["updated_since"] = updated_since
    url = f"{cmr_url()}/search/granules.json?{urlencode(params)}"
    secret = token.value if token is not None and sends_token_to(url) else None
    found: list[str] = []
    headers: dict[str, str] = {"Accept": "application/json"}
    while True:
        try:
            answer = http.get(url, secret, headers=headers)
        except http.HttpStatusError as err:
            raise StorageError(
                f"the CMR granule search for {short_name} failed: HTTP {err.status} ({err.detail})"
            ) from None
        try:
            entries = json.loads(answer.body)["feed"]["entry"]
        except (ValueError, KeyError, TypeError):
            raise StorageError(
                f"{public_url(url)}: the CMR answer is not a granule search feed"
            ) from None
        found += [link for entry in entries if (link := data_link(entry))]
        hits = int(answer.headers.get("cmr-hits", len(found)) or 0)
        after = answer.headers.get("cmr-search-after")
        if not entries or not after or len(found) >= hits:
            break
        headers = {"Accept": "application/json", "CMR-Search-After": after}
    if not found and not (first or last or updated_since):
        raise ConfigError(
            f"CMR ({cmr_url()}) found no granules with a download link in collection {short_name}"
            f"{f' version {version}' if version else ''}; check the short name (e.g. LPRM_AMSR2_D_SOILM3)"
        )
    return found


def data_link(entry: dict) -> str | None:
    """The HTTPS download URL of one CMR granule entry (``feed.entry[i]``), or None. Pure.

    Among ``links`` whose ``rel`` ends in ``/data#`` and that are the granule's own (not
    ``inherited`` from the collection), the first HTTP(S) one named like an archive file, else
    the first HTTP(S) one.
    """
    candidates = [
        str(link["href"])
        for link in entry.get("links", [])
        if isinstance(link, dict)
        and str(link.get("rel", "")).endswith(DATA_REL)
        and not link.get("inherited")
        and str(link.get("href", "")).startswith(("https://", "http://"))
    ]
    for href in candidates:
        if posixpath.basename(urlsplit(href).path).lower().endswith(ARCHIVE_EXTENSIONS):
            return href
    return candidates[0] if candidates else None
