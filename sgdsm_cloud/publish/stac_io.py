"""pystac reads and writes through fsspec, so a catalogue can live on S3 as well as on disk."""

from __future__ import annotations

import os
from typing import Any

import fsspec
import pystac
from pystac.utils import HREF

from sgdsm_cloud.storage import protocol_of


class FsspecStacIO(pystac.StacIO):
    """A :class:`pystac.StacIO` over any fsspec URL, with the given storage options."""

    def __init__(self, storage_options: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.storage_options = dict(storage_options or {})

    def _open(self, href: HREF, mode: str) -> Any:
        url = os.fspath(href)
        options = (
            {"auto_mkdir": True} if protocol_of(url) in ("file", "local") else self.storage_options
        )
        return fsspec.open(url, mode, encoding="utf-8", **options)

    def read_text(self, source: HREF, *_: Any, **__: Any) -> str:
        with self._open(source, "r") as f:
            return f.read()

    def write_text(self, dest: HREF, txt: str, *_: Any, **__: Any) -> None:
        with self._open(dest, "w") as f:
            f.write(txt)
