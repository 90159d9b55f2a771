"""Options declared once on a dataclass: the CLI options and YAML keys derive from the fields."""

from __future__ import annotations

import argparse
import dataclasses
import re

import pytest

from sgdsm_cloud import config_file
from sgdsm_cloud.cli import build_parser
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.model.config import TrainConfig
from sgdsm_cloud.options import (
    Count,
    Day,
    JsonObject,
    add_options,
    from_args,
    option,
    url_location,
)

TRAIN = ["train", "--store", "raw.zarr", "--out", "model"]
DOCUMENTED = {  # fields docs/model.md tells users to set
    "truncate_probability": 0.0,
    "loss_weighted_term": "local",
    "loss_lambda": 0.5,
    "min_neighbour_coverage": 0.8,
    "lr_drop_factor": 0.5,
}


@dataclasses.dataclass(frozen=True)
class Example:
    count: int = option(3, "how many")
    ratio: float | None = option(None, "optional ratio")
    edges: tuple[float, ...] = option((0.1, 0.2), "several values")
    mode: str = option("a", "one of two", choices=("a", "b"))
    flag: bool = option(False, "on or off")
    internal: int = 7  # no option()


def test_each_declared_field_becomes_a_typed_option_and_comes_back():
    parser = argparse.ArgumentParser()
    add_options(parser, Example)
    args = parser.parse_args(
        ["--count", "5", "--ratio", "0.5", "--edges", "0.3", "0.4", "--mode", "b", "--flag"]
    )
    example = from_args(Example, args)
    assert example == Example(count=5, ratio=0.5, edges=[0.3, 0.4], mode="b", flag=True)
    assert from_args(Example, parser.parse_args([])) == Example()
    with pytest.raises(SystemExit):
        parser.parse_args(["--mode", "c"])
    assert "--internal" not in parser.format_help()


def test_every_training_field_is_an_option_of_sgdsm_train():
    args = build_parser().parse_args(TRAIN)
    assert from_args(TrainConfig, args) == TrainConfig()
    options = [f"--{k.replace('_', '-')}={v}" for k, v in DOCUMENTED.items()]
    args = build_parser().parse_args([*TRAIN, *options, "--lr", "0.01"])
    config = from_args(TrainConfig, args)
    assert {k: getattr(config, k) for k in DOCUMENTED} == DOCUMENTED
    assert config.learning_rate == 0.01


def test_the_documented_training_fields_are_reachable_from_the_yaml_file():
    parser = build_parser()
    config_file.apply({"train": {**DOCUMENTED, "learning_rate": 0.02}}, parser, source="p.yaml")
    config = from_args(TrainConfig, parser.parse_args(TRAIN))
    assert {k: getattr(config, k) for k in DOCUMENTED} == DOCUMENTED
    assert config.learning_rate == 0.02
    with pytest.raises(ConfigError, match="unknown key 'train.truncate'"):
        config_file.apply({"train": {"truncate": 0.1}}, build_parser(), source="p.yaml")


@pytest.mark.parametrize(
    ("kind", "good", "value", "bad"),
    [
        (Day, "2015-04-01", "2015-04-01", ["2015-13-01", "foo", "2015-02-30", ""]),
        (Count, "4", 4, ["0", "-1", "two", "1.5"]),
        (JsonObject, '{"anon": true}', '{"anon": true}', ["not json", "[1]", "3"]),
    ],
)
def test_the_shared_types_take_good_values_and_name_what_is_wrong(kind, good, value, bad):
    assert kind.parse(good) == value
    for text in bad:
        with pytest.raises(ConfigError, match=re.escape(f"got {text!r}")):
            kind.parse(text)


def test_every_subcommand_checks_dates_counts_and_json_with_the_same_types():
    """The same mistake gives the same one-line error whichever command it is made on."""
    from sgdsm_cloud import cli

    expected = {"start": "Day", "end": "Day", "workers": "Count", "storage_options": "JsonObject"}
    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    seen = set()
    for name in cli.SUBCOMMANDS:
        for action in subparsers.choices[name]._actions:
            if action.dest in expected:
                assert getattr(action.type, "__name__", None) == expected[action.dest], (
                    name,
                    action.dest,
                )
                seen.add(action.dest)
    assert seen == set(expected)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_every_option_of_every_subcommand_sets_a_config_field(command):
    parser = subcommands()[command]
    unmapped = [
        a.option_strings or [a.dest]
        for a in parser._actions
        if a.dest != "help" and not hasattr(a, "config_field")
    ]
    assert unmapped == [], f"sgdsm {command}: options not declared on a config dataclass"


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_every_option_of_every_subcommand_is_a_yaml_key(command):
    parser = build_parser()
    sub = subcommands()[command]
    for action in sub._actions:
        if action.dest == "help":
            continue
        key = (action.option_strings or [action.dest])[-1].lstrip("-")
        plain = isinstance(action.default, (str, int, float, bool))
        value = action.default if plain else _sample(action)
        if action.nargs in ("+", "*"):
            value = [value]
        config_file.apply({command: {key: value}}, parser, source="pipeline.yaml")


def _sample(action: argparse.Action) -> object:
    """A value the option takes, for the YAML check."""
    if action.choices:
        return next(iter(action.choices))
    if isinstance(action, argparse.BooleanOptionalAction):
        return True
    name = getattr(action.type, "__name__", "")
    return {"Count": 1, "Day": "2015-04-01", "JsonObject": "{}", "Duration": "1d", "int": 1,
            "float": 0.5, "BBox": "0,0,1,1"}.get(name, "x")  # fmt: skip


def test_a_url_takes_its_own_options_else_the_commands_and_a_path_none():
    shared, own = '{"anon": true}', '{"key": "k", "secret": "s"}'
    assert url_location("s3://b/raw.zarr", shared).storage_options["anon"] is True
    assert url_location("s3://b/raw.zarr", shared, own).storage_options["key"] == "k"
    assert "anon" not in url_location("s3://b/raw.zarr", shared, own).storage_options
    assert url_location("raw.zarr", shared).storage_options == {}
    with pytest.raises(ConfigError, match="--store-options: .* is a local path"):
        url_location("raw.zarr", None, own, "store")
    with pytest.raises(ConfigError, match="JSON object"):
        url_location("raw.zarr", "[1]")


def test_stores_in_different_places_take_different_options():
    args = build_parser().parse_args(
        ["fill", "--store", "s3://one/raw.zarr", "--model", "model", "--out", "gs://two/product",
         "--storage-options", '{"anon": true}', "--out-options", '{"token": "anon"}']
    )  # fmt: skip
    from sgdsm_cloud.cli.fill import FillIO

    io = from_args(FillIO, args)
    assert io.store.storage_options["anon"] is True and "token" not in io.store.storage_options
    assert io.out.storage_options == {"token": "anon"}
    assert io.model.storage_options == {}  # a local path
