"""The log's console handler leaves out Celery's routine INFO lines about the sweep, which beat runs
every few seconds, and keeps everything else Celery says (cio_project/routine_task_lines.py)."""

from __future__ import annotations

import logging

from celery.app import trace

from cio_project.routine_task_lines import RoutineTaskLines

SWEEP = "delivery.tasks.sweep"
DELIVER = "delivery.tasks.deliver"


def console_handler() -> logging.Handler:
    """The handler settings.LOGGING gave the root logger: what the web, worker and beat write through."""
    (handler,) = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(each, RoutineTaskLines) for each in handler.filters)
    ]
    return handler


def record(logger: str, level: int, message: str, *args) -> logging.LogRecord:
    return logging.getLogger(logger).makeRecord(logger, level, __file__, 1, message, args, None)


def task_line(logger: str, level: int, template: str, task: str) -> logging.LogRecord:
    context = {"id": "7f3a", "name": task, "args": "()", "kwargs": "{}", "eta": None}
    context.update(return_value=None, runtime=0.01, exc="boom", description="raised unexpected")
    return record(logger, level, template, context)


def shown(line: logging.LogRecord) -> bool:
    return bool(console_handler().filter(line))


def test_the_sweeps_routine_lines_are_left_out():
    # Beat's "Sending due task", the worker's "received" and "succeeded", as Celery logs them
    assert not shown(record("celery.beat", logging.INFO, "Scheduler: Sending due task %s (%s)", "x", SWEEP))
    assert not shown(task_line("celery.worker.strategy", logging.INFO, trace.LOG_RECEIVED, SWEEP))
    assert not shown(task_line("celery.app.trace", logging.INFO, trace.LOG_SUCCESS, SWEEP))


def test_everything_else_celery_says_is_kept():
    assert shown(record("celery.beat", logging.INFO, "beat: Starting..."))
    assert shown(task_line("celery.app.trace", logging.INFO, trace.LOG_SUCCESS, DELIVER))
    assert shown(task_line("celery.app.trace", logging.ERROR, trace.LOG_FAILURE, SWEEP))
    # and the project's own lines, which may well name the task
    assert shown(record("delivery.engine.sweeper", logging.INFO, f"{SWEEP} rang 1 destinations"))


def test_log_level_debug_keeps_them_all():
    assert RoutineTaskLines(keep=True).filter(
        task_line("celery.app.trace", logging.INFO, trace.LOG_SUCCESS, SWEEP)
    )
