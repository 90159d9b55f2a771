"""``sgdsm check``: how late the product is and how much of its land is NaN; exit statuses."""

from __future__ import annotations

import datetime as dt

from sgdsm_cloud.update.health import HOLES, LATE, LATE_AND_HOLES, check_health

from .conftest import Setup


def test_delay_and_holes_are_measured_against_their_limits(setup: Setup):
    url = str(setup.product)
    end = dt.datetime(2015, 3, 31, tzinfo=dt.UTC)  # the end of the newest day, 2015-03-30
    fresh = check_health(url, max_delay=dt.timedelta(days=2), max_nan_share=0.5, now=end)
    assert fresh.status == 0 and fresh.delay_days == 0 and fresh.last_day == "2015-03-30"
    assert fresh.last_final_day == "2015-03-26" and fresh.days_checked == 7
    late = check_health(url, max_delay=dt.timedelta(days=2), max_nan_share=0.5,
                        now=end + dt.timedelta(days=3))  # fmt: skip
    assert late.status == LATE and late.problems[0].startswith("late: the newest day")
    holes = check_health(url, max_delay=dt.timedelta(days=2), max_nan_share=-1, now=end)
    assert holes.status == HOLES and holes.problems[0].startswith("holes:")
    both = check_health(
        url, max_delay=dt.timedelta(0), max_nan_share=-1, now=end + dt.timedelta(days=1)
    )
    assert both.status == LATE_AND_HOLES
