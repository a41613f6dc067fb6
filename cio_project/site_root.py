"""What the server answers outside its APIs: `/` and `/favicon.ico`.

There is no public website: the admin is the only page for people, so `/` (where the admin's own
links and a person typing the host land) leads there. Browsers ask every host for /favicon.ico; an
answer keeps a "Not Found" line out of the log for each page they open.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_safe

# A relay: an arrow into a box and out again, in the admin's header blue. Small enough to keep inline.
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="#417690"/>'
    '<path d="M3 8h8M8 4.5 11.5 8 8 11.5" stroke="#fff" stroke-width="2" fill="none" '
    'stroke-linecap="round" stroke-linejoin="round"/></svg>'
)
FAVICON_MAX_AGE = 24 * 3600


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return redirect("admin:index")


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(FAVICON_SVG, content_type="image/svg+xml")
    response["Cache-Control"] = f"public, max-age={FAVICON_MAX_AGE}"
    return response
