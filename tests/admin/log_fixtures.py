"""What the delivery log's admin tests share besides the model factories (tests/support/factories.py):
the log's URL, times in the past, and a staff member who may only look."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import Permission, User
from django.utils import timezone

LOG_URL = "/admin/delivery/delivery/"


def ago(**delta: float) -> datetime:
    return timezone.now() - timedelta(**delta)


def viewer() -> User:
    """A staff member who may look at the log but not replay: the view permission only."""
    user = User.objects.create_user("viv", "viv@example.com", "a-long-password-for-tests", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    return user
