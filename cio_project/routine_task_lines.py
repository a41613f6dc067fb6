"""Celery's routine lines about the tasks beat runs every few seconds, kept out of the log at INFO.

Beat logs "Sending due task" and the worker "received" and "succeeded" for every task, which for the
sweep (every DELIVERY_SWEEP_INTERVAL_SECONDS) is three lines every 5 s saying nothing happened. The
sweep says itself, at INFO, when it found work (delivery/engine/sweeper.py). Only these INFO lines
are dropped: a sweep that fails or is retried is still logged, and LOG_LEVEL=DEBUG shows them all.
"""

from __future__ import annotations

import logging

ROUTINE_TASKS = ("delivery.tasks.sweep",)


class RoutineTaskLines(logging.Filter):
    def __init__(self, keep: bool = False) -> None:
        super().__init__()
        self.keep = keep

    def filter(self, record: logging.LogRecord) -> bool:
        if self.keep or record.levelno != logging.INFO or not record.name.startswith("celery."):
            return True
        message = record.getMessage()
        return not any(task in message for task in ROUTINE_TASKS)
