"""The fault runs' figures: collected as each scenario ends, printed as one table after the run."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.audit import Figures
from tests.support.processes import ROOT

REPORT_PATH = ROOT / "var" / "reliability-figures.txt"
COLUMNS = [
    ("scenario", "scenario"),
    ("dest", "destination"),
    ("sent", "sent"),
    ("accepted", "accepted"),
    ("delivered", "delivered"),
    ("filtered", "filtered"),
    ("failed", "failed"),
    ("lost", "lost"),
    ("duplicates", "duplicates"),
    ("acted on", "acted_on_duplicates"),
    ("unexplained dup.", "unexplained_duplicates"),
    ("order violations", "order_violations"),
    ("5xx answers", "server_errors"),
    ("conn. errors", "connection_errors"),
    ("seconds", "seconds"),
]
NOTES = """\
sent/accepted: events the SDK-like sender sent and the ingestion API answered 200 (retries resend the same
messageIds). delivered/filtered/failed: that destination's deliveries in each terminal state. lost: accepted
but not stored, still open, terminal without a reason, or "delivered" without Customer.io having taken it.
duplicates: extra times Customer.io took an event, each a send whose result was never recorded (the log
holds fewer delivered attempts than Customer.io took); acted on: duplicates Customer.io would act on, those
without the de-duplication id of the event's other takes (Customer.io counts one id once); unexplained
dup.: two recorded deliveries of one event. order violations: a person's event taken after a later one.
5xx answers / conn. errors: what the sender got from the ingestion API."""

collected: list[Figures] = []


def table(rows: list[Figures]) -> str:
    cells = [[title for title, _ in COLUMNS]]
    for figures in rows:
        values = [getattr(figures, name) for _, name in COLUMNS]
        cells.append([f"{value:.0f}" if isinstance(value, float) else str(value) for value in values])
    widths = [max(len(row[index]) for row in cells) for index in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    faults = [f"{figures.scenario}: {figures.faults}" for figures in rows if figures.faults]
    return "\n".join([*lines, "", *dict.fromkeys(faults), "", NOTES])


def write(rows: list[Figures], path: Path = REPORT_PATH) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(table(rows) + "\n")
