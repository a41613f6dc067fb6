"""GET /metrics: the Prometheus text format, for a scraper only.

Not open to the world: a request needs `Authorization: Bearer <METRICS_TOKEN>` when that is set, and
otherwise must come from an address in METRICS_ALLOWED_IPS (default: this machine only). The counters
come from every process (cio_project/metrics.py); the backlog is read from the database at each scrape.
"""

from __future__ import annotations

import hmac
import os

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from delivery.models import Delivery


class BacklogCollector:
    """Open deliveries per destination, and how long the oldest due one has waited."""

    def collect(self):
        backlog = GaugeMetricFamily(
            "cio_relay_backlog",
            "Deliveries pending or waiting for a retry, by destination id.",
            labels=["destination"],
        )
        oldest = GaugeMetricFamily(
            "cio_relay_oldest_due_seconds",
            "Age of the oldest delivery that is due now and not yet sent, by destination id.",
            labels=["destination"],
        )
        now = timezone.now()
        open_rows = (
            Delivery.objects.filter(status__in=Delivery.OPEN)
            .values("destination_id")
            .annotate(count=Count("id"))
            .order_by()
        )
        for row in open_rows:
            backlog.add_metric([str(row["destination_id"])], row["count"])
        due_rows = (
            Delivery.objects.filter(status__in=Delivery.OPEN, next_attempt_at__lte=now)
            .values("destination_id")
            .annotate(oldest=Min("next_attempt_at"))
            .order_by()
        )
        for row in due_rows:
            oldest.add_metric([str(row["destination_id"])], (now - row["oldest"]).total_seconds())
        yield backlog
        yield oldest


def allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        sent = request.META.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(sent.encode(), token.encode())
    return request.META.get("REMOTE_ADDR", "") in settings.METRICS_ALLOWED_IPS


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return JsonResponse(
            {"error": "metrics: send the METRICS_TOKEN, or ask from an allowed address"}, status=403
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    """Every process's counters (read from their files) in multiprocess mode, else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(BacklogCollector())
        return registry
    global _backlog_registered
    if not _backlog_registered:
        REGISTRY.register(BacklogCollector())
        _backlog_registered = True
    return REGISTRY


_backlog_registered = False
