"""One YAML file configures the whole pipeline; command-line options override it.

The file has one section per subcommand, whose keys are that subcommand's long option names
(``store``, ``storage-options`` or ``storage_options``, ...), plus a ``dask`` section passed to
``dask.config`` (so cluster settings live where dask users expect them)::

    ingest:
      sources: [s3://raw/lprm/2015/]
      store: s3://cubes/raw.zarr
      variable: soil_moisture_c1
    train:
      store: s3://cubes/raw.zarr
      out: s3://models/sgdsm-paper
      preset: paper
    dask:
      distributed.worker.memory.target: 0.7

Every key is checked against the subcommand's options: an unknown key or a value of the wrong
type raises ConfigError naming the key (``ingest.workerz``) and what is allowed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from sgdsm_cloud.errors import ConfigError

DASK_SECTION = "dask"


def load(path: str | Path) -> dict[str, Any]:
    """Read the YAML file; the top level must be a mapping of sections."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path}: the top level must be a mapping of sections (ingest:, train:, ...)"
        )
    return data


def apply(config: dict[str, Any], parser: argparse.ArgumentParser, source: str = "config") -> None:
    """Make each section the defaults of its subcommand's parser, after checking every key."""
    subparsers = _subparsers(parser)
    for section, values in config.items():
        if section == DASK_SECTION:
            continue
        if section not in subparsers:
            allowed = ", ".join(sorted([*subparsers, DASK_SECTION]))
            raise ConfigError(f"{source}: unknown section '{section}'; sections are {allowed}")
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: section '{section}' must be a mapping of option: value")
        _apply_section(section, values, subparsers[section], source)


def apply_dask(config: dict[str, Any], source: str = "config") -> None:
    """Push the ``dask`` section into ``dask.config`` (dotted or nested keys both work)."""
    section = config.get(DASK_SECTION)
    if not section:
        return
    if not isinstance(section, dict):
        raise ConfigError(f"{source}: section 'dask' must be a mapping of dask config keys")
    import dask.config

    dask.config.set(_flatten(section))


def _flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _apply_section(
    section: str, values: dict[str, Any], sub: argparse.ArgumentParser, source: str
) -> None:
    actions: dict[str, argparse.Action] = {}
    for option in sub._actions:
        if option.dest in ("help", argparse.SUPPRESS):
            continue
        names = [option.dest] + [o.lstrip("-") for o in option.option_strings if o.startswith("--")]
        actions.update({name.replace("-", "_"): option for name in names})
    for key, value in values.items():
        action = actions.get(str(key).replace("-", "_"))
        if action is None:
            allowed = ", ".join(sorted({_display_name(a) for a in actions.values()}))
            raise ConfigError(
                f"{source}: unknown key '{section}.{key}'; '{section}' takes {allowed}"
            )
        action.default = _convert(f"{section}.{key}", value, action, source)
        if isinstance(action, argparse.BooleanOptionalAction) and _negative(key, action):
            action.default = not action.default  # no-crosscheck: true -> crosscheck False
        action.required = False
        if not action.option_strings and action.nargs == "+":
            action.nargs = "*"  # a positional list may now come from the file


def _negative(key: Any, action: argparse.Action) -> bool:
    """Whether ``key`` names the ``--no-...`` spelling of an on/off option."""
    spelled = "--" + str(key).replace("_", "-")
    return spelled.startswith("--no-") and spelled in action.option_strings


def _display_name(action: argparse.Action) -> str:
    long_options = [o.lstrip("-") for o in action.option_strings if o.startswith("--")]
    return long_options[0] if long_options else action.dest


def _convert(name: str, value: Any, action: argparse.Action, source: str) -> Any:
    on_off = (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse.BooleanOptionalAction)
    if isinstance(action, on_off):
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: '{name}' must be true or false, got {value!r}")
        return value
    many = action.nargs in ("+", "*") or isinstance(action.nargs, int)
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not many:
        raise ConfigError(f"{source}: '{name}' takes a single value, got a list")
    # argparse also accepts a registered type name; every option of this CLI gives a callable
    assert not isinstance(action.type, str), f"'{name}' names its type instead of converting"
    converted = []
    for item in items:
        if isinstance(item, (dict, list)) and action.type is not None:
            raise ConfigError(f"{source}: '{name}' must be a scalar, got {item!r}")
        if isinstance(item, dict):  # e.g. storage-options given as a mapping instead of JSON text
            import json

            item = json.dumps(item)
        try:
            item = (
                action.type(item if isinstance(item, str) else str(item)) if action.type else item
            )
        except (TypeError, ValueError, argparse.ArgumentTypeError) as err:
            raise ConfigError(f"{source}: '{name}' has an invalid value {item!r}: {err}") from None
        if action.choices is not None and item not in action.choices:
            allowed = ", ".join(map(str, action.choices))
            raise ConfigError(f"{source}: '{name}' must be one of {allowed}, got {item!r}")
        converted.append(item)
    return converted if many else converted[0]
