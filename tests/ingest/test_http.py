"""Archive reads over HTTP on loopback (sgdsm_cloud.ingest.http): the token in the Authorization
header only, 429/503 and dropped connections retried a bounded number of times, 401 and login
redirects as authentication errors, 403/404 as status errors that name the page's text, sizes by
HEAD, and HTML directory listings walked into file URLs."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import pytest

from sgdsm_cloud.errors import AuthenticationError, SgdsmError
from sgdsm_cloud.ingest import http
from sgdsm_cloud.ingest.retry import TransientStorageError
from sgdsm_cloud.testing.background import BackgroundHttpServer
from sgdsm_cloud.testing.earthdata import EarthdataServer, HttpFaults

COLLECTION = "TEST_SOILM"
TOKEN = "loopback-http-token-0123456789"
STALE = "stale-http-token-the-server-knows"
NO_WAIT = http.HttpRetry(attempts=3, first_delay_s=0.0, max_delay_s=0.0)
FILES = {
    "A_20150401.nc4": b"a" * 100,
    "A_20150402.nc4": b"b" * 150,
    "B_20150501.nc4": b"c" * 7,
    "readme.txt": b"undated: in the collection's own folder",
}


@pytest.fixture
def server(tmp_path):
    """A loopback Earthdata data server with four small files in YYYY/MM folders."""
    archive = tmp_path / "archive"
    archive.mkdir()
    for name, data in FILES.items():
        (archive / name).write_bytes(data)
    with EarthdataServer(
        {COLLECTION: archive}, (TOKEN,), expired=(STALE,), users={"alice": ("pw", TOKEN)}
    ) as running:
        yield running


def url_of(server, name: str) -> str:
    return server.granule_url(COLLECTION, name)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/echo":  # the request's headers, as JSON
            return self._send(
                200, json.dumps(dict(self.headers.items())).encode(), "application/json"
            )
        if path == "/protected.nc4":  # as an archive redirects a request without credentials
            return self._send(302, b"", "text/plain", {"Location": "/oauth/authorize?client_id=x"})
        if path == "/oauth/authorize":
            return self._send(200, b"<html><h1>Earthdata Login</h1></html>", "text/html")
        if path == "/forbidden.nc4":
            page = b"<html><head><title>403 Forbidden</title></head><body><p>No access.</p></body>"
            return self._send(403, page, "text/html")
        if path == "/loop":  # a redirect that never ends
            return self._send(302, b"", "text/plain", {"Location": "/loop?sig=SECRET"})
        if path == "/moved":  # a listing that now lives elsewhere
            return self._send(301, b"", "text/plain", {"Location": "/listing/"})
        if path == "/listing/":
            return self._send(200, b'<A HREF="f.nc4">f</A> <a href="../">up</a>', "text/html")
        return self._send(404, b"Not Found", "text/plain")

    def _send(self, status: int, body: bytes, kind: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


class PlainServer(BackgroundHttpServer):
    """Answers an archive gives that the Earthdata server does not: a redirect to the login
    page, an HTML 403 page, a moved listing, and an echo of the request's headers."""

    def __init__(self) -> None:
        super().__init__(_Handler)


@pytest.fixture
def plain():
    with PlainServer() as running:
        yield running


def test_fetch_returns_the_bytes_with_the_token_in_the_authorization_header_only(server):
    assert http.fetch(url_of(server, "A_20150401.nc4"), TOKEN) == FILES["A_20150401.nc4"]
    assert server.stats.authorization_headers == [f"Bearer {TOKEN}"]
    assert server.stats.files_read == ["A_20150401.nc4"]


def test_requests_ask_for_identity_encoding_and_carry_extra_headers(plain):
    sent = json.loads(
        http.get(f"{plain.url}/echo", TOKEN, headers={"CMR-Search-After": "[1]"}).body
    )
    assert sent["Authorization"] == f"Bearer {TOKEN}"
    assert sent["Accept-Encoding"] == "identity" and sent["User-Agent"] == "sgdsm-cloud"
    assert sent["CMR-Search-After"] == "[1]"
    assert "Authorization" not in json.loads(http.get(f"{plain.url}/echo", None).body)


def test_429_and_503_answers_are_retried_until_the_file_comes(server):
    server.faults = HttpFaults(too_many=0.5, unavailable=0.5, max_consecutive=2)  # every try
    data = http.fetch(url_of(server, "A_20150402.nc4"), TOKEN, NO_WAIT)
    assert data == FILES["A_20150402.nc4"]
    assert sum(server.stats.faults.values()) == 2
    assert server.stats.requests["GET data"] == 3


def test_an_answer_that_stays_unavailable_is_transient_after_the_last_try(server):
    server.faults = HttpFaults(unavailable=1.0, max_consecutive=None)
    with pytest.raises(TransientStorageError, match="HTTP 503 after retries; re-run") as caught:
        http.fetch(url_of(server, "A_20150401.nc4"), TOKEN, NO_WAIT)
    assert server.stats.requests["GET data"] == NO_WAIT.attempts
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("fault", ["reset_before", "reset_mid"])
def test_dropped_connections_and_truncated_bodies_are_retried(server, fault):
    server.faults = HttpFaults(**{fault: 1.0}, max_consecutive=1)
    assert http.fetch(url_of(server, "A_20150401.nc4"), TOKEN, NO_WAIT) == FILES["A_20150401.nc4"]
    assert server.stats.faults[fault] == 1

    server.faults = HttpFaults(**{fault: 1.0}, max_consecutive=None)
    with pytest.raises(TransientStorageError, match="^GET http://127.0.0.1:.* failed 3 times"):
        http.fetch(url_of(server, "A_20150402.nc4"), TOKEN, NO_WAIT)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "asks for Earthdata Login credentials and none were found"),
        ("not-a-token-the-server-knows", "refused the Earthdata token (HTTP 401)"),
        (STALE, "refused the Earthdata token: it has expired"),
    ],
)
def test_a_401_names_the_refused_credential_and_the_fix_but_not_the_token(server, token, reason):
    with pytest.raises(AuthenticationError) as caught:
        http.fetch(url_of(server, "A_20150401.nc4"), token, NO_WAIT)
    message = str(caught.value)
    assert message.startswith(f"127.0.0.1 {reason}; set EARTHDATA_TOKEN")
    assert "~/.netrc" in message
    assert token is None or token not in message
    assert server.stats.files_read == []


def test_a_redirect_to_the_login_page_is_an_authentication_error(plain):
    with pytest.raises(AuthenticationError, match="none were found; set EARTHDATA_TOKEN"):
        http.fetch(f"{plain.url}/protected.nc4", None, NO_WAIT)


def test_403_and_404_are_status_errors_with_the_page_text_and_no_query(server, plain):
    with pytest.raises(http.HttpStatusError) as caught:
        http.fetch(f"{plain.url}/forbidden.nc4?signature=SECRET", TOKEN, NO_WAIT)
    assert caught.value.status == 403
    assert caught.value.detail == "403 Forbidden No access."  # tags stripped
    assert str(caught.value) == f"{plain.url}/forbidden.nc4: HTTP 403 (403 Forbidden No access.)"

    missing = url_of(server, "A_20150430.nc4")
    with pytest.raises(http.HttpStatusError, match="HTTP 404 \\(Not Found\\)") as caught:
        http.get(missing, TOKEN, NO_WAIT)
    assert (caught.value.status, caught.value.url) == (404, missing)


def test_a_redirect_loop_is_one_error_without_the_query(plain):
    with pytest.raises(SgdsmError, match="too many redirects") as caught:
        http.fetch(f"{plain.url}/loop?sig=SECRET", None, NO_WAIT)
    assert "SECRET" not in str(caught.value) and f"{plain.url}/loop" in str(caught.value)


def test_get_answers_with_the_final_url_and_lower_case_headers(plain):
    answer = http.get(f"{plain.url}/moved", None, NO_WAIT)
    assert answer.status == 200 and answer.url == f"{plain.url}/listing/"
    assert answer.headers["content-type"] == "text/html"
    assert all(name == name.lower() for name in answer.headers)


def test_post_sends_basic_auth_and_leaves_a_refusal_to_the_caller(server):
    token_url = f"{server.url}/api/users/find_or_create_token"
    answer = http.post(token_url, NO_WAIT, auth=("alice", "pw"))
    assert answer.status == 200 and json.loads(answer.body)["access_token"] == TOKEN
    assert server.stats.authorization_headers[-1].startswith("Basic ")
    refused = http.post(token_url, NO_WAIT, auth=("alice", "wrong"))
    assert refused.status == 401  # unchecked: no exception
    assert json.loads(refused.body)["error"] == "invalid_credentials"


def test_sizes_heads_each_url_once_and_maps_a_missing_file_to_its_error(server):
    urls = [url_of(server, n) for n in ("A_20150401.nc4", "B_20150501.nc4")]
    missing = url_of(server, "A_20150430.nc4")
    asked: list[str] = []

    def token_for(url: str) -> str:
        asked.append(url)
        return TOKEN

    found = http.sizes([urls[0], urls[1], urls[0], missing], token_for, NO_WAIT)
    assert list(found) == [urls[0], urls[1], missing]
    assert found[urls[0]] == 100 and found[urls[1]] == 7
    assert isinstance(found[missing], http.HttpStatusError) and found[missing].status == 404
    assert sorted(asked) == sorted(found)  # one token look-up and one HEAD per URL
    assert server.stats.requests["HEAD data"] == 3
    assert server.stats.files_read == []  # no bytes went out
    assert http.sizes([], token_for) == {}


def test_walk_finds_every_file_under_the_listing_reading_each_page_once(server):
    root = server.collection_url(COLLECTION)
    files = http.walk(root, TOKEN)
    assert files == [
        f"{root}readme.txt",
        f"{root}2015/04/A_20150401.nc4",
        f"{root}2015/04/A_20150402.nc4",
        f"{root}2015/05/B_20150501.nc4",
    ]
    assert server.stats.requests["GET data"] == 4  # root, 2015/, 2015/04/, 2015/05/
    assert server.stats.files_read == []


def test_walk_resolves_links_against_the_listing_it_was_redirected_to(plain):
    assert http.walk(f"{plain.url}/moved", None) == [f"{plain.url}/listing/f.nc4"]


def test_walk_stops_at_a_file_and_at_too_many_pages(server):
    with pytest.raises(http.NotAListing, match="not an HTML directory listing"):
        http.walk(url_of(server, "readme.txt"), TOKEN)
    root = server.collection_url(COLLECTION)  # four pages
    assert len(http.walk(root, TOKEN, max_pages=4)) == len(FILES)
    with pytest.raises(SgdsmError, match="more than 3 listing pages; stopped"):
        http.walk(root, TOKEN, max_pages=3)


def test_links_dedupe_skip_fragments_and_resolve_against_a_base_without_a_slash():
    page = (
        '<A HREF="f.nc4">f</A><a href="f.nc4">again</a><a href="#top">top</a>'
        '<a href="g%20h.nc4">g h</a><a name="anchor">no href</a><a href="sub/">sub</a>'
        '<a href="https://h/data/C.001/sub/k.nc4">absolute, inside</a><a href="./">here</a>'
    )
    files, dirs = http.links(page, "https://h/data/C.001")
    root = "https://h/data/C.001/"
    assert files == [f"{root}f.nc4", f"{root}g%20h.nc4", f"{root}sub/k.nc4"]
    assert dirs == [f"{root}sub/"]


def test_the_jitter_never_takes_a_wait_past_the_longest():
    retry = http.HttpRetry(attempts=9, first_delay_s=8.0, max_delay_s=10.0)
    assert all(retry.delay(2) == 10.0 for _ in range(50))  # 16 s backed off, capped
    assert max(retry.delay(1) for _ in range(200)) <= 10.0  # 8 s plus up to 25 %


def test_retry_after_sets_the_wait_up_to_the_longest_else_backoff_doubles():
    retry = http.HttpRetry(attempts=5, first_delay_s=0.5, max_delay_s=10.0)
    assert retry.delay(1, "3") == 3.0
    assert retry.delay(4, " 0 ") == 0.0
    assert retry.delay(1, "3600") == 10.0
    for attempt, base in ((1, 0.5), (2, 1.0), (3, 2.0)):
        assert base <= retry.delay(attempt) <= base * 1.25  # up to 25 % jitter
        assert base <= retry.delay(attempt, "Wed, 21 Oct 2015 07:28:00 GMT") <= base * 1.25
