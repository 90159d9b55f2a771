"""A small NASA Earthdata on loopback: CMR granule search, Earthdata Login's token endpoint,
and a GES DISC-like data server behind a bearer token, with injected faults.

* ``GET /search/granules.json?short_name=...&page_size=...`` answers in CMR's JSON shape:
  ``{"feed": {"entry": [...]}}``, each entry with ``title``, ``producer_granule_id``,
  ``time_start``/``time_end``, ``granule_size`` (MB) and ``links`` (an HTTPS ``data#`` link to
  the file, an ``s3#`` link, a ``metadata#`` link and an ``inherited`` documentation link), with
  the ``CMR-Hits`` and ``CMR-Search-After`` headers; the next page comes with the request header
  ``CMR-Search-After``. An invalid token in ``Authorization`` gets 401 and
  ``{"errors": [...]}``, as CMR answers; no token is fine (public metadata).
* ``POST /api/users/find_or_create_token`` with HTTP basic auth answers
  ``{"access_token", "token_type", "expiration_date"}`` for a known user, else 401.
* ``GET|HEAD /data/WAOB/<SHORT_NAME>.001/YYYY/MM/<file>`` serves each file of a collection's
  directory (files whose name has no date sit in the collection's folder). Directories answer
  with an Apache-style HTML index (``Parent Directory``, ``?C=N;O=D`` sort links, sizes).
  Every ``/data/`` request needs ``Authorization: Bearer <valid token>``: none, an unknown or an
  expired token gets 401 (an expired one says so).

Faults (:class:`HttpFaults`) hit ``/data/`` requests: 429 with ``Retry-After: 0``, 503, a
connection reset before the answer, or a reset halfway through the body. As in
``testing.faults``, which request is hit is a pure function of the seed, method, path and
occurrence, and ``max_consecutive`` bounds failures in a row for one request.

Serve in a thread (:class:`EarthdataServer`, a context manager) or as a process:
``python -m sgdsm_cloud.testing.earthdata --collection NAME=DIR --token T`` prints its URL.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import html
import json
import re
import socket
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from sgdsm_cloud.testing.background import BackgroundHttpServer
from sgdsm_cloud.testing.faults import draw_fault

PROVIDER_PATH = "/data/WAOB"
DATA_REL = "http://esipfed.org/ns/fedsearch/1.1/data#"
_DATE = re.compile(r"_(\d{4})(\d{2})(\d{2})(\d{6})?\.")
FAULT_KINDS = ("too_many", "unavailable", "reset_before", "reset_mid")


@dataclass(frozen=True)
class HttpFaults:
    """Fractions of ``/data/`` requests that meet each fault (sum <= 1).

    Attributes:
        too_many: 429 Too Many Requests, ``Retry-After: 0``.
        unavailable: 503 Service Unavailable.
        reset_before: the connection is reset before any answer.
        reset_mid: the headers and half of the body are sent, then the connection is reset.
        seed: changes which requests are hit.
        max_consecutive: most failures in a row for one method and path (None: no bound).
    """

    too_many: float = 0.0
    unavailable: float = 0.0
    reset_before: float = 0.0
    reset_mid: float = 0.0
    seed: int = 0
    max_consecutive: int | None = 2

    @property
    def total(self) -> float:
        return sum(getattr(self, kind) for kind in FAULT_KINDS)

    def choose(self, method: str, path: str, occurrence: int) -> str | None:
        if self.total == 0:
            return None
        rates = {kind: getattr(self, kind) for kind in FAULT_KINDS}
        return draw_fault(rates, f"{self.seed}|{method}|{path}|{occurrence}")


def jwt(exp: dt.datetime, subject: str = "tester") -> str:
    """An unsigned JWT with an ``exp`` claim, shaped like an Earthdata Login token."""

    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    claims = {"type": "User", "uid": subject, "exp": int(exp.timestamp()), "iss": "loopback"}
    return f"{part({'typ': 'JWT', 'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


@dataclass
class ServerStats:
    """What the server saw: requests by kind, faults by kind, files whose bytes went out."""

    requests: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    files_read: list[str] = field(default_factory=list)
    files_headed: list[str] = field(default_factory=list)
    unauthorised: int = 0
    authorization_headers: list[str] = field(default_factory=list)


class _Reset(Exception):
    """The handler reset the connection; nothing more is sent."""


class EarthdataServer(BackgroundHttpServer):
    """The server, from a background thread on a free loopback port (see the module doc).

    Args:
        collections: short name -> directory of its files.
        tokens: valid bearer tokens.
        expired: tokens the server knows have expired (401 "Token has expired").
        users: Earthdata Login user -> (password, token it hands out).
        faults: injected into ``/data/`` requests; may be replaced between phases of a test.
    """

    def __init__(
        self,
        collections: dict[str, Path],
        tokens: tuple[str, ...] = (),
        *,
        expired: tuple[str, ...] = (),
        users: dict[str, tuple[str, str]] | None = None,
        faults: HttpFaults = HttpFaults(),
        port: int = 0,
    ) -> None:
        self.collections = {name: Path(d) for name, d in collections.items()}
        self.tokens = set(tokens)
        self.expired = set(expired)
        self.users = dict(users or {})
        self.faults = faults
        self.stats = ServerStats()
        self._seen: Counter = Counter()
        self._streak: Counter = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(_Handler):
            owner = server

        super().__init__(Handler, port)

    def reset_stats(self) -> None:
        with self._lock:
            self.stats = ServerStats()
            self._seen = Counter()
            self._streak = Counter()

    # --- the archive -------------------------------------------------------------------------

    def files(self, short_name: str) -> list[Path]:
        directory = self.collections[short_name]
        return sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))

    def relative(self, short_name: str, name: str) -> str:
        """Where a file sits under its collection's folder: ``YYYY/MM/name`` when dated."""
        found = _DATE.search(name)
        return f"{found[1]}/{found[2]}/{name}" if found else name

    def granule_url(self, short_name: str, name: str) -> str:
        return f"{self.collection_url(short_name)}{_quote(self.relative(short_name, name))}"

    def collection_url(self, short_name: str) -> str:
        return f"{self.url}{PROVIDER_PATH}/{short_name}.001/"

    def _entry(self, short_name: str, path: Path) -> dict:
        found = _DATE.search(path.name)
        day = f"{found[1]}-{found[2]}-{found[3]}" if found else "2015-01-01"
        href = self.granule_url(short_name, path.name)
        return {
            "producer_granule_id": path.name,
            "time_start": f"{day}T00:00:00.000Z",
            "updated": _updated(path),
            "dataset_id": f"{short_name} at loopback",
            "data_center": "GES_DISC",
            "title": path.name,
            "coordinate_system": "CARTESIAN",
            "day_night_flag": "UNSPECIFIED",
            "time_end": f"{day}T23:59:59.999Z",
            "id": f"G{int(hashlib.sha256(path.name.encode('utf-8', 'surrogateescape')).hexdigest()[:8], 16)}-GES_DISC",
            "original_format": "UMM_JSON",
            "granule_size": str(path.stat().st_size / 2**20),
            "browse_flag": False,
            "collection_concept_id": "C1000000001-GES_DISC",
            "online_access_flag": True,
            "links": [
                {
                    "rel": DATA_REL,
                    "title": f"Download {path.name}",
                    "hreflang": "en-US",
                    "href": href,
                },
                {
                    "rel": "http://esipfed.org/ns/fedsearch/1.1/s3#",
                    "title": "This link provides direct download access via S3 to the granule",
                    "hreflang": "en-US",
                    "href": f"s3://gesdisc-cumulus-prod-protected/{short_name}.001/{path.name}",
                },
                {
                    "rel": "http://esipfed.org/ns/fedsearch/1.1/metadata#",
                    "hreflang": "en-US",
                    "href": f"{self.url}/search/concepts/G0-GES_DISC.xml",
                },
                {
                    "inherited": True,
                    "rel": "http://esipfed.org/ns/fedsearch/1.1/documentation#",
                    "hreflang": "en-US",
                    "href": "https://disc.gsfc.nasa.gov/datasets/",
                },
            ],
        }

    def token_state(self, header: str | None) -> str:
        """``valid``, ``missing``, ``expired`` or ``invalid`` for an Authorization header."""
        if not header:
            return "missing"
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer":
            return "invalid"
        if value in self.expired:
            return "expired"
        return "valid" if value in self.tokens else "invalid"

    def fault_for(self, method: str, path: str) -> str | None:
        with self._lock:
            key = (method, path)
            occurrence = self._seen[key]
            self._seen[key] += 1
            fault = self.faults.choose(method, path, occurrence)
            bound = self.faults.max_consecutive
            if fault and bound is not None and self._streak[key] >= bound:
                fault = None
            self._streak[key] = self._streak[key] + 1 if fault else 0
            if fault:
                self.stats.faults[fault] += 1
            return fault


class _Handler(BaseHTTPRequestHandler):
    owner: EarthdataServer
    protocol_version = "HTTP/1.1"
    server_version = "loopback-earthdata"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except _Reset:
            self.close_connection = True
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True

    def do_HEAD(self) -> None:
        self._route("HEAD")

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0) or 0)
        if length:
            self.rfile.read(length)
        self._route("POST")

    def _route(self, method: str) -> None:
        parts = urlsplit(self.path)
        owner = self.owner
        with owner._lock:
            owner.stats.requests[
                f"{method} {parts.path.split('/')[1] if '/' in parts.path else ''}"
            ] += 1
            if self.headers.get("Authorization"):
                owner.stats.authorization_headers.append(self.headers["Authorization"])
        if parts.path == "/search/granules.json" and method == "GET":
            return self._search(parse_qs(parts.query))
        if parts.path == "/api/users/find_or_create_token" and method == "POST":
            return self._token()
        if parts.path.startswith(PROVIDER_PATH + "/") and method in ("GET", "HEAD"):
            return self._data(method, unquote(parts.path, errors="surrogateescape"))
        return self._send(404, b"Not Found", "text/plain", method)

    # --- CMR ----------------------------------------------------------------------------------

    def _search(self, query: dict[str, list[str]]) -> None:
        owner = self.owner
        state = owner.token_state(self.headers.get("Authorization"))
        if state in ("invalid", "expired"):
            message = "Token has expired" if state == "expired" else "Token does not exist"
            return self._json(401, {"errors": [message]})
        short = (query.get("short_name") or [""])[0]
        size = int((query.get("page_size") or ["10"])[0])
        if size > 2000:
            return self._json(400, {"errors": ["page_size must be a number between 0 and 2000"]})
        entries = []
        if short in owner.collections:
            temporal = (query.get("temporal[]") or query.get("temporal") or [""])[0]
            since = (query.get("updated_since") or [""])[0]
            entries = [
                owner._entry(short, p)
                for p in owner.files(short)
                if _in_range(p.name, temporal) and (not since or _after(p, since))
            ]
        after = self.headers.get("CMR-Search-After")
        start = int(json.loads(after)[1]) if after else 0
        page = entries[start : start + size]
        headers = {"CMR-Hits": str(len(entries)), "CMR-Took": "3"}
        if page:
            headers["CMR-Search-After"] = json.dumps([short.lower(), start + len(page)])
        feed = {
            "feed": {
                "updated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "id": f"{owner.url}/search/granules.json?short_name={short}",
                "title": "ECHO granule metadata",
                "entry": page,
            }
        }
        return self._json(200, feed, headers)

    # --- Earthdata Login ----------------------------------------------------------------------

    def _token(self) -> None:
        header = self.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        try:
            login, _, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            login, password = "", ""
        known = self.owner.users.get(login)
        if scheme.lower() != "basic" or known is None or known[0] != password:
            return self._json(
                401,
                {"error": "invalid_credentials", "error_description": "Invalid user credentials"},
            )
        expires = (dt.date.today() + dt.timedelta(days=60)).strftime("%m/%d/%Y")
        return self._json(
            200, {"access_token": known[1], "token_type": "Bearer", "expiration_date": expires}
        )

    # --- data ---------------------------------------------------------------------------------

    def _data(self, method: str, path: str) -> None:
        owner = self.owner
        state = owner.token_state(self.headers.get("Authorization"))
        if state != "valid":
            with owner._lock:
                owner.stats.unauthorised += 1
            body = b"Token has expired" if state == "expired" else b"Unauthorized"
            return self._send(
                401, body, "text/plain", method, {"WWW-Authenticate": 'Bearer realm="Earthdata"'}
            )
        fault = owner.fault_for(method, path)
        if fault == "too_many":
            return self._send(429, b"Too Many Requests", "text/plain", method, {"Retry-After": "0"})
        if fault == "unavailable":
            return self._send(503, b"Service Unavailable", "text/plain", method)
        if fault == "reset_before":
            self._reset()
        rest = path[len(PROVIDER_PATH) + 1 :]
        short, _, inside = rest.partition("/")
        short = short.removesuffix(".001")
        if short not in owner.collections:
            return self._send(404, b"Not Found", "text/plain", method)
        if inside == "" or inside.endswith("/"):
            return self._index(method, short, inside, path)
        files = {owner.relative(short, p.name): p for p in owner.files(short)}
        target = files.get(inside)
        if target is None:
            return self._send(404, b"Not Found", "text/plain", method)
        data = target.read_bytes()
        with owner._lock:
            (owner.stats.files_read if method == "GET" else owner.stats.files_headed).append(
                target.name
            )
        if fault == "reset_mid" and method == "GET":
            self._start(200, "application/octet-stream", len(data))
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._reset()
        return self._send(200, data, "application/octet-stream", method)

    def _index(self, method: str, short: str, inside: str, path: str) -> None:
        owner = self.owner
        entries: dict[str, int | None] = {}
        for p in owner.files(short):
            relative = owner.relative(short, p.name)
            if not relative.startswith(inside):
                continue
            head, _, tail = relative[len(inside) :].partition("/")
            entries[head + "/" if tail else head] = None if tail else p.stat().st_size
        if inside and not entries:
            return self._send(404, b"Not Found", "text/plain", method)
        rows = [
            f'<tr><td valign="top">&nbsp;</td><td><a href="{_quote(name)}">{html.escape(_shown(name))}</a></td>'
            f'<td align="right">2023-05-04 12:00  </td><td align="right">'
            f"{'-' if size is None else _human(size)}</td><td>&nbsp;</td></tr>"
            for name, size in sorted(entries.items())
        ]
        page = (
            f'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<html>\n <head>\n'
            f"  <title>Index of {html.escape(path)}</title>\n </head>\n <body>\n"
            f"<h1>Index of {html.escape(path)}</h1>\n  <table>\n"
            '   <tr><th valign="top">&nbsp;</th><th><a href="?C=N;O=D">Name</a></th>'
            '<th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th>'
            '<th><a href="?C=D;O=A">Description</a></th></tr>\n'
            '   <tr><td valign="top">&nbsp;</td><td><a href="../">Parent Directory</a></td>'
            '<td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>\n'
            + "\n".join(rows)
            + "\n</table>\n</body></html>\n"
        )
        return self._send(200, page.encode(), "text/html;charset=ISO-8859-1", method)

    # --- wire ---------------------------------------------------------------------------------

    def _start(
        self, status: int, content_type: str, length: int, headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()

    def _send(
        self, status: int, body: bytes, content_type: str, method: str, headers: dict | None = None
    ) -> None:
        self._start(status, content_type, len(body), headers)
        if method != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: object, headers: dict | None = None) -> None:
        self._send(
            status, json.dumps(payload).encode(), "application/json;charset=utf-8", "GET", headers
        )

    def _reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0), as a dropped connection does."""
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.connection.close()
        raise _Reset


def _quote(name: str) -> str:
    """Percent-encode a file name, its undecodable bytes (surrogate escapes) included."""
    return quote(name.encode("utf-8", "surrogateescape"))


def _shown(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _human(size: int) -> str:
    for unit in ("", "K", "M", "G"):
        if size < 1024 or unit == "G":
            return f"{size:.0f}" if unit == "" else f"{size:.1f}{unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)


def _updated(path: Path) -> str:
    """CMR's ``updated`` of a granule: when its file was last written (a regenerated
    near-real-time file gets a new one)."""
    moment = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _after(path: Path, since: str) -> bool:
    """Whether the granule was updated after CMR's ``updated_since`` (an ISO time)."""
    moment = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC) > moment


def _in_range(name: str, temporal: str) -> bool:
    """Whether the file's date lies in CMR's ``temporal=START,END`` (ISO times); undated: yes."""
    if not temporal:
        return True
    found = _DATE.search(name)
    if not found:
        return True
    start, _, end = temporal.partition(",")
    day = f"{found[1]}-{found[2]}-{found[3]}"
    return (not start or day >= start[:10]) and (not end or day <= end[:10])


def main(argv: list[str] | None = None) -> int:
    """Serve until killed; print the base URL (use it as SGDSM_CMR_URL) on stdout."""
    parser = argparse.ArgumentParser(prog="python -m sgdsm_cloud.testing.earthdata")
    parser.add_argument("--collection", action="append", default=[], metavar="NAME=DIR")
    parser.add_argument("--token", action="append", default=[])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    collections = dict(c.split("=", 1) for c in args.collection)
    with EarthdataServer(
        {k: Path(v) for k, v in collections.items()}, tuple(args.token), port=args.port
    ) as server:
        print(server.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
