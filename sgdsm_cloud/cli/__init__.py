"""The ``sgdsm`` command line: one subcommand module per pipeline step.

Each module ``sgdsm_cloud.cli.<name>`` defines ``register(subparsers)``, which adds its parser
and sets ``run`` to a function ``(args) -> int``. Modules import heavy libraries (torch, dask)
inside ``run`` so that ``sgdsm --help`` stays instant. The CLI only parses arguments into
configs and calls the library.

Exit status: 0 success, 1 error (one line on stderr naming the file and the fix),
2 usage error, 3 success with quarantined inputs, 130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import logging
import os
import re
import sys

from sgdsm_cloud import __version__, config_file
from sgdsm_cloud.cli.command import Parser
from sgdsm_cloud.errors import SgdsmError
from sgdsm_cloud.phases import LOGGER as PHASES_LOGGER
from sgdsm_cloud.storage import redact

SUBCOMMANDS = (
    "synth", "ingest", "train", "fill", "update", "history", "rollback", "tag", "expire", "check",
    "validate", "sweep", "publish", "export", "demo",
)  # fmt: skip

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_QUARANTINED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="sgdsm",
        description="Seamless global daily AMSR2 soil moisture with SGD-SM, at cloud scale.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="errors and the result only: no progress"
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=os.environ.get("SGDSM_LOG_FORMAT", "text"),
        help="json: one JSON object per log line, for log collectors [env SGDSM_LOG_FORMAT]",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=os.environ.get("SGDSM_CONFIG"),
        help="pipeline YAML (one section per command, plus 'dask'); options given here override it "
        "[env SGDSM_CONFIG]",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"sgdsm_cloud.cli.{name}").register(subparsers)
    return parser


def configure_logging(verbose: int, quiet: bool, log_format: str = "text") -> None:
    """By default: this package's INFO and everyone's warnings; ``-v`` all INFO (the phase
    timings of ingest and fill too), ``-vv`` DEBUG; ``-q`` errors only. ``log_format`` json:
    one JSON object per line (time, level, logger, message).

    The threshold sits on the handler, because dask sets its own loggers' levels when it is
    imported (after this runs) and would otherwise flood the terminal with scheduler INFO lines.
    """
    level = logging.ERROR if quiet else (logging.INFO if verbose <= 1 else logging.DEBUG)
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    logging.getLogger("sgdsm_cloud").setLevel(level)
    # the phase timings of ingest and fill (sgdsm_cloud.phases) are for -v: a plain run's
    # output, an error's one line included, stays as it was
    logging.getLogger(PHASES_LOGGER).setLevel(level if verbose else logging.WARNING)
    floor = logging.ERROR if quiet else logging.WARNING
    for handler in logging.getLogger().handlers:
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
        if verbose == 0:  # other libraries' INFO (dask's scheduler, ...) only with -v
            handler.addFilter(lambda r: r.levelno >= floor or r.name.startswith("sgdsm_cloud"))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``."""

    def format(self, record: logging.LogRecord) -> str:
        moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
        document = {
            "time": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document)


def _error_line(args: argparse.Namespace, message: str) -> str:
    """The one stderr line of a failed command, in the chosen log format."""
    if getattr(args, "log_format", "text") == "json":
        return json.dumps({"level": "ERROR", "logger": f"sgdsm.{args.command}", "message": message})
    return f"sgdsm {args.command}: {message}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = attach_negative_values(sys.argv[1:] if argv is None else list(argv))
    config_path, _ = _config_path(parser, argv)
    try:
        config = config_file.load(config_path) if config_path else {}
        config_file.apply(config, parser, source=str(config_path))
    except SgdsmError as err:
        print(f"sgdsm: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error already printed
        return int(done.code or 0)
    configure_logging(args.verbose, args.quiet, args.log_format)
    try:
        config_file.apply_dask(config, source=str(config_path))
        return int(args.run(args) or EXIT_OK)
    except SgdsmError as err:
        print(_error_line(args, f"error: {redact(str(err))}"), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        message = "interrupted; re-run the same command to resume"
        print(_error_line(args, message), file=sys.stderr)
        return EXIT_INTERRUPTED


NEGATIVE_LIST = re.compile(r"^-\d[\d.]*([,;]\s*-?\d[\d.]*)+$")


def attach_negative_values(argv: list[str]) -> list[str]:
    """``--bbox -10,35,5,45`` as ``--bbox=-10,35,5,45``.

    argparse takes a value that starts with ``-`` and is not a plain number for an option, so
    a coordinate list with a negative first value would need ``--bbox=``; users type it with a
    space, as they do every other option.
    """
    out: list[str] = []
    for token in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and NEGATIVE_LIST.match(token):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def _config_path(
    parser: argparse.ArgumentParser, argv: list[str] | None
) -> tuple[str | None, list[str]]:
    """Find ``--config`` before the full parse, so the file can set the subcommands' defaults."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", default=parser.get_default("config"))
    known, rest = pre.parse_known_args(argv)
    return known.config, rest
