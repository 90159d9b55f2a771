"""Pure planning: files to days, filters, duplicates, store state, and aligned slabs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgdsm_cloud.cube import daily_axis
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.formats.jaxa import file_name as jaxa_name
from sgdsm_cloud.formats.lprm import file_name as lprm_name
from sgdsm_cloud.ingest.plan import (
    Identity,
    Ledger,
    Provenance,
    choose_pass,
    make_plan,
    parse_candidates,
    plan_days,
    select,
    slab_bounds,
    split_identity,
    time_axis,
)
from sgdsm_cloud.ingest.sources import SourceFile
from sgdsm_cloud.storage import Location

LPRM = Identity("lprm", 0.25, "D", "soil_moisture_x")
APRIL = dt.date(2015, 4, 1)
TODAY = dt.date(2020, 1, 1)


def day(n: int) -> dt.date:
    return APRIL + dt.timedelta(days=n - 1)


def source(name: str, size: int = 100, folder: str = "/raw") -> SourceFile:
    return SourceFile(Location(f"{folder}/{name}"), size)


def candidates(*sources: SourceFile):
    found, records = parse_candidates(sources, today=TODAY)
    assert not records
    return found


def lprm(n: int, pass_: str = "D", hhmmss: str = "013500", **kw) -> SourceFile:
    return source(lprm_name(day(n), pass_, hhmmss=hhmmss), **kw)


def ledger(days: int, ingested: dict[int, SourceFile], time_chunk: int = 4) -> Ledger:
    """A store holding April 1..``days``, with ``ingested`` {day number: file}."""
    provenance = Provenance.empty(days)
    for n, src in ingested.items():
        provenance.status[n - 1], provenance.file[n - 1], provenance.size[n - 1] = (
            1,
            src.name,
            src.size,
        )
        provenance.sha256[n - 1] = "f" * 64
    return Ledger(daily_axis(APRIL, day(days)), provenance, time_chunk)


def test_unparseable_and_future_names_are_quarantined_with_their_url():
    found, records = parse_candidates(
        [lprm(1), source("README.nc4"), source(lprm_name(dt.date(2030, 1, 1)))], today=TODAY
    )
    assert [c.source.name for c in found] == [lprm(1).name]
    assert [(r.file, r.reason.split(";")[0]) for r in records] == [
        ("/raw/README.nc4", "unrecognised file name"),
        (
            f"/raw/{lprm_name(dt.date(2030, 1, 1))}",
            "date 2030-01-01 in the file name is in the future",
        ),
    ]


def test_pass_comes_from_the_store_the_option_or_the_only_one_present():
    both = candidates(lprm(1, "A"), lprm(1, "D"))
    assert choose_pass(both, None, "A") == "A" and choose_pass(both, "D", None) == "D"
    assert (
        choose_pass(candidates(lprm(1, "A")), None, None) == "A"
        and choose_pass([], None, None) is None
    )
    with pytest.raises(ConfigError, match="both ascending .A. and descending .D.*--pass"):
        choose_pass(both, None, None)
    with pytest.raises(ConfigError, match="--pass A differs from the store's pass D"):
        choose_pass(both, "A", "D")


def test_select_filters_pass_and_period():
    kept, filtered = select(
        candidates(lprm(1), lprm(2, "A"), lprm(5), lprm(9)), "D", day(2), day(8)
    )
    assert [c.date for c in kept] == [day(5)] and filtered == 3


def test_other_products_and_grids_are_quarantined_naming_the_store():
    mixed = candidates(
        lprm(1),
        source(jaxa_name(day(1), "D", resolution=0.25)),
        source(lprm_name(day(2), downscaled=True)),
    )
    matching, records = split_identity(mixed, LPRM)
    assert [c.source.name for c in matching] == [lprm(1).name]
    assert [r.reason.split(";")[0] for r in records] == [
        "product jaxa at 0.25 deg differs from the store's lprm at 0.25 deg",
        "product lprm at 0.1 deg differs from the store's lprm at 0.25 deg",
    ]


def test_time_axis_of_a_new_store_spans_the_files_or_the_period():
    files = {day(3): "a", day(7): "b"}
    assert list(time_axis(files, Ledger.new(4), None, None)) == list(daily_axis(day(3), day(7)))
    assert list(time_axis(files, Ledger.new(4), day(1), day(10))) == list(
        daily_axis(day(1), day(10))
    )
    with pytest.raises(ConfigError, match="nothing to ingest"):
        time_axis({}, Ledger.new(4), None, None)


def test_time_axis_of_a_store_only_grows_forward():
    store = ledger(5, {})
    assert time_axis({day(2): "a"}, store, None, None).equals(store.time)
    assert list(time_axis({day(9): "a"}, store, None, None)) == list(daily_axis(day(1), day(9)))
    assert time_axis({}, store, None, day(12))[-1] == pd.Timestamp(day(12))
    with pytest.raises(
        ConfigError, match=r"predate the store's first day 2015-04-03.*--start 2015-04-03"
    ) as info:
        time_axis(
            {day(1): "x.nc4"},
            Ledger(daily_axis(day(3), day(5)), Provenance.empty(3), 4),
            None,
            None,
        )
    assert "x.nc4" in str(info.value)


def test_new_days_take_every_file_first_in_sorted_order():
    late = lprm(2, hhmmss="020000")
    days, unchanged = plan_days(
        candidates(late, lprm(2), lprm(1)), daily_axis(day(1), day(2)), Ledger.new(4)
    )
    assert unchanged == 0
    assert [(d.position, [s.name for s in d.replace], d.check, d.stored) for d in days] == [
        (0, [lprm(1).name], (), None),
        (1, [lprm(2).name, late.name], (), None),
    ]


def test_ingested_day_with_the_same_file_is_skipped():
    store = ledger(3, {1: lprm(1)})
    days, unchanged = plan_days(candidates(lprm(1), lprm(2)), store.time, store)
    assert unchanged == 1 and [d.position for d in days] == [1]


def test_same_file_listed_twice_is_one_file():
    days, _ = plan_days(
        candidates(lprm(1), lprm(1, folder="/mirror")), daily_axis(day(1), day(1)), Ledger.new(4)
    )
    assert [s.url for s in days[0].replace] == [
        f"/mirror/{lprm(1).name}"
    ]  # first URL in sorted order


def test_a_new_version_of_the_stored_file_replaces_it_and_others_are_checked():
    store = ledger(3, {1: lprm(1)})
    newer, other = lprm(1, size=999), lprm(1, hhmmss="020000")
    days, unchanged = plan_days(candidates(other, newer), store.time, store)
    assert unchanged == 0
    assert (
        days[0].replace == (newer,) and days[0].check == (other,) and days[0].stored == lprm(1).name
    )


def test_the_store_keeps_its_file_and_other_files_for_the_day_are_checked():
    store = ledger(3, {1: lprm(1)})
    other = lprm(1, hhmmss="000000")  # sorts first, but the store's file stays
    days, unchanged = plan_days(candidates(lprm(1), other), store.time, store)
    assert unchanged == 1 and days[0].replace == () and days[0].check == (other,)


def test_quarantined_or_missing_days_are_retried():
    store = ledger(3, {})
    store.provenance.status[0] = 2
    days, _ = plan_days(candidates(lprm(1)), store.time, store)
    assert days[0].replace == (lprm(1),) and days[0].stored is None


@given(ntime=st.integers(0, 500), chunk=st.integers(1, 64))
def test_slabs_cover_every_day_once_in_whole_chunks(ntime, chunk):
    bounds = slab_bounds(ntime, chunk)
    covered = np.concatenate([np.arange(a, b) for a, b in bounds]) if bounds else np.array([], int)
    assert np.array_equal(covered, np.arange(ntime))
    assert all(a % chunk == 0 and (b - a == chunk or b == ntime) for a, b in bounds)


def test_plan_has_one_task_per_chunk_with_work_and_pads_provenance_when_extending():
    store = ledger(6, {1: lprm(1), 2: lprm(2)}, time_chunk=4)
    plan = make_plan(candidates(lprm(1), lprm(2), lprm(6), lprm(7), lprm(13)), LPRM, store)
    assert len(plan.time) == 13 and plan.unchanged == 2 and plan.filtered == 0
    assert [(t.index, t.start, t.stop, [d.position for d in t.days]) for t in plan.tasks] == [
        (1, 4, 8, [5, 6]),
        (3, 12, 13, [12]),
    ]
    assert (
        plan.tasks[0].provenance.status.tolist() == [0, 0, 0, 0]
        and len(plan.tasks[1].provenance) == 1
    )
    assert plan.files_to_read == 3 and plan.tasks[0].key == "slab-00001"


def test_provenance_window_beyond_the_end_is_empty():
    p = ledger(2, {1: lprm(1)}).provenance
    w = p.window(0, 4)
    assert w.status.tolist() == [1, 0, 0, 0] and w.file.tolist() == [lprm(1).name, "", "", ""]
    assert w.window(1, 3).equals(Provenance.empty(2))


@given(
    file_days=st.sets(st.integers(1, 40), min_size=1, max_size=25),
    stored=st.dictionaries(st.integers(1, 20), st.booleans(), max_size=20),
    store_days=st.integers(20, 30),
    chunk=st.integers(1, 12),
)
def test_any_plan_reads_each_new_or_changed_day_once_in_aligned_slabs(
    file_days, stored, store_days, chunk
):
    """``stored``: day -> whether the store holds the very file listed (else another size)."""
    store = ledger(store_days, {n: lprm(n, size=100) for n in stored}, time_chunk=chunk)
    listed = [lprm(n, size=100 if stored.get(n, True) else 999) for n in sorted(file_days)]
    plan = make_plan(candidates(*listed), LPRM, store)

    assert plan.time[0].date() == APRIL
    assert plan.time[-1].date() == day(max(store_days, *file_days))
    worked = [d.position + 1 for task in plan.tasks for d in task.days]
    assert len(worked) == len(set(worked))  # no day twice
    unchanged = {n for n in file_days if n in stored and stored[n]}
    assert set(worked) == set(file_days) - unchanged
    assert plan.unchanged == len(unchanged)
    bounds = slab_bounds(len(plan.time), chunk)
    for task in plan.tasks:
        assert (task.start, task.stop) == bounds[task.index] and task.days
        assert all(task.start <= d.position < task.stop for d in task.days)
        assert len(task.provenance) == task.stop - task.start
