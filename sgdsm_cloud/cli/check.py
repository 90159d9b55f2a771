"""``sgdsm check PRODUCT --max-delay 5d``: is a seamless product current and whole? For monitoring.

Prints a JSON report: the newest day, how many days ago it ended, the last final day, and the
share of the land that is NaN over the last --days days. Exit status: 0 healthy, 4 late
(newest day older than --max-delay), 5 too much NaN on land (over --max-nan-share), 6 both,
1 the product cannot be read; each problem is one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sgdsm_cloud.cli.command import add_product_command
from sgdsm_cloud.options import Count, Duration, option

if TYPE_CHECKING:
    from sgdsm_cloud.versioned.repository import Repository


@dataclass(frozen=True)
class HealthLimits:
    """When ``sgdsm check`` calls a product late or holey."""

    max_delay: Any = option(
        "5d", "late when the newest day ended longer ago", kind=Duration, metavar="DURATION"
    )
    max_nan_share: float = option(0.05, "holey when more of the land is NaN over the last days")
    days: int = option(7, "days checked for NaN", kind=Count)

    def __post_init__(self) -> None:
        if isinstance(self.max_delay, str):
            object.__setattr__(self, "max_delay", Duration.parse(self.max_delay))


def register(subparsers: argparse._SubParsersAction) -> None:
    add_product_command(subparsers, "check", __doc__, HealthLimits, run)


def run(repository: Repository, limits: HealthLimits) -> int:
    from sgdsm_cloud.update.health import check_health

    health = check_health(
        repository.location.url,
        repository.location.storage_options,
        max_delay=limits.max_delay,
        max_nan_share=limits.max_nan_share,
        days=limits.days,
    )
    print(json.dumps(health.to_dict(), sort_keys=True))
    for problem in health.problems:
        print(f"sgdsm check: {problem}", file=sys.stderr)
    return health.status
