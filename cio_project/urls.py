from django.contrib import admin
from django.urls import include, path

from cio_project.health import healthz
from cio_project.metrics_view import metrics
from cio_project.site_root import favicon, home

urlpatterns = [
    path("", home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("", include("delivery.ingestion.urls")),
    path("", include("delivery.webhooks.urls")),
]
