from django.contrib import admin
from django.urls import include, path

from cio_project.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("delivery.ingestion.urls")),
    path("", include("delivery.webhooks.urls")),
]
