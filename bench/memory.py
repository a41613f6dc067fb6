"""Resident memory (RSS) of the processes a benchmark starts, read from /proc (Linux).

A web server or a Celery worker is a process group (gunicorn's workers, Celery's pool children): its
RSS is the sum over the group, sampled in the background so a benchmark can print the peak.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def group_rss_mb(group: int) -> float:
    """The summed RSS, in MB, of every live process in process group `group`."""
    total_pages = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != group:  # the fields after "(comm)": state, ppid, pgrp, ...
                continue
            total_pages += int((entry / "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended while being read
    return total_pages * PAGE_KB / 1024


class PeakRss:
    """Samples the RSS of some process groups every `interval` seconds until stopped; keeps the peak."""

    def __init__(self, groups: dict[str, int], interval: float = 0.2) -> None:
        self.groups = groups
        self.interval = interval
        self.peak = dict.fromkeys(groups, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def now(self) -> dict[str, float]:
        return {name: group_rss_mb(group) for name, group in self.groups.items()}

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, rss in self.now().items():
                self.peak[name] = max(self.peak[name], rss)
            self._stop.wait(self.interval)
