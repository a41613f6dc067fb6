"""Template filters for times, so templates write them as cio_project/times.py does:
{{ moment|exact_time }}, {{ moment|time_ago }} and {{ moment|moment }} (both, the age beside)."""

from __future__ import annotations

from django import template

from cio_project import times

register = template.Library()

register.filter("exact_time", times.exact_time)
register.filter("time_ago", times.time_ago)
register.filter("moment", times.moment_html)
