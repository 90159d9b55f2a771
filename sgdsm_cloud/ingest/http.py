"""Read archive files over HTTP(S): sizes by HEAD, bytes by GET, HTML directory listings.

One aiohttp session per process, on fsspec's I/O event loop, keeps connections alive across
files. A bearer token, when given, goes in the ``Authorization`` header of each request and
nowhere else (never in a URL, a message or a log line). Each request is retried, with
exponential backoff, after answers that say "try again" (429, 500, 502, 503, 504, honouring
``Retry-After``) and after dropped connections or truncated bodies, a bounded number of times
(:class:`HttpRetry`); what still fails is a :class:`TransientStorageError`, after which the
slab itself is retried (``ingest.retry``) — the same two levels as botocore and the slab retry
give S3 sources. A 401 is an :class:`AuthenticationError` (stop the run), a 403 or 404 a file
that cannot be read (quarantined by the caller).

A file is held in memory while its slab decodes it, as a local file's bytes are; nothing is
written to disk.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import os
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from sgdsm_cloud.errors import AuthenticationError, SgdsmError
from sgdsm_cloud.ingest.retry import TransientStorageError
from sgdsm_cloud.storage import public_url

TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
CONCURRENCY = 16  # HEAD requests in flight while listing


@dataclass(frozen=True)
class HttpRetry:
    """How often and how patiently one request is retried after a transient answer.

    Attributes:
        attempts: tries of one request in all.
        first_delay_s: wait before the second try, doubled before each later one (plus up to
            25 % jitter); a ``Retry-After`` answer sets the wait instead, up to ``max_delay_s``.
        max_delay_s: the longest wait.
    """

    attempts: int = 5
    first_delay_s: float = 0.25
    max_delay_s: float = 20.0

    def delay(self, retry: int, retry_after: str | None = None) -> float:
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), self.max_delay_s)
        base = self.first_delay_s * 2 ** (retry - 1)
        return min(base * (1 + random.random() / 4), self.max_delay_s)  # jitter, capped


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, headers (lower-case names), body, and the URL after redirects."""

    status: int
    headers: dict[str, str]
    body: bytes
    url: str


class HttpStatusError(SgdsmError):
    """A permanent HTTP error status for one URL (403, 404, ...)."""

    def __init__(self, url: str, status: int, detail: str = "") -> None:
        super().__init__(f"{public_url(url)}: HTTP {status}{f' ({detail})' if detail else ''}")
        self.url = url
        self.status = status
        self.detail = detail


_sessions: dict[int, Any] = {}  # pid -> aiohttp.ClientSession on fsspec's loop


def _loop() -> asyncio.AbstractEventLoop:
    from fsspec.asyn import get_loop

    return get_loop()


def _sync(coroutine_function: Any, *args: Any) -> Any:
    from fsspec.asyn import sync

    return sync(_loop(), coroutine_function, *args)


async def _session() -> Any:
    import aiohttp

    session = _sessions.get(os.getpid())
    if session is None or session.closed:
        session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120),
            connector=aiohttp.TCPConnector(limit=CONCURRENCY),
        )
        if not _sessions:
            atexit.register(_close_session)
        _sessions[os.getpid()] = session
    return session


def _close_session() -> None:
    """Close this process's session at exit (its connections otherwise warn as unclosed)."""
    session = _sessions.pop(os.getpid(), None)
    if session is None or session.closed:
        return
    try:
        _sync(session.close)
    except Exception:  # the loop may already be gone at interpreter exit
        pass


def _headers(token: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"Accept-Encoding": "identity", "User-Agent": "sgdsm-cloud"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return {**headers, **(extra or {})}


async def _request(
    method: str,
    url: str,
    token: str | None,
    retry: HttpRetry,
    extra_headers: dict[str, str] | None = None,
) -> Answer:
    """One request, retried after transient answers and dropped connections.

    The last transient answer is returned as it is (the caller decides); the last dropped
    connection raises TransientStorageError.
    """
    import aiohttp

    session = await _session()
    attempt = 1
    while True:
        try:
            async with session.request(
                method,
                url,
                headers=_headers(token, extra_headers),
                allow_redirects=True,
            ) as response:
                if response.status in TRANSIENT_STATUS and attempt < retry.attempts:
                    await response.read()
                    delay = retry.delay(attempt, response.headers.get("Retry-After"))
                else:
                    body = b"" if method == "HEAD" else await response.read()
                    headers = {k.lower(): v for k, v in response.headers.items()}
                    return Answer(response.status, headers, body, str(response.url))
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as err:
            if attempt >= retry.attempts:
                raise TransientStorageError(
                    f"{method} {public_url(url)} failed {attempt} times: {type(err).__name__}"
                ) from None
            delay = retry.delay(attempt)
        except aiohttp.TooManyRedirects:  # its message holds the full URL, signatures included
            raise SgdsmError(
                f"{method} {public_url(url)}: too many redirects; check the URL (a loop through "
                "a login page often means a missing or wrong token)"
            ) from None
        attempt += 1
        await asyncio.sleep(delay)


def _checked(answer: Answer, url: str, token: str | None) -> Answer:
    """``answer`` when it is a success; otherwise the error it means (see the module doc)."""
    if answer.status == 401 or _login_page(answer):
        raise AuthenticationError(auth_message(url, answer, token))
    if answer.status in TRANSIENT_STATUS:
        raise TransientStorageError(
            f"{public_url(url)}: HTTP {answer.status} after retries; re-run the same command to resume"
        )
    if answer.status >= 400:
        raise HttpStatusError(url, answer.status, _detail(answer))
    return answer


def _login_page(answer: Answer) -> bool:
    """Whether a redirect ended at Earthdata Login's sign-in page instead of the file."""
    final = urlsplit(answer.url)
    return (final.hostname or "").startswith("urs.") or final.path.startswith("/oauth/authorize")


def _detail(answer: Answer) -> str:
    text = answer.body[:200].decode("utf-8", "replace")
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())[:120]


def auth_message(url: str, answer: Answer | None, token: str | None) -> str:
    """The one line that says which credential was refused and what to set."""
    where = urlsplit(url).hostname or url
    detail = _detail(answer) if answer is not None else ""
    expired = "expired" in detail.lower()
    if token is None:
        what = f"{where} asks for Earthdata Login credentials and none were found"
    elif expired:
        what = f"{where} refused the Earthdata token: it has expired"
    else:
        what = f"{where} refused the Earthdata token (HTTP {answer.status if answer else 401})"
    return (
        f"{what}; set EARTHDATA_TOKEN to a valid token (Earthdata Login, Generate Token) or put "
        "your login in ~/.netrc (machine urs.earthdata.nasa.gov)"
    )


def fetch(url: str, token: str | None, retry: HttpRetry = HttpRetry()) -> bytes:
    """The whole body of ``url`` (GET), or the error it means (see the module doc)."""
    answer = _sync(_request, "GET", url, token, retry)
    return _checked(answer, url, token).body


def get(url: str, token: str | None, retry: HttpRetry = HttpRetry(), **kw: Any) -> Answer:
    """A checked GET answer (for listings and searches), with its final URL."""
    return _checked(_sync(_request, "GET", url, token, retry, kw.get("headers")), url, token)


def post(url: str, retry: HttpRetry = HttpRetry(), *, auth: tuple[str, str]) -> Answer:
    """An unchecked POST with HTTP basic auth (Earthdata Login's token endpoint)."""
    basic = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    headers = {"Accept": "application/json", "Authorization": f"Basic {basic}"}
    return _sync(_request, "POST", url, None, retry, headers)


def sizes(
    urls: Iterable[str], token_for: Any, retry: HttpRetry = HttpRetry()
) -> dict[str, int | HttpStatusError]:
    """``Content-Length`` of each URL by HEAD, CONCURRENCY at a time; the first URL alone, so
    refused credentials stop the run after one request. A URL answering 403/404 maps to its
    error; 401 raises AuthenticationError. ``token_for(url)`` gives each URL's token."""
    urls = list(dict.fromkeys(urls))
    if not urls:
        return {}
    found = _sync(_sizes, urls[:1], token_for, retry)
    found.update(_sync(_sizes, urls[1:], token_for, retry))
    return found


async def _sizes(
    urls: list[str], token_for: Any, retry: HttpRetry
) -> dict[str, int | HttpStatusError]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(url: str) -> int | HttpStatusError:
        async with gate:
            token = token_for(url)
            answer = await _request("HEAD", url, token, retry)
        try:
            _checked(answer, url, token)
        except HttpStatusError as err:
            return err
        return int(answer.headers.get("content-length", 0) or 0)

    results = await asyncio.gather(*(one(u) for u in urls))
    return dict(zip(urls, results, strict=True))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.lower() == "a":
            self.hrefs += [v for k, v in attrs if k.lower() == "href" and v]


def links(html: str, base: str) -> tuple[list[str], list[str]]:
    """``(files, directories)`` linked from an HTML index page at ``base``, as absolute URLs.

    Pure. Only links that stay under ``base`` count (no parent, no other host, no sort links
    such as Apache's ``?C=N;O=D``); a link ending in ``/`` is a directory.
    """
    parser = _Links()
    parser.feed(html)
    root = base if base.endswith("/") else base + "/"
    files: list[str] = []
    directories: list[str] = []
    for href in parser.hrefs:
        if "?" in href or "#" in href:
            continue
        url = urljoin(root, href)
        if not url.startswith(root) or url == root:
            continue
        (directories if url.endswith("/") else files).append(url)
    return list(dict.fromkeys(files)), list(dict.fromkeys(directories))


def walk(url: str, token: str | None, *, max_pages: int = 10_000) -> list[str]:
    """Every file URL under the HTML directory listing at ``url``, subdirectories included.

    Each page is fetched once; a page that is not HTML ends the walk with a ConfigError in the
    caller (it is a file, not a listing).
    """
    seen: set[str] = set()
    pending = [url]
    files: list[str] = []
    while pending:
        page = pending.pop()
        if page in seen:
            continue
        seen.add(page)
        if len(seen) > max_pages:
            raise SgdsmError(f"{public_url(url)}: more than {max_pages} listing pages; stopped")
        answer = get(page, token)
        kind = answer.headers.get("content-type", "")
        if "html" not in kind:
            raise NotAListing(page, kind)
        found, directories = links(answer.body.decode("utf-8", "replace"), answer.url)
        files += found
        pending += [d for d in reversed(directories) if d not in seen]
    return files


class NotAListing(SgdsmError):
    """A URL expected to be a directory listing answered with something else."""

    def __init__(self, url: str, content_type: str) -> None:
        super().__init__(
            f"{public_url(url)} is not an HTML directory listing ({content_type or 'no type'})"
        )
        self.url = url
