"""A person's page: search by user id, anonymous id, email or cio_id, and read their whole timeline."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from delivery.admin.dashboards import ToolView
from delivery.admin.timeline import LIMIT, timeline

# As long as the longest identifier the relay stores.
TERM_LIMIT = 255


class PersonView(ToolView):
    def get(self, request: HttpRequest) -> HttpResponse:
        term = request.GET.get("q", "").strip()[:TERM_LIMIT]
        if not term:
            return self.render(request, "admin/tools/person.html", title="Find a person", term="")
        query = urlencode({"q": term})
        return self.render(
            request,
            "admin/tools/person.html",
            title=f"Person: {term}",
            term=term,
            timeline=timeline(term),
            limit=LIMIT,
            log_url=f"{reverse('admin:delivery_delivery_changelist')}?{query}",
            activity_url=f"{reverse('admin:delivery_messageactivity_changelist')}?{query}",
        )
