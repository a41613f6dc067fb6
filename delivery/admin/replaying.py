"""The admin's side of a replay, shared by the log (one delivery, a selection) and the dashboard (an error
group): the confirmation that says what will and will not happen, and the replay with its history.

The rules are delivery.engine.replay's; this says them in words and records who asked.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from cio_project import admin_history
from delivery.engine.replay import LATER_LIMIT, UNCHANGEABLE_WHY, Plan, replay_plan
from delivery.models import Delivery

# Later deliveries named one by one on the confirmation; the rest are counted.
LATER_NAMED = 20
TEMPLATE = "admin/delivery/delivery/replay_confirmation.html"


def plural(count: int) -> str:
    return "delivery" if count == 1 else "deliveries"


def confirmation(
    request: HttpRequest,
    site: admin.AdminSite,
    chosen: Plan,
    *,
    what: str,
    hidden: list[tuple[str, str]],
    over_limit: int = 0,
    limit: int = 0,
) -> HttpResponse:
    """The page that asks before a replay. `what` says what was chosen ("You selected 7 deliveries.");
    `hidden` are the form fields that ask for the same replay again (with `post=yes` added)."""
    context = {
        **site.each_context(request),
        "title": "Replay deliveries",
        "opts": Delivery._meta,
        "what": what,
        "plan": chosen,
        "replayable": len(chosen.replayable),
        "unchangeable": len(chosen.unchangeable),
        "unchangeable_why": UNCHANGEABLE_WHY,
        "later_named": chosen.later[:LATER_NAMED],
        "later_more": max(0, len(chosen.later) - LATER_NAMED),
        "later_limit": LATER_LIMIT,
        "over_limit": over_limit,
        "limit": limit,
        "hidden": [*hidden, *(("_selected_action", str(pk)) for pk in chosen.replayable)],
    }
    return TemplateResponse(request, TEMPLATE, context)


def wants_later(request: HttpRequest) -> bool:
    return request.POST.get("later") == "yes"


def perform(request: HttpRequest, chosen: Plan, *, how: str, single: int | None = None) -> int:
    """Replay the plan (with its later deliveries when the person chose so), note it in each delivery's
    History (`how` says from where: "from its page"), and tell the person what happened."""
    with_later = wants_later(request) and bool(chosen.later) and not chosen.later_capped
    done = set(replay_plan(chosen, with_later=with_later, by=request.user.get_username()))
    later_ids = {later.pk for later in chosen.later} & done
    replayed = Delivery.objects.filter(id__in=sorted(done - later_ids)).only("id", "status")
    admin_history.record(request, replayed, f"Replayed {how}.")
    if later_ids:
        first = chosen.replayable[0] if len(chosen.replayable) == 1 else None
        after = f"delivery {first}" if first else "the earlier deliveries of the same person replayed with it"
        later = Delivery.objects.filter(id__in=sorted(later_ids)).only("id", "status")
        admin_history.record(request, later, f"Replayed {how}, after {after}, to keep the person's order.")
    count = len(done)
    level = messages.SUCCESS if count else messages.WARNING
    messages.add_message(request, level, result_message(chosen, count, with_later, single))
    return count


def result_message(chosen: Plan, count: int, with_later: bool, single: int | None) -> str:
    if single is not None and count:
        said = f"Delivery {single} replayed: it is pending again."
    else:
        said = f"{count} {plural(count)} replayed: {'it is' if count == 1 else 'they are'} pending again."
    if with_later:
        later = len(chosen.later)
        said += (
            f" {later} of them {'was a later delivery' if later == 1 else 'were later deliveries'} of the "
            "same person, already delivered: they go again after the earlier one, in their original order."
        )
    elif chosen.later:
        later = len(chosen.later)
        were = "was" if later == 1 else "were"
        said += (
            f" Out of order: {later} later {plural(later)} of the same person {were} already delivered and"
            " not replayed, so Customer.io gets the replayed event after them."
        )
    if chosen.unchangeable:
        left = len(chosen.unchangeable)
        said += f" {left} {plural(left)} left out: {UNCHANGEABLE_WHY}."
    return said
