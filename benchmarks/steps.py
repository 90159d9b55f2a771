"""Running ``sgdsm`` commands as a benchmark's steps: timed, their memory watched, killable.

Each step runs ``sgdsm -v ARGV`` in its own process. A thread samples the peak RSS of that
process and of every process it starts (the cluster's workers); the step can be SIGKILLed when
a condition turns true, and whatever it started is reaped. :func:`tree_size` counts what a step
wrote.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import load_average
from sgdsm_cloud import phases as phase_log

POLL_SECONDS = 0.5


@dataclass
class Watch:
    """Peak RSS of a process and of every process it started, sampled every POLL_SECONDS."""

    pid: int
    peaks: dict[int, int] = field(default_factory=dict)  # pid -> bytes
    names: dict[int, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Watch:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def descendants(self) -> list[int]:
        import psutil

        try:
            return [p.pid for p in psutil.Process(self.pid).children(recursive=True)]
        except psutil.Error:
            return []

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                processes = [root, *root.children(recursive=True)]
            except psutil.Error:
                processes = []
            for process in processes:
                try:
                    rss = process.memory_info().rss
                    self.names.setdefault(process.pid, " ".join(process.cmdline()[:3])[-80:])
                except psutil.Error:
                    continue
                self.peaks[process.pid] = max(rss, self.peaks.get(process.pid, 0))
            self._stop.wait(POLL_SECONDS)

    def client_peak(self) -> int:
        return self.peaks.get(self.pid, 0)

    def worker_peaks(self) -> list[int]:
        """Peaks of the started processes above 100 MB (dask workers; not tiny helpers such as
        multiprocessing's resource tracker), largest first."""
        others = [rss for pid, rss in self.peaks.items() if pid != self.pid]
        return sorted((rss for rss in others if rss > 100 * 2**20), reverse=True)


@dataclass
class Step:
    """One measured step (what steps.json keeps)."""

    name: str
    command: str
    seconds: float
    returncode: int
    client_peak_mb: float
    worker_peaks_mb: list[float]
    objects: int = 0
    bytes: int = 0
    phases: dict[str, float] | None = None
    stdout: str = ""
    killed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    finished: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    load: list[float] | None = field(default_factory=load_average)  # when the step ended


def run_step(
    name: str,
    argv: list[str],
    logs: Path,
    *,
    kill_when: Callable[[], bool] | None = None,
    env: dict[str, str] | None = None,
) -> Step:
    """Run ``sgdsm -v ARGV`` in its own process; SIGKILL it (and then whatever it started)
    once ``kill_when()`` turns true."""
    command = [sys.executable, "-m", "sgdsm_cloud", "-v", *argv]
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
    print(f"[step] {name}: sgdsm -v {shlex.join(argv)}", flush=True)
    started = time.perf_counter()
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            command, stdout=out, stderr=err, env={**os.environ, **(env or {})}
        )
        watch = Watch(process.pid).start()
        killed = False
        while process.poll() is None:
            if kill_when is not None and not killed and kill_when():
                started_processes = watch.descendants()
                process.send_signal(signal.SIGKILL)
                killed = True
                process.wait()
                _reap(started_processes)
            time.sleep(1.0)
        watch.stop()
    seconds = time.perf_counter() - started
    stderr = err_path.read_text()
    if process.returncode != 0 and not killed:
        raise RuntimeError(
            f"step {name} failed with status {process.returncode}; see {err_path}:\n"
            + "\n".join(stderr.splitlines()[-20:])
        )
    mb = 2**20
    return Step(
        name=name,
        command="sgdsm " + shlex.join(argv),
        seconds=round(seconds, 2),
        returncode=process.returncode,
        client_peak_mb=round(watch.client_peak() / mb, 1),
        worker_peaks_mb=[round(rss / mb, 1) for rss in watch.worker_peaks()],
        phases=phase_log.parse(stderr),
        stdout=out_path.read_text()[-4000:],
        killed=killed,
    )


def _reap(pids: list[int], grace: float = 20.0) -> None:
    """Workers orphaned by a killed client exit on their own (they lose their nanny); kill
    whatever is still alive after ``grace`` seconds so the next step starts clean."""
    import psutil

    alive = [p for p in (_process(pid) for pid in pids) if p is not None]
    _, still = psutil.wait_procs(alive, timeout=grace)
    for process in still:
        with contextlib.suppress(psutil.Error):  # it may exit between the wait and the kill
            process.kill()
    if still:
        print(f"[step] killed {len(still)} process(es) left after the client's death")


def _process(pid: int) -> Any:
    import psutil

    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def tree_size(*paths: Path) -> tuple[int, int]:
    """(objects, bytes) under ``paths``: on a local store a file is an object."""
    objects = size = 0
    for root in paths:
        for folder, _, files in os.walk(root):
            for name in files:
                objects += 1
                size += os.path.getsize(os.path.join(folder, name))
    return objects, size
