"""The project's admin site: Django's, with the delivery tools (event tester, dashboards) added.

The tools are admin pages, not models, so they are added to the URLs and to the app list by hand.
Their URLs sit in the `admin:` namespace and go through admin_view(), so they need a staff login
like every other admin page.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import URLPattern, path, reverse

from delivery.admin import access, live_events
from delivery.admin.dashboards import DashboardsView, DestinationDashboardView, ErrorGroupReplayView
from delivery.admin.person import PersonView
from delivery.admin.tester import EventTesterView

TOOLS_APP_LABEL = "tools"


class RelayAdminSite(admin.AdminSite):
    site_header = "cio-relay"
    site_title = "cio-relay admin"
    index_title = "Administration"
    # No "View site" link: there is no site besides the admin (`/` leads back here).
    site_url = None

    def get_urls(self) -> list[URLPattern]:
        tools = [
            path(
                "tools/event-tester/",
                self.admin_view(EventTesterView.as_view(site=self)),
                name="event_tester",
            ),
            path("dashboard/", self.admin_view(DashboardsView.as_view(site=self)), name="dashboards"),
            path("person/", self.admin_view(PersonView.as_view(site=self)), name="person"),
            path(
                "dashboard/<int:object_id>/",
                self.admin_view(DestinationDashboardView.as_view(site=self)),
                name="destination_dashboard",
            ),
            path(
                "dashboard/<int:object_id>/replay-errors/",
                self.admin_view(ErrorGroupReplayView.as_view(site=self)),
                name="destination_error_group_replay",
            ),
            *live_events.urls(self),
        ]
        # Before Django's own: its last pattern catches every URL it does not know.
        return tools + super().get_urls()

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        app_list = super().get_app_list(request, app_label)
        if app_label is None and access.can_view(request.user):
            app_list.append(self._tools_app())
        return app_list

    def _tools_app(self) -> dict:
        """The tools as an app in the index and the navigation sidebar, each page listed as a model."""
        pages = [
            ("Dashboards", "Dashboards", reverse("admin:dashboards", current_app=self.name)),
            ("Event tester", "EventTester", reverse("admin:event_tester", current_app=self.name)),
            ("People", "Person", reverse("admin:person", current_app=self.name)),
        ]
        return {
            "name": "Delivery tools",
            "app_label": TOOLS_APP_LABEL,
            "app_url": pages[0][2],
            "has_module_perms": True,
            "models": [
                {
                    "name": name,
                    "object_name": object_name,
                    "admin_url": url,
                    "add_url": None,
                    "view_only": True,
                }
                for name, object_name, url in pages
            ],
        }
