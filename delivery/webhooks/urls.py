"""The reporting webhook address of each destination (its token is Destination.webhook_token)."""

from __future__ import annotations

from django.urls import path

from delivery.webhooks.views import reporting_webhook

urlpatterns = [
    path("webhooks/customerio/<str:token>", reporting_webhook, name="customerio-webhook"),
]
