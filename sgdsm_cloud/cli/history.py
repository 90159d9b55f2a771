"""``sgdsm history PRODUCT``: list a seamless product's versions: when, what was added and refilled, from which granules, with which model.

One line per version, oldest first: its number, when it was published, what made it (fill,
update, rollback), the days it added and refilled, the granules it took in and the model's
SHA-256, and the tags naming it. ``--json`` prints each version's whole record (the granules
by name and SHA-256 included), one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sgdsm_cloud.cli.command import add_product_command
from sgdsm_cloud.options import option

if TYPE_CHECKING:
    from sgdsm_cloud.versioned.repository import Repository


@dataclass(frozen=True)
class HistoryFormat:
    """How ``sgdsm history`` prints."""

    json: bool = option(False, "one JSON record per line")


def register(subparsers: argparse._SubParsersAction) -> None:
    add_product_command(subparsers, "history", __doc__, HistoryFormat, run)


def run(repository: Repository, form: HistoryFormat) -> int:
    as_json = form.json
    names: dict[int, list[str]] = {}
    for tag, number in repository.tags().items():
        names.setdefault(number, []).append(tag)
    for record in repository.history():
        number = int(record["version"])
        if as_json:
            print(json.dumps({**record, "tags": sorted(names.get(number, []))}, sort_keys=True))
        else:
            print(describe(record, names.get(number, [])))
    return 0


def describe(record: dict, tags: list[str]) -> str:
    """One line of the history."""
    added, refilled = record.get("days_added") or [], record.get("days_refilled") or []
    granules = record.get("granules")
    count = len(granules) if isinstance(granules, list) else granules or 0
    parts = [
        f"v{int(record['version']):<4}",
        str(record.get("created", ""))[:19].replace("T", " "),
        f"{record.get('operation', '?'):<16}",
        f"days {record['days'][0]}..{record['days'][1]}" if record.get("days") else "",
        f"added {_span(added)}",
        f"refilled {_span(refilled)}",
        f"final refilled {len(record.get('final_days_refilled') or [])}",
        f"granules {count}",
        f"model {str(record.get('model_sha256', ''))[:12]}",
    ]
    if record.get("restores"):
        parts.append(f"restores v{record['restores']}")
    if tags:
        parts.append("tags " + ",".join(sorted(tags)))
    return "  ".join(p for p in parts if p)


def _span(days: list) -> str:
    if not days:
        return "0"
    return f"{len(days)} ({days[0]}..{days[-1]})" if len(days) > 1 else f"1 ({days[0]})"
