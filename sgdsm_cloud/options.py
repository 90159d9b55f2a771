"""Config dataclasses declare each option once; the CLI (and so the YAML file) derives from them.

A field declared with :func:`option` carries its help text (and, where the command line spells
it differently, extra flags). :func:`add_options` adds one ``--field-name`` option per such
field to an argparse parser, typed from the annotation and defaulting to the field's default;
:func:`from_args` builds the dataclass back from the parsed arguments. The pipeline YAML
(``config_file``) sets parser defaults, so every option is reachable from both. Ranges stay in
the dataclass's ``__post_init__``, which checks the values whichever way they came.

Every option a command has comes from a field: its inputs and outputs too. A field declared
with :func:`url` is a store, file or folder: besides ``--name URL`` it gets ``--name-options
JSON``, fsspec options for that URL alone. The one rule (:func:`url_location`): a URL takes
its own ``--name-options`` when given, else the command's ``--storage-options``
(:class:`Storage`), and local paths take none. A URL field typed ``Location`` is built by
:func:`from_args` with that rule; one typed ``str`` stays text. :class:`Cluster` declares where
a command's tasks run.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sgdsm_cloud.errors import ConfigError, SgdsmError

if TYPE_CHECKING:
    from sgdsm_cloud.storage import Location


class Day(str):
    """A calendar day, ``YYYY-MM-DD``: the type of every ``--start`` and ``--end``."""

    @classmethod
    def parse(cls, text: str) -> Day:
        try:
            return cls(dt.date.fromisoformat(str(text).strip()).isoformat())
        except ValueError:
            raise ConfigError(f"must be a date YYYY-MM-DD, got {text!r}") from None


class Count(int):
    """How many of something (workers, epochs, samples): a whole number >= 1."""

    @classmethod
    def parse(cls, text: str) -> Count:
        try:
            value = int(str(text).strip())
        except ValueError:
            value = 0
        if value < 1:
            raise ConfigError(f"must be a whole number >= 1, got {text!r}")
        return cls(value)


class JsonObject(str):
    """fsspec options as a JSON object, e.g. ``{"anon": true}`` (``--storage-options``)."""

    @classmethod
    def parse(cls, text: str) -> JsonObject:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            value = err
        if not isinstance(value, dict):
            raise ConfigError(f"must be a JSON object, e.g. '{{\"anon\": true}}', got {text!r}")
        return cls(text)


class Duration:
    """A length of time: a number and a unit, ``30d``, ``12h`` or ``45m``."""

    UNITS = {"d": "days", "h": "hours", "m": "minutes"}

    @classmethod
    def parse(cls, text: str) -> dt.timedelta:
        text = str(text).strip()
        unit = cls.UNITS.get(text[-1:])
        try:
            value = float(text[:-1]) if unit else float("nan")
        except ValueError:
            value = float("nan")
        if unit is None or not value >= 0:
            raise ConfigError(f"must be a duration such as 30d, 12h or 45m, got {text!r}")
        return dt.timedelta(**{unit: value})


METAVARS = {
    int: "N", float: "X", Count: "N", Day: "DATE", JsonObject: "JSON", Duration: "DURATION"
}  # fmt: skip


def option(
    default: Any = dataclasses.MISSING,
    help: str = "",
    *,
    flags: tuple[str, ...] = (),
    choices: Any = None,
    metavar: str | None = None,
    kind: Any = None,
    positional: bool = False,
    default_factory: Any = dataclasses.MISSING,
) -> Any:
    """A dataclass field with its command-line help; without a default the option is required.

    ``flags``: extra spellings (e.g. ``--lr``); ``metavar``: the value's name in ``--help``;
    ``kind``: the type the command line checks (e.g. :class:`Day`, :class:`Count`) when the
    annotation is wider, because the library also takes other values; ``positional``: an
    argument without a flag (a tuple takes one or more).
    """
    metadata = {"help": help, "flags": flags, "choices": choices, "metavar": metavar,
                "kind": kind, "positional": positional}  # fmt: skip
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def url(
    help: str,
    *,
    required: bool = True,
    metavar: str = "URL",
    positional: bool = False,
    resolve: Callable[[str], str] | None = None,
) -> Any:
    """A field holding a store, file or folder: ``--name URL`` and ``--name-options JSON``.

    ``resolve`` turns the text into the URL it names (e.g. ``builtin:NAME`` into the shipped
    model's folder) before :func:`from_args` builds the Location.
    """
    field = option(
        dataclasses.MISSING if required else None, help, metavar=metavar, positional=positional
    )
    field.metadata = types.MappingProxyType({**field.metadata, "url": True, "resolve": resolve})
    return field


def url_location(url: str, shared: str | None, own: str | None = None, name: str = "") -> Location:
    """``url`` as a Location, by the one rule: its own options (``--name-options``) when
    given, else the command's ``--storage-options``; a local path takes none, and its own
    options are refused (malformed options are refused even when every path is local)."""
    from sgdsm_cloud.storage import Location

    for text in (shared, own):
        if text:
            JsonObject.parse(text)
    remote = "://" in url and not url.startswith("file://")
    if own and not remote:
        raise ConfigError(
            f"--{name.replace('_', '-')}-options: {url} is a local path; storage options "
            "apply to remote URLs (s3://, gs://, https://, ...) only"
        )
    return Location.from_cli(url, (own or shared) if remote else None)


def flag_of(name: str) -> str:
    """``pass_`` -> ``--pass``: a trailing underscore only dodges a Python keyword."""
    return "--" + name.rstrip("_").replace("_", "-")


def own_options(name: str) -> str:
    """The dest of a URL field's own storage options: ``store`` -> ``store_options``."""
    return f"{name.rstrip('_')}_options"


@dataclass(frozen=True)
class Storage:
    """fsspec options of a command's remote URLs (see :func:`url_location`)."""

    storage_options: str | None = option(
        None,
        "fsspec options as a JSON object for every remote URL of the command, e.g. "
        "'{\"anon\": true}' (default: the AWS_* environment); --NAME-options sets them for "
        "one URL, e.g. --store-options",
        kind=JsonObject,
        metavar="JSON",
    )


def _default_scheduler() -> str | None:
    from sgdsm_cloud.cluster import default_scheduler

    return default_scheduler()


@dataclass(frozen=True)
class Cluster:
    """Where a command's tasks run: a running dask scheduler, or local worker processes."""

    scheduler: str | None = option(
        None,
        "address of a running dask scheduler (default: $DASK_SCHEDULER_ADDRESS, as a DaskJob "
        "runner has it; else local --workers)",
        metavar="ADDRESS",
    )
    workers: int | None = option(
        None,
        "worker processes of the LocalCluster started without a scheduler (the command's "
        "description says its default)",
        kind=Count,
    )

    def __post_init__(self) -> None:
        if self.scheduler is None:
            object.__setattr__(self, "scheduler", _default_scheduler())


def add_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    *,
    exclude: tuple[str, ...] = (),
) -> None:
    """One option per field of ``cls`` declared with :func:`option` (``exclude``: set elsewhere);
    a :func:`url` field also gets ``--name-options``. Each action records the field it sets
    (``action.config_field``, ``"Class.field"``)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in exclude or "help" not in f.metadata:
            continue
        action = _add_field(parser, f, hints[f.name])
        action.config_field = f"{cls.__name__}.{f.name}"  # type: ignore[attr-defined]
        if f.metadata.get("url"):
            own = parser.add_argument(
                f"{flag_of(f.name)}-options",
                dest=own_options(f.name),
                metavar="JSON",
                type=converter(JsonObject),
                help=f"fsspec options for {_display(f)} alone (default: --storage-options)",
            )
            own.config_field = f"{cls.__name__}.{f.name}"  # type: ignore[attr-defined]


def _display(f: dataclasses.Field) -> str:
    """How ``--help`` names the field: its flag, or a positional's metavar."""
    if f.metadata.get("positional"):
        return str(f.metadata.get("metavar") or f.name.upper())
    return flag_of(f.name)


def _add_field(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, f: dataclasses.Field, hint: Any
) -> argparse.Action:
    kind, nargs = _argparse_type(f.metadata.get("kind") or hint)
    if f.metadata.get("url"):
        kind = str  # the text; from_args builds the Location
    required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    kwargs: dict[str, Any] = {"help": f.metadata["help"]}
    if not f.metadata.get("positional"):
        kwargs["dest"] = f.name
    if required and not f.metadata.get("positional"):
        kwargs["required"] = True
    elif f.default is not dataclasses.MISSING:
        kwargs["default"] = f.default
    elif callable(f.default_factory):
        kwargs["default"] = f.default_factory()
    if kind is bool:
        kwargs["action"] = argparse.BooleanOptionalAction
    else:
        metavar = f.metadata["metavar"] or METAVARS.get(kind, f.name.split("_")[-1].upper())
        kwargs.update(type=converter(kind), metavar=metavar)
        if nargs:
            kwargs["nargs"] = nargs
        if f.metadata["choices"]:
            kwargs["choices"] = f.metadata["choices"]
            kwargs.pop("metavar")
    says_default = "default:" in kwargs["help"]
    shown = kwargs.get("default") not in (None, ()) and kind is not bool
    if not required and shown and not says_default:
        kwargs["help"] += " (default: %(default)s)"
    if f.metadata.get("positional"):
        return parser.add_argument(f.name, **kwargs)
    flags = dict.fromkeys((*f.metadata["flags"], flag_of(f.name)))  # once each, in order
    return parser.add_argument(*flags, **kwargs)


def from_args(cls: type, args: argparse.Namespace, **values: Any) -> Any:
    """``cls`` from the parsed options :func:`add_options` added, plus explicit ``values``.

    A :func:`url` field typed ``Location`` (or a tuple of them) is built by
    :func:`url_location` from the command's ``--storage-options`` and its own options.
    """
    hints = typing.get_type_hints(cls)
    found = {}
    for f in dataclasses.fields(cls):
        if "help" not in f.metadata or not hasattr(args, f.name) or f.name in values:
            continue
        value = getattr(args, f.name)
        if f.metadata.get("url") and value is not None and _takes_location(hints[f.name]):
            value = _locations(f, value, args)
        found[f.name] = value
    return cls(**{**found, **values})


def _takes_location(hint: Any) -> bool:
    from sgdsm_cloud.storage import Location

    return Location in (hint, *typing.get_args(hint)) or any(
        Location in typing.get_args(arg) for arg in typing.get_args(hint)
    )


def _locations(f: dataclasses.Field, value: Any, args: argparse.Namespace) -> Any:
    resolve = f.metadata.get("resolve") or (lambda text: text)
    shared, own = getattr(args, "storage_options", None), getattr(args, own_options(f.name), None)

    def one(text: str) -> Any:
        return url_location(resolve(text), shared, own, f.name)

    return tuple(one(v) for v in value) if isinstance(value, (list, tuple)) else one(value)


def converter(kind: Any) -> Any:
    """``kind`` itself, or its ``parse`` classmethod (e.g. ``BBox.parse``) with its message kept."""
    parse = getattr(kind, "parse", None)
    if parse is None:
        return kind

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except SgdsmError as err:  # argparse reports ArgumentTypeError as a usage error (exit 2)
            raise argparse.ArgumentTypeError(str(err)) from None

    convert.__name__ = kind.__name__
    return convert


def _argparse_type(hint: Any) -> tuple[Any, str | None]:
    """``(type, nargs)`` of an annotation: scalars, optional scalars, tuples of scalars.

    ``Any`` (a field that takes several kinds of value, such as a date) reads as text.
    """
    if hint is Any:
        return str, None
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (inner,) = [a for a in args if a is not type(None)]
        return _argparse_type(inner)
    if typing.get_origin(hint) is tuple:
        return args[0], "+"
    return hint, None
