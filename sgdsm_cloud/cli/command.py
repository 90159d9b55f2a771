"""A subcommand's parser built from its module docstring, so each command says what it does once.

The docstring's first line is ``sgdsm NAME ...: what it does.``; the part after the colon is the
one-line help in ``sgdsm --help``. The paragraphs after it are the command's description.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from textwrap import dedent
from typing import Any, NoReturn

from sgdsm_cloud.options import Count, Day, JsonObject, converter
from sgdsm_cloud.storage import Location


class Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error: the option, what is wrong, where help is."""

    def error(self, message: str) -> NoReturn:
        message = re.sub(r"^argument (\S+): \1 ", r"argument \1: ", message)  # flag said once
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise SystemExit(status)


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


def add_storage_options(parser: argparse.ArgumentParser, applies_to: str) -> None:
    """``--storage-options JSON``, checked as a JSON object whichever URLs it reaches."""
    parser.add_argument(
        "--storage-options",
        metavar="JSON",
        type=converter(JsonObject),
        help=f"fsspec options as a JSON object for {applies_to}, e.g. '{{\"anon\": true}}' "
        "(default: the AWS_* environment)",
    )


def add_workers(parser: argparse.ArgumentParser, help: str, default: int | None = None) -> None:
    """``--workers N``: a count of processes, >= 1."""
    parser.add_argument("--workers", type=converter(Count), metavar="N", default=default, help=help)


def add_period(parser: argparse.ArgumentParser, what: str) -> None:
    """``--start``/``--end`` DATE: the days ``what`` covers (default: the whole store)."""
    for flag, side in (("--start", "first"), ("--end", "last")):
        parser.add_argument(
            flag,
            type=converter(Day),
            metavar="DATE",
            help=f"{side} day {what}, YYYY-MM-DD (default: the store's {side} day)",
        )


def add_product(parser: argparse.ArgumentParser) -> None:
    """The positional PRODUCT (a seamless product made by 'sgdsm fill') and its options."""
    parser.add_argument("product", metavar="PRODUCT", help="seamless product (path or URL)")
    add_storage_options(parser, "PRODUCT")


def product_repository(args: argparse.Namespace) -> Any:
    """The versions of ``args.product``; a one-line error when it holds no product."""
    from sgdsm_cloud.errors import ConfigError
    from sgdsm_cloud.versioned.repository import Repository

    repository = Repository(url_location(args.product, args.storage_options))
    if not repository.exists():
        raise ConfigError(
            f"{args.product} holds no versioned seamless product; make one with 'sgdsm fill'"
        )
    return repository


def url_location(url: str, storage_options: str | None) -> Location:
    """``url`` as a Location; ``--storage-options`` apply to remote URLs, never to local paths
    (but malformed options are refused even when every path is local)."""
    if storage_options:
        JsonObject.parse(storage_options)
    remote = "://" in url and not url.startswith("file://")
    return Location.from_cli(url, storage_options if remote else None)
