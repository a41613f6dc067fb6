"""Who may use the delivery tools: they show destinations and deliveries, so they need both."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

User = AbstractBaseUser | AnonymousUser


def _may_see(user: User, app_label: str, model_name: str) -> bool:
    # Change implies view, as in the admin's own pages.
    return user.has_perm(f"{app_label}.view_{model_name}") or user.has_perm(
        f"{app_label}.change_{model_name}"
    )


def can_view(user: User) -> bool:
    return (
        user.is_active
        and user.is_staff
        and _may_see(user, "destinations", "destination")
        and _may_see(user, "delivery", "delivery")
    )


def can_watch_sources(user: User) -> bool:
    """A source's live events and refused requests: its events, and the deliveries they led to."""
    return can_view(user) and _may_see(user, "destinations", "source")


def can_send(user: User) -> bool:
    """Sending a test event for real creates a delivery, which is changing the delivery log."""
    return can_view(user) and user.has_perm("delivery.change_delivery")


def can_replay(user: User) -> bool:
    """Replaying deliveries changes the delivery log, as sending a test event for real does."""
    return can_send(user)
