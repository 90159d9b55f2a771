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
from sgdsm_cloud.options import Count, Day, JsonObject, add_options, from_args, option

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
