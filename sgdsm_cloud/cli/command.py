"""A subcommand's parser built from its module docstring, so each command says what it does once.

The docstring's first line is ``sgdsm NAME ...: what it does.``; the part after the colon is the
one-line help in ``sgdsm --help``. The paragraphs after it are the command's description.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from textwrap import dedent
from typing import Any, NoReturn

from sgdsm_cloud.options import Cluster, Storage, add_options, from_args, url
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


def add_step(
    subparsers: argparse._SubParsersAction,
    name: str,
    doc: str | None,
    run: Callable[[argparse.Namespace], int],
    *configs: type | tuple[str, type],
    cluster: str | None = None,
) -> argparse.ArgumentParser:
    """``sgdsm NAME`` with the options of each of ``configs`` (a dataclass, or a group title and
    a dataclass), then ``Cluster``'s under the title ``cluster`` for a step that runs on one,
    then the storage options: every command's options in the same order."""
    parser = add_command(subparsers, name, doc, run)
    groups = [*configs, *([(cluster, Cluster)] if cluster else [])]
    for config in groups:
        title, cls = config if isinstance(config, tuple) else (None, config)
        add_options(parser.add_argument_group(title) if title else parser, cls)
    add_options(parser, Storage)
    return parser


@contextmanager
def step_client(
    cluster: Cluster, default_workers: int | None = None, *, gpu: bool = False
) -> Iterator[Any]:
    """The dask client a command's step runs on, None for this process.

    The scheduler named (or ``$DASK_SCHEDULER_ADDRESS``); else a LocalCluster of ``--workers``
    processes (default ``default_workers``; None: one per core). One worker and no scheduler
    run the step in this process: nothing to start. Library steps never start a cluster; they
    take the client this gives, so only the CLI decides where work runs.
    """
    from sgdsm_cloud.cluster import connect

    workers = cluster.workers if cluster.workers is not None else default_workers
    if not cluster.scheduler and workers == 1:
        yield None
        return
    with connect(cluster.scheduler, workers, gpu=gpu) as client:
        yield client


@dataclass(frozen=True)
class ProductIO:
    """The product a command of the living product acts on."""

    product: Location = url(
        "seamless product made by 'sgdsm fill' (path or URL)", positional=True, metavar="PRODUCT"
    )


def add_product_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    doc: str | None,
    options: type,
    act: Callable[[Any, Any], int],
) -> argparse.ArgumentParser:
    """``sgdsm NAME PRODUCT`` with ``options``: runs ``act(repository, options)``, the product's
    versions and the parsed ``options`` dataclass."""

    def run(args: argparse.Namespace) -> int:
        return act(product_repository(args), from_args(options, args))

    return add_step(subparsers, name, doc, run, ProductIO, options)


def product_repository(args: argparse.Namespace) -> Any:
    """The versions of ``args.product``; a one-line error when it holds no product."""
    from sgdsm_cloud.errors import ConfigError
    from sgdsm_cloud.versioned.repository import Repository

    repository = Repository(from_args(ProductIO, args).product)
    if not repository.exists():
        raise ConfigError(
            f"{args.product} holds no versioned seamless product; make one with 'sgdsm fill'"
        )
    return repository
