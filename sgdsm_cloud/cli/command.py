"""A subcommand's parser built from its module docstring, so each command says what it does once.

The docstring's first line is ``sgdsm NAME ...: what it does.``; the part after the colon is the
one-line help in ``sgdsm --help``. The paragraphs after it are the command's description.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from textwrap import dedent

from sgdsm_cloud.storage import Location


def add_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    doc: str | None,
    run: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    """The parser of ``sgdsm NAME``, whose ``args.run`` is ``run``."""
    summary, _, body = (doc or "").strip().partition("\n\n")
    help_line = summary.split(": ", 1)[-1].strip().rstrip(".").replace("``", "")
    parser = subparsers.add_parser(
        name, help=help_line, description=dedent(body).strip() or help_line
    )
    parser.set_defaults(run=run)
    return parser


def url_location(url: str, storage_options: str | None) -> Location:
    """``url`` as a Location; ``--storage-options`` apply to remote URLs, never to local paths."""
    remote = "://" in url and not url.startswith("file://")
    return Location.from_cli(url, storage_options if remote else None)
