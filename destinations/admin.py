"""Configuring sources and Customer.io destinations in the admin.

Secrets: a destination's API key never leaves the server (DestinationForm). A source's write key is
shown to an admin on request only: pages carry it masked, and the Copy and Show buttons fetch it with
a POST, so it is never part of a page's HTML, the browser's cache or a saved copy of a page.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.defaultfilters import truncatechars
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cio_project import admin_history
from cio_project.times import moment_html
from destinations.fields import EncryptedTextField
from destinations.forms import DestinationForm, SourceForm, secret_state
from destinations.models import Destination, Source
from destinations.snippets import server_url, snippets
from destinations.track_api.credentials import CheckResult, Verdict, check_credentials

logger = logging.getLogger(__name__)

# Each check may wait for Customer.io's timeouts; more than a handful would hold the page for minutes.
MAX_CREDENTIAL_CHECKS = 10
SHORT_ERROR_LENGTH = 80

_LEVELS = {Verdict.WORKS: messages.SUCCESS, Verdict.WRONG_REGION: messages.WARNING}


class SecretsNeverShown:
    """For a person who may only view: every encrypted field is shown as set or not, never its value.

    Django shows a form it may not change as its fields' values (AdminReadonlyField), which for an
    encrypted field is the decrypted secret; such a field is swapped for its state instead.
    """

    def secret_fields(self) -> list[str]:
        return [field.name for field in self.model._meta.fields if isinstance(field, EncryptedTextField)]

    def get_fieldsets(self, request: HttpRequest, obj=None) -> list:
        """Final: an admin says what it shows in shown_fieldsets(), and this takes the secrets out."""
        fieldsets = self.shown_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        secrets = set(self.secret_fields())
        return [
            (
                name,
                {
                    **options,
                    "fields": [
                        self._state_of(field) if field in secrets else field for field in options["fields"]
                    ],
                },
            )
            for name, options in fieldsets
        ]

    def shown_fieldsets(self, request: HttpRequest, obj=None) -> list:
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list:
        return [*super().get_readonly_fields(request, obj), *map(self._state_of, self.secret_fields())]

    def _state_of(self, name: str):
        def state(obj) -> str:
            return secret_state(getattr(obj, name), reveal_end=False)

        state.short_description = self.model._meta.get_field(name).verbose_name
        state.__name__ = f"{name}_state"
        return state


class AdminMedia:
    css = {"all": ["destinations/admin.css"]}
    js = ["destinations/admin.js"]


def mask(write_key: str) -> str:
    return f"{write_key[:4]}…{write_key[-4:]}" if len(write_key) > 8 else "…"


def _admin_url(obj: Source | Destination, view: str) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[quote(obj.pk)])


@admin.register(Source)
class SourceAdmin(SecretsNeverShown, admin.ModelAdmin):
    list_display = ["name", "enabled", "write_key_column", "destination_links", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["name"]
    readonly_fields = ["write_key_panel", "destination_links", "created_at"]
    form = SourceForm
    Media = AdminMedia

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        # only(): listing a destination needs its name, not its API key decrypted.
        feeds = Prefetch("destinations", queryset=Destination.objects.only("id", "name").order_by("name"))
        return super().get_queryset(request).prefetch_related(feeds)

    def get_fields(self, request: HttpRequest, obj: Source | None = None) -> list[str]:
        if obj is None:
            return ["name", "enabled", "allowed_origins"]
        return ["name", "enabled", "allowed_origins", "write_key_panel", "destination_links", "created_at"]

    @admin.display(description="write key")
    def write_key_column(self, source: Source) -> str:
        # One per row: the source's name tells the buttons apart for a screen reader.
        return format_html(
            '<code>{}</code> <button type="button" class="button cio-button" data-reveal-url="{}" '
            'data-copy="write_key" aria-label="Copy write key of {}" title="Copy the full write key">'
            "Copy</button>",
            mask(source.write_key),
            _admin_url(source, "write_key"),
            source.name,
        )

    @admin.display(description="write key")
    def write_key_panel(self, source: Source) -> str:
        return format_html(
            "<code data-write-key>{}</code> "
            '<button type="button" class="button cio-button" data-reveal-url="{}" data-copy="write_key">'
            "Copy write key</button> "
            '<button type="button" class="button cio-button" data-reveal-url="{}" data-show>'
            "Show write key</button> "
            '<a class="button cio-button" href="{}">Rotate write key…</a>'
            '<div class="help">SDKs send it as the HTTP Basic user name, with an empty password.</div>',
            mask(source.write_key),
            _admin_url(source, "write_key"),
            _admin_url(source, "write_key"),
            _admin_url(source, "rotate_write_key"),
        )

    @admin.display(description="destinations it feeds")
    def destination_links(self, source: Source) -> str:
        links = format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            (
                (_admin_url(destination, "change"), destination.name)
                for destination in source.destinations.all()
            ),
        )
        return links or "—"

    def response_post_save_add(self, request: HttpRequest, obj: Source) -> HttpResponse:
        # The new source's change page is where its write key and SDK snippets are.
        return redirect(_admin_url(obj, "change"))

    def get_urls(self) -> list:
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/write-key/",
                view(self.write_key_view),
                name="{}_{}_write_key".format(*info),
            ),
            path(
                "<path:object_id>/rotate-write-key/",
                view(self.rotate_write_key_view),
                name="{}_{}_rotate_write_key".format(*info),
            ),
            *super().get_urls(),
        ]

    def render_change_form(
        self, request: HttpRequest, context: dict, *args, obj: Source | None = None, **kwargs
    ):
        if obj is not None:
            # Shown with the key masked; the Show and Copy buttons fetch the snippets with the real key.
            context["snippets"] = snippets(mask(obj.write_key), server_url(request))
            context["server_url"] = server_url(request)
            context["write_key_url"] = _admin_url(obj, "write_key")
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def _changeable(self, request: HttpRequest, object_id: str) -> Source | HttpResponse:
        source = self.get_object(request, unquote(object_id))
        if source is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, source):
            raise PermissionDenied
        return source

    @method_decorator([require_POST, never_cache])
    def write_key_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The full write key and the snippets that hold it, for the Copy and Show buttons."""
        source = self._changeable(request, object_id)
        if isinstance(source, HttpResponse):
            return source
        logger.info("write key of source %s shown to %s", source.pk, request.user.get_username())
        return JsonResponse(
            {
                "write_key": source.write_key,
                "snippets": {
                    item.slug: item.code for item in snippets(source.write_key, server_url(request))
                },
            }
        )

    def rotate_write_key_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        source = self._changeable(request, object_id)
        if isinstance(source, HttpResponse):
            return source
        if request.method == "POST":
            source.rotate_write_key()
            source.save(update_fields=["write_key", "write_key_digest"])
            self.log_change(request, source, [{"changed": {"fields": ["write key"]}}])
            self.message_user(
                request,
                f"The write key of “{source}” was rotated. Give the new one to your SDKs: the old one "
                f"stops working within {settings.INGESTION_AUTH_CACHE_SECONDS:g} seconds.",
                messages.SUCCESS,
            )
            return redirect(_admin_url(source, "change"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Rotate the write key?",
            "object": source,
            "opts": self.opts,
            "masked_write_key": mask(source.write_key),
            "cache_seconds": settings.INGESTION_AUTH_CACHE_SECONDS,
        }
        return TemplateResponse(request, "admin/destinations/source/rotate_write_key.html", context)


CONNECTION_FIELDS = ["name", "enabled", "sources", "site_id", "api_key", "data_center"]
DEVICE_MODE_NOTE = (
    "Settings for Customer.io's own SDKs, which send from the device (device mode). This server "
    "delivers what reaches it (cloud mode); these are kept as RudderStack has them, so RudderStack "
    "configs import unchanged."
)
FIELDSETS = [
    ("Connection settings", {"fields": CONNECTION_FIELDS}),
    ("Cloud mode", {"fields": ["device_token_event_name"]}),
    (
        "Device mode: Web SDK",
        {
            "fields": ["use_native_sdk", "send_page_name_in_sdk", "enable_in_app_messages"],
            "description": DEVICE_MODE_NOTE,
        },
    ),
    (
        "Device mode: Mobile SDK",
        {
            "fields": [
                "auto_track_device_attributes",
                "android_background_queue_min_tasks",
                "android_background_queue_delay_seconds",
            ],
            "description": DEVICE_MODE_NOTE,
        },
    ),
    (
        "Other settings",
        {
            "fields": [
                "event_filtering",
                "allowlisted_events",
                "denylisted_events",
                "onetrust_cookie_categories",
                "ketch_consent_purposes",
            ]
        },
    ),
    ("Delivery", {"fields": ["strict_ordering", "api_version", "rate_limit_per_second", "retry_horizon"]}),
    ("Reporting webhooks: message activity from Customer.io", {"fields": ["webhook_signing_key"]}),
    (
        "Transformer options",
        {
            "fields": ["convert_to_unix_time", "cio_identifiers", "deduplication_ids", "check_limits"],
            "description": "Off by default, so requests are exactly what RudderStack's destination sends.",
        },
    ),
]
STATUS_FIELDSET = (
    "Status",
    {"fields": ["credentials_state", "last_delivered_at", "last_error", "last_error_at"]},
)


@admin.register(Destination)
class DestinationAdmin(SecretsNeverShown, admin.ModelAdmin):
    form = DestinationForm
    list_display = [
        "name",
        "enabled",
        "data_center",
        "api_version",
        "source_names",
        "credentials_state",
        "last_delivered_at",
        "short_last_error",
        "activity_links",
    ]
    list_filter = ["enabled", "data_center", "api_version"]
    search_fields = ["name", "site_id"]
    filter_horizontal = ["sources"]
    readonly_fields = ["credentials_state", "last_delivered_at", "last_error", "last_error_at"]
    actions = ["test_credentials"]
    Media = AdminMedia

    def get_queryset(self, request: HttpRequest) -> QuerySet[Destination]:
        # The list and the Source links need only names: no write key is decrypted for them.
        feeds = Prefetch("sources", queryset=Source.objects.only("id", "name").order_by("name"))
        return super().get_queryset(request).prefetch_related(feeds)

    def shown_fieldsets(self, request: HttpRequest, obj: Destination | None = None) -> list:
        return [*FIELDSETS, STATUS_FIELDSET] if obj is not None else FIELDSETS

    @admin.display(description="sources")
    def source_names(self, destination: Destination) -> str:
        return ", ".join(source.name for source in destination.sources.all()) or "—"

    @admin.display(description="credentials", ordering="credentials_rejected_at")
    def credentials_state(self, destination: Destination) -> str:
        if destination.credentials_rejected_at is None:
            return "—"
        return format_html(
            '<span class="cio-badge cio-badge-rejected">rejected</span> since {}',
            moment_html(destination.credentials_rejected_at),
        )

    @admin.display(description="activity")
    def activity_links(self, destination: Destination) -> str:
        return format_html(
            '<a href="{}">Dashboard</a> · <a href="{}?destination__id__exact={}">Log</a>',
            reverse("admin:destination_dashboard", args=[destination.pk]),
            reverse("admin:delivery_delivery_changelist"),
            destination.pk,
        )

    @admin.display(description="last error", ordering="last_error_at")
    def short_last_error(self, destination: Destination) -> str:
        if not destination.last_error:
            return "—"
        return format_html(
            '<span title="{}">{}</span>',
            destination.last_error,
            truncatechars(destination.last_error, SHORT_ERROR_LENGTH),
        )

    def get_urls(self) -> list:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/test-credentials/",
                self.admin_site.admin_view(self.test_credentials_view),
                name="{}_{}_test_credentials".format(*info),
            ),
            path(
                "<path:object_id>/rotate-webhook-address/",
                self.admin_site.admin_view(self.rotate_webhook_address_view),
                name="{}_{}_rotate_webhook_address".format(*info),
            ),
            *super().get_urls(),
        ]

    @method_decorator(require_POST)
    def test_credentials_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        destination = self.get_object(request, unquote(object_id))
        if destination is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, destination):
            raise PermissionDenied
        self._report(request, destination, check_credentials(destination))
        return redirect(_admin_url(destination, "change"))

    def render_change_form(
        self, request: HttpRequest, context: dict, *args, obj: Destination | None = None, **kwargs
    ):
        if obj is not None and obj.webhook_token:
            context["webhook_url"] = server_url(request) + obj.webhook_path()
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    @method_decorator(require_POST)
    def rotate_webhook_address_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        destination = self.get_object(request, unquote(object_id))
        if destination is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, destination):
            raise PermissionDenied
        destination.rotate_webhook_token()
        destination.save(update_fields=["webhook_token"])
        self.log_change(request, destination, [{"changed": {"fields": ["reporting webhook address"]}}])
        self.message_user(
            request,
            f"The reporting webhook address of “{destination}” was changed: paste the new one into "
            "Customer.io. Posts to the old address are refused within "
            f"{settings.CIO_WEBHOOK_ADDRESS_CACHE_SECONDS:g} seconds.",
            messages.SUCCESS,
        )
        return redirect(_admin_url(destination, "change"))

    @admin.action(description="Test credentials", permissions=["change"])
    def test_credentials(self, request: HttpRequest, queryset: QuerySet[Destination]) -> None:
        chosen = list(queryset[: MAX_CREDENTIAL_CHECKS + 1])
        if len(chosen) > MAX_CREDENTIAL_CHECKS:
            self.message_user(
                request,
                f"Choose at most {MAX_CREDENTIAL_CHECKS} destinations to test at once.",
                messages.ERROR,
            )
            return
        for destination in chosen:
            self._report(request, destination, check_credentials(destination))

    def _report(self, request: HttpRequest, destination: Destination, result: CheckResult) -> None:
        admin_history.record(request, destination, f"Tested the credentials: {result.verdict.value}.")
        self.message_user(request, result.message, _LEVELS.get(result.verdict, messages.ERROR))
