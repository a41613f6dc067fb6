"""A destination's failures grouped by reason, for its dashboard: how many, a few examples, and the way to
the log and to a replay of each group.

Reasons that differ only by the numbers and ids in them ("Gave up after 3 attempts over 3.1 h" and
"... 4 attempts over 3.0 h") are one group: numbers and hex ids become "#" (HTTP status codes after
"answered" stay, so a 400 and a 401 are two groups). The failures read are bounded: the newest
FAILURES_READ of the window, through the (status, created_at) index; past that the dashboard says the
counts are of those only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from delivery.admin import links
from delivery.engine.replay import UNCHANGEABLE_PREFIX
from delivery.models import Delivery

FAILURES_READ = 5_000
GROUPS_SHOWN = 10
SAMPLES = 3
PLACEHOLDER = "#"
# A UUID, a run of 12 or more hex digits, or a number (a decimal, an IP address), standing alone.
_VARYING = r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|[0-9a-fA-F]{12,}|\d+(?:\.\d+)*"
VARYING = re.compile(rf"(?<![\w.])(?:{_VARYING})(?![\w])")
KEPT = re.compile(r"answered [1-5]\d\d$")
# What a placeholder stands for in the log's filter: PostgreSQL and SQLite (Python's re) both read it.
PLACEHOLDER_PATTERN = r"[0-9a-fA-F][0-9a-fA-F.-]*"


def normalise(reason: str) -> str:
    """The group a failure's reason belongs to."""

    def replace(match: re.Match) -> str:
        if KEPT.search(reason[: match.end()]) and match.end() - match.start() == 3:
            return match.group()
        return PLACEHOLDER

    return VARYING.sub(replace, reason)


def pattern(group: str) -> str:
    """A regular expression the reasons of `group` match, for the database."""
    literal = [re.escape(part) for part in group.split(PLACEHOLDER)]
    return "^" + PLACEHOLDER_PATTERN.join(literal) + "$"


@dataclass(frozen=True)
class Group:
    reason: str
    count: int
    samples: list[tuple[int, str]]  # (delivery id, its page)
    log_url: str
    can_change: bool  # False for instrumentation errors: replaying cannot help

    @property
    def varies(self) -> bool:
        return PLACEHOLDER in self.reason


@dataclass(frozen=True)
class Groups:
    groups: list[Group]
    more: int  # groups not shown
    read: int  # failures read
    capped: bool  # the window holds more failures than were read


def failures(destination_id: int, since: datetime) -> QuerySet:
    return Delivery.objects.filter(
        status=Delivery.Status.FAILED, created_at__gte=since, destination_id=destination_id
    ).order_by("-created_at")


def grouped_failures(destination_id: int, since: datetime) -> tuple[dict[str, list[int]], int, bool]:
    """Each group's failures of the window, newest first (of the newest FAILURES_READ), how many were
    read, and whether the window holds more."""
    read = list(failures(destination_id, since).values_list("id", "reason")[: FAILURES_READ + 1])
    grouped: dict[str, list[int]] = defaultdict(list)
    for pk, reason in read[:FAILURES_READ]:
        grouped[normalise(reason)].append(pk)
    return grouped, min(len(read), FAILURES_READ), len(read) > FAILURES_READ


def error_groups(destination_id: int, since: datetime) -> Groups:
    grouped, read, capped = grouped_failures(destination_id, since)
    ranked = sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0]))
    base = links.log_url(destination_id, Delivery.Status.FAILED, since)
    shown = [
        Group(
            reason=reason,
            count=len(ids),
            samples=[(pk, links.delivery_url(pk)) for pk in ids[:SAMPLES]],
            log_url=f"{base}&{urlencode({ReasonGroupFilter.parameter_name: reason})}",
            can_change=not reason.startswith(UNCHANGEABLE_PREFIX),
        )
        for reason, ids in ranked[:GROUPS_SHOWN]
    ]
    return Groups(shown, max(0, len(ranked) - GROUPS_SHOWN), read, capped)


class ReasonGroupFilter(admin.SimpleListFilter):
    """The log's "reason" filter, reached from a dashboard's error group: the failures whose reason
    is in the group, whatever numbers and ids it holds."""

    title = "reason"
    parameter_name = "reason_group"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        # Only the group asked for: listing every reason would read every failure.
        value = self.value()
        return [(value, value)] if value else []

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(reason__regex=pattern(value)) if value else queryset
