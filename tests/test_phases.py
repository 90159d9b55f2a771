"""Phases: seconds per named phase, logged in one line that the full-shape benchmark parses."""

from __future__ import annotations

import logging
import time

from sgdsm_cloud.phases import LOGGER, Phases, parse


def test_phases_add_up_repeats_and_survive_an_exception():
    phases = Phases("ingest store.zarr")
    with phases("plan"):
        time.sleep(0.01)
    with phases("plan"):
        time.sleep(0.01)
    try:
        with phases("tiles"):
            raise ValueError("a failing phase still counts")
    except ValueError:
        pass
    assert set(phases.seconds) == {"plan", "tiles"}
    assert phases.seconds["plan"] >= 0.02


def test_the_logged_line_parses_back_and_a_log_without_one_gives_none(caplog):
    phases = Phases("fill out.zarr")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        with phases("consolidate"):
            pass
    text = "progress 10%\n" + caplog.text + "done\n"
    assert parse(text) == phases.rounded()
    assert parse("no phases here\n") is None


def test_a_run_killed_after_a_phase_has_logged_it(caplog):
    phases = Phases("fill out.zarr")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        with phases("plan"):
            pass
        with phases("template"):
            pass
        logged_before_the_end = parse(caplog.text)
    assert logged_before_the_end is not None
    assert set(logged_before_the_end) == {"plan", "template"}
