"""What every subcommand shares: its parser from its docstring and dataclasses, where its step runs."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import pytest

from sgdsm_cloud.cli.command import Parser, add_product_command, add_step, step_client
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.options import Cluster, option

DOC = """``sgdsm demo-step IN``: do one thing.

What it does at length.
"""


@dataclass(frozen=True)
class Knobs:
    """Test options."""

    level: int = option(3, "how much")


def parser_with(register) -> argparse.ArgumentParser:
    parser = Parser(prog="sgdsm")
    register(parser.add_subparsers(dest="command"))
    return parser


def test_a_step_has_its_options_then_the_cluster_then_the_storage_options():
    parser = parser_with(lambda sub: add_step(sub, "demo-step", DOC, lambda a: 0, ("knobs", Knobs),
                                              cluster="where it runs"))  # fmt: skip
    step = parser._subparsers._group_actions[0].choices["demo-step"]  # type: ignore[union-attr]
    assert step.description == "What it does at length."
    flags = [a.option_strings[0] for a in step._actions if a.option_strings][1:]  # after --help
    assert flags == ["--level", "--scheduler", "--workers", "--storage-options"]
    titles = [g.title for g in step._action_groups]
    assert "knobs" in titles and "where it runs" in titles
    args = parser.parse_args(["demo-step", "--level", "5"])
    assert args.level == 5 and args.run(args) == 0


def test_a_product_command_hands_its_action_the_repository_and_the_options(tmp_path):
    seen = []
    parser = parser_with(
        lambda sub: add_product_command(
            sub, "demo-step", DOC, Knobs, lambda r, o: seen.append(o) or 0
        )
    )
    args = parser.parse_args(["demo-step", str(tmp_path), "--level", "2"])
    with pytest.raises(ConfigError, match="holds no versioned seamless product"):
        args.run(args)  # an empty folder: refused before the action runs
    assert seen == []


def test_one_worker_and_no_scheduler_run_the_step_in_this_process():
    with step_client(Cluster(scheduler=None, workers=1)) as client:
        assert client is None
    with step_client(Cluster(scheduler=None, workers=None), default_workers=1) as client:
        assert client is None


def test_more_workers_start_a_local_cluster_that_stops_with_the_step():
    with step_client(Cluster(scheduler=None, workers=None), default_workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
    assert client.status == "closed"


def test_a_named_scheduler_is_used_whatever_the_workers(cluster):
    with step_client(Cluster(scheduler=cluster.scheduler_address, workers=1)) as client:
        assert client.scheduler.address == cluster.scheduler_address
