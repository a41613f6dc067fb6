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
    # Before the API's sixty routes: Django tries patterns in order, and Customer.io posts a webhook for
    # every message sent; trying them all first was a sixth of a post's time.
    path("", include("delivery.webhooks.urls")),
    path("", include("delivery.ingestion.urls")),
    path("admin/", admin.site.urls),
]
