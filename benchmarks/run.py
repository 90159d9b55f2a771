"""Run benchmarks, print their tables, write JSON and record the results in BENCHMARKS.md.

    python benchmarks/run.py [NAME ...] [--quick] [--json PATH] [--markdown PATH | --no-markdown]

``NAME`` is ``model``, ``variants``, ``ingest``, ``earthdata``, ``fill``, ``accuracy``,
``uncertainty`` or ``export`` (the module ``benchmarks/bench_<NAME>.py``) or the path of any
Python file; none means all eight. A module
takes part when it defines ``run(quick: bool) -> list[dict]`` (benchmarks/common.py); one that
does not is reported and skipped. Results go to ``benchmarks/results/<NAME>.json`` (or
``--json``), a list of runs (the latest of each mode) with their command, date, machine and
load; the section of BENCHMARKS.md for that benchmark and mode is replaced by the new table.

Exit status: 0 when every benchmark found ran, 1 when one failed or none ran.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.util
import json
import shlex
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``benchmarks`` and ``sgdsm_cloud`` importable
    sys.path.insert(0, str(REPO))

from benchmarks.common import check_results, format_table, load_average, machine

KNOWN = (
    "model", "variants", "ingest", "earthdata", "fill", "accuracy", "uncertainty", "export", "update",
    "versions", "tile", "anomaly",
)  # fmt: skip
RESULTS_DIR = REPO / "benchmarks" / "results"
MARKDOWN = REPO / "BENCHMARKS.md"


def load_module(name: str) -> tuple[str, ModuleType]:
    """``(label, module)`` for a benchmark name or a path to a ``.py`` file."""
    if name.endswith(".py"):
        path = Path(name).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"benchmark file {name} does not exist")
        label = path.stem.removeprefix("bench_")
        spec = importlib.util.spec_from_file_location(f"benchmarks.bench_{label}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return label, module
    if not (REPO / "benchmarks" / f"bench_{name}.py").is_file():
        raise FileNotFoundError(
            f"no benchmark {name!r}: benchmarks/bench_{name}.py does not exist "
            f"(known: {', '.join(KNOWN)})"
        )
    return name, importlib.import_module(f"benchmarks.bench_{name}")


def run_benchmark(label: str, module: ModuleType, quick: bool, command: str) -> dict[str, Any]:
    """One benchmark's run record: results plus what they were measured on and how."""
    return measured_record(
        label, quick, command, lambda: check_results(module.__name__, module.run(quick))
    )


def measured_record(
    label: str, quick: bool, command: str, produce: Callable[[], list[dict[str, Any]]]
) -> dict[str, Any]:
    """The run record of ``produce()``'s results, with the load and wall time around it."""
    load_before, measured_on = load_average(), machine()
    started = time.perf_counter()
    results = produce()
    return {
        "benchmark": label,
        "mode": "quick" if quick else "full",
        "command": command,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": measured_on,
        "load_before": load_before,
        "load_after": load_average(),
        "wall_s": round(time.perf_counter() - started, 1),
        "results": results,
    }


def markdown_section(record: dict[str, Any]) -> str:
    """The BENCHMARKS.md block of one run, between markers that identify benchmark and mode."""
    m = record["machine"]

    def load(v: list[float] | None) -> str:
        return "n/a" if v is None else " / ".join(f"{x:.2f}" for x in v)

    key = f"{record['benchmark']}:{record['mode']}"
    return "\n".join(
        [
            f"<!-- bench:{key} -->",
            f"### `{record['benchmark']}` ({record['mode']})",
            "",
            f"Command: `{record['command']}`  ",
            f"Date: {record['date']}; wall time {record['wall_s']} s  ",
            f"Machine: {m.get('cpu_count')} CPUs ({m.get('cpu')}), "
            f"torch {m.get('torch', 'n/a')} ({m.get('torch_threads', 'n/a')} threads by default), "
            f"device {m.get('device', 'cpu')}  ",
            f"Load average (1/5/15 min): {load(record['load_before'])} before, "
            f"{load(record['load_after'])} after",
            "",
            format_table(record["results"]),
            f"<!-- /bench:{key} -->",
        ]
    )


def update_markdown(path: Path, record: dict[str, Any]) -> None:
    """Replace this benchmark and mode's section of ``path``, or append it at the end."""
    section = markdown_section(record)
    key = f"{record['benchmark']}:{record['mode']}"
    start, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    text = path.read_text() if path.exists() else ""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section + "\n"
    path.write_text(text)


def write_json(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, indent=2) + "\n")


def keep_latest(path: Path, record: dict[str, Any]) -> None:
    """Add ``record`` to the runs at ``path``, replacing the run of the same benchmark and mode."""
    key = (record["benchmark"], record["mode"])
    runs = json.loads(path.read_text()) if path.exists() else []
    write_json(path, [r for r in runs if (r["benchmark"], r["mode"]) != key] + [record])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run ({', '.join(KNOWN)} or a .py path); default all",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and few repeats (about a minute each)"
    )
    parser.add_argument(
        "--json",
        type=Path,
        help="write all runs to this file instead of benchmarks/results/<NAME>.json",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        default=MARKDOWN,
        help="file whose result sections are updated (default BENCHMARKS.md)",
    )
    parser.add_argument("--no-markdown", action="store_true", help="do not touch any Markdown file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    command = shlex.join(["python", "benchmarks/run.py", *argv])
    records, failed = [], False
    for name in args.names or KNOWN:
        try:
            label, module = load_module(name)
        except FileNotFoundError as err:
            print(f"[{name}] skipped: {err}", file=sys.stderr)
            continue
        except ImportError:
            traceback.print_exc()
            print(f"[{name}] failed to import", file=sys.stderr)
            failed = True
            continue
        if not callable(getattr(module, "run", None)):
            print(
                f"[{label}] skipped: {module.__name__} defines no run(quick) function "
                "(see benchmarks/common.py)",
                file=sys.stderr,
            )
            continue
        print(f"[{label}] running ({'quick' if args.quick else 'full'}) ...", flush=True)
        try:
            record = run_benchmark(label, module, args.quick, command)
        except Exception:
            traceback.print_exc()
            print(f"[{label}] failed", file=sys.stderr)
            failed = True
            continue
        print(markdown_section(record), flush=True)
        records.append(record)
        if not args.json:
            keep_latest(RESULTS_DIR / f"{label}.json", record)
        if not args.no_markdown:
            update_markdown(args.markdown, record)
    if args.json and records:
        write_json(args.json, records)
    return 1 if failed or not records else 0


if __name__ == "__main__":
    sys.exit(main())
