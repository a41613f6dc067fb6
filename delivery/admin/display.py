"""How the delivery log's pages show things: JSON to read (secrets masked), status badges, links."""

from __future__ import annotations

import json
from typing import Any

from django.urls import reverse
from django.utils.html import format_html

from cio_project.log_redaction import redact
from delivery.models import Delivery


def pretty(value: Any) -> str:
    """JSON for a person to read, with any secret the process knows of masked."""
    return redact(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False))


def change_link(url_name: str, obj: Any) -> str:
    """A link to an object's admin page."""
    if obj is None:
        return "-"
    return format_html('<a href="{}">{}</a>', reverse(url_name, args=[obj.pk]), obj)


def badge(delivery: Delivery) -> str:
    return format_html(
        '<span class="delivery-badge delivery-{}">{}</span>', delivery.status, delivery.get_status_display()
    )
