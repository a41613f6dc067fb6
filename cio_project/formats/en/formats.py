"""The admin's English formats: a date and time as cio_project/times.py writes one, wherever Django
renders one itself (read-only fields, list columns), so every page shows the same form."""

from cio_project.times import EXACT_FORMAT

DATETIME_FORMAT = EXACT_FORMAT
SHORT_DATETIME_FORMAT = EXACT_FORMAT
