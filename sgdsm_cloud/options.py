"""Config dataclasses declare each option once; the CLI (and so the YAML file) derives from them.

A field declared with :func:`option` carries its help text (and, where the command line spells
it differently, extra flags). :func:`add_options` adds one ``--field-name`` option per such
field to an argparse parser, typed from the annotation and defaulting to the field's default;
:func:`from_args` builds the dataclass back from the parsed arguments. The pipeline YAML
(``config_file``) sets parser defaults, so every option is reachable from both. Ranges stay in
the dataclass's ``__post_init__``, which checks the values whichever way they came.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import types
import typing
from typing import Any

from sgdsm_cloud.errors import ConfigError, SgdsmError


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
) -> Any:
    """A dataclass field with its command-line help; without a default the option is required.

    ``flags``: extra spellings (e.g. ``--lr``); ``metavar``: the value's name in ``--help``;
    ``kind``: the type the command line checks (e.g. :class:`Day`, :class:`Count`) when the
    annotation is wider, because the library also takes other values.
    """
    metadata = {"help": help, "flags": flags, "choices": choices, "metavar": metavar, "kind": kind}
    return dataclasses.field(default=default, metadata=metadata)


def flag_of(name: str) -> str:
    """``pass_`` -> ``--pass``: a trailing underscore only dodges a Python keyword."""
    return "--" + name.rstrip("_").replace("_", "-")


def add_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    *,
    exclude: tuple[str, ...] = (),
) -> None:
    """One option per field of ``cls`` declared with :func:`option` (``exclude``: set elsewhere)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in exclude or "help" not in f.metadata:
            continue
        kind, nargs = _argparse_type(f.metadata.get("kind") or hints[f.name])
        required = f.default is dataclasses.MISSING
        kwargs: dict[str, Any] = {"dest": f.name, "help": f.metadata["help"]}
        if required:
            kwargs["required"] = True
        else:
            kwargs["default"] = f.default
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
        if not required and f.default not in (None, ()) and kind is not bool and not says_default:
            kwargs["help"] += " (default: %(default)s)"
        flags = dict.fromkeys((*f.metadata["flags"], flag_of(f.name)))  # once each, in order
        parser.add_argument(*flags, **kwargs)


def from_args(cls: type, args: argparse.Namespace, **values: Any) -> Any:
    """``cls`` from the parsed options :func:`add_options` added, plus explicit ``values``."""
    fields = {f.name for f in dataclasses.fields(cls) if "help" in f.metadata}
    found = {name: getattr(args, name) for name in fields if hasattr(args, name)}
    return cls(**{**found, **values})


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
