"""Recording what a person did in the admin in Django's admin history (LogEntry): who, when, and what.

Every admin action that changes or sends something goes through record(), so each object's History
page tells it. A message is plain words written by our own code: it never quotes a secret (an API key,
a write key, a signing key), only what was done.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import Model
from django.http import HttpRequest

# The rows of one bulk insert of history entries.
ENTRIES_PER_INSERT = 1_000


def record(request: HttpRequest, objects: Model | Iterable[Model], message: str) -> None:
    """Note `message` on each object's History page, as done by the request's user, now."""
    chosen = [objects] if isinstance(objects, Model) else list(objects)
    for start in range(0, len(chosen), ENTRIES_PER_INSERT):
        LogEntry.objects.log_actions(
            request.user.pk, chosen[start : start + ENTRIES_PER_INSERT], CHANGE, change_message=message
        )
