"""The loopback HTTP server every test server builds on: serves on a free port, stops cleanly."""

from __future__ import annotations

import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest

from sgdsm_cloud.testing.background import BackgroundHttpServer


class Hello(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def do_GET(self) -> None:
        body = self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_serves_on_a_free_loopback_port_and_stops():
    with BackgroundHttpServer(Hello) as server:
        assert server.url.startswith("http://127.0.0.1:") and not server.url.endswith(":0")
        assert urllib.request.urlopen(f"{server.url}/ping", timeout=10).read() == b"/ping"
        url = server.url
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/ping", timeout=2)
