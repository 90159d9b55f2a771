"""A loopback server on a background thread, usable as ``with Server(...) as server:``."""

from __future__ import annotations

from typing import Self


class BackgroundServer:
    """``start()`` serves and returns the URL, ``stop()`` shuts down; ``with`` does both."""

    def start(self) -> str:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
