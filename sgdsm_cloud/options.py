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
import types
import typing
from typing import Any

METAVARS = {int: "N", float: "X"}


def option(default: Any, help: str, *, flags: tuple[str, ...] = (), choices: Any = None) -> Any:
    """A dataclass field with its command-line help (``flags``: extra spellings, e.g. ``--lr``)."""
    return dataclasses.field(
        default=default, metadata={"help": help, "flags": flags, "choices": choices}
    )


def flag_of(name: str) -> str:
    return "--" + name.replace("_", "-")


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
        kind, nargs = _argparse_type(hints[f.name])
        kwargs: dict[str, Any] = {"dest": f.name, "default": f.default, "help": f.metadata["help"]}
        if kind is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs.update(type=kind, metavar=METAVARS.get(kind, f.name.split("_")[-1].upper()))
            if nargs:
                kwargs["nargs"] = nargs
            if f.metadata["choices"]:
                kwargs["choices"] = f.metadata["choices"]
                kwargs.pop("metavar")
        if f.default is not None and f.default != () and kind is not bool:
            kwargs["help"] += " (default: %(default)s)"
        parser.add_argument(*f.metadata["flags"], flag_of(f.name), **kwargs)


def from_args(cls: type, args: argparse.Namespace, **values: Any) -> Any:
    """``cls`` from the parsed options :func:`add_options` added, plus explicit ``values``."""
    fields = {f.name for f in dataclasses.fields(cls) if "help" in f.metadata}
    found = {name: getattr(args, name) for name in fields if hasattr(args, name)}
    return cls(**{**found, **values})


def _argparse_type(hint: Any) -> tuple[type, str | None]:
    """``(converter, nargs)`` of an annotation: scalars, optional scalars, tuples of scalars."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (inner,) = [a for a in args if a is not type(None)]
        return _argparse_type(inner)
    if typing.get_origin(hint) is tuple:
        return args[0], "+"
    return hint, None
