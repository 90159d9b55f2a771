"""A fault-injecting HTTP proxy in front of an S3 endpoint, for robustness tests.

Clients (s3fs, with ``endpoint_url`` set to :attr:`FaultProxy.url`) talk to the proxy; it
forwards each request to the real endpoint, except that a seeded fraction of requests meets a
fault instead:

* ``slowdown``: a ``503 SlowDown`` with S3's XML error body; the request never reaches the
  endpoint (S3 refuses before acting).
* ``reset_before``: the connection is reset before anything is forwarded.
* ``reset_mid``: the request is forwarded (so a PUT takes effect), then the connection is
  reset halfway through the response: the client cannot tell whether its write landed.
* ``slow``: the response comes after ``delay_s`` (keep it below s3fs' 15 s read timeout).

The choice is a pure function of the seed, the request's method and path, and how many times
that same method and path were seen before (:func:`choose_fault`), so a run's faults do not
depend on how concurrent clients interleave, and each retry draws again. ``max_consecutive``
bounds how many failures in a row one request (method and path) can meet: faults that
clear after a few attempts, as transient ones do, independently of the fault rate. The proxy counts
requests and faults by kind (:class:`FaultStats`); :meth:`FaultProxy.hold` parks matching
requests until the test lets them go, to freeze a run at a known point.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field
from http import HTTPStatus

from sgdsm_cloud.testing.background import BackgroundServer

FAULT_KINDS = ("slowdown", "reset_before", "reset_mid", "slow")
FAILURE_KINDS = ("slowdown", "reset_before", "reset_mid")  # the client sees an error
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "expect",
    "content-length",
    "date",
    "server",
}
_SLOWDOWN_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message>"
    b"<RequestId>FAULTPROXY</RequestId><HostId>FAULTPROXY</HostId></Error>"
)


@dataclass(frozen=True)
class FaultPlan:
    """Which fraction of requests meets which fault.

    Attributes:
        slowdown, reset_before, reset_mid, slow: fractions of eligible requests (sum <= 1).
        delay_s: delay of a ``slow`` response, seconds.
        seed: changes which requests are hit, not how many on average.
        only: only requests whose path contains this text are eligible ("" = all).
        max_consecutive: most failures in a row for one method and path (None: no bound).
    """

    slowdown: float = 0.0
    reset_before: float = 0.0
    reset_mid: float = 0.0
    slow: float = 0.0
    delay_s: float = 0.2
    seed: int = 0
    only: str = ""
    max_consecutive: int | None = None

    def __post_init__(self) -> None:
        rates = [getattr(self, kind) for kind in FAULT_KINDS]
        if any(not 0.0 <= r <= 1.0 for r in rates) or sum(rates) > 1.0 + 1e-9:
            raise ValueError(f"fault rates must lie in [0, 1] and sum to at most 1, got {self}")
        if self.delay_s < 0:
            raise ValueError(f"delay_s must be >= 0, got {self.delay_s}")
        if self.max_consecutive is not None and self.max_consecutive < 0:
            raise ValueError(f"max_consecutive must be >= 0, got {self.max_consecutive}")

    @property
    def total(self) -> float:
        return sum(getattr(self, kind) for kind in FAULT_KINDS)


NO_FAULTS = FaultPlan()


def choose_fault(plan: FaultPlan, method: str, target: str, occurrence: int) -> str | None:
    """The fault for the ``occurrence``-th request ``method target`` (0-based), or None."""
    if plan.total == 0 or plan.only not in target:
        return None
    rates = {kind: getattr(plan, kind) for kind in FAULT_KINDS}
    return draw_fault(rates, f"{plan.seed}|{method}|{target}|{occurrence}")


def draw_fault(rates: dict[str, float], key: str) -> str | None:
    """The kind whose share of [0, 1) holds ``key``'s hash, None past them all: the same
    request meets the same fault in every run, and each kind's rate holds on average."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    cumulative = 0.0
    for kind, rate in rates.items():
        cumulative += rate
        if draw < cumulative:
            return kind
    return None


@dataclass
class FaultStats:
    """What the proxy saw: requests by method, faults by kind, and the faulted requests."""

    requests: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    faulted: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def summary(self) -> dict[str, int]:
        return {
            "requests": self.total_requests,
            **{kind: self.faults[kind] for kind in FAULT_KINDS},
        }


class Hold:
    """Requests whose path contains ``fragment`` (and of ``method``, when given) wait until
    :meth:`release`, except the first ``skip`` of them, which go through.

    ``peers`` lists the client address (host, port) of each parked request, so a test can
    find the process that is waiting (e.g. to kill it).
    """

    def __init__(self, proxy: FaultProxy, fragment: str, method: str | None, skip: int) -> None:
        self.fragment = fragment
        self.method = method
        self.skip = skip
        self.seen = 0
        self.peers: list[tuple[str, int]] = []
        self._proxy = proxy
        self._event = asyncio.Event()

    def release(self) -> None:
        """Let the parked requests (and later matching ones) through; idempotent."""
        if self in self._proxy._holds:
            self._proxy._holds.remove(self)
        self._proxy._loop.call_soon_threadsafe(self._event.set)

    @property
    def waiting(self) -> int:
        return len(self.peers)

    def parks(self, method: str, target: str) -> bool:
        """Whether this request waits (counts the matching ones)."""
        if self.fragment not in target or self.method not in (None, method):
            return False
        self.seen += 1
        return self.seen > self.skip

    async def wait(self, peer: tuple[str, int]) -> None:
        self.peers.append(peer)
        await self._event.wait()


class FaultProxy(BackgroundServer):
    """The proxy, served from a background thread on a free loopback port.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. ``plan`` may be
    replaced between phases of a test (e.g. no faults while uploading inputs).
    """

    def __init__(self, upstream: str, plan: FaultPlan = NO_FAULTS) -> None:
        self.upstream = upstream.rstrip("/")
        self.plan = plan
        self.stats = FaultStats()
        self.url = ""
        self._seen: Counter = Counter()
        self._streak: Counter = Counter()
        self._holds: list[Hold] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._ready = threading.Event()

    def start(self) -> str:
        """Serve in the background; returns the proxy's URL."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=30)
        return self.url

    def stop(self) -> None:
        for hold in list(self._holds):
            hold.release()
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def reset_stats(self) -> None:
        """Forget the counts (and the per-request occurrence counters)."""
        self.stats = FaultStats()
        self._seen = Counter()
        self._streak = Counter()

    def hold(self, fragment: str, *, method: str | None = None, skip: int = 0) -> Hold:
        """Park requests whose path contains ``fragment`` until the returned hold is released
        (see :class:`Hold`)."""
        hold = Hold(self, fragment, method, skip)
        self._holds.append(hold)
        return hold

    async def _serve(self) -> None:
        import aiohttp
        from aiohttp import web

        self._session = aiohttp.ClientSession(
            auto_decompress=False, timeout=aiohttp.ClientTimeout(total=120)
        )
        self._server = web.Server(self._handle, access_log=None, handler_cancellation=True)
        self._listener = await self._loop.create_server(self._server, "127.0.0.1", 0)
        port = self._listener.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def _shutdown(self) -> None:
        """Stop serving. aiohttp waits out ``timeout`` on every idle keep-alive connection
        (s3fs leaves a pool of them open), so a short one keeps teardown quick; a request
        still in progress is cancelled after it too, which only a stopped test can have."""
        self._listener.close()
        await self._server.shutdown(timeout=0.1)
        await self._session.close()

    async def _handle(self, request):  # -> web.StreamResponse
        from aiohttp import web

        target = request.raw_path
        if request.headers.get("Expect", "").lower() == "100-continue":
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # web.Server won't
        body = await request.read()
        key = (request.method, target)
        occurrence = self._seen[key]
        self._seen[key] += 1
        self.stats.requests[request.method] += 1
        for hold in list(self._holds):
            if hold.parks(request.method, target):
                await hold.wait(request.transport.get_extra_info("peername")[:2])
        fault = self._fault_for(key, occurrence)
        if fault:
            self.stats.faults[fault] += 1
            self.stats.faulted.append((fault, request.method, target))
        if fault == "slowdown":
            return web.Response(
                status=503,
                body=None if request.method == "HEAD" else _SLOWDOWN_BODY,
                content_type="application/xml",
            )
        if fault == "reset_before":
            _reset(request.transport)
            raise asyncio.CancelledError  # nothing more to send on a reset connection
        if fault == "slow":
            await asyncio.sleep(self.plan.delay_s)
        status, headers, payload = await self._forward(request, body)
        if fault == "reset_mid":
            raw = _serialise(status, headers, payload, head=request.method == "HEAD")
            request.transport.write(raw[: max(1, len(raw) // 2)])
            _reset(request.transport)
            raise asyncio.CancelledError
        if request.method == "HEAD":
            return web.Response(status=status, headers=headers)
        return web.Response(status=status, headers=_without_length(headers), body=payload)

    def _fault_for(self, key: tuple[str, str], occurrence: int) -> str | None:
        fault = choose_fault(self.plan, *key, occurrence)
        bound = self.plan.max_consecutive
        if fault in FAILURE_KINDS and bound is not None and self._streak[key] >= bound:
            fault = None
        self._streak[key] = self._streak[key] + 1 if fault in FAILURE_KINDS else 0
        return fault

    async def _forward(self, request, body: bytes) -> tuple[int, dict[str, str], bytes]:
        from yarl import URL

        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._session.request(
            request.method,
            URL(self.upstream + request.raw_path, encoded=True),
            headers=headers,
            data=body if body else None,
            allow_redirects=False,
        ) as upstream:
            payload = await upstream.read()
            kept = {
                k: v
                for k, v in upstream.headers.items()
                if k.lower() not in _HOP_BY_HOP or k.lower() == "content-length"
            }
            return upstream.status, kept, payload


def _without_length(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() != "content-length"}


def _serialise(status: int, headers: dict[str, str], payload: bytes, *, head: bool) -> bytes:
    """The response as it would go on the wire (headers declare the full body)."""
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in _without_length(headers).items()]
    length = headers.get("Content-Length", headers.get("content-length", str(len(payload))))
    lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head else payload)


def _reset(transport: asyncio.Transport) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed peer or a dropped connection does."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()
