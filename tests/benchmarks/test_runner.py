"""The runner on a tiny benchmark file: JSON, a Markdown section replaced in place, skips."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

TINY = """
from benchmarks.common import interleaved, per_round, result

def run(quick):
    cases = {"sum": lambda: sum(range(1000)), "max": lambda: max(range(1000))}
    seconds = interleaved(cases, warmup=1, repeats=3)
    ratio = per_round(lambda a, b: a / b, seconds["sum"], seconds["max"])
    return [
        result("tiny sum", seconds["sum"], "s", note="quick" if quick else "full"),
        result("tiny sum / max", ratio, "time ratio", reference="max"),
    ]
"""


def run_runner(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def test_runner_writes_json_and_updates_its_markdown_section(tmp_path):
    (tmp_path / "bench_tiny.py").write_text(TINY)
    (tmp_path / "bench_norun.py").write_text("VALUE = 1\n")
    markdown = tmp_path / "RESULTS.md"
    markdown.write_text("# Results\n\nhand-written text\n")
    out = tmp_path / "out.json"
    args = [
        str(tmp_path / "bench_tiny.py"),
        str(tmp_path / "bench_norun.py"),
        "--quick",
        "--json",
        str(out),
        "--markdown",
        str(markdown),
    ]

    first = run_runner(*args)
    assert first.returncode == 0, first.stderr
    assert "[norun] skipped" in first.stderr and "no run(quick)" in first.stderr
    (record,) = json.loads(out.read_text())
    assert record["benchmark"] == "tiny" and record["mode"] == "quick"
    assert (
        record["command"].startswith("python benchmarks/run.py ") and "--quick" in record["command"]
    )
    assert {"cpu_count", "torch", "torch_threads", "device"} <= set(record["machine"])
    assert [r["name"] for r in record["results"]] == ["tiny sum", "tiny sum / max"]
    assert record["results"][0]["n"] == 3 and record["results"][0]["note"] == "quick"

    assert run_runner(*args).returncode == 0
    text = markdown.read_text()
    assert text.startswith("# Results\n\nhand-written text\n")
    assert (
        text.count("<!-- bench:tiny:quick -->") == 1
        and text.count("<!-- /bench:tiny:quick -->") == 1
    )
    assert "| tiny sum / max |" in text and "Load average" in text


def test_runner_fails_when_nothing_can_run(tmp_path):
    (tmp_path / "bench_norun.py").write_text("VALUE = 1\n")
    done = run_runner(
        str(tmp_path / "bench_norun.py"),
        "no_such_benchmark",
        "--no-markdown",
        "--json",
        str(tmp_path / "x.json"),
    )
    assert done.returncode == 1
    assert "no benchmark 'no_such_benchmark'" in done.stderr
    assert not (tmp_path / "x.json").exists()


def test_results_file_keeps_the_latest_run_of_each_mode(tmp_path):
    from benchmarks.run import keep_latest

    path = tmp_path / "results" / "model.json"
    for mode, date in (("quick", 1), ("full", 2), ("quick", 3)):
        keep_latest(path, {"benchmark": "model", "mode": mode, "date": date})
    runs = json.loads(path.read_text())
    assert sorted((r["mode"], r["date"]) for r in runs) == [("full", 2), ("quick", 3)]
